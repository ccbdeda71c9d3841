"""From the written sections to a :class:`Report`: sources numbered in order of first
citation, sections without sentences left out."""

from __future__ import annotations

from typing import Any

from agentflow.report.records import Report, ReportSection, ReportSentence, SourcePassage


def assemble(question: str, sections: list[dict[str, Any]], passages: dict[str, dict[str, str]], *,
             words: int, run_id: str = "", trajectory: str | None = None) -> Report:
    """The report of ``sections`` citing ``passages`` (id -> title, text)."""
    labels: dict[str, int] = {}
    out: list[ReportSection] = []
    for sec in sections:
        sentences = [ReportSentence.model_validate(s) for s in sec["sentences"]]
        sentences = [s for s in sentences if s.citations and all(c in passages for c in s.citations)]
        if not sentences:
            continue
        for s in sentences:
            for pid in s.citations:
                labels.setdefault(pid, len(labels) + 1)
        out.append(ReportSection(heading=sec["heading"], sentences=sentences))
    sources = [SourcePassage(label=n, id=pid, title=passages[pid].get("title", ""),
                             text=passages[pid].get("text", "")) for pid, n in labels.items()]
    return Report(question=question, sections=out, sources=sources, words_asked=words, run_id=run_id,
                  trajectory=trajectory)
