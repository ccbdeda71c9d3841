"""The intake node: the first step of every graph. It turns the input into the run's
question, gives the run its own id and an empty usage record (usage is counted per
run, never accumulated across the runs of a thread), clears what the previous run of
the thread left behind, and points the run at its memory graph."""

from __future__ import annotations

import uuid
from typing import Any

from langgraph.runtime import Runtime

from agentflow.agent.budget import new_usage
from agentflow.agent.context import RunContext
from agentflow.agent.followup import standalone_question
from agentflow.agent.live import context_of, start_trajectory, thread_key
from agentflow.agent.memory_store import is_ref
from agentflow.agent.run_config import RunConfig
from agentflow.agent.run_input import question_of
from agentflow.agent.state import ResearchState

#: What one run writes and the next run of the same thread must not inherit.
PER_RUN: dict[str, Any] = {
    "sub_questions": [], "current": None, "candidates": [], "retrieved": [], "ranks": {},
    "question_hits": [], "reading": {}, "reader_budget": 0, "stop_reason": None, "history": [],
    "status": "", "answer": "", "citations": [], "evidence": [], "removed_citations": [],
}


def run_id_of(state: ResearchState, runtime: Runtime[Any]) -> str:
    """The server's run id when there is one; else the id agentflow's runner put in the
    input; else (a new run on a thread whose last run finished) a fresh one."""
    info = getattr(runtime, "execution_info", None)
    if info is not None and info.run_id:
        return str(info.run_id)
    if state.get("run_id") and not state.get("status"):
        return str(state["run_id"])
    return uuid.uuid4().hex[:12]


def _memory(state: ResearchState, ctx: RunContext, thread: str, run_id: str) -> dict[str, Any]:
    memory = state.get("memory")
    rev = int(state.get("memory_rev", 0))
    if ctx.memory_store is None:  # no store: the graph travels in the state, as before
        return {"memory": memory, "memory_rev": rev}
    if is_ref(memory):
        if memory["run"] == run_id:
            return {"memory": memory, "memory_rev": memory["rev"]}
        # A new turn: its snapshot is the previous turn's graph (written once, here).
        data = ctx.memory_store.graph_json(memory) if memory["rev"] > memory["base"] else None
        if data is None:
            ref = {**memory, "run": run_id}
        else:
            ref = ctx.memory_store.start(thread, run_id, data, memory["rev"])
            # The new snapshot holds everything the previous turn wrote.
            ctx.memory_store.forget(memory, snapshot=memory["base"] != ref["base"])
        return {"memory": ref, "memory_rev": ref["rev"]}
    ref = ctx.memory_store.start(thread, run_id, memory or None, rev)
    return {"memory": ref, "memory_rev": rev}


def intake(state: ResearchState, runtime: Runtime[RunConfig]) -> dict[str, Any]:
    """Start a run: question, run id, fresh usage and per-run fields, memory reference."""
    ctx = context_of(runtime)
    asked, turns = question_of(state)
    question = standalone_question(asked, turns).question if turns else asked
    run_id = run_id_of(state, runtime)
    thread = thread_key(runtime, run_id)
    if ctx.owns_trajectory:
        server = getattr(runtime, "server_info", None)
        start_trajectory(ctx, run_id, question, graph=getattr(server, "graph_id", None) or "langgraph")
    return {
        **PER_RUN, "run_id": run_id, "question": question, "messages": [], "usage": new_usage(),
        **_memory(state, ctx, thread, run_id),
    }
