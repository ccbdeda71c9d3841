"""Checks in code that what the model says is backed by retrieved text, and the
deterministic floors used when the model gives nothing usable."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from typing import Any

from agentflow.agent.state import content_words
from agentflow.memory.entities import extract_entities

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NON_ANSWERS = {"", "unknown", "none", "n/a", "na", "no answer", "not found", "insufficient evidence",
                "not mentioned", "not stated", "unanswerable", "...", "null"}


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lowercase, drop punctuation and articles, collapse spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def is_non_answer(answer: str | None) -> bool:
    """True for empty or placeholder answers ("unknown", "insufficient evidence", ...)."""
    return answer is None or normalize_answer(answer) in {normalize_answer(x) for x in _NON_ANSWERS}


def is_grounded(answer: str, texts: Sequence[str], *, min_share: float = 0.6) -> bool:
    """True when the answer appears in one of ``texts``: as a phrase, or with at least
    ``min_share`` of its words present in the same text."""
    norm = normalize_answer(answer)
    if not norm:
        return False
    words = norm.split()
    for text in texts:
        t = normalize_answer(text)
        if f" {norm} " in f" {t} ":
            return True
        present = set(t.split())
        if sum(w in present for w in words) / len(words) >= min_share:
            return True
    return False


def supporting_passages(answer: str, passages: Sequence[dict[str, Any]]) -> list[str]:
    """Ids of the passages in which ``answer`` is grounded."""
    return [p["id"] for p in passages if is_grounded(answer, [f"{p.get('title', '')} {p['text']}"])]


def entity_candidates(passages: Sequence[dict[str, Any]], question: str, limit: int = 5) -> list[str]:
    """Entities named in the passages but not in the question, best first: the floor
    for a reader that gave no answer (the bridge entity of a multi-hop question is
    usually one of them). Earlier passages and repeated mentions weigh more."""
    q_words = content_words(question)
    scores: Counter[str] = Counter()
    for rank, p in enumerate(passages):
        weight = 1.0 / (1 + rank)
        names = extract_entities(f"{p.get('title', '')}. {p['text']}")
        for name in names:
            if content_words(name) and not content_words(name) <= q_words:
                scores[name] += weight
    return [name for name, _ in scores.most_common(limit)]


def best_sentences(passages: Sequence[dict[str, Any]], question: str, per_passage: int = 1) -> list[tuple[str, str]]:
    """(passage id, sentence) pairs: the sentences sharing most words with the question,
    the floor for a reader that extracted no facts."""
    q_words = content_words(question)
    out: list[tuple[str, str]] = []
    for p in passages:
        sentences = [s.strip() for s in _SENTENCE.split(p["text"]) if s.strip()]
        ranked = sorted(sentences, key=lambda s: -len(q_words & content_words(s)))
        for s in ranked[:per_passage]:
            if q_words & content_words(s):
                out.append((p["id"], s[:300]))
    return out
