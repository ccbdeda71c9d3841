"""From a run's configuration (data) to the live context its nodes use.

LangGraph hands every node ``runtime.context``: a :class:`RunConfig` (built from the
run's ``context={...}``), or nothing. :func:`context_of` resolves it once per run into
a :class:`RunContext` holding the LLM, tools and embedder (shared per process by
configuration, :func:`~agentflow.agent.factory.components_for`), the run's trajectory
recorder and its memory cache, and attaches it to that run's configuration object, so
two runs never share a context. Each call also binds what LangGraph gives per run:
the custom stream writer and the ``BaseStore`` that holds the memory graph.

agentflow's own runner attaches a context it built itself (a journaled LLM, its sink,
its deadline) before invoking, and records the trajectory's start and end itself.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from agentflow.agent.context import RunContext
from agentflow.agent.factory import components_for
from agentflow.agent.memory_store import StoreMemory, label
from agentflow.agent.outcome import package_versions, sub_question_report
from agentflow.agent.run_config import RunConfig
from agentflow.config import runs_dir
from agentflow.errors import ConfigError
from agentflow.trajectory import TrajectoryRecorder

_attach_lock = threading.Lock()


def _config_of(raw: Any) -> RunConfig:
    if isinstance(raw, RunConfig):
        return raw
    if raw is None:
        return RunConfig()
    if isinstance(raw, dict):
        return RunConfig.model_validate(raw)
    raise ConfigError(f"a run's context must be a RunConfig or a dict of its fields, got {type(raw).__name__}")


def _build(config: RunConfig) -> RunContext:
    ctx = components_for(config).context(budget=config.budget, settings=config.settings)
    ctx.config = config
    ctx.owns_trajectory = True
    return ctx


#: Live contexts one configuration object keeps (a caller may pass the same object to
#: many runs); the oldest go first.
MAX_LIVE = 64
_ANY_RUN = "*"


def _run_key(runtime: Any) -> str:
    info = getattr(runtime, "execution_info", None)
    if info is None:
        return "-"
    return f"{info.thread_id or '-'}/{info.run_id or '-'}"


def context_of(runtime: Any) -> RunContext:
    """The live context of the run a node call belongs to (see the module docstring)."""
    raw = getattr(runtime, "context", None)
    if isinstance(raw, RunContext):  # built by hand (tests, embedding code)
        ctx = raw
    else:
        config = _config_of(raw)
        key = _run_key(runtime)
        with _attach_lock:
            lives: dict[str, RunContext] = config._live
            ctx = lives.get(_ANY_RUN) or lives.get(key)
            if ctx is None:
                # Keyed by thread and run: one configuration object passed to two
                # concurrent runs still gives each its own context (and memory cache).
                ctx = lives[key] = _build(config)
                while len(lives) > MAX_LIVE:
                    lives.pop(next(iter(lives)))
    store = getattr(runtime, "store", None)
    if ctx.memory_store is None and store is not None:
        ctx.memory_store = StoreMemory(store)
    writer = getattr(runtime, "stream_writer", None)
    if writer is not None:
        ctx.writer = writer
    return ctx


def attach(config: RunConfig, ctx: RunContext) -> RunConfig:
    """``config`` carrying ``ctx`` as the live context of the one run it is passed to
    (agentflow's runner builds a configuration object per run)."""
    ctx.config = config
    config._live[_ANY_RUN] = ctx
    return config


def thread_key(runtime: Any, run_id: str) -> str:
    """The memory namespace label of the run's thread: LangGraph's thread id, or the run
    id when the graph runs without a checkpointer."""
    info = getattr(runtime, "execution_info", None)
    return label(str(info.thread_id) if info is not None and info.thread_id else run_id)


def trajectory_path(config: RunConfig | None, run_id: str) -> Path:
    """Where a run under LangGraph tooling writes its trajectory."""
    base = Path(config.runs).expanduser() if config is not None and config.runs else runs_dir()
    return base / label(run_id) / "trajectory.jsonl"


def start_trajectory(ctx: RunContext, run_id: str, question: str, *, graph: str = "langgraph") -> None:
    """Open the run's trajectory and record ``run_start`` (runs under LangGraph tooling)."""
    config = ctx.config
    path = trajectory_path(config, run_id) if config is None or config.trajectory else None
    ctx.recorder = TrajectoryRecorder(path, run_id)
    ctx.recorder.record("run_start", question=question, graph=graph,
                        config=config.model_dump(mode="json") if config is not None else {},
                        model=ctx.llm.name, versions=package_versions(), metadata={},
                        seeded_memory=False)


def finish_trajectory(ctx: RunContext, state: dict[str, Any], update: dict[str, Any], *,
                      error: str | None = None) -> None:
    """Record ``final`` and close the trajectory (runs under LangGraph tooling)."""
    merged = {**state, **update}
    ctx.recorder.record("final", answer=merged.get("answer", ""), status=merged.get("status", ""),
                        citations=merged.get("citations") or [], sub_questions=sub_question_report(merged),
                        evidence=merged.get("evidence") or [], retrieved_ids=merged.get("retrieved") or [],
                        usage=merged.get("usage") or {}, removed_citations=merged.get("removed_citations") or [],
                        error=error)
    ctx.recorder.close()


def fail_trajectory(ctx: RunContext, state: dict[str, Any], error: BaseException) -> None:
    """Record the error that ended a run under LangGraph tooling, then its ``final``."""
    message = f"{type(error).__name__}: {error}"
    ctx.recorder.record("error", message=str(error), error_type=type(error).__name__)
    finish_trajectory(ctx, state, {"status": "error", "answer": ""}, error=message)
