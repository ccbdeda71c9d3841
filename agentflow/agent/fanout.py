"""Parallel sub-questions: ``select`` sends every ready sub-question to its own branch
(LangGraph ``Send``), and ``join`` folds what the branches did back into the run's state.

::

    select --(2+ ready, concurrency > 1)--> branch x N --> join --> select
    select --(otherwise)--> search -> read -> verify (the loop as it always ran)

With ``ResearchSettings.concurrency`` 1 (the default for a local model) nothing here
runs. With more, ``select`` sends at most that many sub-questions whose dependencies are
answered, each with its share of the run's remaining budget (:func:`fanout_orders`);
a step that depends on them waits for the join. Branches write only
``ResearchState.branches`` (merged by sub-question id); the join applies their deltas in
plan order (sub-question records by id, retrieved ids as a union, rank votes added, usage
counters added, the memory graph by :func:`~agentflow.agent.memory_merge.merge_memory`),
so a run's result does not depend on which branch finished first.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from langgraph.runtime import Runtime

from agentflow.agent.branch import COUNTERS, BranchOrder, BranchResult
from agentflow.agent.budget import Budget, split_left
from agentflow.agent.context import RunContext
from agentflow.agent.live import context_of
from agentflow.agent.memory_io import load_memory, save_memory
from agentflow.agent.memory_merge import merge_memory
from agentflow.agent.state import ResearchState, ready_steps
from agentflow.agent.steps import traced
from agentflow.memory.graph import MemoryGraph

#: ``concurrency=None`` for a model behind a remote OpenAI-compatible server.
REMOTE_CONCURRENCY = 4
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", ""})


def concurrency_of(ctx: RunContext) -> int:
    """How many sub-questions a run researches at once (``ResearchSettings.concurrency``;
    None: :data:`REMOTE_CONCURRENCY` for a remote server's model, else 1)."""
    if ctx.settings.concurrency is not None:
        return ctx.settings.concurrency
    base_url = getattr(ctx.llm, "base_url", None)  # the OpenAI-compatible backend's
    if isinstance(base_url, str) and urlparse(base_url).hostname not in _LOCAL_HOSTS:
        return REMOTE_CONCURRENCY
    return 1


def fanout_orders(sub_questions: list[dict[str, Any]], usage: dict[str, Any], budget: Budget,
                  width: int) -> list[BranchOrder]:
    """The branches to send now: the first ``width`` ready sub-questions (no more than
    searches are left, since a branch without one finds nothing), each with its share of
    the remaining budget. Fewer than two: no fan-out (the sequential loop takes the one)."""
    ready = ready_steps(sub_questions)
    n = min(width, len(ready), budget.max_searches - usage.get("searches", 0))
    if n < 2:
        return []
    first_search = not usage.get("searches")
    return [BranchOrder(id=sq["id"], share=share, asks_question=first_search and i == 0)
            for i, (sq, share) in enumerate(zip(ready[:n], split_left(usage, budget, n), strict=True))]


def _in_plan_order(state: ResearchState) -> list[BranchResult]:
    position = {s["id"]: i for i, s in enumerate(state["sub_questions"])}
    done = state.get("branches") or {}
    return [BranchResult.model_validate(done[k]) for k in sorted(done, key=lambda k: position.get(k, len(position)))]


def merged_usage(usage: dict[str, Any], results: list[BranchResult]) -> dict[str, Any]:
    """The run's usage after the branches: their counters added; wall time grows by the
    longest branch (they ran side by side), not by their sum."""
    out = dict(usage)
    for name in COUNTERS:
        if name == "seconds":
            continue
        out[name] = out.get(name, 0) + sum(int(r.usage.get(name, 0)) for r in results)
    out["seconds"] = round(out.get("seconds", 0.0) + max((r.usage.get("seconds", 0.0) for r in results),
                                                         default=0.0), 4)
    out["max_prompt_tokens"] = max([out.get("max_prompt_tokens", 0)]
                                   + [int(r.usage.get("max_prompt_tokens", 0)) for r in results])
    return out


@traced("join")
def join(state: ResearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Fold the branches' results into the run's state and memory, in plan order."""
    ctx = context_of(runtime)
    results = _in_plan_order(state)
    by_id = {r.id: r.sub_question for r in results}
    ranks = dict(state.get("ranks") or {})
    for r in results:
        for pid, vote in r.ranks.items():
            ranks[pid] = ranks.get(pid, 0.0) + vote
    base = load_memory(state, ctx)
    merged = merge_memory(base.to_json(), [r.memory for r in results])
    graph = MemoryGraph.from_json(merged, embedder=ctx.embedder, embedding_cache=base.embedding_cache)
    graph.drain_changes()  # the branches recorded their own memory deltas
    ctx.recorder.record("note", node="join", kind="fanout_joined", message=f"joined {len(results)} branches",
                        data={"branches": [{"id": r.id, "started": round(r.started, 4), "ended": round(r.ended, 4),
                                            "status": r.sub_question.get("status")} for r in results]})
    return {
        "sub_questions": [by_id.get(s["id"], s) for s in state["sub_questions"]],
        "usage": merged_usage(state["usage"], results),
        "retrieved": list(dict.fromkeys([*(state.get("retrieved") or []), *(i for r in results for i in r.retrieved)])),
        "ranks": ranks,
        "question_hits": state.get("question_hits") or next((r.question_hits for r in results if r.question_hits), []),
        "reader_budget": state.get("reader_budget") or next((r.reader_budget for r in results if r.reader_budget),
                                                            None),
        "current": None, "reading": {}, "candidates": [], "fanout": [], "branches": {},
        **save_memory(graph, state, ctx, node="join"),
    }
