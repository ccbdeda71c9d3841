"""The outline node: section headings from the question and the evidence, then one
search per section for the passages that section will cite."""

from __future__ import annotations

import re
from typing import Any

from langgraph.runtime import Runtime

from agentflow.agent.live import context_of
from agentflow.agent.steps import traced
from agentflow.report.gather import relevant_first, run_passages, section_search
from agentflow.report.records import Outline
from agentflow.report.state import ReportState, words_wanted
from agentflow.report.support import content_words

#: Words a section aims at: the number of sections follows from the length asked for.
WORDS_PER_SECTION = 200
MIN_SECTIONS, MAX_SECTIONS = 2, 8
#: Passages a section's writer sees (and may cite).
SECTION_PASSAGES = 5
#: Passages shown to the outline call.
OUTLINE_PASSAGES = 8


def section_count(words: int) -> int:
    """How many sections a report of ``words`` words has."""
    return max(MIN_SECTIONS, min(MAX_SECTIONS, round(words / WORDS_PER_SECTION)))


_NUMBERING = re.compile(r"^(?:[\s\W_]|\d+[.)](?=\s))+|[\s*:;,.\-_#]+$")


def clean_heading(text: str) -> str:
    """A heading without the list numbering and punctuation a small model puts around it
    (", 1. Drarso Leadis" -> "Drarso Leadis")."""
    return _NUMBERING.sub("", " ".join(str(text).split()))


def usable_headings(outline: Outline, question: str, passages: list[dict[str, str]]) -> list[str]:
    """The model's headings that can stand, in order: cleaned, short, distinct, and each
    naming something the question or the passages name (a weak model repeats itself and
    pads the list; those entries go, the rest stay)."""
    on_topic = content_words(question)
    for p in passages:
        on_topic |= content_words(f"{p['title']} {p['text']}")
    out: list[str] = []
    keys: set[str] = set()
    for raw in outline.headings:
        h = clean_heading(raw)
        words = content_words(h)
        key = " ".join(sorted(words))
        if 3 <= len(h) <= 60 and words & on_topic and key not in keys:
            out.append(h)
            keys.add(key)
    return out


def floor_headings(question: str, passages: list[dict[str, str]], n: int) -> list[str]:
    """Headings without the model: an overview, then the titles of the best passages
    (the things the evidence is about), first come first."""
    headings = ["Overview"]
    seen = {"overview"}
    for p in passages:
        title = " ".join(p["title"].split())
        if title and title.lower() not in seen and len(title) <= 80:
            headings.append(title)
            seen.add(title.lower())
        if len(headings) >= n:
            break
    return headings


@traced("outline")
def outline(state: ReportState, runtime: Runtime[Any]) -> dict[str, Any]:
    """Plan the report's sections and gather each section's passages."""
    ctx = context_of(runtime)
    usage = dict(state["usage"])
    question = state["question"]
    words = words_wanted(state)
    n = section_count(words)
    passages = run_passages(state, ctx)
    shown = [{"id": pid, **p} for pid, p in list(passages.items())[:OUTLINE_PASSAGES]]
    cut = ctx.settings.passage_chars
    drafted = ctx.ask(usage, node="outline", prompt="report_outline", output_type=Outline, max_tokens=160,
                      question=question, n=n,
                      passages=[{"title": p["title"], "text": p["text"][:cut]} for p in shown])
    headings = usable_headings(drafted, question, shown)[:n] if drafted is not None else []
    if len(headings) < max(1, n - 1):
        problem = ("the model gave no outline" if drafted is None
                   else f"{len(headings)} usable headings of {len(drafted.headings)}, {n} were asked for")
        headings = floor_headings(question, shown, n)
        ctx.note("outline", "outline_fallback", f"{problem}: headings from the evidence instead",
                 headings=headings)
    retrieved = list(state.get("retrieved") or [])
    sections = []
    for i, heading in enumerate(headings):
        # The heading alone: with the question in it every section would find the same
        # passages the research loop already holds.
        query = question if heading == "Overview" else heading
        hits = section_search(query, usage, ctx, section=i)
        retrieved.extend(h["id"] for h in hits)
        for h in hits:
            passages.setdefault(h["id"], {"title": h["title"], "text": h["text"]})
        own = [h["id"] for h in hits]
        rest = relevant_first([pid for pid in passages if pid not in own], passages, f"{heading} {question}")
        sections.append({"heading": heading, "query": query,
                         "passage_ids": list(dict.fromkeys(own + rest))[:SECTION_PASSAGES]})
    ctx.progress(type="note", node="outline", kind="outline",
                 message=f"{len(sections)} sections: " + "; ".join(headings))
    return {"usage": usage, "words": words, "retrieved": list(dict.fromkeys(retrieved)),
            "report_plan": {"words": words, "sections": sections},
            "report_passages": passages, "report_sections": []}
