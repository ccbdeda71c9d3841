"""Threads in one SQLite file: the default store."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agentflow.config import home_dir
from agentflow.threads.base import SCHEMA, ThreadStore


class SqliteThreadStore(ThreadStore):
    """Threads in one SQLite file (WAL mode), shared by the threads of one process and,
    through SQLite's file locks, by several processes on one machine."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection guarded by a lock: operations are short, and sqlite3
        # connections must not be used by two threads at once.
        self._conn = sqlite3.connect(
            str(self.path), check_same_thread=False, isolation_level=None, timeout=30.0
        )
        self._lock = threading.Lock()
        self._conn.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL still survives a killed process (only a power cut may lose
        # the last commits) and spares an fsync per commit, which every turn makes twice.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        with self._transaction() as cur:
            for ddl in SCHEMA:
                cur.execute(ddl)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cur = self._conn.cursor()
            # IMMEDIATE takes the write lock up front, so two processes adding a turn to
            # the same thread cannot both read the same next index.
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
            finally:
                cur.close()

    def _lock_thread_sql(self) -> str:
        return (
            "SELECT owner FROM agentflow_threads WHERE id = ?"  # the whole file is locked already
        )

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()


def default_threads_path() -> Path:
    """The default SQLite file of threads: ``<home>/threads.sqlite``."""
    return home_dir() / "threads.sqlite"
