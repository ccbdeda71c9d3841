"""Deterministic checks of a report's sentences against the passages they cite.

No LLM is involved: a sentence stands only when every passage it cites was retrieved in
this run and shares content with it, and the cited passages together hold its names and
most of its content words. The same sentence splitter cuts the model's text and the
passages the extractive floor copies from, so a checked sentence is one sentence to any
reader that splits at sentence-final punctuation (``evals/check_report.py`` does).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

__all__ = ["content_words", "names", "split_sentences", "support_problem", "unsupported_citations"]

_STOP = frozenset(
    "a an the of in on at to for by with from and or but nor is was were are be been being "
    "has have had who what which when where whom whose why how did does do done that this "
    "these those it its as than into after before during same one also there their they "
    "them he she his her him we our you your i me my not no so such then thus very more most "
    "about over under between while can could would should may might will shall just only "
    "other some any each all both many much".split()
)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")
#: A sentence ends at . ! or ? followed by space and an upper-case letter, digit or quote.
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_CITATION_MARK = re.compile(r"\s*\[\s*\d{1,3}\s*\]")
#: A sentence must have at least this many content words to state anything.
MIN_CONTENT_WORDS = 2
#: Share of the sentence's content words the cited passages must hold.
MIN_SHARED = 0.5


def split_sentences(text: str) -> list[str]:
    """``text`` cut into sentences (whitespace collapsed, citation marks like [2] removed)."""
    flat = " ".join(_CITATION_MARK.sub("", str(text)).split())
    return [s.strip() for s in _BOUNDARY.split(flat) if s.strip()]


def content_words(text: str) -> set[str]:
    """Lower-cased words of ``text`` minus stop words (a crude stem: a final ``s`` off)."""
    out = set()
    for m in _WORD.finditer(text):
        w = m.group(0).lower().strip("'-")
        if w and w not in _STOP:
            out.add(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w)
    return out


def names(sentence: str) -> set[str]:
    """Capitalised words not at the sentence's start (the names a sentence claims), lowered."""
    words = _WORD.findall(sentence)
    return {w.lower() for w in words[1:] if w[:1].isupper() and w.lower() not in _STOP}


def unsupported_citations(sentence: str, cited: Sequence[str], retrieved: set[str],
                          passages: Mapping[str, str]) -> dict[str, str]:
    """The citations of ``sentence`` that cannot stand, each with its reason: not
    retrieved in this run, unknown text, or a passage sharing no content word with it."""
    words = content_words(sentence)
    bad: dict[str, str] = {}
    for pid in cited:
        if pid not in retrieved:
            bad[pid] = "not retrieved in this run"
        elif pid not in passages:
            bad[pid] = "no text for this passage"
        elif not words & content_words(passages[pid]):
            bad[pid] = "the passage shares no content word with the sentence"
    return bad


def repeats_itself(sentence: str) -> bool:
    """A degenerate sentence: some run of three words comes back (a small model looping,
    "The Garden of Neamda: The Garden of Neamda: ...")."""
    words = [w.lower() for w in _WORD.findall(sentence)]
    grams = [tuple(words[i:i + 3]) for i in range(len(words) - 2)]
    return len(grams) != len(set(grams))


def support_problem(sentence: str, cited: Sequence[str], passages: Mapping[str, str]) -> str | None:
    """Why the (already valid) ``cited`` passages do not support ``sentence``, or None."""
    words = content_words(sentence)
    if len(words) < MIN_CONTENT_WORDS:
        return "the sentence is too short to state anything"
    if repeats_itself(sentence):
        return "the sentence repeats itself"
    if not cited:
        return "the sentence cites no passage"
    pool: set[str] = set()
    for pid in cited:
        pool |= content_words(passages.get(pid, ""))
    missing = {n for n in names(sentence) if n.strip("'-") and content_words(n) and not content_words(n) <= pool}
    if missing:
        return f"names {', '.join(sorted(missing))} appear in no cited passage"
    shared = words & pool
    if len(shared) < max(2, math.ceil(MIN_SHARED * len(words))):
        return f"the cited passages hold {len(shared)} of its {len(words)} content words"
    return None
