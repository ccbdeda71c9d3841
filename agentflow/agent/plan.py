"""The plan node: decompose the question into dependent sub-questions."""

from __future__ import annotations

import uuid
from typing import Any

from langgraph.runtime import Runtime

from agentflow.agent.budget import new_usage
from agentflow.agent.context import RunContext
from agentflow.agent.live import context_of
from agentflow.agent.memory_io import load_memory, save_memory
from agentflow.agent.schemas import Plan
from agentflow.agent.state import (
    ResearchState,
    new_sub_question,
    repair_plan,
    sub_questions_from_plan,
    validate_plan,
)
from agentflow.agent.steps import traced


@traced("plan")
def plan(state: ResearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Ask the LLM for a plan; an invalid or missing plan falls back to the question itself
    (one sub-question), and the trajectory records why."""
    ctx = context_of(runtime)
    question = state["question"]
    usage = dict(state.get("usage") or new_usage())
    settings = ctx.settings
    result = None
    if settings.plan_llm:
        result = ctx.ask(usage, node="plan", prompt="plan", output_type=Plan, question=question,
                         max_tokens=200)
    if result is not None:
        result = repair_plan(result)
    reason = ("planning by the model is off" if not settings.plan_llm
              else "the model gave no valid plan" if result is None
              else validate_plan(result, question, settings.max_sub_questions))
    if result is not None and reason is None:
        sub_questions = sub_questions_from_plan(result, settings.max_sub_questions)
    else:
        sub_questions = [new_sub_question(1, question, [])]
        ctx.note("plan", "plan_fallback", f"plan fell back to the question itself: {reason}")
    graph = load_memory(state, ctx)
    qid = state.get("run_id") or uuid.uuid4().hex[:12]
    graph.add_question(qid, question)
    for sq in sub_questions:
        # memory ids are scoped by run so a thread's memory can hold many questions
        sq["mem_id"] = f"{qid}.{sq['id']}"
        graph.add_subquestion(sq["mem_id"], sq["text"], question_id=qid,
                              depends_on=[f"{qid}.{d}" for d in sq["depends_on"]])
    ctx.progress(type="plan", node="plan", sub_questions=[sq["text"] for sq in sub_questions])
    return {
        "sub_questions": sub_questions,
        "usage": usage,
        **save_memory(graph, state, ctx, node="plan"),
    }
