"""Titles of text documents, derived the same way for ``.txt`` and ``.md`` files.

The first markdown heading (``# Elda Morrow`` anywhere, or a setext ``Elda Morrow`` over
``===`` at the top) is the title, whatever the suffix; otherwise the file name reads as a
title (``mina_sorrel.txt`` becomes ``Mina Sorrel``).

A passage's id hashes its title, so the rule is a property of a store, recorded in its
``store.json``: stores made before this rule keep the one they were built with
(:func:`legacy_title`), so that re-ingesting the same files finds the same ids.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

__all__ = ["TitleRule", "document_title", "legacy_title", "title_from_stem"]

#: How a store titles text files: ``derived`` by :func:`document_title` (stores made
#: now), or ``legacy`` by :func:`legacy_title` (stores whose ``store.json`` names no rule).
TitleRule = Literal["derived", "legacy"]

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


def legacy_title(path: str | Path, text: str) -> str:
    """The title stores made before :func:`document_title` gave a text file: a ``.md``
    file's first ``#`` heading, else the bare file name (``mina_sorrel``)."""
    path = Path(path)
    if path.suffix.lower() in (".md", ".markdown"):
        heading = _ATX.search(text)
        if heading:
            return heading.group(1)
    return path.stem
