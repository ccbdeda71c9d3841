"""The verify node: decide whether the current sub-question is answered, needs another
search, or is unanswerable within the budget.

Sufficiency is decided in code (SIM-RAG's gate, with a deterministic floor): a
sub-question is answered when the reader's span occurs in a passage, fits the
expected answer type and sits in a sentence that echoes what the sub-question asks
(its relation words). The critic model is consulted once per sub-question and may
only ask for one more search: a weak critic's "unanswerable" never refuses a
sub-question whose evidence holds a grounded candidate. Refusal is the claim that
the evidence is missing: no such candidate once searching is over.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agentflow.agent.budget import search_budget_left
from agentflow.agent.context import RunContext
from agentflow.agent.live import context_of
from agentflow.agent.memory_io import load_memory, save_memory
from agentflow.agent.schemas import Verdict
from agentflow.agent.state import ANSWERED, UNANSWERABLE, ResearchState, final_steps, resolve_text
from agentflow.agent.steps import traced

ANSWERED_V, AGAIN, UNANSWERABLE_V = "answered", "search_again", "unanswerable"
RETRY = "retry_bridge"  # searched again under a runner-up bridge (:func:`_retry_bridge`)


def decide(reading: dict[str, Any], *, can_search: bool, critic: str | None,
           final: bool = False, bridge: bool = False) -> str:
    """The verdict for one round, from the reading and the critic's word (pure).

    ``final`` marks a step whose answer is the question's answer: it must be stated by
    its sentence (supported), since answering it from a stray span is exactly the
    over-confident answer a refusal exists to prevent. ``bridge`` marks a step that later
    steps depend on: its best grounded span carries the chain on.
    """
    answer = reading.get("answer") or ""
    supported = bool(answer) and bool(reading.get("grounded")) and bool(reading.get("supported"))
    if supported:
        return AGAIN if (critic == AGAIN and can_search) else ANSWERED_V
    if can_search:
        return AGAIN
    # Searching is over: a grounded span whose sentence does not echo the relation is
    # still the best the evidence holds for a bridge; refusing it would end the chain.
    # The question's own answer, though, must be stated (``final``); and a one-step plan
    # (the question itself) keeps the stricter rule: only the reader's pick may stand.
    if not answer or not reading.get("grounded"):
        return UNANSWERABLE_V
    if bridge:
        return ANSWERED_V
    return ANSWERED_V if _stands(reading) and not final else UNANSWERABLE_V


def _stands(reading: dict[str, Any]) -> bool:
    """Whether the reading's span is the step's pick (the reader's, or the floor standing in
    for a small model that is not asked), not just the best the code could find."""
    return bool(reading.get("stands", reading.get("source") == "reader"))


def _evidence_missing(reading: dict[str, Any], *, subject_page: bool = True) -> bool:
    """Whether the step's evidence says nothing of its subject: no shown passage names it,
    or its own page was shown and states nothing of what is asked, or the only sentence
    found states another relation of it ("founded by X in 1857" for "When was X born?").
    Only then does an
    unsupported final step refuse; a span merely worded unlike the question stands."""
    return reading.get("about_subject") is False or (subject_page and bool(reading.get("subject_page"))) or (
        not reading.get("supported") and bool(reading.get("other_relation")))


#: What a retry changes in the bridge step, and restores when no runner-up stands.
_BRIDGE_FIELDS = ("answer", "answer_passage", "supported")


def _retry_bridge(sq: dict[str, Any], sub_questions: list[dict[str, Any]], ctx: RunContext,
                  usage: dict[str, Any]) -> bool:
    """Try the step again with its bridge's next runner-up answer (a beam over the chain,
    checked by the next hop): the step it depends on takes the runner-up, the step is
    resolved anew and searched once more. False when there is none left to try (the
    bridge is then restored)."""
    by_id = {s["id"]: s for s in sub_questions}
    dep = by_id.get(sq["depends_on"][-1]) if sq["depends_on"] else None
    if dep is None or ctx.trusts_reader() or ctx.settings.bridge_retries <= 0:
        return False
    original = sq.get("retry_from") or {k: dep.get(k) for k in _BRIDGE_FIELDS}
    tried = [original["answer"], *(sq.get("retried") or [])]
    stated = dep.get("stated_alternates") or {}
    alternate = next((a for a in stated if a not in tried), None)
    if alternate is None or len(tried) > ctx.settings.bridge_retries or not search_budget_left(usage, ctx.budget):
        if sq.get("retrying"):
            dep.update(original)  # no runner-up is stated about: the chain stays as it was
            sq["retrying"] = False
            sq["resolved"] = resolve_text(sq, sub_questions)
            sq["head_ids"] = sq.get("retry_heads", sq.get("head_ids"))
        return False
    sq["retry_from"] = original
    sq.setdefault("retry_heads", sq.get("head_ids") or [])
    sq["retried"] = tried[1:] + [alternate]
    dep.update(answer=alternate, answer_passage=stated[alternate], supported=False)
    sq["retrying"] = True
    sq["resolved"] = resolve_text(sq, sub_questions)
    sq["next_query"], sq["best_reading"], sq["rounds"] = sq["resolved"], None, ctx.settings.max_rounds - 1
    ctx.note("verify", "bridge_retry", f"{sq['text']!r} found nothing stated about {original['answer']!r}: "
             f"trying the runner-up {alternate!r}", sub_question=sq["id"], bridge=dep["id"],
             replaced=original["answer"], alternate=alternate)
    return True


def _strength(reading: dict[str, Any]) -> tuple[bool, bool]:
    """How much a reading is worth: supported first, then the reader's pick over the floor."""
    return (bool(reading.get("supported")), _stands(reading))


