"""The verify node: decide whether the current sub-question is answered, needs
another search (with a refined query), or is unanswerable within the budget.

The LLM is consulted when the reader produced an answer grounded in the passages,
and, for the final step once searching is over, on the best entity lead the
passages name; the rest is decided in code, so a weak or failing model cannot mark
an ungrounded answer as found.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agentflow.agent.budget import search_budget_left
from agentflow.agent.context import RunContext, context_of
from agentflow.agent.memory_io import load_memory, save_memory
from agentflow.agent.schemas import Verdict
from agentflow.agent.state import ANSWERED, UNANSWERABLE, ResearchState, final_steps
from agentflow.agent.steps import traced

ANSWERED_V, AGAIN, UNANSWERABLE_V = "answered", "search_again", "unanswerable"


@traced("verify")
def verify(state: ResearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Settle the current sub-question or send it back to search."""
    ctx = context_of(runtime)
    usage = dict(state["usage"])
    sub_questions = [dict(s) for s in state["sub_questions"]]
    sq = next(s for s in sub_questions if s["id"] == state["current"])
    reading = state.get("reading") or {}
    answer = reading.get("answer") or ""
    from_reader = bool(answer) and reading.get("grounded") and reading.get("source") == "reader"
    can_search = sq["rounds"] < ctx.settings.max_rounds and search_budget_left(usage, ctx.budget)
    is_final = sq["id"] in {s["id"] for s in final_steps(sub_questions)}

    lead = bool(answer) and not from_reader  # an entity the passages name, not the reader's answer
    last_chance = lead and is_final and not can_search
    llm_verdict: Verdict | None = None
    if from_reader or last_chance:
        # The critic sees the reader's grounded answer, or, once searching is over, the
        # best entity lead of the final step: only the critic can accept a lead there.
        llm_verdict = ctx.ask(usage, node="verify", prompt="verify", output_type=Verdict,
                              sub_question=sq["id"], max_tokens=80,
                              question=sq["resolved"] or sq["text"],
                              answer=answer, facts=reading.get("facts", [])[:6])
    if from_reader:
        wants_more = llm_verdict is not None and llm_verdict.verdict != ANSWERED_V
        decision = AGAIN if (wants_more and can_search) else ANSWERED_V
    elif last_chance:
        accepted = llm_verdict is not None and llm_verdict.verdict == ANSWERED_V
        decision = ANSWERED_V if accepted else UNANSWERABLE_V
    elif lead and not is_final:
        # An entity lead is enough to bridge to the next hop once searching more did not help.
        decision = AGAIN if can_search else ANSWERED_V
    else:
        decision = AGAIN if can_search else UNANSWERABLE_V

    if decision == AGAIN:
        refined = (llm_verdict.refined_query.strip() if llm_verdict else "") or None
        sq["next_query"] = refined
    elif decision == ANSWERED_V:
        sq["status"], sq["answer"] = ANSWERED, answer
        sq["answer_source"] = "reader" if from_reader else "entity_lead"
    else:
        sq["status"] = UNANSWERABLE
    graph = load_memory(state, ctx)
    if decision == ANSWERED_V:
        graph.set_answer(sq["mem_id"], answer)
    ctx.progress(type="verify", node="verify", sub_question=sq["resolved"] or sq["text"],
                 verdict=decision, answer=answer if decision == ANSWERED_V else None,
                 llm_verdict=llm_verdict.verdict if llm_verdict else None)
    return {
        "sub_questions": sub_questions,
        "usage": usage,
        **save_memory(graph, state, ctx, node="verify", sub_question=sq["id"]),
    }
