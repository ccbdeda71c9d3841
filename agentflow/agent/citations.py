"""Citation checking and the final result, shared by every graph.

Citations are checked in code, never by the LLM: a cited passage must have been
returned by a tool in this run, otherwise it is removed and the removal recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from agentflow.agent.context import RunContext

REFUSAL = "insufficient evidence"
_LABEL = re.compile(r"^\[?\s*(\d{1,3})\s*\]?$")

# Result statuses.
ANSWERED, REFUSED, BUDGET_EXHAUSTED, ERROR = "answered", "refused", "budget_exhausted", "error"
# An answer was produced, but no passage retrieved in this run supports it (no valid
# citation): reported as an answer by the scorer, never as ``answered``.
UNSUPPORTED = "unsupported"


def resolve_citations(cited: Iterable[str], labels: Sequence[str]) -> list[str]:
    """Map what the model cited to passage ids: ``"2"`` / ``"[2]"`` is the 2nd shown
    passage (``labels[1]``); anything else is taken as a passage id as written."""
    out: list[str] = []
    for c in cited:
        c = str(c).strip()
        m = _LABEL.match(c)
        if m:
            i = int(m.group(1))
            out.append(labels[i - 1] if 1 <= i <= len(labels) else f"[{i}]")
        elif c:
            out.append(c)
    return list(dict.fromkeys(out))


def check_citations(cited: Sequence[str], retrieved: set[str], ctx: RunContext, *, node: str) -> list[str]:
    """Keep the citations of passages retrieved in this run; record each removal."""
    valid = [c for c in cited if c in retrieved]
    for c in cited:
        if c not in retrieved:
            ctx.note(node, "citation_removed",
                     f"citation {c!r} removed: that passage was not retrieved in this run", passage_id=c)
    return valid


def rank_evidence(*groups: Iterable[str], limit: int = 10) -> list[str]:
    """Concatenate id groups (most relevant group first) without duplicates."""
    out: dict[str, None] = {}
    for group in groups:
        for pid in group:
            out.setdefault(pid, None)
    return list(out)[:limit]


def passage_records(ids: Sequence[str], lookup: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """``{"id", "title", "text"}`` for each id found in ``lookup``."""
    return [
        {"id": pid, "title": lookup[pid].get("title", ""), "text": lookup[pid].get("text", "")}
        for pid in ids
        if pid in lookup
    ]


def finish(
    ctx: RunContext,
    *,
    node: str,
    status: str,
    answer: str,
    citations: Sequence[str],
    evidence: Sequence[str],
    lookup: dict[str, dict[str, Any]],
    removed: Sequence[str] = (),
) -> dict[str, Any]:
    """The state update that ends a run (the runner writes the ``final`` event)."""
    ctx.progress(type="answer", node=node, status=status, answer=answer, citations=list(citations))
    return {
        "status": status,
        "answer": answer,
        "citations": passage_records(citations, lookup),
        "evidence": passage_records(evidence, lookup),
        "removed_citations": list(removed),
    }
