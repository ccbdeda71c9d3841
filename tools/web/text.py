"""HTML to text for web pages: the one module that imports trafilatura.

trafilatura keeps the main text and drops navigation, scripts and boilerplate; when it
finds no main text (short pages) the page's whole visible text is used instead.
"""

from __future__ import annotations

import html as html_lib
import re

from agentflow.errors import DependencyMissingError

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANKS = re.compile(r"\n{3,}")


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r", "\n").split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def page_title(markup: str) -> str:
    """The page's ``<title>`` (unescaped, one line), or ""."""
    m = _TITLE.search(markup[:200_000])
    return _tidy(html_lib.unescape(m.group(1))).replace("\n", " ") if m else ""


def html_to_text(markup: str, *, url: str = "") -> tuple[str, str]:
    """``(title, text)`` of an HTML page. Never raises on bad markup: a page the parser
    cannot read gives empty text."""
    try:
        import trafilatura
    except ImportError:
        raise DependencyMissingError("trafilatura", "web", "reading web pages") from None
    title = page_title(markup)
    text = ""
    try:
        doc = trafilatura.bare_extraction(markup, url=url or None, with_metadata=True,
                                          favor_recall=True, include_comments=False)
        if doc is not None:
            text = getattr(doc, "text", None) or ""
            title = title or getattr(doc, "title", None) or ""
        if not text.strip():
            text = trafilatura.html2txt(markup) or ""
    except Exception:  # noqa: BLE001 - hostile markup must cost this page, not the run
        text = ""
    return title, _tidy(text)
