"""Conversation threads: the turns of a conversation and its memory graph, on disk.

A thread is what makes a follow-up question cheap. Each turn records the question,
the answer with its citations, the run id and status, and the memory graph at the
end of its run; the next turn's run starts from that memory
(``Runner.run(memory=...)``), so passages found before are reused instead of searched
again. Threads live in SQLite by default (``<home>/threads.sqlite``) and in
PostgreSQL (``postgres:DSN``, :mod:`agentflow.threads.postgres`) when several server
processes share them.

A turn is written when its run starts (status ``running``) and completed when it
ends, so a process killed mid-run leaves the turn behind; it reads back as
``interrupted`` once it is older than any run may last, and the thread continues
from the memory of its last finished turn.

Thread ids are scoped per owner (API key): two keys may both use the id ``support``
and get two threads, so nobody can claim an id another key then cannot use. In
storage, an owner's thread ``X`` is the row ``<owner>/X`` (``/`` is not allowed in
ids, so the forms cannot collide); rows written before scoping keep their plain id
and stay reachable by their owner.

The package: ``base`` (records, ids, the :class:`ThreadStore` interface), ``sqlite``
(the default store), ``postgres`` (shared by several server processes; the only module
that imports psycopg, loaded only when asked for).
"""

from __future__ import annotations

import re
from pathlib import Path

from agentflow.errors import ConfigError
from agentflow.threads.base import (
    CANCELLED,
    INTERRUPTED,
    RUNNING,
    SCHEMA,
    Thread,
    ThreadNotFoundError,
    ThreadStore,
    Turn,
    check_thread_id,
    new_thread_id,
)
from agentflow.threads.sqlite import SqliteThreadStore, default_threads_path

__all__ = [
    "CANCELLED",
    "INTERRUPTED",
    "RUNNING",
    "SCHEMA",
    "SqliteThreadStore",
    "Thread",
    "ThreadNotFoundError",
    "ThreadStore",
    "Turn",
    "check_thread_id",
    "new_thread_id",
    "default_threads_path",
    "open_thread_store",
]


def open_thread_store(spec: str | Path | None = None) -> ThreadStore:
    """A thread store from a spec: None (SQLite under ``$AGENTFLOW_HOME``),
    ``sqlite:PATH`` (or a bare path), or ``postgres:DSN`` / ``postgresql://...``."""
    if spec is None:
        return SqliteThreadStore(default_threads_path())
    text = str(spec)
    if text.startswith(("postgres:", "postgresql:")):
        from agentflow.threads.postgres import PostgresThreadStore

        dsn = text.split(":", 1)[1] if text.startswith("postgres:") else text
        if not dsn:
            raise ConfigError(
                "postgres: needs a connection string, e.g. postgres:postgresql://user@host/db"
            )
        return PostgresThreadStore(dsn)
    if text.startswith("sqlite:"):
        text = text.split(":", 1)[1]
        if not text:
            raise ConfigError("sqlite: needs a file path, e.g. sqlite:./threads.sqlite")
    elif re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", text):  # a scheme, not a path (C:\ is one letter)
        raise ConfigError(f"unknown store {text!r}: use sqlite:PATH or postgres:DSN")
    return SqliteThreadStore(text)
