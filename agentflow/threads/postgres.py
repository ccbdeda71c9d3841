"""Threads in PostgreSQL, for several server processes sharing one conversation store.

The only module that imports ``psycopg``. The SQL is the one of
:class:`agentflow.threads.ThreadStore`; a turn is numbered under a row lock on its
thread (``SELECT ... FOR UPDATE``), so two processes adding turns to one thread
never take the same index.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from agentflow.errors import DependencyMissingError
from agentflow.threads.base import SCHEMA, ThreadStore

__all__ = ["PostgresThreadStore"]


class PostgresThreadStore(ThreadStore):
    """Threads in a PostgreSQL database reached with a libpq connection string.

    One connection per store, used under a lock; a connection the database dropped
    is replaced on the next operation (a restart of PostgreSQL fails the requests in
    flight, not the agentflow server).
    """

    placeholder = "%s"

    def __init__(self, dsn: str, *, connect_timeout_s: int = 10) -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise DependencyMissingError("psycopg", "server", "Threads in PostgreSQL") from exc
        self._psycopg = psycopg
        self.dsn = dsn
        self._timeout = connect_timeout_s
        self._lock = threading.Lock()
        self._conn: Any = None
        with self._transaction() as cur:
            # Two processes starting at once may both try to create the tables.
            cur.execute("SELECT pg_advisory_xact_lock(7366127)")
            for ddl in SCHEMA:
                cur.execute(ddl)

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            self._conn = self._psycopg.connect(
                self.dsn, connect_timeout=self._timeout, autocommit=True
            )  # transactions are explicit
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._lock:
            conn = self._connection()
            if conn.broken:
                conn.close()
                conn = self._connection()
            with conn.transaction(), conn.cursor() as cur:
                yield cur

    def _lock_thread_sql(self) -> str:
        return "SELECT owner FROM agentflow_threads WHERE id = ? FOR UPDATE"

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
