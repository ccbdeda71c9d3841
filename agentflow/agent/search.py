"""The search node: query the source tools and the memory graph for the current
sub-question, without fetching again what memory already holds."""

from __future__ import annotations

import time
from typing import Any

from langgraph.runtime import Runtime

from agentflow.agent.bridges import bridge_entities
from agentflow.agent.budget import search_budget_left
from agentflow.agent.context import RunContext
from agentflow.agent.injection import passage_reason
from agentflow.agent.live import context_of
from agentflow.agent.memory_io import load_memory, save_memory
from agentflow.agent.state import ResearchState, resolve_text
from agentflow.agent.steps import traced
from agentflow.records import SearchHit
from agentflow.tools.memory_search import MemorySearch

#: How the run's searches vote for its evidence order: a passage at rank r of a query
#: gets ``weight / (r + 1)``. The whole question's top passages head the evidence anyway
#: (:data:`QUESTION_HEAD`), so its later ranks vote at half weight; each hop's query (a
#: plan step, a bridge hop) votes fully, because a second-hop passage that the question's
#: own ranking buries is exactly what the loop is for. Refinements and alternates are
#: guesses: half. Measured on the development sample (100 questions): R@5 0.755 / chain
#: 0.50 against 0.730 / 0.47 for the question's search alone; the earlier reciprocal-rank
#: fusion (k=5, bridges at half weight) over the same searches gives 0.750 / 0.49, equal
#: within noise: the bridge searches carry the gain, the weights are the simpler statement.
HOP_WEIGHT, GUESS_WEIGHT = 1.0, 0.5
#: How many of the whole question's best passages lead the evidence (the single-shot floor).
QUESTION_HEAD = 1
#: How many of each step's own first query's passages follow the question's head in
#: the evidence order: a step's query ("What is the population of Kansas?") finds its
#: hop's passage at the top, where the whole question's ranking buries it.
STEP_HEAD = 1


def _queries(sq: dict[str, Any], state: ResearchState) -> list[str]:
    text = sq["resolved"] or sq["text"]
    if sq["rounds"] == 0:
        queries = [text]
        if state.get("usage", {}).get("searches", 0) == 0 and text.strip() != state["question"].strip():
            # The first search of a run also asks the whole question: a cheap floor
            # that keeps the run at least as good as single-shot retrieval.
            queries.append(state["question"])
        return queries
    refined = (sq.get("next_query") or "").strip()
    if refined and refined.lower() not in {q.lower() for q in sq["queries"]}:
        return [refined]
    # Deterministic refinement: the sub-question plus the reader's best lead.
    lead = (state.get("reading") or {}).get("answer") or ""
    return [f"{text} {lead}".strip()]


def _bridge_queries(sq: dict[str, Any], hits: list[SearchHit], ctx: RunContext,
                    sub_questions: list[dict[str, Any]], text: str | None = None) -> list[str]:
    """The next hop without the LLM: "<bridge> <text>" for the best bridge names of
    ``hits`` (the first query's top passages; ``text`` defaults to the sub-question;
    empty when the setting is off)."""
    n = ctx.settings.bridge_searches
    # Bridge hops stand in for a missing decomposition: with a real plan each step is one
    # hop, and the ablation (oracle plans) measured bridge seats crowding out the step's
    # own passages (EM 0.80 without them vs 0.60 with, 15 questions). The whole question's
    # own search (``text``) still gets them under an untrusted reader's plan, whose
    # steps' answers are often wrong hops.
    if n <= 0 or not hits or (len(sub_questions) > 1 and text is None):
        return []
    text = text or sq["resolved"] or sq["text"]
    frequency = next((t.entity_frequency for t in ctx.tools if hasattr(t, "entity_frequency")), None)
    earlier = [s.get("answer") or "" for s in sub_questions if s["id"] != sq["id"]]
    names = bridge_entities(text, hits, limit=n, exclude=earlier, frequency=frequency)
    return [f"{name} {text}" for name in names]


