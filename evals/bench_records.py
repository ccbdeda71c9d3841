"""What a run writes over a document without word boundaries: checkpoints, texts, memory
and trajectory sizes, with the bounds of issue 10 on and (``--without-fix``) off.

    python -m agentflow.evals.bench_records --chars 30000000 [--without-fix]

Builds a store from one single-line file of ``--chars`` characters (hyphen-joined words,
no whitespace: cut into 1,500-character windows) plus a one-line document, asks one
question with a model that never validates (every step on its deterministic floor, so
the run reads the windows search finds), and prints the sizes. ``--without-fix`` swaps
in LangGraph's plain checkpoint serializer and lifts the entity and event-text caps, to
show what they save. No model, no download.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["db_bytes", "measure", "one_line"]

QUESTION = "Who founded Zorvath Industries?"
SMALL_DOC = ("Zorvath Industries is a shipping company founded in 1911 by Melira Quandt in the "
             "harbour of Pellack.\n")
_WORDS = ["Zorvath", "Industries", "was", "founded", "by", "Melira", "Quandt", "in", "Pellack",
          "the", "harbour", "shipping", "company", "of", "1911"]


def one_line(n_chars: int, seed: int = 0) -> str:
    """Words joined by hyphens, no whitespace at all: one line, one "word" to a tokenizer
    that splits on spaces, but searchable words to BM25 and the hashing embedder."""
    rnd = random.Random(seed)
    out: list[str] = []
    size = 0
    while size < n_chars:
        word = rnd.choice(_WORDS)
        out.append(word)
        size += len(word) + 1
    return "-".join(out)[:n_chars]


def db_bytes(path: Path) -> int:
    """A SQLite database's size with its write-ahead log folded in."""
    conn = sqlite3.connect(str(path))
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    return int(pages) * int(size)


def _without_fix() -> None:
    from langgraph.checkpoint.sqlite import SqliteSaver

    import agentflow.agent.runner as runner
    import agentflow.memory.entities as entities
    import agentflow.trajectory as trajectory

    runner.checkpoint_saver = lambda conn, texts: SqliteSaver(conn)  # type: ignore[assignment]
    entities.MAX_NAME_CHARS = entities.MAX_NAME_WORD_CHARS = 10**9
    trajectory.MAX_EVENT_TEXT = 10**9


def measure(root: Path, n_chars: int) -> dict[str, Any]:
    """Ingest (once per ``root``) and run; the figures of the run."""
    from agentflow.agent.api import Agent
    from agentflow.llm.scripted import ScriptedLLM
    from agentflow.store.corpus import CorpusStore
    from agentflow.store.ingest import ingest

    store_dir = root / "store"
    figures: dict[str, Any] = {"chars": n_chars}
    if not store_dir.exists():
        docs = root / "docs"
        docs.mkdir(parents=True)
        (docs / "long.txt").write_text(one_line(n_chars), encoding="utf-8")
        (docs / "small.txt").write_text(SMALL_DOC, encoding="utf-8")
        started = time.perf_counter()
        report = ingest([docs], CorpusStore(store_dir, embedder="hash"), progress=False)
        figures.update(passages=report.added, ingest_s=round(time.perf_counter() - started, 1))
    agent = Agent(store_dir, llm=ScriptedLLM(fn=lambda messages, schema: "{}", name="floor"),
                  runs_dir=root / "runs")
    result = agent.ask(QUESTION)
    run = root / "runs" / result.run_id
    conn = sqlite3.connect(str(run / "checkpoints.sqlite"))
    try:
        n, largest = conn.execute("SELECT COUNT(*), MAX(LENGTH(checkpoint)) FROM checkpoints").fetchone()
    finally:
        conn.close()
    lines = (run / "trajectory.jsonl").read_text(encoding="utf-8").splitlines()
    steps = [line for line in lines if json.loads(line)["type"] != "final"]
    figures.update(
        status=result.status, checkpoints=n, largest_checkpoint=largest,
        files={p.name: db_bytes(p) for p in sorted(run.glob("*.sqlite"))},
        trajectory_bytes=sum(len(line) + 1 for line in lines), trajectory_lines=len(lines),
        largest_step_event=max(len(line) for line in steps),
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    """Print the figures of one run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chars", type=int, default=600_000, help="length of the single-line file")
    parser.add_argument("--without-fix", action="store_true", help="switch the bounds off")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.without_fix:
        _without_fix()
    with tempfile.TemporaryDirectory() as tmp:
        figures = measure(Path(tmp), args.chars)
    figures["fix"] = not args.without_fix
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
