"""Loading documents from files into a corpus store: read, chunk, id, embed, add.

Accepted inputs: folders (searched recursively), ``.txt`` and ``.md`` files (one
document each), ``.json`` files holding a list of ``{"title", "text"}`` records and
``.jsonl`` files with one such record a line (the form of MuSiQue and HotpotQA
corpora; an optional ``id`` field is kept). A file or record that cannot be read
is reported in ``IngestReport.errors`` and skipped; the rest is ingested.

Hostile inputs stay contained: only regular files are read (a FIFO or device named
``.txt`` is named and skipped, never opened for blocking reads); a text or JSON file
may hold :data:`MAX_FILE_BYTES`, a JSONL line :data:`MAX_LINE_BYTES`; JSON nested too
deeply, a bad UTF-8 byte in a JSONL line or a malformed record skips that file or
line only; a UTF-8 byte-order mark is accepted. Text without word boundaries is cut
into character windows, so no passage is longer than :data:`MAX_PASSAGE_CHARS`.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agentflow.agent.injection import passage_reason
from agentflow.records import Passage
from agentflow.store.corpus import CorpusStore
from agentflow.store.titles import document_title, legacy_title

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
RECORD_SUFFIXES = frozenset({".json", ".jsonl"})
#: Documents longer than this many words are split into overlapping chunks.
CHUNK_WORDS = 180
CHUNK_OVERLAP = 40
#: Records of JSON/JSONL corpora are paragraphs already (MuSiQue, HotpotQA): they stay
#: whole up to this many words, so their ids match passage_id(title, text) of the
#: dataset's paragraphs, which is how evaluators find gold passages.
RECORD_MAX_WORDS = 512
#: Longest passage, in characters; longer windows (text without spaces) are cut into
#: overlapping character windows of CHUNK_CHARS.
MAX_PASSAGE_CHARS = 6000
CHUNK_CHARS = 1500
CHUNK_CHAR_OVERLAP = 200
#: Largest .txt / .md / .json file read, and largest line of a .jsonl file.
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_LINE_BYTES = 4 * 1024 * 1024


class IngestReport(BaseModel):
    """What an ingestion did: documents read, chunks made, chunks added or already present,
    the files or records skipped with the reason, and the time it took."""

    documents: int = 0
    chunks: int = 0
    added: int = 0
    #: Chunks already in the store with the same text (re-ingesting the same data).
    skipped: int = 0
    #: Chunks repeated within this ingestion (same id, same text): counted once.
    duplicates: int = 0
    #: Chunks whose id is in the store, or earlier in this ingestion, with other text:
    #: not added, and each named in ``errors``.
    conflicts: int = 0
    errors: list[str] = Field(default_factory=list)
    #: Added chunks that read as instructions to a model (``source: id: reason``): stored,
    #: but never shown to a model nor cited (:mod:`agentflow.agent.injection`).
    instruction_like: list[str] = Field(default_factory=list)
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
    #: For a text file: the title a store that records the ``legacy`` title rule gives
    #: it (:func:`agentflow.store.titles.legacy_title`), which keeps that store's ids.
    legacy_title: str | None = None


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
        return _cap_chars([text])
    step = words - overlap
    chunks = []
    for start in range(0, len(tokens), step):
        chunks.append(" ".join(tokens[start : start + words]))
        if start + words >= len(tokens):
            break
    return _cap_chars(chunks)


def _cap_chars(chunks: list[str]) -> list[str]:
    """Cut any chunk over MAX_PASSAGE_CHARS (a text without word boundaries) into
    overlapping character windows."""
    if all(len(c) <= MAX_PASSAGE_CHARS for c in chunks):
        return chunks
    out: list[str] = []
    step = CHUNK_CHARS - CHUNK_CHAR_OVERLAP
    for chunk in chunks:
        if len(chunk) <= MAX_PASSAGE_CHARS:
            out.append(chunk)
            continue
        for start in range(0, len(chunk), step):
            out.append(chunk[start : start + CHUNK_CHARS])
            if start + CHUNK_CHARS >= len(chunk):
                break
    return out


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


class _Skip(Exception):
    """A file to skip, with the reason to report."""


def _open_regular(path: Path) -> int:
    """A descriptor of ``path`` if it is a regular file. Opened non-blocking and checked
    after opening, so a FIFO or device is never read (and a swap cannot slip in)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _Skip(f"not a regular file ({_file_kind(mode)})")
    return fd


