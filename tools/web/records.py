"""Typed records of web search: a search result, a fetched page, a source's failure."""

from __future__ import annotations

from pydantic import BaseModel


class WebResult(BaseModel):
    """One result of a search engine: where the page is and what the engine said of it."""

    url: str
    title: str = ""
    snippet: str = ""


class FetchedPage(BaseModel):
    """A page as read: its text (HTML already turned into text), and whether it was cut
    at the size cap."""

    url: str
    title: str = ""
    text: str
    truncated: bool = False
    bytes_read: int = 0


class SourceError(Exception):
    """A search source or a page failed (after retries where they apply). ``kind`` is
    short and stable (``rate_limited``, ``timeout``, ``http_error``, ``malformed``,
    ``blocked``, ``unsupported``) so notes and tests can tell failures apart."""

    def __init__(self, kind: str, message: str, *, retryable: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retryable = retryable
        self.retry_after = retry_after
