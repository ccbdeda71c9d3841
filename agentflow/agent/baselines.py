"""Nodes of the two comparison baselines.

* single-shot RAG: search the question once, answer from the top passages;
* ReAct-style loop: the model sees the whole transcript (every query and every
  passage so far) at each step and decides to search again or answer, so its
  prompts grow with the number of steps, unlike the deep-research graph's
  compact memory.

Both check citations in code exactly like the deep-research graph, and both are honest
about support: a run is ``answered`` only with at least one valid citation (a passage a
tool returned in this run). The model's valid citations are kept; when it gave none, the
shown passages that contain its answer (normalised, on word boundaries) are cited in code;
when no passage contains it either, the answer is kept with status ``unsupported``.

Deterministic floors, so that a weak model cannot turn a prompt example into an answer
(:meth:`RunContext.ask` turns a copied example into ``None``):

* RAG stays a fair single-shot baseline: it answers with the model's answer or refuses
  (invalid output, a copied example, or a non-answer); it never builds an answer itself.
* ReAct searches the question when the model's step is unusable, and when the model
  answers before any search (an answer from no passage is a guess); on its last step an
  unusable step is a refusal.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from langgraph.runtime import Runtime

from agentflow.agent.budget import llm_budget_left, new_usage, search_budget_left
from agentflow.agent.citations import (
    ANSWERED,
    BUDGET_EXHAUSTED,
    REFUSAL,
    REFUSED,
    UNSUPPORTED,
    check_citations,
    finish,
    rank_evidence,
    resolve_citations,
)
from agentflow.agent.context import RunContext
from agentflow.agent.grounding import is_non_answer
from agentflow.agent.injection import screen
from agentflow.agent.live import context_of
from agentflow.agent.schemas import FinalAnswer, ReactAction
from agentflow.agent.state import ResearchState
from agentflow.agent.steps import traced
from agentflow.records import SearchHit
from agentflow.scoring.metrics import normalize_answer


def run_search(ctx: RunContext, usage: dict[str, Any], query: str, *, node: str, k: int) -> list[SearchHit]:
    """Search every source tool for ``query`` (recording each call); merged, best first."""
    merged: dict[str, SearchHit] = {}
    for tool in ctx.tools:
        if not search_budget_left(usage, ctx.budget):
            break
        started = time.perf_counter()
        hits, tool_notes = tool.search_with_notes(query, k=k)
        usage["searches"] += 1
        for n in tool_notes:  # a web source that failed, a page cut at its cap
            ctx.note(node, n.kind, n.message, tool=tool.name, **n.data)
        ctx.recorder.record("tool_call", node=node, sub_question=None, tool=tool.name, query=query,
                            mode=tool.mode, k=k, results=[{"id": h.id, "score": round(h.score, 6)} for h in hits],
                            new_ids=[h.id for h in hits if h.id not in merged], known_ids=[],
                            seconds=round(time.perf_counter() - started, 4))
        ctx.progress(type="search", node=node, query=query, tool=tool.name, found=len(hits), new=len(hits))
        for h in hits:
            merged.setdefault(h.id, h)
    return list(merged.values())


def _clip(hits: list[dict[str, Any]], chars: int) -> list[dict[str, Any]]:
    return [{**h, "text": h["text"][:chars]} for h in hits]


def containing(answer: str, passages: list[dict[str, Any]]) -> list[str]:
    """Ids of the passages whose title or text contains ``answer`` (SQuAD-normalised, on
    word boundaries), in the order given."""
    norm = normalize_answer(answer)
    if not norm:
        return []
    return [p["id"] for p in passages
            if any(f" {norm} " in f" {normalize_answer(str(p.get(k) or ''))} "
                   for k in ("title", "text"))]


def support(ctx: RunContext, answer: str, cited: list[str], retrieved: set[str],
            shown: list[dict[str, Any]], *, node: str) -> tuple[str, list[str], list[str]]:
    """``(status, citations, removed)`` of a baseline's answer: the model's valid
    citations (``answered``); else the shown passages containing the answer, cited in code
    (``answered``); else none (``unsupported``). Each decision is noted in the trajectory."""
    valid = check_citations(cited, retrieved, ctx, node=node)
    removed = [c for c in cited if c not in valid]
    if valid:
        return ANSWERED, valid, removed
    grounded = [pid for pid in containing(answer, shown) if pid in retrieved]
    if grounded:
        ctx.note(node, "cited_in_code", f"no valid citation from the model: citing the "
                 f"{len(grounded)} shown passage(s) that contain the answer", passage_ids=grounded)
        return ANSWERED, grounded, removed
    ctx.note(node, "unsupported", f"no retrieved passage supports the answer {answer!r}: "
             "status unsupported")
    return UNSUPPORTED, [], removed


# -- single-shot RAG ---------------------------------------------------------------

@traced("retrieve")
def rag_retrieve(state: ResearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Search the question once."""
    ctx = context_of(runtime)
    usage = dict(state.get("usage") or new_usage())
    hits = run_search(ctx, usage, state["question"], node="retrieve", k=ctx.settings.k)
    return {"candidates": [h.model_dump() for h in hits], "retrieved": [h.id for h in hits], "usage": usage}


