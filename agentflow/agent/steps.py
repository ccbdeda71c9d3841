"""``traced``: the decorator every node wears. It records the step's start and end
in the trajectory and adds the node's duration to the run's wall-time usage; for
runs under LangGraph tooling the last node's end also writes the trajectory's
``final`` event (agentflow's runner writes its own)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from agentflow.agent.live import context_of, fail_trajectory, finish_trajectory

Node = Callable[[Any, Any], dict[str, Any]]
#: The nodes that end a run in every graph (their end closes a LangGraph run's trajectory).
FINAL_NODES = frozenset({"answer", "finish"})


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
            try:
                update = fn(state, runtime)
            except Exception as exc:
                if ctx.owns_trajectory:  # agentflow's runner records its own runs' errors
                    fail_trajectory(ctx, dict(state), exc)
                raise
            seconds = time.perf_counter() - started
            usage = update.get("usage") or state.get("usage")
            if usage is not None:
                update["usage"] = {**usage, "seconds": round(usage.get("seconds", 0.0) + seconds, 4)}
            ctx.recorder.record("step_end", node=name, sub_question=sq, seconds=round(seconds, 4))
            if name in FINAL_NODES and ctx.owns_trajectory:
                finish_trajectory(ctx, dict(state), update)
            return update

        return wrapper

    return deco
