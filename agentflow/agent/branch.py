"""One parallel branch of the research loop: search -> read -> verify (-> search ...) for
one sub-question, run by ``select``'s fan-out (:mod:`agentflow.agent.fanout`).

A branch is one graph node that calls the loop's own nodes in turn, so its research is
the sequential loop's, step for step. What it must not share with its siblings it gets
its own copy of: the state (a snapshot taken when ``select`` sent it), the memory graph
(the run's graph at that revision, kept in the branch and never written to the run's
store), a budget (its share of what the run has left, :func:`~agentflow.agent.budget.split_left`)
and a trajectory recorder that tags every event with ``branch``. It returns one
:class:`BranchResult` (deltas, not new totals), which ``join`` folds into the run's state
in plan order, so the result does not depend on which branch finished first.

A branch killed mid-way runs again on resume from its snapshot: the same inputs give the
same prompts, so its completed LLM calls are answered from the run's journal
(:mod:`agentflow.agent.journal`), not sent again. Siblings that finished are not re-run
(LangGraph keeps a finished task's writes).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Send
from pydantic import BaseModel, Field

from agentflow.agent.budget import share_budget
from agentflow.agent.context import RunContext
from agentflow.agent.live import context_of, fail_trajectory
from agentflow.agent.memory_io import memory_json
from agentflow.agent.memory_store import fingerprint, graph_delta
from agentflow.agent.read import read
from agentflow.agent.search import search
from agentflow.agent.state import PENDING
from agentflow.agent.verify import verify
from agentflow.memory.graph import MemoryGraph
from agentflow.trajectory import TrajectoryRecorder

NODE = "branch"
#: The run's state a branch starts from (copied into each branch's ``Send``).
SNAPSHOT_FIELDS = ("run_id", "question", "sub_questions", "usage", "memory", "memory_rev", "ranks",
                   "retrieved", "question_hits", "reader_budget")
#: Usage counters a branch reports as what it added (``max_prompt_tokens`` as its peak).
COUNTERS = ("llm_calls", "prompt_tokens", "completion_tokens", "searches", "seconds")


class BranchOrder(BaseModel):
    """What ``select`` sends a branch off with (kept in ``ResearchState.fanout``)."""

    id: str  # the sub-question's id
    #: The branch's share of the run's remaining LLM calls, searches and tokens.
    share: dict[str, int]
    #: This branch makes the run's first search, which also asks the whole question (the
    #: single-shot floor, see ``agentflow.agent.search``); its siblings do not repeat it.
    asks_question: bool = False


class BranchResult(BaseModel):
    """What one branch did, as deltas against the state it was sent with."""

    id: str
    sub_question: dict[str, Any]  # the sub-question's record after the branch
    usage: dict[str, int | float] = Field(default_factory=dict)  # COUNTERS added; max_prompt_tokens: peak
    retrieved: list[str] = Field(default_factory=list)  # passage ids new to the run, in order
    ranks: dict[str, float] = Field(default_factory=dict)  # rank votes this branch's searches cast
    question_hits: list[str] = Field(default_factory=list)  # set when this branch asked the question
    reader_budget: int | None = None  # set when this branch made the run's first read
    memory: dict[str, Any] = Field(default_factory=dict)  # graph delta (memory_store.graph_delta)
    reading: dict[str, Any] = Field(default_factory=dict)  # the reader's last result
    candidates: list[str] = Field(default_factory=list)  # passage ids the reader was last shown
    started: float = 0.0  # epoch seconds
    ended: float = 0.0


class BranchRecorder:
    """The run's recorder, with every event tagged ``branch=<sub-question id>``."""

    def __init__(self, inner: TrajectoryRecorder, branch: str) -> None:
        self.inner = inner
        self.branch = branch

    def record(self, type_: str, **fields: Any) -> dict[str, Any]:
        """Record one event of this branch (see :meth:`TrajectoryRecorder.record`)."""
        return self.inner.record(type_, branch=self.branch, **fields)

    def __getattr__(self, name: str) -> Any:
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)


def branch_sends(state: dict[str, Any]) -> list[Send]:
    """One ``Send`` per sub-question ``select`` put in ``fanout``, with the state snapshot."""
    snapshot = {k: state[k] for k in SNAPSHOT_FIELDS if k in state}
    return [Send(NODE, {**snapshot, "order": order}) for order in state.get("fanout") or []]


def _tagged(send: Callable[[Any], None], branch: str) -> Callable[[Any], None]:
    def tagged(event: Any) -> None:
        send({**event, "branch": branch} if isinstance(event, dict) else event)

    return tagged


