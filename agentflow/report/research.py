"""The report graph's first node: the research loop (``deep_research``) as a black box,
on a share of the run's budget so that the writing keeps the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph.runtime import Runtime

from agentflow.agent.budget import Budget
from agentflow.agent.live import attach, context_of
from agentflow.agent.run_config import RunConfig
from agentflow.report.outline import section_count
from agentflow.report.state import ReportState, words_wanted
from agentflow.report.write import MAX_REWRITES, MORE_SEARCHES
from agentflow.trajectory import TrajectoryRecorder

#: Tokens one report call (outline, section, rewrite) is allowed for, on average.
TOKENS_PER_CALL = 2500


def research_budget(budget: Budget, words: int) -> Budget:
    """What the research loop may spend: the run's budget less what writing ``words``
    words needs (an outline call, a call and up to :data:`MAX_REWRITES` rewrites per
    section, up to 1 + :data:`MORE_SEARCHES` searches per section, and 40% of the time); each limit stays at least 1."""
    sections = section_count(words)
    calls = 1 + sections * (1 + MAX_REWRITES)
    return Budget(
        max_llm_calls=max(1, budget.max_llm_calls - calls),
        max_searches=max(1, budget.max_searches - sections * (1 + MORE_SEARCHES)),
        max_tokens=max(1, budget.max_tokens - calls * TOKENS_PER_CALL),
        max_seconds=max(1.0, budget.max_seconds * 0.6),
    )


def research_node(build_research: Callable[[], Any], default_words: int) -> Callable[..., dict[str, Any]]:
    """The node that runs the compiled research graph on the report's question.

    It runs as a subgraph of the report graph (checkpointed in its namespace, so a killed
    run resumes inside it); its progress events are passed on to the report's own stream,
    and its budget is cut to :func:`research_budget` while it runs."""
    compiled = build_research().compile()

    def research(state: ReportState, runtime: Runtime[Any]) -> dict[str, Any]:
        ctx = context_of(runtime)
        words = words_wanted({"words": state.get("words") or default_words})
        full, emit = ctx.budget, ctx.emit
        ctx.budget = research_budget(full, words)
        outer = runtime.stream_writer
        ctx.emit = outer if outer is not None else emit
        # The loop's nodes get this very context (its recorder, its memory cache): LangGraph
        # may hand a subgraph a configuration object of its own, which would build another.
        config = ctx.config
        context = attach((config or RunConfig()).model_copy(), ctx)
        try:
            update = compiled.invoke(_loop_input(state, runtime), context=context)
        finally:
            ctx.budget, ctx.emit, ctx.config = full, emit, config
        if ctx.owns_trajectory and ctx.recorder.path is not None:
            # Under LangGraph tooling the loop's answer node closed the trajectory: the
            # report's steps are appended to the same file.
            ctx.recorder = TrajectoryRecorder(ctx.recorder.path, ctx.recorder.run_id)
        return {**update, "words": words}

    return research


_INPUT_KEYS = ("question", "messages", "run_id", "memory")


def _loop_input(state: ReportState, runtime: Runtime[Any]) -> dict[str, Any]:
    """The loop's input: the report's, with the server's run id when there is one (inside
    a subgraph LangGraph gives none, and the trajectory is named after it)."""
    out = {k: v for k, v in state.items() if k in _INPUT_KEYS}
    info = getattr(runtime, "execution_info", None)
    if info is not None and getattr(info, "run_id", None):
        out["run_id"] = str(info.run_id)
    return out
