"""Typed progress events: what a run tells its watchers while it works.

Nodes call :meth:`RunContext.progress` with keyword fields; the fields are validated
into one of these records, then sent as a plain dict to the runner's sink (terminal,
HTTP stream) and to LangGraph's custom stream (``runtime.stream_writer``), which
``stream_mode="custom"`` clients such as Studio and ``langgraph_sdk`` receive.
Every event has ``type`` and ``node``; unknown extra fields are kept (they are
additions, never required by a reader).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow")

    node: str = ""
    #: The run this event belongs to (filled in by the run's sink when known).
    run_id: str | None = None


class StepEvent(_Event):
    """A node started."""

    type: Literal["step"] = "step"
    sub_question: str | None = None


class PlanEvent(_Event):
    """The question was decomposed."""

    type: Literal["plan"] = "plan"
    sub_questions: list[str] = Field(default_factory=list)


class SubQuestionEvent(_Event):
    """The next sub-question was selected (``#k`` references resolved)."""

    type: Literal["sub_question"] = "sub_question"
    id: str = ""
    sub_question: str = ""


class SearchEvent(_Event):
    """One source tool was searched."""

    type: Literal["search"] = "search"
    query: str = ""
    tool: str = ""
    found: int = 0
    new: int = 0
    sub_question: str | None = None


class ReadEvent(_Event):
    """The reader took what it could from the round's passages."""

    type: Literal["read"] = "read"
    sub_question: str = ""
    facts: int = 0
    answer: str | None = None
    answer_source: str | None = None


class VerifyEvent(_Event):
    """The verifier settled a sub-question or sent it back to search."""

    type: Literal["verify"] = "verify"
    sub_question: str = ""
    verdict: str = ""
    answer: str | None = None
    llm_verdict: str | None = None


class AnswerEvent(_Event):
    """The run's answer (or refusal) with its checked citations."""

    type: Literal["answer"] = "answer"
    status: str = ""
    answer: str = ""
    citations: list[Any] = Field(default_factory=list)


class NoteEvent(_Event):
    """A noteworthy decision: a fallback, a removed citation, a spent budget."""

    type: Literal["note"] = "note"
    kind: str = ""
    message: str = ""


ProgressEvent = Annotated[
    StepEvent | PlanEvent | SubQuestionEvent | SearchEvent | ReadEvent | VerifyEvent
    | AnswerEvent | NoteEvent,
    Field(discriminator="type"),
]
#: The ``type`` of every progress event, in the order a run usually sends them.
PROGRESS_TYPES = ("step", "plan", "sub_question", "search", "read", "verify", "note", "answer")

_ADAPTER: TypeAdapter[Any] = TypeAdapter(ProgressEvent)


def progress_event(**fields: Any) -> BaseModel:
    """The typed event for ``fields`` (``type`` chooses the record); a bad field is a
    :class:`pydantic.ValidationError`, a programming mistake in the sending node."""
    return _ADAPTER.validate_python(fields)


def event_dict(event: BaseModel) -> dict[str, Any]:
    """The JSON-safe dict sent to sinks and streams (``run_id`` only when known)."""
    data = event.model_dump(mode="json")
    if data.get("run_id") is None:
        data.pop("run_id", None)
    return data