def _alternate_queries(sq: dict[str, Any], ctx: RunContext,
                       sub_questions: list[dict[str, Any]]) -> list[str]:
    """The step again with each dependency's runner-up answers in place of its pick
    (a beam of width ``alternate_searches + 1`` over the chain; empty without dependencies)."""
    n = ctx.settings.alternate_searches
    # A hedge against a weak reader's wrong pick; a trusted reader's answer is searched alone.
    if n <= 0 or not sq["depends_on"] or ctx.trusts_reader():
        return []
    by_id = {s["id"]: s for s in sub_questions}
    out: list[str] = []
    for dep in sq["depends_on"]:
        for alt in (by_id.get(dep) or {}).get("alternates") or []:
            if len(out) >= n:
                return out
            text = resolve_text({**sq, "text": sq["text"].replace(f"#{dep}", alt)}, sub_questions)
            if text not in out and text != sq["resolved"]:
                out.append(text)
    return out


def _data_only(hits: list[SearchHit], ctx: RunContext, sub_question: str,
               screened: set[str]) -> list[SearchHit]:
    """``hits`` without instruction-like passages: those stay in the tool call's record and
    the run's retrieved ids, with a note, but never enter memory or a reading slot, so
    the reader gets ``read_k`` passages of data."""
    if not ctx.settings.screen_passages:
        return hits
    kept = []
    for h in hits:
        reason = passage_reason(h.model_dump())
        if reason is None:
            kept.append(h)
        elif h.id not in screened:
            screened.add(h.id)
            ctx.note("search", "instruction_like_passage", f"passage {h.id!r} reads as instructions "
                     f"to the model, not read: {reason}", sub_question=sub_question, passage_id=h.id,
                     reason=reason)
    return kept


