"""How questions name a relation: nested noun phrases for bridges, questions for the last hop.

The first template of each list is the canonical one used for decomposition steps.
"""

from __future__ import annotations

# "the founder of {x}": names the entity a relation leads to without naming it.
PHRASES: dict[str, tuple[str, ...]] = {
    "located_in": ("the country where {x} lies", "the country in which {x} is located"),
    "born_in": ("the city where {x} was born", "the birthplace of {x}"),
    "headquartered_in": ("the city where {x} is headquartered", "the city in which {x} is based"),
    "founded_by": ("the founder of {x}", "the person who founded {x}"),
    "written_by": ("the author of {x}", "the person who wrote {x}"),
    "directed_by": ("the director of {x}", "the person who directed {x}"),
    "performed_by": ("the performer of {x}", "the artist who recorded {x}"),
    "married_to": ("the spouse of {x}", "the person married to {x}"),
    "studied_at": ("the university where {x} studied", "the university {x} attended"),
}

# The question asked at the last hop; {x} is never first, so no re-capitalising is needed.
QUESTIONS: dict[str, tuple[str, ...]] = {
    "located_in": ("In which country is {x}?", "Which country is home to {x}?"),
    "born_in": ("In which city was {x} born?", "Where was {x} born?"),
    "headquartered_in": ("In which city is {x} headquartered?", "Where is {x} based?"),
    "founded_by": ("Who founded {x}?", "Who was the founder of {x}?"),
    "written_by": ("Who wrote {x}?", "Who is the author of {x}?"),
    "directed_by": ("Who directed {x}?", "Who was the director of {x}?"),
    "performed_by": ("Who performed {x}?", "Which artist recorded {x}?"),
    "married_to": ("Who was {x} married to?", "Who is the spouse of {x}?"),
    "studied_at": ("Which university did {x} attend?", "Where did {x} study?"),
    "born_year": ("In which year was {x} born?", "When was {x} born?"),
    "founded_year": ("In which year was {x} founded?", "When was {x} founded?"),
    "published_year": ("In which year was {x} published?", "When was {x} first published?"),
    "released_year": ("In which year was {x} released?", "When did {x} come out?"),
}

# Comparisons: who/which comes earlier, by birth year or by founding year.
COMPARE_BIRTH: tuple[str, ...] = (
    "Who was born earlier, {a} or {b}?", "Who is older, {a} or {b}?",
    "Which person was born first: {a} or {b}?")
COMPARE_FOUNDING: tuple[str, ...] = (
    "Which was founded earlier, {a} or {b}?", "Which university is older, {a} or {b}?")
COMPARE_BIRTH_STEP = "Who was born earlier, #1 or #2?"
COMPARE_FOUNDING_STEP = "Which was founded earlier, #1 or #2?"
