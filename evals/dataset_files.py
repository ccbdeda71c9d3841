"""Reading the records of a dataset or corpus file, and naming every one that is skipped.

A file is a JSON array, a ``{"data": [...]}``-style wrapper, one pretty-printed object,
or JSON Lines. In JSON Lines a line that is not JSON, or holds a byte that is not UTF-8,
is skipped and reported as a :class:`SkippedRecord` (file, where, why); the other lines
are read. A UTF-8 byte-order mark is accepted. A missing or unreadable file, and a whole
JSON document that does not parse, raise :class:`~agentflow.errors.UserError`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agentflow.errors import UserError

__all__ = ["SkippedRecord", "read_records"]

_WRAPPERS = ("data", "questions", "queries", "examples")
# What a byte that is not UTF-8 decodes to under "surrogateescape".
_UNDECODABLE = re.compile("[\udc80-\udcff]")


class SkippedRecord(BaseModel):
    """A record of a dataset or corpus file that loading skipped: where it is and why."""

    file: str
    #: ``line 3``, ``index 2`` or ``line 4 title 'X'``.
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file} {self.where}: {self.reason}: skipped"


def _read_text(path: Path, what: str) -> str:
    if not path.exists():
        raise UserError(f"no {what} at {path}: check the path")
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise UserError(f"{path} is a folder, not a {what} file: pass the file itself") from None
    except OSError as exc:
        raise UserError(f"cannot read the {what} {path} ({exc}): check the file") from exc
    # A bad byte must cost one JSON Lines line, not the file: keep it decodable here and
    # let the reader below decide what it costs.
    return data.decode("utf-8-sig", errors="surrogateescape")


def _is_record_list(value: Any) -> bool:
    """A wrapper's list of records (not a title's list of sentences)."""
    return isinstance(value, list) and (not value or isinstance(value[0], dict))


def _first_line_parses(text: str) -> bool:
    try:
        json.loads(text.strip().splitlines()[0])
        return True
    except (json.JSONDecodeError, IndexError):
        return False


def _whole_document(path: Path, what: str, text: str) -> Any:
    if _UNDECODABLE.search(text):
        raise UserError(f"cannot read the {what} {path} (not UTF-8 text): save it as UTF-8, "
                        "or use JSON Lines where a bad line is skipped")
    return json.loads(text)


def read_records(path: Path, what: str) -> tuple[list[tuple[str, Any]], list[SkippedRecord]]:
    """(location, record) pairs of a JSON array or JSON Lines file, plus the lines skipped."""
    text = _read_text(path, what)
    head = text.lstrip()[:1]
    data: Any = None
    if head == "[":
        try:
            data = _whole_document(path, what, text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise UserError(
                f"{path} is not valid JSON ({exc}): fix it, or use JSON Lines where a bad "
                "line is skipped") from None
    elif head == "{" and not _first_line_parses(text):
        try:  # one pretty-printed object; when that fails too, read it as JSON Lines
            data = _whole_document(path, what, text)
        except (json.JSONDecodeError, RecursionError):
            data = None
    if data is not None:
        if isinstance(data, dict):  # a {"data": [...]} wrapper, or one lone record
            data = next((data[k] for k in _WRAPPERS if _is_record_list(data.get(k))), [data])
        return [(f"index {i}", r) for i, r in enumerate(data)], []
    records: list[tuple[str, Any]] = []
    skipped: list[SkippedRecord] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if _UNDECODABLE.search(line):
            skipped.append(SkippedRecord(file=path.name, where=f"line {n}", reason="not valid UTF-8"))
            continue
        try:
            records.append((f"line {n}", json.loads(line)))
        except json.JSONDecodeError as exc:
            skipped.append(SkippedRecord(file=path.name, where=f"line {n}",
                                         reason=f"not valid JSON ({exc.msg})"))
        except RecursionError:
            skipped.append(SkippedRecord(file=path.name, where=f"line {n}", reason="JSON nested too deeply"))
    return records, skipped