@traced("answer")
def rag_answer(state: ResearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Answer from the retrieved passages in one LLM call."""
    ctx = context_of(runtime)
    usage = dict(state["usage"])
    passages = state.get("candidates") or []
    retrieved = set(state.get("retrieved") or [])
    if ctx.settings.screen_passages:  # instruction-like passages are not shown, cited or grounding
        kept = screen(passages, ctx.note, node="answer")
        retrieved &= {p["id"] for p in kept}
        if passages and not kept:
            ctx.note("answer", "refusal", "every retrieved passage reads as instructions to the model")
            return {"usage": usage, **finish(ctx, node="answer", status=REFUSED, answer=REFUSAL,
                                             citations=[], evidence=[], lookup={})}
        passages = kept
    lookup = {p["id"]: p for p in passages}
    ids = [p["id"] for p in passages]
    shown = _clip(passages, ctx.settings.passage_chars)
    result = ctx.ask(usage, node="answer", prompt="rag_answer", output_type=FinalAnswer, max_tokens=120,
                     question=state["question"], passages=shown)
    if result is None or is_non_answer(result.answer):
        status = BUDGET_EXHAUSTED if not llm_budget_left(usage, ctx.budget) else REFUSED
        return {"usage": usage, **finish(ctx, node="answer", status=status, answer=REFUSAL, citations=[],
                                         evidence=ids, lookup=lookup)}
    answer = result.answer.strip()
    cited = resolve_citations(result.citations, ids)
    status, valid, removed = support(ctx, answer, cited, retrieved, shown, node="answer")
    return {"usage": usage, **finish(ctx, node="answer", status=status, answer=answer, citations=valid,
                                     evidence=rank_evidence(valid, ids), lookup=lookup, removed=removed)}


# -- ReAct-style loop ----------------------------------------------------------------

@traced("react")
def react_step(state: ResearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """One think-act step over the full transcript: search again or answer."""
    ctx = context_of(runtime)
    usage = dict(state.get("usage") or new_usage())
    history = [dict(h) for h in state.get("history") or []]
    action = ctx.ask(usage, node="react", prompt="react_step", output_type=ReactAction, max_tokens=120,
                     question=state["question"], history=history)
    last_step = len(history) >= ctx.settings.react_steps
    if action is not None and action.action == "answer" and not history and not last_step:
        ctx.note("react", "answer_before_search", "the model answered before any search: "
                 "searching the question first")
        action = None
    if action is not None and (action.action == "answer" or last_step) and not is_non_answer(action.answer):
        return {"usage": usage, "history": history,
                "answer": action.answer.strip(), "citations": [{"id": c} for c in action.citations],
                "status": ANSWERED}
    if last_step or not search_budget_left(usage, ctx.budget) or not llm_budget_left(usage, ctx.budget):
        return {"usage": usage, "history": history, "status": REFUSED, "answer": REFUSAL}
    query = (action.query.strip() if action is not None else "") or state["question"]
    hits = run_search(ctx, usage, query, node="react", k=3)
    if ctx.settings.screen_passages:  # instruction-like passages never enter the transcript
        kept = {p["id"] for p in screen([h.model_dump() for h in hits], ctx.note, node="react")}
        hits = [h for h in hits if h.id in kept]
    n = sum(len(h["passages"]) for h in history)
    passages = [{"label": n + i, "id": h.id, "title": h.title, "text": h.text[: ctx.settings.passage_chars]}
                for i, h in enumerate(hits, 1)]
    history.append({"query": query, "passages": passages})
    retrieved = list(dict.fromkeys([*(state.get("retrieved") or []), *[h.id for h in hits]]))
    return {"usage": usage, "history": history, "retrieved": retrieved, "status": ""}


def after_react(state: ResearchState) -> Literal["react", "finish"]:
    """Loop until the model answers or the steps run out."""
    return "finish" if state.get("status") else "react"


@traced("finish")
def react_finish(state: ResearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Check the ReAct answer's citations and build the result."""
    ctx = context_of(runtime)
    passages = [p for step in state.get("history") or [] for p in step["passages"]]
    lookup = {p["id"]: p for p in passages}
    labels = [p["id"] for p in passages]
    order = labels
    if state.get("status") != ANSWERED:
        return finish(ctx, node="finish", status=state.get("status") or REFUSED, answer=REFUSAL,
                      citations=[], evidence=order, lookup=lookup)
    cited = resolve_citations([c["id"] for c in state.get("citations") or []], labels)
    status, valid, removed = support(ctx, state["answer"], cited, set(state.get("retrieved") or []),
                                     passages, node="finish")
    return finish(ctx, node="finish", status=status, answer=state["answer"], citations=valid,
                  evidence=rank_evidence(valid, order), lookup=lookup, removed=removed)
