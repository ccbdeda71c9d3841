"""Thread records and the store interface every backend implements (see :mod:`agentflow.threads`)."""

from __future__ import annotations

import json
import re
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Self

from pydantic import BaseModel, Field

from agentflow.errors import UserError

# Turn statuses besides the run statuses (answered, unsupported, refused, budget_exhausted, error).
RUNNING, CANCELLED, INTERRUPTED = "running", "cancelled", "interrupted"

_THREAD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS agentflow_threads (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS agentflow_turns (
        thread_id TEXT NOT NULL REFERENCES agentflow_threads(id),
        idx INTEGER NOT NULL,
        run_id TEXT NOT NULL UNIQUE,
        question TEXT NOT NULL,
        answer TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        citations TEXT NOT NULL DEFAULT '[]',
        usage TEXT NOT NULL DEFAULT '{}',
        error TEXT,
        memory TEXT,
        started_at DOUBLE PRECISION NOT NULL,
        finished_at DOUBLE PRECISION,
        PRIMARY KEY (thread_id, idx))""",
)


class ThreadNotFoundError(UserError):
    """No thread with this id is visible to the caller (it does not exist, or another
    API key owns it)."""


class Turn(BaseModel):
    """One question and its answer within a thread."""

    index: int
    run_id: str
    question: str
    answer: str = ""
    status: str = RUNNING
    citations: list[dict[str, Any]] = Field(default_factory=list)
    usage: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    started_at: float
    finished_at: float | None = None


class Thread(BaseModel):
    """A conversation: its id and its turns, oldest first (memory is not included)."""

    id: str
    created_at: float
    updated_at: float
    turns: list[Turn] = Field(default_factory=list)


def new_thread_id() -> str:
    """A fresh, unguessable thread id."""
    return "thread_" + uuid.uuid4().hex[:24]


def check_thread_id(thread_id: str) -> str:
    """Return ``thread_id`` if it is well formed, else raise a :class:`UserError`."""
    if not _THREAD_ID.match(thread_id or ""):
        raise UserError(
            f"invalid thread id {thread_id[:80]!r}: use 1-128 characters from letters, digits "
            "and . _ : - (starting with a letter or digit), or leave it out to start a new thread"
        )
    return thread_id


def _scoped(thread_id: str, owner: str) -> str:
    return f"{owner}/{thread_id}" if owner else thread_id


def _unscoped(stored_id: str) -> str:
    return stored_id.split("/", 1)[1] if "/" in stored_id else stored_id


class ThreadStore(ABC):
    """Where threads live. Subclasses provide a connection and a per-thread lock; the
    SQL is shared (it is plain enough for SQLite and PostgreSQL alike)."""

    #: The placeholder of the driver's paramstyle (``?`` for sqlite3, ``%s`` for psycopg).
    placeholder = "?"

    # -- what subclasses provide -------------------------------------------------

    @abstractmethod
    def _transaction(self) -> Any:
        """A context manager yielding a cursor inside one transaction (commit on success)."""

    @abstractmethod
    def _lock_thread_sql(self) -> str:
        """SQL that reads a thread's owner and locks its row until the transaction ends."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    # -- the interface -------------------------------------------------------------

    def start_turn(
        self, thread_id: str, *, question: str, run_id: str, owner: str = ""
    ) -> tuple[int, dict[str, Any] | None]:
        """Record a new ``running`` turn (creating the thread on first use) and return its
        index with the memory graph the run should start from (None for a new thread)."""
        check_thread_id(thread_id)
        shown = thread_id
        now = time.time()
        with self._transaction() as cur:
            thread_id = self._storage_id(cur, thread_id, owner)
            self._execute(
                cur,
                "INSERT INTO agentflow_threads (id, owner, created_at, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (thread_id, owner, now, now),
            )
            self._execute(cur, self._lock_thread_sql(), (thread_id,))
            row = cur.fetchone()
            if row is None or row[0] != owner:
                raise ThreadNotFoundError(_not_found(shown))
            self._execute(
                cur,
                "SELECT COALESCE(MAX(idx), 0) + 1 FROM agentflow_turns WHERE thread_id = ?",
                (thread_id,),
            )
            index = int(cur.fetchone()[0])
            self._execute(
                cur,
                "SELECT memory FROM agentflow_turns WHERE thread_id = ? AND memory IS NOT NULL "
                "ORDER BY idx DESC LIMIT 1",
                (thread_id,),
            )
            mem_row = cur.fetchone()
            self._execute(
                cur,
                "INSERT INTO agentflow_turns (thread_id, idx, run_id, question, status, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (thread_id, index, run_id, question, RUNNING, now),
            )
            self._execute(
                cur, "UPDATE agentflow_threads SET updated_at = ? WHERE id = ?", (now, thread_id)
            )
        return index, (json.loads(mem_row[0]) if mem_row else None)

    def finish_turn(
        self,
        thread_id: str,
        index: int,
        *,
        status: str,
        answer: str = "",
        citations: Sequence[dict[str, Any]] = (),
        usage: dict[str, Any] | None = None,
        error: str | None = None,
        memory: dict[str, Any] | None = None,
        owner: str = "",
    ) -> None:
        """Complete turn ``index`` of ``owner``'s thread with the run's outcome and the
        memory it ended with (None keeps the thread on the memory of its previous turn)."""
        now = time.time()
        # Serialised before the transaction, which holds a lock other turns wait on.
        params = (
            status,
            answer,
            json.dumps(list(citations), ensure_ascii=False),
            json.dumps(usage or {}),
            error,
            json.dumps(memory, ensure_ascii=False) if memory else None,
            now,
            index,
        )
        with self._transaction() as cur:
            thread_id = self._storage_id(cur, thread_id, owner)
            params = (*params[:-1], thread_id, index)
            self._execute(
                cur,
                "UPDATE agentflow_turns SET status = ?, answer = ?, citations = ?, usage = ?, "
                "error = ?, memory = ?, finished_at = ? WHERE thread_id = ? AND idx = ?",
                params,
            )
            self._execute(
                cur, "UPDATE agentflow_threads SET updated_at = ? WHERE id = ?", (now, thread_id)
            )

    def get(
        self, thread_id: str, *, owner: str = "", stale_after_s: float | None = None
    ) -> Thread | None:
        """The thread with its turns, or None when it does not exist or ``owner`` does not
        own it. A turn still ``running`` after ``stale_after_s`` reads as ``interrupted``."""
        if not _THREAD_ID.match(thread_id or ""):
            return None
        shown = thread_id
        with self._transaction() as cur:
            thread_id = self._storage_id(cur, thread_id, owner)
            self._execute(
                cur,
                "SELECT owner, created_at, updated_at FROM agentflow_threads WHERE id = ?",
                (thread_id,),
            )
            row = cur.fetchone()
            if row is None or row[0] != owner:
                return None
            self._execute(
                cur,
                "SELECT idx, run_id, question, answer, status, citations, usage, error, started_at, "
                "finished_at FROM agentflow_turns WHERE thread_id = ? ORDER BY idx",
                (thread_id,),
            )
            rows = cur.fetchall()
        now = time.time()
        turns = []
        for (
            idx,
            run_id,
            question,
            answer,
            status,
            citations,
            usage,
            error,
            started,
            finished,
        ) in rows:
            if status == RUNNING and stale_after_s is not None and now - started > stale_after_s:
                status = INTERRUPTED
            turns.append(
                Turn(
                    index=idx,
                    run_id=run_id,
                    question=question,
                    answer=answer,
                    status=status,
                    citations=json.loads(citations),
                    usage=json.loads(usage),
                    error=error,
                    started_at=started,
                    finished_at=finished,
                )
            )
        return Thread(id=shown, created_at=row[1], updated_at=row[2], turns=turns)

    def owner(self, thread_id: str) -> str | None:
        """The owner of an unscoped thread (made without an API key, or before ids were
        scoped per key), or None when there is no such thread."""
        if not _THREAD_ID.match(thread_id or ""):
            return None
        with self._transaction() as cur:
            self._execute(cur, "SELECT owner FROM agentflow_threads WHERE id = ?", (thread_id,))
            row = cur.fetchone()
        return row[0] if row else None

    def memory(self, thread_id: str, *, owner: str = "") -> dict[str, Any] | None:
        """The memory graph a new turn of ``owner``'s thread would start from."""
        with self._transaction() as cur:
            thread_id = self._storage_id(cur, thread_id, owner)
            self._execute(
                cur,
                "SELECT memory FROM agentflow_turns WHERE thread_id = ? AND memory IS NOT NULL "
                "ORDER BY idx DESC LIMIT 1",
                (thread_id,),
            )
            row = cur.fetchone()
        return json.loads(row[0]) if row else None

    def thread_of_run(self, run_id: str) -> tuple[str, str] | None:
        """``(thread id, owner)`` of the thread a run belongs to, or None."""
        with self._transaction() as cur:
            self._execute(
                cur,
                "SELECT t.id, t.owner FROM agentflow_turns r JOIN agentflow_threads t "
                "ON t.id = r.thread_id WHERE r.run_id = ?",
                (run_id,),
            )
            row = cur.fetchone()
        return (_unscoped(row[0]), row[1]) if row else None

    # -- helpers ---------------------------------------------------------------------

    def _storage_id(self, cur: Any, thread_id: str, owner: str) -> str:
        """The row id of ``owner``'s thread ``thread_id``: the scoped form, unless a row
        from before scoping (plain id, same owner) exists."""
        scoped = _scoped(thread_id, owner)
        if scoped == thread_id:
            return thread_id
        self._execute(
            cur,
            "SELECT id FROM agentflow_threads WHERE (id = ? OR id = ?) AND owner = ?",
            (scoped, thread_id, owner),
        )
        found = {r[0] for r in cur.fetchall()}
        return thread_id if thread_id in found and scoped not in found else scoped

    def _execute(self, cur: Any, sql: str, params: Sequence[Any] = ()) -> None:
        if self.placeholder != "?":
            sql = sql.replace("?", self.placeholder)
        cur.execute(sql, tuple(params))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _not_found(thread_id: str) -> str:
    return (
        f"no thread {thread_id!r} for this API key: check the id, or leave it out to "
        "start a new thread"
    )
