"""Titles of text documents, derived the same way for ``.txt`` and ``.md`` files.

The first markdown heading (``# Elda Morrow`` anywhere, or a setext ``Elda Morrow`` over
``===`` at the top) is the title, whatever the suffix; otherwise the file name reads as a
title (``mina_sorrel.txt`` becomes ``Mina Sorrel``).
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["document_title", "title_from_stem"]

_ATX = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")


def title_from_stem(stem: str) -> str:
    """A file name as a title: separators become spaces; an all-lowercase name is capitalised."""
    words = re.sub(r"[_\-.]+", " ", stem).split()
    if not words:
        return stem
    if all(w.islower() for w in words if any(c.isalpha() for c in w)):
        words = [w[:1].upper() + w[1:] for w in words]
    return " ".join(words)


def document_title(path: str | Path, text: str) -> str:
    """The title of the document at ``path`` whose content is ``text``."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is not None and first + 1 < len(lines) and _SETEXT.match(lines[first + 1]):
        return lines[first].strip()
    heading = _ATX.search(text)
    if heading:
        return heading.group(1).strip()
    return title_from_stem(Path(path).stem)
