"""Loading documents from files into a corpus store: read, chunk, id, embed, add.

Accepted inputs: folders (searched recursively), ``.txt`` and ``.md`` files (one
document each), ``.json`` files holding a list of ``{"title", "text"}`` records and
``.jsonl`` files with one such record a line (the form of MuSiQue and HotpotQA
corpora; an optional ``id`` field is kept). A file or record that cannot be read
is reported in ``IngestReport.errors`` and skipped; the rest is ingested.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agentflow.records import Passage
from agentflow.store.corpus import CorpusStore

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
RECORD_SUFFIXES = frozenset({".json", ".jsonl"})
#: Documents longer than this many words are split into overlapping chunks.
CHUNK_WORDS = 180
CHUNK_OVERLAP = 40
#: Records of JSON/JSONL corpora are paragraphs already (MuSiQue, HotpotQA): they stay
#: whole up to this many words, so their ids match passage_id(title, text) of the
#: dataset's paragraphs, which is how evaluators find gold passages.
RECORD_MAX_WORDS = 512

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


class IngestReport(BaseModel):
    """What an ingestion did: documents read, chunks made, chunks added or already present,
    the files or records skipped with the reason, and the time it took."""

    documents: int = 0
    chunks: int = 0
    added: int = 0
    skipped: int = 0
    errors: list[str] = Field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class SourceDocument:
    """One document as read from a file, before chunking."""

    title: str
    text: str
    source: str
    id: str | None = None
    #: Longest text, in words, kept as one passage; longer ones are chunked.
    max_whole_words: int = CHUNK_WORDS


def passage_id(title: str, text: str) -> str:
    """A passage's stable id: the first 16 hex digits of sha1(title + "\\n" + text).

    Evaluators identify gold paragraphs the same way, so the definition must not change.
    """
    return hashlib.sha1(f"{title}\n{text}".encode()).hexdigest()[:16]


def chunk_text(
    text: str,
    *,
    words: int = CHUNK_WORDS,
    overlap: int = CHUNK_OVERLAP,
    max_whole: int | None = None,
) -> list[str]:
    """Split ``text`` into windows of ``words`` words overlapping by ``overlap``.

    A text of at most ``max_whole`` words (default: ``words``) comes back unchanged,
    whitespace included, so its passage id matches the id of the same paragraph
    computed elsewhere.
    """
    if not 0 <= overlap < words:
        raise ValueError(f"overlap must lie in [0, {words}), got {overlap}")
    tokens = text.split()
    if len(tokens) <= max(words, max_whole or 0):
        return [text]
    step = words - overlap
    chunks = []
    for start in range(0, len(tokens), step):
        chunks.append(" ".join(tokens[start : start + words]))
        if start + words >= len(tokens):
            break
    return chunks


def chunk_document(doc: SourceDocument) -> list[Passage]:
    """The passages of one document, with ids as described in :func:`passage_id`.

    A record's own ``id`` is kept (with a ``#N`` suffix when the document has several chunks).
    """
    pieces = chunk_text(doc.text, max_whole=doc.max_whole_words)
    passages = []
    for n, piece in enumerate(pieces):
        if doc.id is not None:
            pid = doc.id if len(pieces) == 1 else f"{doc.id}#{n}"
        else:
            pid = passage_id(doc.title, piece)
        passages.append(Passage(id=pid, title=doc.title, text=piece, source=doc.source, chunk=n))
    return passages


# -- readers ----------------------------------------------------------------------


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data:
        raise ValueError("looks like a binary file, not text")
    return data.decode("utf-8")


def _read_text_document(path: Path) -> SourceDocument:
    text = _read_text(path).strip()
    title = path.stem
    if path.suffix.lower() in (".md", ".markdown"):
        heading = _HEADING.search(text)
        if heading:
            title = heading.group(1)
    return SourceDocument(title=title, text=text, source=str(path))


def _record_document(
    record: Any, path: Path, where: str, errors: list[str]
) -> SourceDocument | None:
    if not isinstance(record, dict):
        errors.append(f"{path}: {where} is not an object with `title` and `text`: skipped")
        return None
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        errors.append(f"{path}: {where} has no `text`: skipped")
        return None
    title = record.get("title")
    record_id = record.get("id")
    return SourceDocument(
        title=title if isinstance(title, str) else "",
        text=text,
        source=str(path),
        id=str(record_id) if record_id not in (None, "") else None,
        max_whole_words=RECORD_MAX_WORDS,
    )


def _read_records(path: Path, errors: list[str]) -> list[SourceDocument]:
    text = _read_text(path)
    docs: list[SourceDocument] = []
    if path.suffix.lower() == ".jsonl":
        for line_no, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"{path}: line {line_no} is not valid JSON ({exc.msg}): skipped")
                continue
            doc = _record_document(record, path, f"line {line_no}", errors)
            if doc:
                docs.append(doc)
        return docs
    data = json.loads(text)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise TypeError('expected a list of {"title", "text"} records')
    for index, record in enumerate(data):
        doc = _record_document(record, path, f"record {index}", errors)
        if doc:
            docs.append(doc)
    return docs


def _files(path: Path, errors: list[str]) -> Iterator[Path]:
    if path.is_dir():
        for root, dirs, names in os.walk(
            path, onerror=lambda e: errors.append(f"{e.filename}: {e.strerror}: skipped")
        ):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                file = Path(root) / name
                if (
                    not name.startswith(".")
                    and file.suffix.lower() in TEXT_SUFFIXES | RECORD_SUFFIXES
                ):
                    yield file
    elif path.is_file():
        if path.suffix.lower() in TEXT_SUFFIXES | RECORD_SUFFIXES:
            yield path
        else:
            errors.append(
                f"{path}: unsupported file type (use .txt, .md, .json or .jsonl): skipped"
            )
    else:
        errors.append(f"{path}: no such file or folder: skipped")


def load_documents(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], errors: list[str]
) -> list[SourceDocument]:
    """Read every document under ``paths``; problems are appended to ``errors`` and skipped."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    docs: list[SourceDocument] = []
    for given in paths:
        for file in _files(Path(given), errors):
            try:
                if file.suffix.lower() in RECORD_SUFFIXES:
                    docs.extend(_read_records(file, errors))
                else:
                    doc = _read_text_document(file)
                    if doc.text:
                        docs.append(doc)
                    else:
                        errors.append(f"{file}: empty file: skipped")
            except json.JSONDecodeError as exc:
                errors.append(f"{file}: not valid JSON ({exc.msg}, line {exc.lineno}): skipped")
            except UnicodeDecodeError:
                errors.append(f"{file}: not UTF-8 text: skipped")
            except (OSError, ValueError, TypeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                errors.append(f"{file}: {reason}: skipped")
    return docs


def ingest(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    store: CorpusStore,
    *,
    progress: bool = True,
) -> IngestReport:
    """Load, chunk and add documents to ``store``; passages already present are skipped."""
    started = time.perf_counter()
    errors: list[str] = []
    docs = load_documents(paths, errors)
    passages = [p for doc in docs for p in chunk_document(doc)]
    result = store.add(passages, progress=progress)
    return IngestReport(
        documents=len(docs),
        chunks=len(passages),
        added=result.added,
        skipped=result.skipped,
        errors=errors,
        seconds=round(time.perf_counter() - started, 3),
    )
