"""The typed answers each LLM call asks for.

Every call is narrow (one small decision, a short typed answer) so that a 135M
model can produce it under a JSON-schema constraint; passages are shown with
short numeric labels ([1], [2], ...) because small models mangle hex ids.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


# Size limits go into the JSON schema only (json_schema_extra): they bound what a
# grammar-constrained local model generates, without rejecting a strong model's
# slightly longer answer at validation time.
def _max_items(n: int) -> dict[str, int]:
    return {"maxItems": n}


def _max_chars(n: int) -> dict[str, int]:
    return {"maxLength": n}


class PlannedStep(BaseModel):
    """One sub-question of a plan; ``depends_on`` lists 1-based indices of earlier steps."""

    question: str = Field(json_schema_extra=_max_chars(160))
    depends_on: list[int] = Field(default_factory=list, json_schema_extra=_max_items(3))


class Plan(BaseModel):
    """A decomposition of the question into dependent sub-questions."""

    sub_questions: list[PlannedStep] = Field(json_schema_extra=_max_items(4))


class ReadFact(BaseModel):
    """A short claim read from the passage with label ``source``."""

    source: int
    claim: str = Field(json_schema_extra=_max_chars(200))


class Reading(BaseModel):
    """What the reader found in the passages for one sub-question."""

    facts: list[ReadFact] = Field(default_factory=list, json_schema_extra=_max_items(3))
    answer: str = Field(default="", json_schema_extra=_max_chars(80))


class Verdict(BaseModel):
    """The sufficiency check of one sub-question's evidence."""

    verdict: Literal["answered", "search_again", "unanswerable"]
    refined_query: str = Field(default="", json_schema_extra=_max_chars(120))


class FinalAnswer(BaseModel):
    """The composed final answer; ``citations`` are passage labels or ids."""

    answer: str = Field(json_schema_extra=_max_chars(120))
    citations: list[str] = Field(default_factory=list, json_schema_extra=_max_items(5))


class ReactAction(BaseModel):
    """One step of the ReAct-style baseline: search again or answer."""

    action: Literal["search", "answer"]
    query: str = Field(default="", json_schema_extra=_max_chars(120))
    answer: str = Field(default="", json_schema_extra=_max_chars(120))
    citations: list[str] = Field(default_factory=list, json_schema_extra=_max_items(5))
