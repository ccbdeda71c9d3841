"""The answer node: compose the final answer from the answered sub-questions with
checked citations, or refuse and report what was found."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from langgraph.runtime import Runtime

from agentflow.agent.candidates import Candidate, answer_candidates
from agentflow.agent.citations import (
    ANSWERED,
    BUDGET_EXHAUSTED,
    REFUSAL,
    REFUSED,
    check_citations,
    finish,
    rank_evidence,
    resolve_citations,
)
from agentflow.agent.context import RunContext
from agentflow.agent.decompose import nests
from agentflow.agent.grounding import is_grounded, is_non_answer, supporting_passages
from agentflow.agent.injection import passage_reason
from agentflow.agent.live import context_of
from agentflow.agent.memory_io import load_memory, run_passages
from agentflow.agent.schemas import FinalAnswer
from agentflow.agent.search import QUESTION_HEAD, STEP_HEAD
from agentflow.agent.state import ANSWERED as SQ_ANSWERED
from agentflow.agent.state import ResearchState, final_steps
from agentflow.agent.steps import traced
from agentflow.memory.entities import extract_entities, normalize_entity


def bridge_links(cited: list[str], lookup: dict[str, dict[str, Any]], question: str,
                 order: list[str]) -> list[str]:
    """For each cited passage about something the question does not name, the first
    passage in ``order`` that names both the question's entities and that subject."""
    q_keys = [k for k in (normalize_entity(e) for e in extract_entities(question)) if k]
    out: list[str] = []
    for pid in cited:
        subject = normalize_entity(lookup.get(pid, {}).get("title", ""))
        if not subject or subject in q_keys or not q_keys:
            continue
        for other in order:
            if other in cited or other in out or other not in lookup:
                continue
            text = f" {normalize_entity(lookup[other]['title'] + ' ' + lookup[other]['text'])} "
            if f" {subject} " in text and any(f" {k} " in text for k in q_keys):
                out.append(other)
                break
    return out


def evidence_order(question_hits: list[str], votes: list[str], chain: list[str], *,
                   trusted: bool, step_heads: list[str] = ()) -> list[str]:
    """The run's evidence, best first. The whole question's top passage leads (the
    single-shot floor the loop must not fall below), then the top passage of each plan
    step's own query (:data:`agentflow.agent.search.STEP_HEAD`), then the search votes of
    every hop (:data:`agentflow.agent.search.HOP_WEIGHT`). A trusted reader's answer
    chain comes right after the question's top 2 (with the oracle its chain is the gold
    one); a weak reader's chain is often a wrong hop, so it follows the votes instead of
    displacing them (its citations still carry the chain)."""
    if trusted:
        return rank_evidence(question_hits[:2], chain, votes)
    return rank_evidence(question_hits[:QUESTION_HEAD], step_heads, votes, chain)


def graph_order(ranks: dict[str, float], question: str, sub_questions: list[dict[str, Any]],
                ctx: RunContext) -> list[str]:
    """The run's retrieved passages by their search votes (``ranks``), each plus
    ``evidence_graph`` x its PPR mass on the corpus entity graph, seeded from the
    question and every step as resolved (the bridges the chain reached) and from the
    votes themselves; both max-normalised. Votes alone when there is no graph."""
    fused = by_votes(ranks)
    weight = ctx.settings.evidence_graph
    tool = next((t for t in ctx.tools if hasattr(t, "graph_scores")), None)
    if weight <= 0 or tool is None or not fused:
        return fused
    text = " . ".join([question, *[s.get("resolved") or s["text"] for s in sub_questions]])
    mass = tool.graph_scores(text, [(pid, ranks[pid]) for pid in fused])
    top_mass = max((mass.get(pid, 0.0) for pid in fused), default=0.0)
    top_vote = ranks[fused[0]]
    if top_mass <= 0 or top_vote <= 0:
        return fused
    score = {pid: ranks[pid] / top_vote + weight * mass.get(pid, 0.0) / top_mass for pid in fused}
    return sorted(fused, key=lambda pid: -score[pid])


def by_votes(ranks: dict[str, float]) -> list[str]:
    """The run's retrieved passages by their search votes, best first."""
    return sorted(ranks, key=lambda pid: -ranks[pid])


def step_heads(sub_questions: list[dict[str, Any]], ctx: RunContext) -> list[str]:
    """The best passage of each plan step's own first query, in plan order."""
    if not ctx.settings.step_heads:
        return []
    return [pid for s in sub_questions for pid in (s.get("head_ids") or [])[:STEP_HEAD]]


def stated_links(sub_questions: list[dict[str, Any]], lookup: dict[str, dict[str, Any]],
                 ctx: RunContext) -> list[str]:
    """The passage each step's answer was read from, where a sentence of it states what
    the step asks (``supported``), in plan order: a link of the chain that its own
    passage states is evidence for that hop whoever read it."""
    if not ctx.settings.stated_links:
        return []
    return [s["answer_passage"] for s in sub_questions
            if s["status"] == SQ_ANSWERED and s.get("supported") and s.get("answer_passage") in lookup]


