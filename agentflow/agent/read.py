"""The read node: find the answer of the current sub-question among typed candidate
spans of the passages, and write the sentence that states it into the memory graph.

The model is asked one narrow question: which of these spans (all of them occur in
the passages and fit the expected answer type) answers the sub-question? Backends
that constrain output get the spans as a JSON-schema enum; a strong model may also
give another span, accepted only when it occurs in a shown passage. Without a usable
choice the best-scored candidate is the floor. Facts are passage sentences, never
model text, so nothing from a prompt example can reach memory.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from pydantic import BaseModel, Field, create_model

from agentflow.agent.answer_types import expected_type
from agentflow.agent.candidates import Candidate, answer_candidates, passage_subject, sentences
from agentflow.agent.compare import comparison
from agentflow.agent.compare import decide as decide_comparison
from agentflow.agent.context import RunContext
from agentflow.agent.decompose import nests
from agentflow.agent.grounding import best_sentences, is_non_answer, normalize_answer
from agentflow.agent.injection import passage_reason, screen
from agentflow.agent.live import context_of
from agentflow.agent.memory_io import load_memory, run_passages, save_memory
from agentflow.agent.state import ResearchState, final_steps
from agentflow.agent.steps import traced
from agentflow.llm.tokens import estimate_tokens
from agentflow.memory.entities import extract_entities, normalize_entity
from agentflow.memory.render import render_memory

#: Memory always gets at least this much room (a thread's earlier answers must fit).
MIN_MEMORY_TOKENS = 80
#: The answer the reader gives when no candidate answers the sub-question.
NONE = "none of these"
MAX_CANDIDATES = 6


def pick_model(candidates: list[Candidate]) -> type[BaseModel]:
    """The reader's output type: ``answer`` is one of the candidate spans (a JSON-schema
    enum for constrained backends) or :data:`NONE`; validation accepts any string so a
    strong model's other span can be checked in code instead of failing to parse."""
    choices = [c.text for c in candidates] + [NONE]
    return create_model(
        "Pick",
        __doc__="The span of the passages that answers the question.",
        answer=(str, Field(json_schema_extra={"enum": choices})),
    )


def subject_page(question: str, passages: list[dict[str, Any]], chosen: Candidate | None = None,
                 *, refined: bool = True) -> bool:
    """Whether the page of the entity a one-hop ``question`` names (its title) was shown
    and read for nothing: if that page does not state what is asked, the corpus does
    not. ``refined``: only when the chosen span is on that page (or there is none); a
    span from another passage whose sentence names the entity may still state it."""
    if nests(question):
        return False
    named = {normalize_entity(e) for e in extract_entities(question)} - {""}
    pages = {p["id"] for p in passages if passage_subject(p.get("title", "")) in named}
    if not refined or chosen is None or not pages:
        return bool(pages)
    return chosen.passage_id in pages or chosen.about_subject is False


def _states_it(candidate: Candidate) -> bool:
    """Whether a candidate's sentence states what is asked (echoes its relation, or names
    every entity the question names) about whom it is asked (not about a namesake)."""
    return (candidate.relation_hits > 0 or candidate.names_all) and candidate.about_subject is not False


def _in_passages(answer: str, passages: list[dict[str, Any]]) -> str | None:
    """The id of the first shown passage containing ``answer`` as a phrase."""
    norm = normalize_answer(answer)
    if not norm:
        return None
    for p in passages:
        if f" {norm} " in f" {normalize_answer(p.get('title', '') + ' ' + p['text'])} ":
            return p["id"]
    return None


def _evidence_first(text: str, keep: list[str]) -> str:
    """``text`` with the sentences in ``keep`` moved to the front (in passage order), so a
    passage cut to the prompt budget still shows the sentences that hold its candidates."""
    parts = sentences(text)
    first = [s for s in parts if any(k and k in s for k in keep)]
    if not first or parts[: len(first)] == first:
        return text
    return " ".join(first + [s for s in parts if s not in first])


def _shown(state: ResearchState, ctx: RunContext, graph: Any, sq: dict[str, Any],
           passages: list[dict[str, Any]], candidates: list[Candidate] | None = None,
           ) -> tuple[list[dict[str, str]], str, int]:
    """Passages and memory cut to the reader's token budget (compact memory: the first
    read of a run sizes the budget and later reads stay within 1.25x of it, memory
    taking at most half, so the prompt does not grow with the step index)."""
    settings = ctx.settings
    question = sq["resolved"] or sq["text"]
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
    keep = {p["id"]: [c.sentence[:80] for c in candidates or [] if c.passage_id == p["id"]] for p in passages}
    shown = [{"title": p.get("title", ""), "text": _evidence_first(p["text"], keep[p["id"]])[:limit]}
             for p in passages]
    return shown, memory_text, budget