def _read_bytes(path: Path, limit: int | None = None) -> bytes:
    limit = MAX_FILE_BYTES if limit is None else limit
    fd = _open_regular(path)
    with os.fdopen(fd, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise _Skip(f"over the {_size(limit)} limit for one file: split it into smaller files")
    return data


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB" if n >= 1024 * 1024 else f"{n} bytes"


def _read_text(path: Path) -> str:
    data = _read_bytes(path)
    if b"\x00" in data:
        raise ValueError("looks like a binary file, not text")
    return data.decode("utf-8-sig")


def _lines(path: Path, errors: list[str]) -> Iterator[tuple[int, str]]:
    """The decoded lines of a JSONL file; an over-long or non-UTF-8 line is reported and skipped."""
    fd = _open_regular(path)
    with os.fdopen(fd, "rb") as f:
        line_no = 0
        while True:
            raw = f.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            line_no += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # drop the rest of the line
                    raw = f.readline(MAX_LINE_BYTES)
                errors.append(f"{path}: line {line_no} is over the {_size(MAX_LINE_BYTES)} line limit: skipped")
                continue
            try:
                yield line_no, raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                errors.append(f"{path}: line {line_no} is not UTF-8 (byte {exc.start}): skipped")


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a plain file"


def _read_text_document(path: Path) -> SourceDocument:
    text = _read_text(path).strip()
    return SourceDocument(title=document_title(path, text), text=text, source=str(path),
                          legacy_title=legacy_title(path, text))


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
    docs: list[SourceDocument] = []
    if path.suffix.lower() == ".jsonl":
        for line_no, line in _lines(path, errors):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"{path}: line {line_no} is not valid JSON ({exc.msg}): skipped")
                continue
            except RecursionError:
                errors.append(f"{path}: line {line_no} is JSON nested too deeply: skipped")
                continue
            doc = _record_document(record, path, f"line {line_no}", errors)
            if doc:
                docs.append(doc)
        return docs
    text = _read_text(path)
    try:
        data = json.loads(text)
    except RecursionError:
        raise _Skip("JSON nested too deeply") from None
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
    if not os.path.lexists(path):
        errors.append(f"{path}: no such file or folder: skipped")
    elif not path.exists():
        errors.append(f"{path}: a broken symbolic link: skipped")
    elif path.is_dir():
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
                    yield file  # a FIFO or device here is named and skipped when opened
    elif path.suffix.lower() in TEXT_SUFFIXES | RECORD_SUFFIXES:
        yield path
    elif path.is_file():
        errors.append(f"{path}: unsupported file type (use .txt, .md, .json or .jsonl): skipped")
    else:
        errors.append(f"{path}: not a regular file or folder: skipped")


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
            except _Skip as exc:
                errors.append(f"{file}: {exc}: skipped")
            except json.JSONDecodeError as exc:
                errors.append(f"{file}: not valid JSON ({exc.msg}, line {exc.lineno}): skipped")
            except UnicodeDecodeError:
                errors.append(f"{file}: not UTF-8 text: skipped")
            except (OSError, ValueError, TypeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                errors.append(f"{file}: {reason}: skipped")
            except (RecursionError, MemoryError) as exc:  # one bad file never ends the ingestion
                errors.append(f"{file}: could not be read ({type(exc).__name__}): skipped")
    return docs


def ingest(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    store: CorpusStore,
    *,
    progress: bool = True,
) -> IngestReport:
    """Load, chunk and add documents to ``store``; passages already present are skipped,
    and an id already present with other text is a reported conflict."""
    started = time.perf_counter()
    errors: list[str] = []
    docs = load_documents(paths, errors)
    return ingest_documents(docs, store, errors=errors, progress=progress, started=started)


def ingest_documents(
    docs: Sequence[SourceDocument],
    store: CorpusStore,
    *,
    errors: list[str] | None = None,
    progress: bool = True,
    started: float | None = None,
) -> IngestReport:
    """Chunk and add already loaded ``docs`` (see :func:`load_documents`) to ``store``.

    The counts add up: ``chunks == added + skipped + duplicates + conflicts``. Text files
    are titled by the store's title rule (``store.title_rule``).
    """
    started = time.perf_counter() if started is None else started
    errors = errors if errors is not None else []
    if store.title_rule == "legacy":
        docs = [replace(d, title=d.legacy_title) if d.legacy_title is not None else d for d in docs]
    passages = [p for doc in docs for p in chunk_document(doc)]
    unique: dict[str, Passage] = {}
    duplicates = conflicts = 0
    for p in passages:
        first = unique.get(p.id)
        if first is None:
            unique[p.id] = p
        elif first.text == p.text and first.title == p.title:
            duplicates += 1
        else:
            conflicts += 1
            errors.append(f"{p.source}: id {p.id!r} is used earlier ({first.source}) for another text: skipped")
    stored = {q.id: q for q in store.get(list(unique))} if unique else {}
    fresh: list[Passage] = []
    for pid, p in unique.items():
        old = stored.get(pid)
        if old is not None and (old.text != p.text or old.title != p.title):
            conflicts += 1
            errors.append(
                f"{p.source}: id {pid!r} is in the store already with another text: skipped "
                "(give the record a new id, or ingest into a new store)"
            )
        else:
            fresh.append(p)
    result = store.add(fresh, progress=progress)
    flagged = [f"{p.source}: {p.id}: {why}" for p in fresh
               if (why := passage_reason({"title": p.title, "text": p.text})) is not None]
    return IngestReport(
        documents=len(docs),
        chunks=len(passages),
        added=result.added,
        skipped=result.skipped,
        duplicates=duplicates,
        conflicts=conflicts,
        errors=errors,
        instruction_like=flagged,
        seconds=round(time.perf_counter() - started, 3),
    )
