"""``traced``: the decorator every node wears. It records the step's start and end
in the trajectory and adds the node's duration to the run's wall-time usage."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from agentflow.agent.context import context_of

Node = Callable[[Any, Any], dict[str, Any]]


def traced(name: str) -> Callable[[Node], Node]:
    """Wrap node ``name`` so each call is a recorded, timed step."""

    def deco(fn: Node) -> Node:
        @functools.wraps(fn)
        def wrapper(state: Any, runtime: Any) -> dict[str, Any]:
            ctx = context_of(runtime)
            sq = state.get("current") if name not in {"plan", "answer"} else None
            ctx.recorder.record("step_start", node=name, sub_question=sq)
            ctx.progress(type="step", node=name, sub_question=sq)
            started = time.perf_counter()
            update = fn(state, runtime)
            seconds = time.perf_counter() - started
            usage = update.get("usage") or state.get("usage")
            if usage is not None:
                update["usage"] = {**usage, "seconds": round(usage.get("seconds", 0.0) + seconds, 4)}
            ctx.recorder.record("step_end", node=name, sub_question=sq, seconds=round(seconds, 4))
            return update

        return wrapper

    return deco