@traced("read")
def read(state: ResearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Pick the sub-question's answer among typed candidates; record its sentence as a fact."""
    ctx = context_of(runtime)
    usage = dict(state["usage"])
    sq = next(s for s in state["sub_questions"] if s["id"] == state["current"])
    question = sq["resolved"] or sq["text"]
    passages = state.get("candidates") or []
    if ctx.settings.screen_passages:  # passages are data: instructions to the model are not read
        passages = screen(passages, ctx.note, node="read")
    graph = load_memory(state, ctx)
    kind = expected_type(question)
    earlier = [s.get("answer") or "" for s in state["sub_questions"] if s["id"] != sq["id"]]
    subs = state["sub_questions"]
    # The last hop of a multi-hop question asks about a bridge, so a span naming what a
    # shown passage is about is likelier that bridge than the answer.
    last_hop = ctx.settings.beyond_subjects and any(s["id"] == sq["id"] for s in final_steps(subs)) and (
        len(subs) > 1 or nests(state["question"]))
    candidates = answer_candidates(passages, question, kind=kind, exclude=earlier,
                                   limit=MAX_CANDIDATES, beyond_subjects=last_hop,
                                   named_subjects=ctx.settings.named_subjects,
                                   relation_cues=ctx.settings.relation_cues)
    chosen: Candidate | None = None
    source = "candidate"
    comp = comparison(question) if ctx.settings.compare_in_code else None
    if comp is not None:
        # "Who was born earlier, A or B?": the answer is an option, decided by the dates
        # every passage of the run states for them; the model only picks between the two
        # options when a date is missing.
        shown_ids = {q["id"] for q in passages}
        known = passages + [p for pid, p in run_passages(graph).items() if pid not in shown_ids
                            and not (ctx.settings.screen_passages and passage_reason(p))]
        chosen = decide_comparison(comp, known)
        source = "comparison" if chosen is not None else source
        keys = {normalize_answer(o) for o in comp.options}
        candidates = [c for c in candidates if normalize_answer(c.text) in keys] or candidates
    shown, memory_text, budget = _shown(state, ctx, graph, sq, passages, candidates)
    ask_reader = ctx.trusts_reader() if ctx.settings.reader_llm is None else ctx.settings.reader_llm
    if passages and ask_reader and chosen is None:
        pick = ctx.ask(usage, node="read", prompt="read", output_type=pick_model(candidates),
                       sub_question=sq["id"], max_tokens=40, passages=shown, memory=memory_text,
                       question=question, candidates=[c.text for c in candidates], none=NONE)
        answer = "" if pick is None else str(getattr(pick, "answer", "")).strip()[:200]
        if answer and not is_non_answer(answer) and normalize_answer(answer) != normalize_answer(NONE):
            by_text = {normalize_answer(c.text): c for c in candidates}
            chosen = by_text.get(normalize_answer(answer))
            if chosen is None and (pid := _in_passages(answer, passages)) is not None \
                    and normalize_answer(answer) not in normalize_answer(question):
                # A span outside the candidates (a strong model's), checked against the text.
                text = next(p["text"] for p in passages if p["id"] == pid)
                sentence = next((s for s in sentences(text) if _in_passages(answer, [
                    {"id": pid, "text": s}])), text)
                chosen = Candidate(text=answer, passage_id=pid, sentence=sentence[:300], score=0.0,
                                   kind=kind, relation_hits=1)
            if chosen is not None:
                source = "reader"
            else:
                ctx.note("read", "ungrounded_answer",
                         f"reader answer {answer!r} is not a span of the passages", sub_question=sq["id"])
    if not ctx.trusts_reader() and chosen is not None and chosen.relation_hits == 0 and candidates \
            and candidates[0].relation_hits > 0:
        # The pick's sentence says nothing about what is asked while another span's does:
        # a check in code outranks a weak model's guess.
        ctx.note("read", "reader_pick_unsupported",
                 f"reader pick {chosen.text!r} is not in a sentence about the question; "
                 f"using {candidates[0].text!r}", sub_question=sq["id"])
        chosen, source = None, "candidate"
    # The floor: the best-scored typed span. It stands as the step's pick (as a reader's
    # would) when the model is not asked because it is small.
    stands = source in {"reader", "comparison"}
    if chosen is None and candidates:
        chosen = candidates[0]
        stands = ctx.settings.reader_llm is None and not ask_reader
    facts: list[tuple[str, str]] = []  # (passage id, sentence)
    if chosen is not None:
        facts.append((chosen.passage_id, chosen.sentence))
    facts += [f for f in best_sentences(passages[:2], question) if f not in facts]
    answer = chosen.text if chosen is not None else ""
    fact_ids = [graph.add_fact(claim, source_passage_id=pid, sub_question_id=sq["mem_id"],
                               answers=chosen is not None and pid == chosen.passage_id and i == 0)
                for i, (pid, claim) in enumerate(facts)]
    ctx.progress(type="read", node="read", sub_question=question, facts=len(facts), answer=answer,
                 answer_source=source)
    return {
        "reader_budget": budget if passages else state.get("reader_budget"),
        "reading": {"answer": answer, "grounded": chosen is not None, "source": source, "stands": stands,
                    "kind": kind.value,
                    # Supported: the sentence states what is asked (echoes its relation, or
                    # names every entity the question names), about whom it is asked (a
                    # one-hop step naming its subject: not about a namesake).
                    "supported": chosen is not None and _states_it(chosen),
                    "about_subject": chosen.about_subject if chosen else None,
                    "subject_page": subject_page(question, passages, chosen,
                                                 refined=ctx.settings.subject_page_refined),
                    "other_relation": bool(chosen and chosen.other_relation),
                    "passage_id": chosen.passage_id if chosen else None,
                    "candidates": [c.text for c in candidates],
                    # The candidates whose sentence states what is asked, and where: the
                    # runner-ups a retry may put in a bridge's place (verify._retry_bridge).
                    "stated": {c.text: c.passage_id for c in candidates if _states_it(c)},
                    "fact_ids": fact_ids,
                    "facts": [c for _, c in facts]},
        "usage": usage,
        **save_memory(graph, state, ctx, node="read", sub_question=sq["id"]),
    }
