"""Comparison questions answered in code: "Who was born earlier, A or B?".

The answer to such a question is one of its options, decided by a date each option's
passage states. Reading both dates and comparing them is arithmetic, not language:
a weak model picks at random between two names, so the comparison is made here and
the model is asked only when a date is missing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from agentflow.agent.answer_types import AnswerType
from agentflow.agent.candidates import Candidate, answer_candidates, passage_subject
from agentflow.memory.entities import extract_entities, normalize_entity

__all__ = ["Comparison", "comparison", "decide"]

# "earlier"/"first"/"older" ask for the smaller date; "later"/"younger" for the larger.
_EARLIER = r"earlier|first|sooner|before|older|oldest|earliest"
_LATER = r"later|last|younger|youngest|more recently|most recently|newer|latest"
_ASK = re.compile(
    rf"^(?P<head>.*?\b(?P<dir>{_EARLIER}|{_LATER}))\b[^,:]*[,:]\s*(?P<options>.+?)\??$", re.I)
_OR = re.compile(r"\s*,?\s+or\s+", re.I)
_YEAR = re.compile(r"\b(1\d{3}|20\d{2})\b")
_VERB = re.compile(r"\b(?:was|were|is|are|did)\s+(?P<verb>[a-z]+(?:ed|en|wn|orn|un|ung|ote))\b", re.I)


class Comparison(BaseModel):
    """What a comparison question asks: which option's date is smaller (or larger)."""

    options: list[str]
    earliest: bool  # True: the option with the earlier date wins
    verb: str  # what the dates are of ("born", "founded", "released")


def comparison(question: str) -> Comparison | None:
    """The comparison ``question`` asks, or None when it is not "which ..., A or B?"
    with a direction word and two named options."""
    m = _ASK.match(" ".join(question.split()))
    if not m:
        return None
    options = [o.strip().strip(".").strip() for o in _OR.split(m.group("options"))]
    options = [re.sub(r"^(?:the|a|an)\s+", "", o) for o in options if o]
    # Each option must be a name ("the founder of X" still needs its own hop).
    if len(options) != 2 or any(not o[:1].isupper() or not extract_entities(o) for o in options):
        return None
    direction = m.group("dir").lower()
    verb = _VERB.search(m.group("head"))
    born = direction in {"older", "oldest", "younger", "youngest"}
    return Comparison(options=options, earliest=bool(re.fullmatch(_EARLIER, direction)),
                      verb=verb.group("verb").lower() if verb else ("born" if born else "founded"))


def _date_of(option: str, verb: str, passages: Sequence[dict[str, Any]]) -> tuple[int, Candidate] | None:
    """The year ``passages`` state for ``option`` (in a sentence naming it or in its own
    passage), with the candidate that holds it."""
    key = normalize_entity(option)
    for cand in answer_candidates(passages, f"When was {option} {verb}?", kind=AnswerType.DATE, limit=6):
        passage = next((p for p in passages if p["id"] == cand.passage_id), None)
        about = passage is not None and passage_subject(passage.get("title", "")) == key
        if about or f" {key} " in f" {normalize_entity(cand.sentence)} ":
            year = _YEAR.search(cand.text)
            if year:
                return int(year.group(1)), cand
    return None


def decide(comp: Comparison, passages: Sequence[dict[str, Any]]) -> Candidate | None:
    """The winning option as a candidate citing the sentence with its date, or None
    when a date is missing or the dates tie."""
    dates = [_date_of(o, comp.verb, passages) for o in comp.options]
    if any(d is None for d in dates):
        return None
    (ya, ca), (yb, cb) = dates  # type: ignore[misc]
    if ya == yb:
        return None
    first = (ya < yb) == comp.earliest
    option, cand = (comp.options[0], ca) if first else (comp.options[1], cb)
    return Candidate(text=option, passage_id=cand.passage_id, sentence=cand.sentence,
                     score=1.0, kind=AnswerType.ENTITY, relation_hits=1)
