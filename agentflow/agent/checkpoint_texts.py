"""Checkpoints that refer to long texts instead of copying them at every step.

LangGraph's SQLite checkpointer writes the whole graph state at every step, and each
node's writes besides, so a passage the state holds (the reader's candidates, the
evidence, a fact sentence) is copied into every checkpoint after it. :class:`TextStoreSerde`
is the checkpointer's serializer with one change: a string longer than
:data:`MIN_CHARS` is written once to a side database (``texts``: sha256 -> text) and the
checkpoint holds ``{"__agentflow_text__": sha256}``. Reading a checkpoint puts the texts
back, so nodes see exactly the state they wrote, and a checkpoint's size depends on the
state's shape, not on how long its passages are.

The side database commits each new text before the checkpoint that refers to it is
written, so a run killed at any moment never leaves a checkpoint pointing at a missing
text. It is its own file (``texts.sqlite`` beside a run's ``checkpoints.sqlite``) with its
own connection, so its writes never wait on the checkpointer's transaction.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from typing import Any

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from agentflow.errors import AgentflowError

__all__ = ["MIN_CHARS", "CheckpointTextMissingError", "TextStoreSerde"]

#: Strings up to this long stay in the checkpoint (ids, titles, answers, short snippets).
MIN_CHARS = 256
_KEY = "__agentflow_text__"


class CheckpointTextMissingError(AgentflowError):
    """A checkpoint refers to a text its side database does not hold."""


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _take_out(value: Any, found: dict[str, str]) -> Any:
    """``value`` with long strings replaced by references (collected in ``found``)."""
    if isinstance(value, str):
        if len(value) <= MIN_CHARS:
            return value
        sha = _sha(value)
        found[sha] = value
        return {_KEY: sha}
    if isinstance(value, dict):
        return {k: _take_out(v, found) for k, v in value.items()}
    if isinstance(value, list):
        return [_take_out(v, found) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):  # not a NamedTuple
        return tuple(_take_out(v, found) for v in value)
    return value  # LangGraph's own objects (Send, Interrupt, ...) are written as they are


def _refs(value: Any, out: set[str]) -> None:
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get(_KEY), str):
            out.add(value[_KEY])
            return
        for v in value.values():
            _refs(v, out)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _refs(v, out)


def _put_back(value: Any, texts: dict[str, str]) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get(_KEY), str):
            return texts[value[_KEY]]
        return {k: _put_back(v, texts) for k, v in value.items()}
    if isinstance(value, list):
        return [_put_back(v, texts) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_put_back(v, texts) for v in value)
    return value


class TextStoreSerde(JsonPlusSerializer):
    """LangGraph's serializer, storing long strings once in ``conn`` (an autocommit
    connection to the side database) and checkpoints with references to them."""

    def __init__(self, conn: sqlite3.Connection, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._conn = conn
        self._lock = threading.Lock()
        # Texts known to be committed: each is written once per process.
        self._saved: set[str] = set()
        with self._lock:
            conn.execute("CREATE TABLE IF NOT EXISTS texts (sha TEXT PRIMARY KEY, text TEXT NOT NULL)")

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        """Save the long strings of ``obj`` (once each), then serialize it with references."""
        found: dict[str, str] = {}
        slim = _take_out(obj, found)
        new = [(sha, text) for sha, text in found.items() if sha not in self._saved]
        if new:
            with self._lock:
                self._conn.execute("BEGIN")
                try:
                    self._conn.executemany("INSERT OR IGNORE INTO texts (sha, text) VALUES (?, ?)", new)
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._saved.update(sha for sha, _ in new)
        return super().dumps_typed(slim)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """Deserialize, putting the referenced texts back."""
        obj = super().loads_typed(data)
        shas: set[str] = set()
        _refs(obj, shas)
        if not shas:
            return obj
        texts: dict[str, str] = {}
        wanted = list(shas)
        with self._lock:
            for start in range(0, len(wanted), 500):  # SQLite's bound-parameter limit
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                texts.update(self._conn.execute(
                    f"SELECT sha, text FROM texts WHERE sha IN ({marks})", chunk).fetchall())  # noqa: S608
        missing = shas - texts.keys()
        if missing:
            raise CheckpointTextMissingError(
                f"{len(missing)} text(s) of this run's checkpoint are missing from its texts "
                "database (texts.sqlite was moved or deleted apart from checkpoints.sqlite): "
                "ask the question again")
        return _put_back(obj, texts)
