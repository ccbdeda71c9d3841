"""The interface every agent tool implements.

A tool takes a query and returns ranked passages. The research graph calls each
configured *source* tool (the local corpus, or your own, e.g. a web search) for
every query, and the memory-graph tool for what the run already knows. To add a
tool, subclass :class:`SearchTool` and pass an instance to ``Agent(tools=[...])``::

    class WebSearch(SearchTool):
        name = "web"
        def search(self, query: str, *, k: int = 5) -> list[SearchHit]:
            ...  # call your search API, return SearchHit(id=url, title=..., text=..., score=...)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from pydantic import BaseModel, Field

from agentflow.records import SearchHit


class ToolNote(BaseModel):
    """Something a tool wants the run to know (a source that failed and was skipped, a
    page read only up to its cap): the search node records it in the trajectory and
    the progress stream."""

    kind: str
    message: str
    data: dict[str, Any] = Field(default_factory=dict)


class SearchTool(ABC):
    """A tool that turns a query into ranked passages (higher score = better)."""

    #: Short name shown in progress output and recorded in trajectories.
    name: str = "tool"
    #: The retrieval mode recorded in trajectories (e.g. ``hybrid``).
    mode: str = ""

    @abstractmethod
    def search(self, query: str, *, k: int = 5) -> list[SearchHit]:
        """Return up to ``k`` passages for ``query``, best first."""

    def search_many(self, queries: list[str], *, k: int = 5) -> list[list[SearchHit]]:
        """Search several queries; override when the backend can batch them."""
        return [self.search(q, k=k) for q in queries]

    def search_with_notes(self, query: str, *, k: int = 5) -> tuple[list[SearchHit], list[ToolNote]]:
        """:meth:`search` plus the notes of this call; tools that can fail partly (web
        sources) override it. Notes are returned, not stored, because one tool instance
        serves concurrent runs."""
        return self.search(query, k=k), []