def broken_link(sub_questions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first bridge of a plan (a step later steps depend on) not answered by a
    sentence that states it, or None when the chain holds: a chain whose link is a stray
    span (an untrusted reader's floor in a question worded unlike its passages) says
    nothing about the answer."""
    used = {d for s in sub_questions for d in s["depends_on"]}
    return next((s for s in sub_questions if s["id"] in used
                 and not (s["status"] == SQ_ANSWERED and s.get("supported", True))), None)


def evidence_missing(link: dict[str, Any], sub_questions: list[dict[str, Any]], *,
                     subject_page: bool = True) -> bool:
    """Whether a broken link is missing evidence rather than misread: it asks about an
    entity that supported earlier steps found in the corpus (so the corpus spells it that
    way), and no passage it was shown names that entity, or the entity's own page was
    shown and states nothing of what is asked."""
    by_id = {s["id"]: s for s in sub_questions}
    unstated = link.get("about_subject") is False or (subject_page and bool(link.get("subject_page")))
    return bool(link["depends_on"]) and unstated and all(
        by_id.get(d, {}).get("supported") for d in link["depends_on"])


def whole_question_floor(question: str, order: list[str], lookup: dict[str, dict[str, Any]],
                         ctx: RunContext, exclude: Sequence[str] = ()) -> Candidate | None:
    """The single-step floor over the run's evidence: the best typed span of the first
    ``read_k`` evidence passages for the whole question, as a one-step run would read it.
    ``exclude``: the chain's bridges, which the question asks something of (the spouse
    of the director is not the director)."""
    passages = [lookup[p] for p in order if p in lookup][: ctx.settings.read_k]
    cands = answer_candidates(passages, question, limit=1, exclude=exclude,
                              beyond_subjects=ctx.settings.beyond_subjects and nests(question),
                              named_subjects=ctx.settings.named_subjects,
                              relation_cues=ctx.settings.relation_cues)
    return cands[0] if cands else None


@traced("answer")
def answer(state: ResearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Answer with citations of retrieved passages, or refuse."""
    ctx = context_of(runtime)
    usage = dict(state["usage"])
    sub_questions = state["sub_questions"]
    lookup = run_passages(load_memory(state, ctx))
    retrieved = set(state.get("retrieved") or [])
    if ctx.settings.screen_passages:
        # An instruction-like passage never supports, grounds or is cited for an answer:
        # an answer whose only support it is has none, and is refused.
        flagged = {pid for pid, p in lookup.items() if passage_reason(p)}
        lookup = {pid: p for pid, p in lookup.items() if pid not in flagged}
        retrieved -= flagged
    sinks = final_steps(sub_questions)
    answered = [s for s in sub_questions if s["status"] == SQ_ANSWERED and s.get("answer")]
    # Evidence for each answered step: the passages that contain its answer, first.
    support = {
        s["id"]: supporting_passages(s["answer"], [lookup[p] for p in s["evidence_ids"] if p in lookup])
        for s in answered
    }
    ranks = state.get("ranks") or {}
    rest = [*[s["evidence_ids"] for s in sub_questions], state.get("retrieved") or []]
    background = rank_evidence(graph_order(ranks, state["question"], sub_questions, ctx), *rest, limit=50)
    question_hits = state.get("question_hits") or []
    trusted = ctx.trusts_reader()
    heads = step_heads(sub_questions, ctx) + stated_links(sub_questions, lookup, ctx)
    # The run's evidence around a given chain (the same question hits, votes and step heads).
    order = partial(evidence_order, question_hits, background, step_heads=heads)
    # What the single-step floor reads: the passages by the searches' votes alone. The
    # graph's mass favours passages linked to the chain's entities (evidence for its
    # hops), not the passage that answers the whole question.
    votes = rank_evidence(by_votes(ranks), *rest, limit=50)
    floor_order = partial(evidence_order, question_hits, votes, step_heads=heads)

    link = broken_link(sub_questions) if len(sub_questions) > 1 and not trusted else None
    if link is not None and ctx.settings.chain_fallback and evidence_missing(
            link, sub_questions, subject_page=ctx.settings.subject_page_missing):
        # The chain reached an entity no passage says anything about: that is the claim
        # a refusal makes, checked in code.
        ctx.note("answer", "refusal", f"no passage names {link.get('resolved') or link['text']!r}'s "
                 "subject: the evidence for this hop is missing")
        return {"usage": usage, **finish(ctx, node="answer", status=REFUSED, answer=REFUSAL, citations=[],
                                         evidence=order([], trusted=False), lookup=lookup)}
    chain_found = all(s["status"] == SQ_ANSWERED for s in sinks)
    if link is not None and ctx.settings.chain_fallback and chain_found and ctx.settings.chain_answer_first:
        # The link is unsupported, yet the step after it searched with it and read an
        # answer: that reading asks the hop the question asks, where the single-step floor
        # reads a nested question as if it had one hop (the rag baseline's weakness).
        ctx.note("answer", "unsupported_link", f"a link of the chain is unsupported "
                 f"({link.get('resolved') or link['text']!r}): keeping the chain's answer")
    elif link is not None and ctx.settings.chain_fallback:
        # A weak reader's chain broke at a link and found nothing: the run's evidence (the
        # whole question's search and its bridge hops) still answers as a single step would.
        unstated = sinks[0].get("unstated") if len(sinks) == 1 and ctx.settings.chain_answer_first else None
        pick: tuple[str, str] | None = None
        if unstated and unstated["passage_id"] in retrieved:
            # The last step read a span its sentence does not state: on a chain that is
            # already broken, that reading of the right hop still beats the floor's.
            pick = (unstated["answer"], unstated["passage_id"])
            ctx.note("answer", "unsupported_link", f"a link of the chain is unsupported and its last step "
                     f"unstated: answering {pick[0]!r} as that step read it")
        else:
            bridges = [s["answer"] for s in sub_questions if s.get("answer") and s not in sinks] \
                if ctx.settings.floor_skips_bridges else []
            floor = whole_question_floor(state["question"], floor_order([], trusted=False), lookup, ctx,
                                         exclude=bridges)
            if floor is not None and floor.passage_id in retrieved:
                pick = (floor.text, floor.passage_id)
                ctx.note("answer", "chain_fallback", f"a link of the chain is unsupported: answering "
                         f"{pick[0]!r} from the whole question's evidence")
        if pick is not None:
            cited = [pick[1]]
            links = bridge_links(cited, lookup, state["question"],
                                 [p for p in rank_evidence(question_hits, background) if p in retrieved])
            cited = rank_evidence(links, cited, limit=6)
            return {"usage": usage, **finish(ctx, node="answer", status=ANSWERED, answer=pick[0],
                                             citations=cited, lookup=lookup,
                                             evidence=order(cited, trusted=False))}

    if not chain_found:
        status = BUDGET_EXHAUSTED if state.get("stop_reason") else REFUSED
        found = order([pid for ids in support.values() for pid in ids], trusted=trusted)
        why = f" (budget exhausted: {state['stop_reason']})" if state.get("stop_reason") else ""
        ctx.note("answer", "refusal", f"no supported answer to the question{why}")
        return {"usage": usage, **finish(ctx, node="answer", status=status, answer=REFUSAL,
                                         citations=[], evidence=found, lookup=lookup)}

    # The chain: for each answered step, the passage its answer was read from first.
    chain = rank_evidence(*[[s["answer_passage"]] if s.get("answer_passage") in lookup else []
                            for s in answered],
                          *[support[s["id"]] for s in answered], limit=6)
    shown = chain or rank_evidence(*[s["evidence_ids"] for s in answered], limit=4)
    floor_answer = "; ".join(s["answer"] for s in sinks)
    final = floor_answer
    cited: list[str] = []
    removed: list[str] = []
    if len(sinks) > 1:
        # Several final steps (a comparison): only a composed answer can join them.
        steps = [{"question": s["resolved"] or s["text"], "answer": s["answer"]} for s in answered]
        composed = ctx.ask(usage, node="answer", prompt="answer", output_type=FinalAnswer,
                           max_tokens=120, question=state["question"], steps=steps,
                           passages=[{"title": lookup[p]["title"],
                                      "text": lookup[p]["text"][: ctx.settings.passage_chars]}
                                     for p in shown])
        if composed is not None:
            cited = resolve_citations(composed.citations, shown)
            valid = check_citations(cited, retrieved, ctx, node="answer")
            removed = [c for c in cited if c not in valid]
            cited = valid
            texts = [f"{lookup[p]['title']} {lookup[p]['text']}" for p in (cited or shown) if p in lookup]
            if not is_non_answer(composed.answer) and is_grounded(composed.answer, texts):
                final = composed.answer.strip()
            elif not is_non_answer(composed.answer):
                ctx.note("answer", "ungrounded_answer",
                         f"composed answer {composed.answer!r} is not in the cited passages; "
                         f"using the sub-question answers {floor_answer!r}")
    # Every claim must cite: keep model citations that contain the final answer or a
    # step's answer, then add the chain passages that do.
    claims = [final] + [s["answer"] for s in answered]
    cited = [p for p in cited if p in lookup and any(is_grounded(c, [lookup[p]["text"], lookup[p]["title"]]) for c in claims)]
    cited = rank_evidence(cited, [p for p in chain if p in retrieved], limit=6)
    # The hop before each cited passage: a retrieved passage that names the question's
    # entities and the cited passage's subject (its title) links the answer to the question.
    links = bridge_links(cited, lookup, state["question"],
                         [p for p in rank_evidence(question_hits, background) if p in retrieved])
    cited = rank_evidence(links, cited, limit=6)
    if not cited:
        ctx.note("answer", "refusal", "the answer has no supporting passage among those retrieved")
        return {"usage": usage, **finish(ctx, node="answer", status=REFUSED, answer=REFUSAL, citations=[],
                                         evidence=order([], trusted=trusted),
                                         lookup=lookup, removed=removed)}
    evidence = order(cited + chain, trusted=trusted)
    return {"usage": usage, **finish(ctx, node="answer", status=ANSWERED, answer=final, citations=cited,
                                     evidence=evidence, lookup=lookup, removed=removed)}
