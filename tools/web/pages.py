"""A fetched page turned into passages: decoded, HTML turned into text, chunked like the
corpus (id = the page's URL, ``URL#N`` when the page has several chunks)."""

from __future__ import annotations

from agentflow.records import Passage
from agentflow.store.ingest import SourceDocument, chunk_document
from agentflow.tools.web.records import FetchedPage, SourceError, WebResult
from agentflow.tools.web.text import html_to_text

#: Most passages kept from one page: a long page must not crowd out the other results.
MAX_CHUNKS_PER_PAGE = 40
_HTML = ("text/html", "application/xhtml+xml")


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip("\"' ")
    return "utf-8"


def decode_page(url: str, body: bytes, content_type: str, *, truncated: bool,
                fallback_title: str = "") -> FetchedPage:
    """The text of a page body (``unsupported`` for content that is not text or HTML)."""
    kind = content_type.split(";")[0].strip().lower()
    try:
        markup = body.decode(_charset(content_type), errors="replace")
    except LookupError:  # an unknown charset name
        markup = body.decode("utf-8", errors="replace")
    if kind in _HTML or (not kind and markup.lstrip()[:1] == "<"):
        title, text = html_to_text(markup, url=url)
    elif kind.startswith("text/") or not kind:
        title, text = "", markup.replace("\x00", "").strip()
    else:
        raise SourceError("unsupported", f"{url} is {kind}, not a page of text")
    return FetchedPage(url=url, title=title or fallback_title, text=text, truncated=truncated,
                       bytes_read=len(body))


def page_passages(page: FetchedPage, result: WebResult) -> list[Passage]:
    """The page's passages; a page without text falls back to the engine's snippet."""
    text = page.text.strip() or result.snippet.strip()
    if not text:
        return []
    doc = SourceDocument(title=page.title or result.title or page.url, text=text, source=page.url,
                         id=page.url)
    return chunk_document(doc)[:MAX_CHUNKS_PER_PAGE]
