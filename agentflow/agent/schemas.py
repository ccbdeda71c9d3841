"""The typed answers each LLM call asks for.

Every call is narrow (one small decision, a short typed answer) so that a 135M
model can produce it under a JSON-schema constraint; passages are shown with
short numeric labels ([1], [2], ...) because small models mangle hex ids.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class PlannedStep(BaseModel):
    """One sub-question of a plan; ``depends_on`` lists 1-based indices of earlier steps."""

    question: str
    depends_on: list[int] = Field(default_factory=list)


class Plan(BaseModel):
    """A decomposition of the question into dependent sub-questions."""

    sub_questions: list[PlannedStep]


class ReadFact(BaseModel):
    """A short claim read from the passage with label ``source``."""

    source: int
    claim: str


class Reading(BaseModel):
    """What the reader found in the passages for one sub-question."""

    facts: list[ReadFact] = Field(default_factory=list)
    answer: str = ""


class Verdict(BaseModel):
    """The sufficiency check of one sub-question's evidence."""

    verdict: Literal["answered", "search_again", "unanswerable"]
    refined_query: str = ""


class FinalAnswer(BaseModel):
    """The composed final answer; ``citations`` are passage labels or ids."""

    answer: str
    citations: list[str] = Field(default_factory=list)


class ReactAction(BaseModel):
    """One step of the ReAct-style baseline: search again or answer."""

    action: Literal["search", "answer"]
    query: str = ""
    answer: str = ""
    citations: list[str] = Field(default_factory=list)