@traced("verify")
def verify(state: ResearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Settle the current sub-question or send it back to search."""
    ctx = context_of(runtime)
    usage = dict(state["usage"])
    sub_questions = [dict(s) for s in state["sub_questions"]]
    sq = next(s for s in sub_questions if s["id"] == state["current"])
    reading = state.get("reading") or {}
    best = sq.get("best_reading")
    if best and _strength(best) > _strength(reading):
        # An earlier round of this sub-question found a supported answer; a later round
        # that read other passages and found less does not undo it.
        reading = {**reading, **best}
    answer = reading.get("answer") or ""
    can_search = sq["rounds"] < ctx.settings.max_rounds and search_budget_left(usage, ctx.budget)
    llm_verdict: Verdict | None = None
    if answer and reading.get("supported") and can_search and ctx.settings.critic_llm \
            and not sq.get("critic_asked"):
        sq["critic_asked"] = True
        llm_verdict = ctx.ask(usage, node="verify", prompt="verify", output_type=Verdict,
                              sub_question=sq["id"], max_tokens=60,
                              question=sq["resolved"] or sq["text"],
                              answer=answer, facts=reading.get("facts", [])[:3])
    # A trusted (strong) reader's pick may word the relation differently from the
    # question; an untrusted one's must be stated by its sentence to answer the question.
    # Under a plan of several steps the final one is a one-hop question about a named
    # entity (an earlier step's answer): its answer must be stated about that entity, or
    # the evidence for it is missing and the run refuses (SIM-RAG: refusal is a claim
    # that evidence is missing, checked in code).
    final = not ctx.trusts_reader() and any(s["id"] == sq["id"] for s in final_steps(sub_questions)) and (
        ctx.settings.final_needs_support or (ctx.settings.final_step_support and len(sub_questions) > 1
                                             and _evidence_missing(reading, subject_page=ctx.settings.subject_page_missing)))
    bridge = any(sq["id"] in s["depends_on"] for s in sub_questions)
    decision = decide(reading, can_search=can_search,
                      critic=llm_verdict.verdict if llm_verdict else None, final=final, bridge=bridge)
    replaced: dict[str, Any] | None = None  # the bridge a runner-up replaced, once it stands
    if decision == UNANSWERABLE_V or (decision == ANSWERED_V and sq.get("retrying") and not reading.get("supported")):
        # Nothing stated about this bridge (or the runner-up tried): the next runner-up,
        # else the step is unanswerable under the bridge it started with.
        decision = RETRY if _retry_bridge(sq, sub_questions, ctx, usage) else UNANSWERABLE_V
    if decision not in (AGAIN, RETRY):
        # Whether its sentence states what was asked about whom it was asked, and whether
        # the evidence names that subject at all: a chain is only as good as its links
        # (agentflow.agent.answer.broken_link, evidence_missing).
        sq["supported"] = decision == ANSWERED_V and bool(reading.get("supported"))
        sq["about_subject"] = reading.get("about_subject")
        sq["subject_page"] = bool(reading.get("subject_page"))
    if decision == AGAIN:
        if reading.get("grounded") and (not best or _strength(reading) >= _strength(best)):
            sq["best_reading"] = {k: reading.get(k) for k in
                                  ("answer", "grounded", "supported", "source", "stands", "passage_id",
                                   "about_subject", "subject_page", "other_relation")}
        refined = (llm_verdict.refined_query.strip() if llm_verdict else "") or None
        sq["next_query"] = refined
    elif decision == ANSWERED_V:
        sq["status"], sq["answer"] = ANSWERED, answer
        sq["answer_source"] = reading.get("source") or "candidate"
        sq["answer_passage"] = reading.get("passage_id")
        # The runner-up spans: a later step that depends on this one also searches with
        # them, so one wrong pick by a weak reader does not take the chain off course.
        sq["alternates"] = [c for c in reading.get("candidates") or [] if c != answer][:3]
        # Runner-ups whose own sentence states the relation asked (and their passages):
        # the only ones a retry tries.
        sq["stated_alternates"] = {c: pid for c, pid in (reading.get("stated") or {}).items()
                                   if c in sq["alternates"]}
        if sq.get("retrying"):
            sq["retrying"] = False
            replaced = next(s for s in sub_questions if s["id"] == sq["depends_on"][-1])
            replaced["supported"] = True
            ctx.note("verify", "bridge_replaced", f"{sq['retry_from']['answer']!r} replaced by a runner-up: "
                     f"{sq['resolved']!r} is answered by a sentence about it", sub_question=sq["id"])
    elif decision == UNANSWERABLE_V:
        sq["status"] = UNANSWERABLE
        # What it read all the same (a span no sentence states as asked): a broken
        # chain's answer may still come from it (agentflow.agent.answer). Not after a
        # runner-up bridge was tried: the reading would be about another bridge.
        read_span = answer and reading.get("grounded") and reading.get("passage_id")
        sq["unstated"] = {"answer": answer, "passage_id": reading["passage_id"]} \
            if read_span and not sq.get("retry_from") else None
    graph = load_memory(state, ctx)
    if decision == ANSWERED_V:
        graph.set_answer(sq["mem_id"], answer)
        if replaced is not None:
            graph.set_answer(replaced["mem_id"], replaced["answer"])  # the runner-up stands
    ctx.progress(type="verify", node="verify", sub_question=sq["resolved"] or sq["text"],
                 verdict=decision, answer=answer if decision == ANSWERED_V else None,
                 llm_verdict=llm_verdict.verdict if llm_verdict else None)
    return {
        "sub_questions": sub_questions,
        "usage": usage,
        **save_memory(graph, state, ctx, node="verify", sub_question=sq["id"]),
    }
