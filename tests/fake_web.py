"""A fake SearXNG instance and the pages its results link to, on 127.0.0.1, for web
source tests: it counts every request and can rate-limit, hang, answer garbage or
serve a page too large to read whole.

    with FakeWeb(PAGES) as web:
        tool = build_source(f"searxng:{web.url}", cache=tmp_path)
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

_WORD = re.compile(r"\w+")


@dataclass
class Behaviour:
    """How the fake search endpoint answers (changed by tests between runs)."""

    #: ok | rate_limited (always 429) | hang | malformed | no_results_list | html
    search: str = "ok"
    #: Answer 429 to this many searches before answering normally.
    rate_limit_first: int = 0
    retry_after: str = "0"
    hang_s: float = 5.0
    #: Require this header value on searches (generic JSON API tests).
    require_header: tuple[str, str] | None = None
    #: Shape of a successful answer: searxng, or nested (``{"data": {"items": [...]}}``).
    shape: str = "searxng"


@dataclass
class FakeWeb:
    """Pages ``{slug: (title, text)}`` served at ``/pages/<slug>`` and found by a
    word-overlap search at ``/search``; ``big`` is served as a page of ``big_bytes`` (its
    text, then filler)."""

    pages: dict[str, tuple[str, str]]
    big_bytes: int = 0
    behaviour: Behaviour = field(default_factory=Behaviour)
    requests: list[str] = field(default_factory=list)
    extra: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # path -> (type, body)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def page_url(self, slug: str) -> str:
        """The URL the fake serves ``slug`` at."""
        return f"{self.url}/pages/{slug}"

    def searches(self) -> int:
        """Requests to the search endpoint so far."""
        return sum(1 for r in self.requests if r.startswith("/search"))

    def results(self, query: str) -> list[dict[str, Any]]:
        q = {w for w in _WORD.findall(query.lower()) if len(w) > 3}
        scored = []
        for slug, (title, text) in self.pages.items():
            overlap = len(q & set(_WORD.findall(f"{title} {text}".lower())))
            if overlap:
                scored.append((-overlap, slug, title, text))
        scored.sort()
        return [{"url": self.page_url(slug), "title": title, "content": text[:80], "engine": "fake"}
                for _, slug, title, text in scored[:5]]

    def __enter__(self) -> FakeWeb:
        web = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def send(self, status: int, body: bytes, content_type: str,
                     headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading at its cap

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                with web._lock:
                    web.requests.append(self.path)
                url = urlparse(self.path)
                if url.path == "/search":
                    return self.search(parse_qs(url.query))
                if url.path in web.extra:
                    kind, body = web.extra[url.path]
                    return self.send(200, body, kind)
                slug = url.path.removeprefix("/pages/")
                if slug == "big" and web.big_bytes:
                    text = html.escape(web.pages.get("big", ("", ""))[1]).encode()
                    head = b"<html><head><title>Big page</title></head><body><p>" + text + b"</p>"
                    filler = b"<p>" + b"filler words " * 64 + b"</p>"
                    body = head + filler * (web.big_bytes // len(filler) + 1)
                    return self.send(200, body, "text/html; charset=utf-8")
                if slug in web.pages:
                    title, text = web.pages[slug]
                    page = (f"<!doctype html><html><head><title>{html.escape(title)}</title>"
                            "<script>track()</script><style>p{}</style></head><body>"
                            f"<nav><a href='/'>Home</a></nav><article><h1>{html.escape(title)}</h1>"
                            f"<p>{html.escape(text)}</p></article></body></html>")
                    return self.send(200, page.encode(), "text/html; charset=utf-8")
                self.send(404, b"not found", "text/plain")

            def search(self, params: dict[str, list[str]]) -> None:
                b = web.behaviour
                if b.require_header and self.headers.get(b.require_header[0]) != b.require_header[1]:
                    return self.send(401, b'{"error": "bad key"}', "application/json")
                if b.shape == "searxng" and params.get("format") != ["json"]:
                    return self.send(403, b"Forbidden", "text/html")
                if b.rate_limit_first > 0 or b.search == "rate_limited":
                    b.rate_limit_first -= 1
                    return self.send(429, b"Too Many Requests", "text/plain", {"Retry-After": b.retry_after})
                if b.search == "hang":
                    web._stop.wait(b.hang_s)
                    return self.send(200, b'{"results": []}', "application/json")
                if b.search == "malformed":
                    return self.send(200, b'{"results": [{"url": "http://x", "ti', "application/json")
                if b.search == "no_results_list":
                    return self.send(200, b'{"results": "none today"}', "application/json")
                if b.search == "html":
                    return self.send(200, b"<html>searx</html>", "text/html")
                query = (params.get("q") or [""])[0]
                found = web.results(query)
                if b.shape == "nested":
                    data: Any = {"data": {"items": [{"link": r["url"], "name": r["title"],
                                                     "summary": r["content"]} for r in found]}}
                else:
                    data = {"query": query, "number_of_results": len(found), "results": found}
                self.send(200, json.dumps(data).encode(), "application/json")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()  # wake hanging handlers
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def fake_web(pages: dict[str, tuple[str, str]], **kw: Any) -> Iterator[FakeWeb]:
    """:class:`FakeWeb` as a context manager function."""
    with FakeWeb(pages, **kw) as web:
        yield web
