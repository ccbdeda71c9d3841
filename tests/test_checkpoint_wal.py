"""A run whose checkpoint database another process locks the moment it is created waits
for the lock instead of failing: SQLite refuses the switch to WAL at once, without its
busy timeout, so ``connect_checkpoints`` waits itself (found by ``bench_faults``' kill and
resume series under contention: "database is locked" out of ``Agent.ask`` and ``resume``)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from agentflow.agent.runner import BUSY_ENV, connect_checkpoints


def _lock_for(path: Path, seconds: float) -> threading.Timer:
    holder = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # the write lock of a new, not yet WAL database
    timer = threading.Timer(seconds, lambda: (holder.execute("COMMIT"), holder.close()))
    timer.start()
    return timer


def test_a_new_database_locked_by_another_writer_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.sqlite"
    timer = _lock_for(path, 1.0)
    started = time.monotonic()
    conn = connect_checkpoints(path)
    waited = time.monotonic() - started
    timer.join()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert 0.5 < waited < 30
    conn.close()


def test_the_wait_is_bounded_by_the_busy_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BUSY_ENV, "0.3")
    path = tmp_path / "checkpoints.sqlite"
    timer = _lock_for(path, 3.0)
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        connect_checkpoints(path)
    assert time.monotonic() - started < 2.5
    timer.join()
