"""The typed records of a report: what the model is asked for, and what is written."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

#: Bounds the grammar puts on what a small model writes: a string that never closes
#: ("in 1931 in 1931 in ...") would run to the token limit and be re-asked twice.
Heading = Annotated[str, Field(min_length=1, max_length=60)]
SentenceText = Annotated[str, Field(min_length=1, max_length=300)]

# -- what the model answers (narrow, typed calls) ------------------------------------


class Outline(BaseModel):
    """The report's section headings, in order."""

    headings: list[Heading] = Field(min_length=1, max_length=8)


class DraftSentence(BaseModel):
    """One sentence of a section and the numbers of the passages it rests on."""

    text: SentenceText
    citations: list[int] = Field(min_length=1, max_length=4)


class SectionDraft(BaseModel):
    """A section as the model writes it: sentences, each with its passage numbers."""

    # At least one item: a small model under a grammar otherwise answers an empty list.
    sentences: list[DraftSentence] = Field(min_length=1, max_length=6)


class Rewrite(BaseModel):
    """One sentence restated so that the one passage shown supports it."""

    text: SentenceText


# -- what the report holds --------------------------------------------------------------


class SourcePassage(BaseModel):
    """A passage retrieved in the run, as the report cites it (``label`` is its [n])."""

    label: int
    id: str
    title: str = ""
    text: str = ""


class ReportSentence(BaseModel):
    """A checked sentence: its text and the ids of the passages that support it.

    ``origin`` says who wrote it: ``model``, ``rewrite`` (the model's second try) or
    ``extract`` (copied from the cited passage by the deterministic floor)."""

    text: str
    citations: list[str]
    origin: str = "model"


class ReportSection(BaseModel):
    """A heading and its sentences."""

    heading: str
    sentences: list[ReportSentence] = Field(default_factory=list)


class Report(BaseModel):
    """A finished report; its sources are the cited passages, numbered in order of use."""

    question: str
    sections: list[ReportSection] = Field(default_factory=list)
    sources: list[SourcePassage] = Field(default_factory=list)
    words_asked: int = 1000
    run_id: str = ""
    trajectory: str | None = None

    def label_of(self) -> dict[str, int]:
        """Passage id -> its citation number."""
        return {s.id: s.label for s in self.sources}

    def words(self) -> int:
        """Words in the report's sentences (headings and sources not counted)."""
        return sum(1 for sec in self.sections for s in sec.sentences for w in s.text.split()
                   if any(ch.isalnum() for ch in w))
