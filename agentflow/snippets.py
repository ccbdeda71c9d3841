"""Passage text made for reading: markdown marks removed, hard line breaks joined, cut at a
word boundary. The stored text is never changed; this is only how it is shown.

``display_text`` keeps paragraphs (the chat page's passage pane); ``snippet`` gives one
line of at most ``limit`` characters (tables, source lists).
"""

from __future__ import annotations

import re

__all__ = ["cut_words", "display_text", "snippet"]

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1|(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\3(?![\w*])")
_CODE = re.compile(r"`([^`]*)`")
_SPACES = re.compile(r"[ \t\u00a0]+")
ELLIPSIS = "…"


def _inline(line: str) -> str:
    line = _LINK.sub(r"\1", line)
    line = _CODE.sub(r"\1", line)
    for _ in range(2):  # nested **_x_**
        line = _EMPHASIS.sub(lambda m: m.group(2) or m.group(4) or "", line)
    return _SPACES.sub(" ", line).strip()


def display_text(text: str, *, title: str = "") -> str:
    """``text`` as plain paragraphs separated by blank lines.

    Heading marks (``# ``), emphasis, links and code marks go; lines of one paragraph are
    joined with spaces; list items stay one per line. A leading heading that repeats
    ``title`` is dropped (the title is shown beside the text anyway).
    """
    paragraphs: list[list[str]] = [[]]
    for raw in text.replace("\r\n", "\n").split("\n"):
        if not raw.strip() or _SETEXT.match(raw):
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        heading = _HEADING.match(raw)
        if heading:
            if paragraphs[-1]:
                paragraphs.append([])
            paragraphs[-1].append(_inline(heading.group(1)))
            paragraphs.append([])
            continue
        if _BULLET.match(raw) and paragraphs[-1]:
            paragraphs[-1].append("\n" + _inline(_BULLET.sub("• ", raw)))
            continue
        line = _BULLET.sub("• ", raw) if _BULLET.match(raw) else raw
        paragraphs[-1].append(_inline(line))
    blocks = [" ".join(p).replace(" \n", "\n").strip() for p in paragraphs if p]
    blocks = [b for b in blocks if b]
    if blocks and title and _norm(blocks[0]) == _norm(title):
        blocks = blocks[1:]
    return "\n\n".join(blocks)


def _norm(text: str) -> str:
    return " ".join(text.lower().split()).strip(" .:")


def cut_words(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its longest run of whole words
    that fits with an ellipsis after it (a single overlong word is cut)."""
    if len(text) <= limit:
        return text
    room = max(1, limit - len(ELLIPSIS))
    head = text[: room + 1]
    cut = head.rfind(" ")
    head = head[:cut] if cut > room // 2 else text[:room]
    return head.rstrip(" ,;:.-–—") + ELLIPSIS


def snippet(text: str, limit: int = 200, *, title: str = "") -> str:
    """One line of clean text of at most ``limit`` characters, cut at a word boundary."""
    flat = " ".join(display_text(text, title=title).split())
    return cut_words(flat, limit)
