"""The type of answer a question asks for, read from its wording in code.

"When" asks for a date, "how many" for a number, "where" and "which country" for a
place, "who" for a person or an organisation. The type narrows the reader's
candidate spans and lets verification tell a grounded answer of the right kind from
a stray name, without asking the model.
"""

from __future__ import annotations

import re
from enum import StrEnum


class AnswerType(StrEnum):
    """What kind of span answers a (sub-)question."""

    DATE = "date"
    NUMBER = "number"
    PLACE = "place"
    PERSON = "person"
    ENTITY = "entity"  # a name of any kind (work, organisation, team, ...)
    OTHER = "other"  # yes/no, comparisons, descriptions: not typed

    @property
    def named(self) -> bool:
        """True for types answered by a capitalised name."""
        return self in (AnswerType.PLACE, AnswerType.PERSON, AnswerType.ENTITY)


_PLACE_NOUNS = (
    "country|city|town|village|state|county|province|region|continent|island|nation|"
    "capital|district|municipality|territory|borough|area|location|place|river|mountain|"
    "sea|ocean|lake|birthplace|headquarters"
)
_RULES: tuple[tuple[re.Pattern[str], AnswerType], ...] = (
    (re.compile(r"^(?:\w+ )?when\b|\b(what year|which year|what date|in what year|in which year|"
                r"what decade|which decade|what century|which century|"
                r"year (?:did|was|were|is)|date (?:did|was|of))\b"), AnswerType.DATE),
    (re.compile(r"\b(how many|how much|how long|how old|how tall|how far|how big|"
                r"what (?:is|was) the (?:population|number|area|height|length|size)|"
                r"what percentage|what number|what amount|"
                r"what (?:is|was) the (?:[a-z]+ )?(?:average|mean|median|total|annual|typical)|"
                r"what (?:is|was) the (?:[a-z]+ )?(?:rank|ranking))\b"), AnswerType.NUMBER),
    (re.compile(rf"^(?:\w+ )?where\b|\b(?:what|which|in which|in what) (?:{_PLACE_NOUNS})\b"),
     AnswerType.PLACE),
    # "who" asks only at the start: inside "the person who founded X" it is a relative.
    (re.compile(r"^(?:\w+ )?(?:who|whom|whose)\b"), AnswerType.PERSON),
    (re.compile(r"^(?:is|are|was|were|do|does|did|can|has|have)\b|\bor\b.*\?$"), AnswerType.OTHER),
    (re.compile(r"\b(what|which)\b"), AnswerType.ENTITY),
)


def expected_type(question: str) -> AnswerType:
    """The answer type ``question`` asks for (``OTHER`` when the wording says nothing).

    The first wh-phrase of the question decides: in "Who founded the company based in
    the city where ..." the answer is a person, whatever the nested clauses ask.
    """
    text = " ".join(question.lower().split())
    best: tuple[int, AnswerType] | None = None
    for pattern, kind in _RULES:
        m = pattern.search(text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), kind)
    return best[1] if best else AnswerType.OTHER


_YEAR = re.compile(r"^(?:1\d{3}|20\d{2})s?$")
_MONTHS = ("january february march april may june july august september october november "
           "december").split()
_NUMBER = re.compile(r"^[\d.,]+(?:\s*(?:%|percent|million|billion|thousand|hundred))?$")
_ORDINAL = re.compile(r"^\d+(?:st|nd|rd|th)$")


def span_type(span: str) -> AnswerType:
    """The coarse type of a candidate span: a date, a number, or a name."""
    s = span.strip()
    low = s.lower()
    if _YEAR.match(s) or (any(m in low for m in _MONTHS) and re.search(r"\d{3,4}", s)):
        return AnswerType.DATE
    if _NUMBER.match(low) or re.match(r"^\d[\d,.]*\s+[a-z%]+$", s) or _ORDINAL.match(low):
        return AnswerType.NUMBER
    return AnswerType.ENTITY


def fits(span: str, kind: AnswerType) -> bool:
    """True when ``span`` can answer a question of type ``kind``."""
    got = span_type(span)
    if kind == AnswerType.DATE:
        return got == AnswerType.DATE
    if kind == AnswerType.NUMBER:
        return got == AnswerType.NUMBER
    if kind.named:
        return got == AnswerType.ENTITY
    return True