def _start_usage(task: dict[str, Any], order: BranchOrder) -> dict[str, Any]:
    usage = dict(task["usage"])
    if not order.asks_question and not usage.get("searches"):
        # The search node asks the whole question on the run's first search (searches == 0);
        # only the branch that makes it should. Deltas are taken from this start.
        usage["searches"] = 1
    return usage


def _base_memory(task: dict[str, Any], ctx: RunContext) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The run's memory graph as sent (node-link JSON) and an embedding cache to share."""
    cached = ctx._memory  # read only: the run's own nodes do not run during a fan-out
    rev = int(task.get("memory_rev", 0))
    if cached is not None and cached[0] == rev:
        return cached[1].to_json(), cached[1].embedding_cache
    return memory_json(task, ctx), {}


def run_branch(task: dict[str, Any], ctx: RunContext, writer: Callable[[Any], None]) -> BranchResult:
    """Research one sub-question to its verdict, on copies (see the module docstring)."""
    order = BranchOrder.model_validate(task["order"])
    started = time.time()
    base, embeddings = _base_memory(task, ctx)
    graph = (MemoryGraph.from_json(base, embedder=ctx.embedder, embedding_cache=embeddings)
             if base else MemoryGraph(embedder=ctx.embedder))
    graph.drain_changes()
    start = _start_usage(task, order)
    rev = int(task.get("memory_rev", 0))
    own = dataclasses.replace(
        ctx, budget=share_budget(ctx.budget, start, order.share),
        recorder=BranchRecorder(ctx.recorder, order.id),  # type: ignore[arg-type]
        emit=_tagged(ctx.emit, order.id), writer=_tagged(writer, order.id),
        owns_trajectory=False,  # the branch node records a failure once, for the run
        memory_store=None, _memory=(rev, graph, None))
    runtime = Runtime(context=own, store=None, stream_writer=own.writer)
    state: dict[str, Any] = {**{k: task[k] for k in SNAPSHOT_FIELDS if k in task},
                             "usage": start, "memory": base, "memory_rev": rev,
                             "current": order.id, "reading": {}, "candidates": []}
    while True:  # the sequential loop's edges: search -> read -> verify, again while pending
        for node in (search, read, verify):
            state.update(node(state, runtime))
        record = next(s for s in state["sub_questions"] if s["id"] == order.id)
        if record["status"] != PENDING:
            break
    end = state["usage"]
    ranks_before = task.get("ranks") or {}
    seen = set(task.get("retrieved") or [])
    return BranchResult(
        id=order.id, sub_question=record,
        usage={**{k: end.get(k, 0) - start.get(k, 0) for k in COUNTERS},
               "max_prompt_tokens": end.get("max_prompt_tokens", 0)},
        retrieved=[i for i in state.get("retrieved") or [] if i not in seen],
        ranks={i: v - ranks_before.get(i, 0.0) for i, v in (state.get("ranks") or {}).items()
               if v != ranks_before.get(i)},
        question_hits=[] if task.get("question_hits") else list(state.get("question_hits") or []),
        reader_budget=None if task.get("reader_budget") else state.get("reader_budget"),
        memory=graph_delta(fingerprint(base), state["memory"] or {})[0],
        reading=state.get("reading") or {},
        candidates=[c["id"] for c in state.get("candidates") or []],
        started=started, ended=time.time(),
    )


def branch(task: dict[str, Any], runtime: Runtime[RunContext]) -> dict[str, Any]:
    """The ``branch`` node: one sub-question's research, recorded from start to end."""
    ctx = context_of(runtime)
    order = task["order"]
    ctx.recorder.record("branch_start", node=NODE, branch=order["id"], sub_question=order["id"],
                        share=order["share"])
    started = time.perf_counter()
    try:
        result = run_branch(task, ctx, runtime.stream_writer)
    except Exception as exc:
        ctx.recorder.record("branch_end", node=NODE, branch=order["id"], sub_question=order["id"],
                            seconds=round(time.perf_counter() - started, 4), error=f"{type(exc).__name__}: {exc}")
        if ctx.owns_trajectory:  # agentflow's runner records its own runs' errors
            fail_trajectory(ctx, dict(task), exc)
        raise
    sq = result.sub_question
    ctx.recorder.record("branch_end", node=NODE, branch=result.id, sub_question=result.id,
                        seconds=round(time.perf_counter() - started, 4), started=round(result.started, 4),
                        ended=round(result.ended, 4), status=sq["status"], answer=sq.get("answer"),
                        usage=result.usage)
    return {"branches": {result.id: result.model_dump(mode="json")}}
