"""Numbers in passages read as answers: amounts with their units, ranks as ordinals.

A span for "How many ...?" is a number and the word it counts when that word is a unit
("6.8 inches", "35 stores"), never a conversion in parentheses ("(17.3 cm)"); an ordinal
("the 12th most populous") answers a rank, not an amount; of several numbers (or dates)
one sentence states, the one nearest the question's names is the one stated about them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# A number and the word after it; an ordinal keeps its suffix ("12th", not "12").
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:st|nd|rd|th)\b|\d[\d,]*(?:\.\d+)?)(?:\s+(%|percent|[a-z]{3,12}))?")
#: Function words: never a unit, nor a noun after a place name.
UNIT_STOP = frozenset("and or of in on at to for by with from the a an is was were are".split())
# A number opening a parenthesis right after another number and its unit.
_CONVERSION = re.compile(r"\d[\d,.]*\s*[a-z%°]*\.?\s*\(\s*$")
# Words that follow a number without being its unit ("787 about", "1,200 more than").
_NOT_UNITS = UNIT_STOP | frozenset(
    "about around over under more less than most least after before each per which that who "
    "when while since during including between among out other new total times had has have "
    "will would could also only just its was has this thus yes plus does".split())
_UNITS = frozenset("% percent million billion trillion thousand hundred dozen feet foot people "
                   "men women children inches inch miles mile metres meters tonnes tons acres "
                   "hectares".split())
_YEAR = re.compile(r"(?:1\d{3}|20\d{2})")
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)")
_RANK = re.compile(r"\b(?:rank|ranking|ranked)\b", re.I)

#: Of several numbers or dates one sentence states, the one nearest the question's
#: names: "Piraeus handled 513,319 TEUs, followed by Thessaloniki, which handled 273,282
#: TEUs" for "What amount of TEUs did Thessaloniki handle?".
NEAREST_FACTOR = 1.3
#: A question about a rank ("What is the population ranking of X?") is answered by an
#: ordinal ("the 12th most populous"), not by the figure ranked; one about an amount by
#: a count, not an ordinal.
ORDINAL_FACTOR = 3.0


def is_unit(word: str) -> bool:
    """Whether the word after a number is what it counts: a unit or a plural noun ("6.8
    inches", "35 stores"), not a verb or an adverb ("787 about", "30,000 compared")."""
    return word in _UNITS or (word.endswith("s") and not word.endswith("ss") and word not in _NOT_UNITS)


def number_spans(sentence: str, *, years: bool = True) -> list[str]:
    """The numbers of ``sentence`` as answer spans, each with its unit when it has one;
    ``years=False`` leaves out years (they are date spans)."""
    out: list[str] = []
    for m in _NUMBER.finditer(sentence):
        if _CONVERSION.search(sentence, 0, m.start()):
            continue  # "6.8 inches (17.3 cm)": the same amount in other units
        number, unit = m.group(1).rstrip(",."), m.group(2)
        if not years and _YEAR.fullmatch(number):
            continue
        if number[-1].isalpha():
            unit = None  # an ordinal: "12th most populous" ranks, "most" is no unit
        out.append(f"{number} {unit}" if unit and is_unit(unit) else number)
    return out


def asks_rank(question: str) -> bool:
    """Whether ``question`` asks for a rank ("What is the population ranking of X?")."""
    return bool(_RANK.search(question))


def ordinal_factor(span: str, ranks: bool) -> float:
    """:data:`ORDINAL_FACTOR` for an ordinal where a rank is asked, its inverse where an
    amount is, 1 for any other span."""
    if not _ORDINAL.fullmatch(span):
        return 1.0
    return ORDINAL_FACTOR if ranks else 1.0 / ORDINAL_FACTOR


def nearest_to_names(sentence: str, spans: Sequence[str], names: Sequence[str]) -> str | None:
    """The span of ``spans`` (numbers or dates of one sentence) closest to the question's
    ``names`` that the sentence holds, or None when there is no single closest one. A
    span after a name is read as stated of it ("Thessaloniki, which handled 273,282"): a
    span before one counts double the distance. Numeric names (the question's years)
    are the time every span shares, not whom it is about."""
    low = sentence.lower()
    found = [[(m.start(), m.end()) for m in re.finditer(re.escape(n.lower()), low)]
             for n in names if n and not n[:1].isdigit()]
    found = [occ for occ in found if occ]
    spans = list(dict.fromkeys(spans))
    if not found or len(spans) < 2:
        return None

    def distance(span: str) -> float:
        at = sentence.find(span)
        end = at + len(span)
        return sum(min(max(0, at - e) if at >= e else (2.0 * max(0, b - end) if end <= b else 0.0)
                       for b, e in occ) for occ in found)

    ranked = sorted((distance(x), x) for x in spans if sentence.find(x) >= 0)
    if len(ranked) < 2 or ranked[0][0] == ranked[1][0]:
        return None
    return ranked[0][1]
