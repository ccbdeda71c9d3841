"""Checkpoint growth over a long conversation thread.

Runs a 20-turn thread (the scripted demo model, the hashing-embedder demo world with
24 chains, one new two-hop question a turn, so the thread's memory graph grows every
turn) with every run's checkpoints in one SQLite database, and prints per turn: the
run's checkpoints, the bytes written per checkpoint (checkpoint + metadata + pending
writes, divided by the number of checkpoints), the checkpoint database's size and
the size of the memory store beside it (absent before memory left the checkpoints). No model, no
download; a few seconds.

    python -m evals.bench_checkpoints --turns 20

Passes (exit 0) when turn N's bytes per checkpoint are at most 1.2x turn 1's and the
database grows linearly (the last half of the turns adds at most 1.5x what the first
half added).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any


def checkpoint_bytes(db: Path, thread_id: str) -> tuple[int, int]:
    """``(checkpoints, bytes)`` written for LangGraph thread ``thread_id``."""
    conn = sqlite3.connect(str(db))
    try:
        n, size = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(checkpoint) + LENGTH(metadata)), 0) "
            "FROM checkpoints WHERE thread_id = ?", (thread_id,)).fetchone()
        (writes,) = conn.execute("SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes WHERE thread_id = ?",
                                 (thread_id,)).fetchone()
    finally:
        conn.close()
    return int(n), int(size) + int(writes)


def db_size(db: Path) -> int:
    """The database's size with its write-ahead log folded in."""
    conn = sqlite3.connect(str(db))
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (pages,), (page,) = conn.execute("PRAGMA page_count").fetchone(), conn.execute("PRAGMA page_size").fetchone()
    finally:
        conn.close()
    return int(pages) * int(page)


def memory_db_bytes(db: Path) -> int:
    """The size of the memory store beside ``db`` (0 where memory lives in the checkpoints)."""
    try:
        from agentflow.agent.runner import memory_path
    except ImportError:  # agentflow before memory left the checkpoints
        return 0
    path = memory_path(db)
    return db_size(path) if path.exists() else 0


def run(turns: int, folder: Path) -> list[dict[str, Any]]:
    """One thread of ``turns`` questions; a row of figures per turn."""
    from agentflow.agent.api import Agent
    from agentflow.evals.world.demo import demo_questions, demo_store, read_like_a_model
    from agentflow.llm.scripted import ScriptedLLM

    store = demo_store(24, folder=folder / "store")
    db = folder / "checkpoints.sqlite"
    agent = Agent(store, llm=ScriptedLLM(fn=read_like_a_model, name="demo"), checkpoint_db=db,
                  runs_dir=folder / "runs", threads=f"sqlite:{folder / 'threads.sqlite'}")
    questions = [q for q, _, _ in demo_questions(24)]
    rows = []
    for turn in range(1, turns + 1):
        result = agent.ask(questions[(turn - 1) % len(questions)], thread_id="bench")
        n, size = checkpoint_bytes(db, result.run_id)
        memory_nodes = len((result.memory or {}).get("nodes", []))
        rows.append({"turn": turn, "status": result.status, "checkpoints": n,
                     "bytes_per_checkpoint": size // max(1, n), "db_bytes": db_size(db),
                     "memory_nodes": memory_nodes, "memory_db_bytes": memory_db_bytes(db)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        rows = run(args.turns, Path(tmp))
    print(f"{'turn':>4} {'status':>10} {'ckpts':>5} {'bytes/ckpt':>11} {'db bytes':>10} {'memory nodes':>12} {'memory db':>10}")
    for r in rows:
        print(f"{r['turn']:>4} {r['status']:>10} {r['checkpoints']:>5} {r['bytes_per_checkpoint']:>11} "
              f"{r['db_bytes']:>10} {r['memory_nodes']:>12} {r['memory_db_bytes']:>10}")
    first, last = rows[0]["bytes_per_checkpoint"], rows[-1]["bytes_per_checkpoint"]
    half = len(rows) // 2
    early = rows[half - 1]["db_bytes"] - rows[0]["db_bytes"]
    late = rows[-1]["db_bytes"] - rows[half]["db_bytes"]
    flat = last <= 1.2 * first
    linear = late <= 1.5 * max(early, 1)
    print(f"turn {rows[-1]['turn']} / turn 1 bytes per checkpoint: {last / max(first, 1):.2f} "
          f"({'ok' if flat else 'FAIL'}: at most 1.20); DB growth, second half / first half: "
          f"{late / max(early, 1):.2f} ({'ok' if linear else 'FAIL'}: at most 1.50)")
    return 0 if flat and linear else 1


if __name__ == "__main__":
    sys.exit(main())
