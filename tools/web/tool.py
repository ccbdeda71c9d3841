"""A web search source as a :class:`~agentflow.tools.base.SearchTool`: search, read the
result pages, rank their passages for the query.

Failures never end a run: a search that fails after its retries gives no passages and a
``source_failed`` note; after ``failures_to_skip`` failures in a row the source is
skipped (no requests) for ``skip_for_s`` with a ``source_skipped`` note, so a run goes
on with its other sources instead of waiting on a dead one.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel

from agentflow.records import Passage, SearchHit
from agentflow.tools.base import SearchTool, ToolNote
from agentflow.tools.web.cache import WebCache
from agentflow.tools.web.engine import SearchEngine
from agentflow.tools.web.http import RetryPolicy, WebClient, is_private_host
from agentflow.tools.web.pages import decode_page, page_passages
from agentflow.tools.web.records import FetchedPage, SourceError, WebResult

if TYPE_CHECKING:
    from agentflow.embed.base import Embedder

_WORD = re.compile(r"\w+")
#: A small bonus for the engine's own order, so ties go to its better results.
RANK_BONUS = 0.02


class WebSettings(BaseModel):
    """How a web source reads the web."""

    results: int = 5  # search results whose pages are read, per query
    max_page_bytes: int = 1_000_000  # a longer page is read up to here (with a note)
    fetch_pages: bool = True  # False: passages are the engine's snippets only
    page_workers: int = 4
    #: Fetch result pages on loopback / private / link-local addresses? None: only when the
    #: search endpoint itself is on one (a self-hosted setup); a public engine's results
    #: never make the agent fetch an intranet or cloud-metadata address.
    private_pages: bool | None = None
    failures_to_skip: int = 2  # failed searches in a row before the source is skipped
    skip_for_s: float = 300.0
    retry: RetryPolicy = RetryPolicy()


class WebSearch(SearchTool):
    """Web search through ``engine`` (SearXNG, a JSON API); passages cited by URL."""

    mode = "web"

    def __init__(self, engine: SearchEngine, *, embedder: Embedder | None = None,
                 cache: WebCache | None = None, settings: WebSettings | None = None,
                 client: WebClient | None = None) -> None:
        self.engine = engine
        self.name = engine.name
        self.embedder = embedder
        self.cache = cache
        self.settings = settings or WebSettings()
        self.client = client or WebClient(self.settings.retry)
        self._lock = threading.Lock()
        self._failures = 0
        self._skip_until = 0.0
        private = self.settings.private_pages
        self._private_ok = is_private_host(engine.endpoint) if private is None else private

    # -- the tool --------------------------------------------------------------------

    def search(self, query: str, *, k: int = 5) -> list[SearchHit]:
        """Top ``k`` web passages for ``query`` (notes dropped: see search_with_notes)."""
        return self.search_with_notes(query, k=k)[0]

    def search_with_notes(self, query: str, *, k: int = 5) -> tuple[list[SearchHit], list[ToolNote]]:
        """Top ``k`` web passages for ``query`` and what went wrong on the way."""
        notes: list[ToolNote] = []
        results = self._results(query, notes)
        if not results:
            return [], notes
        passages: list[tuple[int, Passage]] = []
        for rank, found in enumerate(self._pages(results, notes)):
            passages.extend((rank, p) for p in found)
        return self._rank(query, passages)[:k], notes

    # -- searching -------------------------------------------------------------------

    def _results(self, query: str, notes: list[ToolNote]) -> list[WebResult]:
        count = self.settings.results
        key = ("search", self.engine.config_key, query, count)
        cached = self.cache.get(*key) if self.cache else None
        if isinstance(cached, list):
            try:
                return [WebResult.model_validate(r) for r in cached]
            except ValueError:
                pass  # an entry from another version: search again
        with self._lock:
            left = self._skip_until - time.monotonic()
        if left > 0:
            notes.append(ToolNote(kind="source_skipped", message=(
                f"web source {self.name} skipped: it kept failing (trying again in {left:.0f} s)"),
                data={"source": self.name, "query": query}))
            return []
        try:
            results = self.engine.search(self.client, query, count=count)
        except SourceError as exc:
            self._failed(exc, query, notes)
            return []
        with self._lock:
            self._failures = 0
        if self.cache:
            self.cache.put([r.model_dump() for r in results], *key)
        return results

    def _failed(self, exc: SourceError, query: str, notes: list[ToolNote]) -> None:
        s = self.settings
        with self._lock:
            self._failures += 1
            skipping = self._failures >= s.failures_to_skip
            if skipping:
                self._skip_until = time.monotonic() + s.skip_for_s
                self._failures = 0
        tries = s.retry.attempts if exc.retryable else 1
        then = (f"; skipped for the next {s.skip_for_s:.0f} s, the run goes on with its other sources"
                if skipping else "; the run goes on with its other sources")
        notes.append(ToolNote(kind="source_failed", message=(
            f"web source {self.name} failed after {tries} attempt(s) ({exc.kind}): {exc}{then}"),
            data={"source": self.name, "query": query, "error": exc.kind, "attempts": tries,
                  "skipped": skipping}))

    # -- reading pages ---------------------------------------------------------------

    def _pages(self, results: list[WebResult], notes: list[ToolNote]) -> list[list[Passage]]:
        workers = max(1, min(self.settings.page_workers, len(results)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pages = list(pool.map(self._page, results))
        out: list[list[Passage]] = []
        for result, (page, note) in zip(results, pages):
            if note is not None:
                notes.append(note)
            out.append(page_passages(page, result))
        return out

    def _page(self, result: WebResult) -> tuple[FetchedPage, ToolNote | None]:
        """The page of ``result`` (cached), or its snippet with a note when it cannot be read."""
        cap = self.settings.max_page_bytes
        snippet_only = FetchedPage(url=result.url, title=result.title, text="")
        if not self.settings.fetch_pages:
            return snippet_only, None
        key = ("page", result.url, cap)
        page: FetchedPage | None = None
        cached = self.cache.get(*key) if self.cache else None
        if isinstance(cached, dict):
            try:
                page = FetchedPage.model_validate(cached)
            except ValueError:
                page = None
        if page is None and not self._private_ok and is_private_host(result.url):
            return snippet_only, ToolNote(kind="page_failed", message=(
                f"page {result.url} not read: a private or loopback address, from a public "
                "search engine: using the search snippet"),
                data={"url": result.url, "error": "private_address"})
        if page is None:
            try:
                body, content_type, cut = self.client.get_page(result.url, max_bytes=cap)
                page = decode_page(result.url, body, content_type, truncated=cut,
                                   fallback_title=result.title)
            except SourceError as exc:
                return snippet_only, ToolNote(kind="page_failed", message=(
                    f"page {result.url} not read ({exc.kind}: {exc}): using the search snippet"),
                    data={"url": result.url, "error": exc.kind})
            if self.cache:
                self.cache.put(page.model_dump(), *key)
        if page.truncated:
            return page, ToolNote(kind="page_truncated", message=(
                f"page {result.url} is larger than {cap} bytes: read up to that cap"),
                data={"url": result.url, "bytes_read": page.bytes_read})
        return page, None

    # -- ranking ---------------------------------------------------------------------

    def _rank(self, query: str, passages: list[tuple[int, Passage]]) -> list[SearchHit]:
        if not passages:
            return []
        texts = [f"{p.title}\n{p.text}" for _, p in passages]
        if self.embedder is not None:
            scores = self.embedder.embed(texts) @ self.embedder.embed_query(query)
        else:
            q = set(_WORD.findall(query.lower()))
            scores = np.array([len(q & set(_WORD.findall(t.lower()))) / (len(q) or 1) for t in texts])
        ranked = sorted(
            ((float(s) + RANK_BONUS / (1 + rank), p) for s, (rank, p) in zip(scores, passages)),
            key=lambda x: -x[0],
        )
        seen: set[str] = set()
        hits = []
        for score, p in ranked:
            if p.id not in seen:
                seen.add(p.id)
                hits.append(SearchHit(id=p.id, title=p.title, text=p.text, source=p.source, score=score))
        return hits