@traced("search")
def search(state: ResearchState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Search for the current sub-question (then one hop further along its bridge
    names) and put new passages into memory."""
    ctx = context_of(runtime)
    usage = dict(state["usage"])
    sub_questions = [dict(s) for s in state["sub_questions"]]
    sq = next(s for s in sub_questions if s["id"] == state["current"])
    graph = load_memory(state, ctx)
    queries = _queries(sq, state)
    k = ctx.settings.k
    fresh: dict[str, SearchHit] = {}
    retrieved: list[str] = list(state.get("retrieved") or [])  # every id a tool returned this run
    ranks: dict[str, float] = dict(state.get("ranks") or {})  # fused rank of each id over all queries
    first_hits: list[SearchHit] = []
    per_query: list[list[SearchHit]] = []  # each query's hits new to memory, in query order
    question_hits: list[str] = list(state.get("question_hits") or [])
    # (query, weight, kind): see HOP_WEIGHT.
    question = state["question"].strip()
    # A step searched anew under a runner-up bridge (verify._retry_bridge) is a first search.
    fresh_step = sq["rounds"] == 0 or bool(sq.get("retrying"))
    todo: list[tuple[str, float, str]] = [
        (q, HOP_WEIGHT if sq["rounds"] == 0 and q.strip() != question else GUESS_WEIGHT, "query")
        for q in queries]
    if sq["rounds"] == 0:
        todo += [(q, GUESS_WEIGHT, "alternate") for q in _alternate_queries(sq, ctx, sub_questions)]
    asked: list[str] = []
    screened: set[str] = set()  # instruction-like passages noted in this call
    while todo:
        query, weight, kind = todo.pop(0)
        asked.append(query)
        for tool in ctx.tools:
            if not search_budget_left(usage, ctx.budget):
                ctx.note("search", "budget", "search budget spent", sub_question=sq["id"])
                todo = []
                break
            started = time.perf_counter()
            hits, tool_notes = tool.search_with_notes(query, k=k)
            usage["searches"] += 1
            for n in tool_notes:  # a web source that failed, a page cut at its cap
                ctx.note("search", n.kind, n.message, sub_question=sq["id"], tool=tool.name, **n.data)
            data = _data_only(hits, ctx, sq["id"], screened)
            known = [h.id for h in hits if graph.has_passage(h.id)]
            new = [h for h in data if not graph.has_passage(h.id) and h.id not in fresh]
            for h in new:
                fresh[h.id] = h
            # A step's own best passages are read even when an earlier step retrieved
            # them ("When was #1 born?" is answered by the passage that named #1).
            per_query.append(data[:2] + [h for h in new if h not in data[:2]]
                             if kind == "query" and not per_query and fresh_step else new)
            retrieved.extend(h.id for h in hits)
            # The question's own head leads the evidence outright; its later passages
            # vote as if ranked from just below that head.
            offset = QUESTION_HEAD if query.strip() == question else 0
            for r, h in enumerate(hits):
                ranks[h.id] = ranks.get(h.id, 0.0) + weight / (max(r - offset, 0) + 1)
            ctx.recorder.record(
                "tool_call", node="search", sub_question=sq["id"], tool=tool.name, query=query,
                mode=tool.mode, k=k, results=[{"id": h.id, "score": round(h.score, 6)} for h in hits],
                new_ids=[h.id for h in new], known_ids=known, kind=kind,
                seconds=round(time.perf_counter() - started, 4),
            )
            ctx.progress(type="search", node="search", sub_question=sq["resolved"], query=query,
                         tool=tool.name, found=len(hits), new=len(new))
            if query.strip() == question and not question_hits:
                question_hits = [h.id for h in hits]
                if len(sub_questions) > 1 and not ctx.trusts_reader() and ctx.settings.question_bridges:
                    todo.extend((b, HOP_WEIGHT, "bridge")
                                for b in _bridge_queries(sq, hits, ctx, sub_questions, text=question))
            if kind == "query" and not first_hits:
                first_hits = hits
                if fresh_step and query.strip() != question:
                    sq["head_ids"] = [h.id for h in hits[:STEP_HEAD]]
                if sq["rounds"] == 0:
                    todo.extend((b, HOP_WEIGHT, "bridge") for b in _bridge_queries(sq, hits, ctx, sub_questions))
    for h in fresh.values():
        graph.add_passage(h, retrieved_for=sq["mem_id"], score=h.score)
    if fresh and graph.embedder is not None:
        # The store embedded these passages at ingest: memory search reuses the vectors.
        for tool in ctx.tools:
            if hasattr(tool, "vectors"):
                graph.add_embeddings(tool.vectors(list(fresh), embedder_name=graph.embedder.name),
                                     embedder_name=graph.embedder.name)
    # What memory knows about this sub-question: new passages and earlier ones.
    started = time.perf_counter()
    memory_tool = MemorySearch(graph)
    memory_hits = memory_tool.search(sq["resolved"] or sq["text"], k=ctx.settings.read_k * 2)
    ctx.recorder.record(
        "tool_call", node="search", sub_question=sq["id"], tool=memory_tool.name,
        query=sq["resolved"] or sq["text"], mode=memory_tool.mode, k=ctx.settings.read_k * 2,
        results=[{"id": h.id, "score": round(h.score, 6)} for h in memory_hits], new_ids=[],
        known_ids=[h.id for h in memory_hits], seconds=round(time.perf_counter() - started, 4),
    )
    retrieved.extend(h.id for h in memory_hits)
    ranked = _rank_for_reading(per_query, memory_hits, ctx.settings.read_k)
    sq["queries"] = sq["queries"] + asked
    sq["rounds"] += 1
    sq["evidence_ids"] = list(dict.fromkeys(sq["evidence_ids"] + [h.id for h in ranked]))
    return {
        "sub_questions": sub_questions,
        "candidates": [h.model_dump() for h in ranked],
        "retrieved": list(dict.fromkeys(retrieved)),
        "ranks": ranks,
        "question_hits": question_hits,
        "usage": usage,
        **save_memory(graph, state, ctx, node="search", sub_question=sq["id"]),
    }


def _rank_for_reading(per_query: list[list[SearchHit]], memory_hits: list[SearchHit],
                      n: int) -> list[SearchHit]:
    """What the reader sees: the first query's two best new passages, then the best new
    passage of every later query (each bridge hop gets a seat, or a second hop that the
    question's own ranking buries is never read), then the rest round-robin, then the
    memory graph's best (which already includes the new ones)."""
    order: dict[str, SearchHit] = {}
    head = per_query[0][:2] if per_query else []
    rounds = [head] + [q[:1] for q in per_query[1:]]
    rest = [per_query[0][2:]] + [q[1:] for q in per_query[1:]] if per_query else []
    for group in rounds:
        for h in group:
            order.setdefault(h.id, h)
    for i in range(max((len(q) for q in rest), default=0)):
        for q in rest:
            if i < len(q):
                order.setdefault(q[i].id, q[i])
    for h in memory_hits:
        order.setdefault(h.id, h)
    return list(order.values())[:n]
