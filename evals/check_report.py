"""Check a long report against its run's trajectory, independently of agentflow's code.

    python evals/check_report.py REPORT.md TRAJECTORY_DIR_OR_FILE [--json] [--strict]
    python -m agentflow.evals.check_report ...   (the same, from an installed agentflow)

Reads only the two files: the report's Markdown (``# question``, ``## section`` headings,
paragraphs of sentences carrying ``[n]`` citation marks, and a final ``## Sources`` list
of ``- [n] Title — passage `ID``` lines) and the trajectory JSONL (``tool_call`` events'
``results`` ids are the passages retrieved in the run). Prints the number of sentences,
the share with at least one citation, the number of citations, the share that point to a
passage retrieved in the run, and the words of the sentences (marks excluded).
``--strict`` exits 1 unless both shares are 100% and every mark has a source.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

_MARK = re.compile(r"\[(\d{1,4})\]")
_SOURCE = re.compile(r"^\s*[-*]\s*\[(\d{1,4})\]\s.*?passage\s+`([^`]+)`\s*$")
# A sentence ends at . ! or ? followed by white space and a capital, a digit or a quote.
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def read_report(text: str) -> tuple[list[str], dict[int, str]]:
    """The report's body sentences and its sources (citation number -> passage id)."""
    body: list[str] = []
    sources: dict[int, str] = {}
    in_sources = False
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            flat = " ".join(" ".join(paragraph).split())
            body.extend(s for s in _BOUNDARY.split(flat) if s.strip())
            paragraph.clear()

    for line in _COMMENT.sub("", text).splitlines():
        if line.startswith("#"):
            flush()
            in_sources = line.lstrip("#").strip().lower() == "sources"
            continue
        if in_sources:
            m = _SOURCE.match(line)
            if m:
                sources[int(m.group(1))] = m.group(2)
            continue
        if line.strip():
            paragraph.append(line.strip())
        else:
            flush()
    flush()
    return body, sources


def retrieved_ids(trajectory: Path) -> set[str]:
    """Every passage id a tool call of the run returned."""
    path = trajectory / "trajectory.jsonl" if trajectory.is_dir() else trajectory
    ids: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and event.get("type") == "tool_call":
            ids.update(str(r["id"]) for r in event.get("results") or [] if isinstance(r, dict) and "id" in r)
    return ids


def check(report_text: str, retrieved: set[str]) -> dict[str, Any]:
    """The figures for one report."""
    sentences, sources = read_report(report_text)
    marks = [[int(n) for n in _MARK.findall(s)] for s in sentences]
    cited = [m for m in marks if m]
    citations = [n for m in marks for n in m]
    good = [n for n in citations if sources.get(n) in retrieved]
    words = sum(1 for s in sentences for w in _MARK.sub(" ", s).split() if any(ch.isalnum() for ch in w))
    return {
        "sentences": len(sentences),
        "cited_share": len(cited) / len(sentences) if sentences else 0.0,
        "citations": len(citations),
        "retrieved_share": len(good) / len(citations) if citations else 0.0,
        "words": words,
        "sources": len(sources),
        "marks_without_source": sorted({n for n in citations if n not in sources}),
        "uncited_sentences": [s for s, m in zip(sentences, marks) if not m][:5],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("trajectory", type=Path, help="the run's folder (holding trajectory.jsonl) or the file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--strict", action="store_true", help="exit 1 unless every figure is at 100%%")
    args = parser.parse_args(argv)
    figures = check(args.report.read_text(encoding="utf-8"), retrieved_ids(args.trajectory))
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"sentences: {figures['sentences']}")
        print(f"with >=1 citation: {figures['cited_share']:.1%}")
        print(f"citations: {figures['citations']}")
        print(f"pointing to passages retrieved in the run: {figures['retrieved_share']:.1%}")
        print(f"words: {figures['words']}")
    ok = figures["cited_share"] == 1.0 and figures["retrieved_share"] == 1.0 and not figures["marks_without_source"]
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
