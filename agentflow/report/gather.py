"""The report's evidence: passages the research loop retrieved, plus one search per
section, all recorded like the loop's own searches (so every citation can be checked
against the run's retrieved ids)."""

from __future__ import annotations

import time
from typing import Any

from agentflow.agent.budget import search_budget_left
from agentflow.agent.context import RunContext
from agentflow.agent.injection import passage_reason
from agentflow.agent.memory_io import load_memory
from agentflow.report.support import content_words

#: Passages a section search asks for (more than a hop's: a section needs several facts).
SECTION_K = 8


def run_passages(state: dict[str, Any], ctx: RunContext) -> dict[str, dict[str, str]]:
    """The passages the research loop retrieved and kept in memory, best first
    (its evidence order, then its fused ranks, then memory order)."""
    graph = load_memory(state, ctx)
    retrieved = set(state.get("retrieved") or [])
    ranks = state.get("ranks") or {}
    order = [e["id"] for e in state.get("evidence") or []]
    order += sorted(ranks, key=lambda pid: -ranks[pid]) + graph.passage_ids()
    out: dict[str, dict[str, str]] = {}
    for pid in dict.fromkeys(order):
        p = graph.passage(pid) if pid in retrieved else None
        if p is None or pid in out:
            continue
        record = {"id": pid, "title": p.title, "text": p.text}
        if ctx.settings.screen_passages and passage_reason(record):
            continue  # instruction-like: never shown, never cited (as in the loop)
        out[pid] = {"title": p.title, "text": p.text}
    return out


def section_search(query: str, usage: dict[str, Any], ctx: RunContext, *,
                   section: int, node: str = "outline") -> list[dict[str, str]]:
    """Search every source for a section's query (within the search budget), record each
    tool call, and return the hits as ``{"id", "title", "text"}`` (instruction-like ones out)."""
    found: list[dict[str, str]] = []
    for tool in ctx.tools:
        if not search_budget_left(usage, ctx.budget):
            ctx.note(node, "budget", "search budget spent: the section uses the passages it has",
                     section=section)
            break
        started = time.perf_counter()
        hits, notes = tool.search_with_notes(query, k=SECTION_K)
        usage["searches"] += 1
        for n in notes:
            ctx.note(node, n.kind, n.message, tool=tool.name, **n.data)
        ctx.recorder.record(
            "tool_call", node=node, sub_question=None, tool=tool.name, query=query,
            mode=tool.mode, k=SECTION_K, results=[{"id": h.id, "score": round(h.score, 6)} for h in hits],
            new_ids=[h.id for h in hits], known_ids=[], kind="report_section",
            seconds=round(time.perf_counter() - started, 4),
        )
        ctx.progress(type="search", node=node, sub_question=None, query=query, tool=tool.name,
                     found=len(hits), new=len(hits))
        for h in hits:
            record = {"id": h.id, "title": h.title, "text": h.text}
            if ctx.settings.screen_passages and passage_reason(record):
                continue
            found.append(record)
    return found


def relevant_first(ids: list[str], passages: dict[str, dict[str, str]], topic: str) -> list[str]:
    """``ids`` ordered by how many of ``topic``'s content words each passage holds
    (stable: ties keep their order)."""
    words = content_words(topic)

    def overlap(pid: str) -> int:
        p = passages[pid]
        return len(words & content_words(f"{p['title']} {p['text']}"))

    return sorted(ids, key=lambda pid: -overlap(pid))
