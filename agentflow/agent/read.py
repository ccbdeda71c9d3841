"""The read node: extract facts and a candidate answer from the passages found for
the current sub-question, and write them into the memory graph."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agentflow.agent.context import RunContext, context_of
from agentflow.agent.grounding import best_sentences, entity_candidates, is_grounded, is_non_answer
from agentflow.agent.memory_io import load_memory, save_memory
from agentflow.agent.schemas import Reading
from agentflow.agent.state import ResearchState
from agentflow.agent.steps import traced
from agentflow.llm.tokens import estimate_tokens
from agentflow.memory.render import render_memory

#: Memory always gets at least this much room (a thread's earlier answers must fit).
MIN_MEMORY_TOKENS = 80


@traced("read")
def read(state: ResearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Read the candidate passages; facts cite their passage; the answer must be
    grounded in them or it is kept only as a lead for the next search."""
    ctx = context_of(runtime)
    usage = dict(state["usage"])
    sq = next(s for s in state["sub_questions"] if s["id"] == state["current"])
    question = sq["resolved"] or sq["text"]
    passages = state.get("candidates") or []
    graph = load_memory(state, ctx)
    settings = ctx.settings
    # Compact memory: the first read of a run sizes the reader's evidence (passages plus
    # memory) and later reads stay within 1.25x of it, memory taking at most half, so the
    # prompt does not grow with the step index however much the run has learnt.
    cut = [p["text"][: settings.passage_chars] for p in passages]
    first = not state.get("reader_budget")
    budget = int(state.get("reader_budget") or min(settings.evidence_tokens,
                                                       sum(estimate_tokens(t) for t in cut)))
    memory_budget = max(MIN_MEMORY_TOKENS, min(settings.memory_tokens, budget // 2))
    memory_text = render_memory(graph, question, budget_tokens=memory_budget,
                                sub_question_id=sq["mem_id"], k_passages=0) if passages else ""
    if first:
        budget += estimate_tokens(memory_text)
    left = max(budget * 5 // 4 - estimate_tokens(memory_text), budget // 3)
    limit = min(settings.passage_chars, 4 * left // max(1, len(passages)))
    shown = [{"title": p.get("title", ""), "text": p["text"][:limit]} for p in passages]
    reading = None
    if passages:
        reading = ctx.ask(usage, node="read", prompt="read", output_type=Reading, sub_question=sq["id"],
                          max_tokens=200, passages=shown, memory=memory_text, question=question)
    facts: list[tuple[str, str]] = []  # (passage id, claim)
    if reading is not None:
        for f in reading.facts:
            if 1 <= f.source <= len(passages) and f.claim.strip():
                facts.append((passages[f.source - 1]["id"], f.claim.strip()[:300]))
    if not facts:
        facts = best_sentences(passages[:2], question)
    answer = "" if reading is None or is_non_answer(reading.answer) else reading.answer.strip()[:200]
    texts = [f"{p.get('title', '')} {p['text']}" for p in passages]
    grounded = bool(answer) and is_grounded(answer, texts)
    source = "reader"
    if not grounded:
        # The floor: the best entity the passages name that the question does not.
        leads = entity_candidates(passages, question)
        if answer and not grounded:
            ctx.note("read", "ungrounded_answer", f"reader answer {answer!r} is not in the passages",
                     sub_question=sq["id"])
        if leads:
            answer, grounded, source = leads[0], True, "entity_candidate"
    fact_ids = []
    for pid, claim in facts:
        answers = bool(answer) and is_grounded(answer, [claim])
        fact_ids.append(graph.add_fact(claim, source_passage_id=pid, sub_question_id=sq["mem_id"], answers=answers))
    if answer and grounded and not any(is_grounded(answer, [c]) for _, c in facts):
        # make the answer itself a fact, cited to the passage that contains it
        pid = next((p["id"] for p in passages if is_grounded(answer, [f"{p.get('title', '')} {p['text']}"])), None)
        if pid:
            fact_ids.append(graph.add_fact(answer, source_passage_id=pid, sub_question_id=sq["mem_id"], answers=True))
    ctx.progress(type="read", node="read", sub_question=question, facts=len(facts), answer=answer,
                 answer_source=source)
    return {
        "reader_budget": budget if passages else state.get("reader_budget"),
        "reading": {"answer": answer, "grounded": grounded, "source": source, "fact_ids": fact_ids,
                    "facts": [c for _, c in facts]},
        "usage": usage,
        **save_memory(graph, state, ctx, node="read", sub_question=sq["id"]),
    }
