"""The plan node: decompose the question into dependent sub-questions."""

from __future__ import annotations

import uuid
from typing import Any

from langgraph.runtime import Runtime

from agentflow.agent.budget import new_usage
from agentflow.agent.context import RunContext
from agentflow.agent.decompose import clause_plan
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
    """Plan the sub-questions: the model's plan when it is valid, else the plan read from
    the question's clauses (:func:`clause_plan`), else the question itself as the one
    step. A small model is not asked: the clause plan is its plan. The trajectory
    records which plan was used and why."""
    ctx = context_of(runtime)
    question = state["question"]
    usage = dict(state.get("usage") or new_usage())
    settings = ctx.settings
    use_clauses = ctx.trusts_reader() if settings.clause_plan is None else settings.clause_plan
    clauses = clause_plan(question, settings.max_sub_questions) if use_clauses else None
    if clauses is not None and validate_plan(clauses, question, settings.max_sub_questions):
        clauses = None
    result = None
    # A small model is not asked unless the setting says so: its plans are rarely valid.
    plan_llm = ctx.trusts_reader() if settings.plan_llm is None else settings.plan_llm
    ask_model = plan_llm
    if ask_model:
        result = ctx.ask(usage, node="plan", prompt="plan", output_type=Plan, question=question,
                         max_tokens=200)
    if result is not None:
        result = repair_plan(result)
    reason = ("the question's clauses give the plan (a small model is not asked)" if not ask_model
              and plan_llm else "planning by the model is off" if settings.plan_llm is False
              else "a small model is not asked for a plan" if not plan_llm
              else "the model gave no valid plan" if result is None
              else validate_plan(result, question, settings.max_sub_questions))
    if result is not None and reason is None:
        sub_questions = sub_questions_from_plan(result, settings.max_sub_questions)
    elif clauses is not None:
        sub_questions = sub_questions_from_plan(clauses, settings.max_sub_questions)
        ctx.note("plan", "clause_plan", f"plan read from the question's clauses: {reason}",
                 sub_questions=[sq["text"] for sq in sub_questions])
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
