"""The select node and the conditional edges of the deep-research graph: pick the
next sub-question whose dependencies are answered (or, with ``concurrency`` above 1,
send every ready one to its own branch: :mod:`agentflow.agent.fanout`), or go to
answer when every sub-question is settled or a budget is spent."""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Send

from agentflow.agent.branch import branch_sends
from agentflow.agent.budget import exhausted
from agentflow.agent.context import RunContext
from agentflow.agent.fanout import concurrency_of, fanout_orders
from agentflow.agent.live import context_of
from agentflow.agent.state import (
    PENDING,
    UNANSWERABLE,
    ResearchState,
    blocked,
    next_ready,
    resolve_text,
)
from agentflow.agent.steps import traced


@traced("select")
def select(state: ResearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Choose the next sub-question (with ``#k`` references resolved) or stop."""
    ctx = context_of(runtime)
    sub_questions = [dict(s) for s in state["sub_questions"]]
    # A step whose dependency is unanswerable can never be answered.
    while stuck := blocked(sub_questions):
        for sq in stuck:
            sq["status"] = UNANSWERABLE
    spent = exhausted(state["usage"], ctx.budget)
    if spent:
        ctx.note("select", "budget", f"budget exhausted ({spent}): answering with what was found")
        return {"sub_questions": sub_questions, "current": None, "stop_reason": spent}
    sq = next_ready(sub_questions)
    if sq is None:
        return {"sub_questions": sub_questions, "current": None}
    width = concurrency_of(ctx)
    orders = fanout_orders(sub_questions, state["usage"], ctx.budget, width) if width > 1 else []
    if orders:
        by_id = {s["id"]: s for s in sub_questions}
        for order in orders:
            step = by_id[order.id]
            step["resolved"] = resolve_text(step, sub_questions)
            ctx.progress(type="sub_question", node="select", id=step["id"], sub_question=step["resolved"],
                         branch=step["id"])
        ctx.note("select", "fanout", f"researching sub-questions {', '.join(o.id for o in orders)} at once",
                 branches=[o.model_dump() for o in orders])
        return {"sub_questions": sub_questions, "current": None, "reading": {}, "candidates": [],
                "fanout": [o.model_dump() for o in orders]}
    sq["resolved"] = resolve_text(sq, sub_questions)
    ctx.progress(type="sub_question", node="select", id=sq["id"], sub_question=sq["resolved"])
    return {"sub_questions": sub_questions, "current": sq["id"], "reading": {}, "candidates": []}


def after_select(state: ResearchState) -> Literal["search", "answer"] | list[Send]:
    """Search for the selected sub-question, send the fanned-out ones to their branches,
    or answer when none is left."""
    if state.get("fanout"):
        return branch_sends(dict(state))
    return "search" if state.get("current") else "answer"


def after_verify(state: ResearchState) -> Literal["search", "select"]:
    """Search again for the same sub-question when verify asked for it."""
    current = state.get("current")
    sq = next((s for s in state["sub_questions"] if s["id"] == current), None)
    return "search" if sq is not None and sq["status"] == PENDING else "select"
