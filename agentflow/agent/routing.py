"""The select node and the conditional edges of the deep-research graph: pick the
next sub-question whose dependencies are answered, or go to answer when every
sub-question is settled or a budget is spent."""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime

from agentflow.agent.budget import exhausted
from agentflow.agent.context import RunContext
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
    sq["resolved"] = resolve_text(sq, sub_questions)
    ctx.progress(type="sub_question", node="select", id=sq["id"], sub_question=sq["resolved"])
    return {"sub_questions": sub_questions, "current": sq["id"], "reading": {}, "candidates": []}


def after_select(state: ResearchState) -> Literal["search", "answer"]:
    """Search for the selected sub-question, or answer when none is left."""
    return "search" if state.get("current") else "answer"


def after_verify(state: ResearchState) -> Literal["search", "select"]:
    """Search again for the same sub-question when verify asked for it."""
    current = state.get("current")
    sq = next((s for s in state["sub_questions"] if s["id"] == current), None)
    return "search" if sq is not None and sq["status"] == PENDING else "select"
