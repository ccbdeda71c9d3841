"""What a search engine is to a web source: a query in, typed results out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from agentflow.tools.web.http import WebClient
from agentflow.tools.web.records import SourceError, WebResult


class SearchEngine(ABC):
    """A web search API. ``config_key`` identifies its configuration (never a secret):
    it names the on-disk cache, so a re-configured engine never reads stale answers."""

    name: str = "web"

    @property
    @abstractmethod
    def config_key(self) -> str:
        """A stable description of the configuration (endpoint, fields), without keys."""

    #: The search endpoint (its host decides whether private page addresses are fetched).
    endpoint: str = ""

    @abstractmethod
    def search(self, client: WebClient, query: str, *, count: int) -> list[WebResult]:
        """Up to ``count`` results for ``query``, best first (:class:`SourceError` on failure)."""


def dig(data: Any, path: str) -> Any:
    """``data["a"]["b"]`` for the dotted ``path`` ``"a.b"`` (list indexes allowed); None
    where the path does not exist."""
    for part in [p for p in path.split(".") if p]:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def parse_results(data: Any, *, where: str, results_path: str, url_field: str,
                  title_field: str, snippet_field: str, count: int) -> list[WebResult]:
    """Typed results from a JSON answer. An answer without the results list is
    ``malformed``; single results without a usable http(s) URL are dropped (one bad
    item must not cost the others)."""
    items = dig(data, results_path) if results_path else data
    if not isinstance(items, list):
        raise SourceError("malformed", f"{where}: the answer has no result list at "
                          f"{results_path or '(top level)'!r}")
    out: list[WebResult] = []
    seen: set[str] = set()
    for item in items:
        url = dig(item, url_field)
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            continue
        url = url.split("#", 1)[0]  # a fragment names the same page; '#' marks chunk ids
        if url in seen:
            continue
        seen.add(url)
        title, snippet = dig(item, title_field), dig(item, snippet_field)
        out.append(WebResult(url=url, title=str(title or "")[:500], snippet=str(snippet or "")[:4000]))
        if len(out) >= count:
            break
    return out
