"""Plain data records shared across agentflow: chat messages, LLM completions,
usage, passages and search hits.

They are pydantic models so they serialise into LangGraph state, checkpoints and
trajectories without custom code.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ChatMessage(BaseModel):
    """One message of a chat prompt."""

    role: Literal["system", "user", "assistant"]
    content: str


class Usage(BaseModel):
    """What one LLM call cost."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    model: str = ""

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


class Completion(BaseModel):
    """The raw result of one LLM request: text plus usage."""

    text: str
    usage: Usage = Field(default_factory=Usage)
    finish_reason: str | None = None


class StructuredCall(BaseModel):
    """Everything about one structured LLM call, including re-asks.

    ``attempts`` holds one completion per request sent (the first one plus each
    re-ask after a parse failure); ``errors`` the parse error of each failed one.
    """

    messages: list[ChatMessage]
    attempts: list[Completion] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    parsed: dict[str, Any] | None = None

    @property
    def usage(self) -> Usage:
        """Usage summed over every attempt."""
        total = Usage(model=self.attempts[-1].usage.model if self.attempts else "")
        for a in self.attempts:
            total.prompt_tokens += a.usage.prompt_tokens
            total.completion_tokens += a.usage.completion_tokens
            total.latency_s += a.usage.latency_s
        return total


class Passage(BaseModel):
    """A chunk of a source document as held in the corpus store."""

    id: str
    title: str = ""
    text: str
    source: str = ""
    chunk: int = 0


class SearchHit(BaseModel):
    """A passage returned by a search, with its score (higher is better)."""

    id: str
    title: str = ""
    text: str
    score: float
    source: str = ""

    def as_passage(self) -> Passage:
        """Drop the score."""
        return Passage(id=self.id, title=self.title, text=self.text, source=self.source)
