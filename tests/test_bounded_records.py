"""Per-step records stay small whatever the documents hold: checkpoints refer to long texts
instead of copying them, trajectory events carry ids and short text, and a text without
word boundaries never becomes an entity name (issue 10, "never copy whole passages")."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from agentflow.agent.api import Agent
from agentflow.agent.checkpoint_texts import MIN_CHARS, CheckpointTextMissingError, TextStoreSerde
from agentflow.evals.bench_records import QUESTION, SMALL_DOC, db_bytes, one_line
from agentflow.llm.scripted import ScriptedLLM
from agentflow.memory.entities import extract_entities
from agentflow.store.corpus import CorpusStore
from agentflow.store.ingest import MAX_FILE_BYTES, ingest
from agentflow.trajectory import MAX_EVENT_TEXT, TrajectoryRecorder


@pytest.fixture(scope="module")
def big_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A 50 MB single-line file and a 600 KB one ingested beside a small document, then a
    question whose search reads the long file's chunks."""
    root = tmp_path_factory.mktemp("bounded")
    docs = root / "docs"
    docs.mkdir()
    huge = docs / "huge.txt"
    with huge.open("w", encoding="utf-8") as fh:  # 50 MB, no newline, no space
        block = one_line(1 << 20, seed=1)
        for _ in range(50):
            fh.write(block)
    long_text = one_line(600_000)
    (docs / "long.txt").write_text(long_text, encoding="utf-8")
    (docs / "small.txt").write_text(SMALL_DOC, encoding="utf-8")
    store = CorpusStore(root / "store", embedder="hash")
    report = ingest([docs], store, progress=False)
    # A model that never gives a usable answer: every step runs on its deterministic floor,
    # which reads the passages search found (the long line's windows among them).
    agent = Agent(store, llm=ScriptedLLM(fn=lambda messages, schema: "{}", name="floor"),
                  runs_dir=root / "runs")
    result = agent.ask(QUESTION)
    run = root / "runs" / result.run_id
    # What the run read: every passage a search returned, as stored.
    events = [json.loads(line) for line in (run / "trajectory.jsonl").read_text(encoding="utf-8").splitlines()]
    ids = list(dict.fromkeys(h["id"] for e in events if e["type"] == "tool_call" for h in e["results"]))
    read = [p for p in store.get(ids) if p.source.endswith("long.txt")]
    return {"report": report, "result": result, "run": run, "huge": huge, "read": read}


def _pieces(big_run: dict[str, object]) -> list[str]:
    """A 300-character piece from the middle of every long-line window the run retrieved."""
    read = big_run["read"]
    assert len(read) >= 3, "the run should have read windows of the long line"  # type: ignore[arg-type]
    return [p.text[600:900] for p in read]  # type: ignore[union-attr]


def test_a_50_mb_single_line_file_is_named_and_skipped(big_run: dict[str, object]) -> None:
    report = big_run["report"]
    huge = big_run["huge"]
    assert huge.stat().st_size > MAX_FILE_BYTES  # type: ignore[union-attr]
    assert any("huge.txt" in e and "limit" in e for e in report.errors)  # type: ignore[union-attr]
    assert report.added > 300  # type: ignore[union-attr]  # the 600 KB line, cut into windows


def test_checkpoints_refer_to_passages_instead_of_copying_them(big_run: dict[str, object]) -> None:
    run: Path = big_run["run"]  # type: ignore[assignment]
    assert big_run["result"].status in {"answered", "refused", "unsupported"}  # type: ignore[union-attr]
    conn = sqlite3.connect(str(run / "checkpoints.sqlite"))
    try:
        blobs = [bytes(b) for (b,) in conn.execute("SELECT checkpoint FROM checkpoints")]
        writes = [bytes(b) for (b,) in conn.execute("SELECT value FROM writes WHERE value IS NOT NULL")]
    finally:
        conn.close()
    assert len(blobs) >= 5
    pieces = [s.encode() for s in _pieces(big_run)]
    for blob in blobs + writes:
        assert not any(p in blob for p in pieces), "a checkpoint holds a copy of a passage"
    assert max(len(b) for b in blobs) < 16_000
    assert db_bytes(run / "checkpoints.sqlite") < 512 * 1024
    # Each long text is stored once, beside the checkpoints.
    assert db_bytes(run / "texts.sqlite") < 256 * 1024


def test_trajectory_events_carry_ids_and_short_text(big_run: dict[str, object]) -> None:
    run: Path = big_run["run"]  # type: ignore[assignment]
    lines = (run / "trajectory.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    assert events[-1]["type"] == "final"
    pieces = _pieces(big_run)
    for line, event in zip(lines, events, strict=True):
        if event["type"] in ("final", "llm_call"):
            continue  # the answer's passages once; a prompt, cut to the reader's budget
        assert not any(p in line for p in pieces), f"a {event['type']} event copies a passage"
    assert sum(len(line) for line in lines) < 120_000
    assert max(len(line) for line, e in zip(lines, events, strict=True) if e["type"] != "final") < 12_000


def test_text_without_word_boundaries_is_no_entity() -> None:
    glued = "Zorvath-" + one_line(1500)
    assert extract_entities(f"{glued} met Melira Quandt.") == ["Melira Quandt"]


def test_recorder_cuts_long_strings_in_step_events(tmp_path: Path) -> None:
    rec = TrajectoryRecorder(tmp_path / "t.jsonl", "r1")
    event = rec.record("llm_call", messages=[{"role": "user", "content": "x" * 9000}],
                       attempts=[{"output": "<think>" * 10_000}])
    assert len(event["messages"][0]["content"]) == 9000  # the prompt as sent
    assert len(event["attempts"][0]["output"]) < MAX_EVENT_TEXT + 40
    assert event["attempts"][0]["output"].endswith("[cut: 70,000 characters]")
    final = rec.record("final", evidence=[{"id": "p", "text": "y" * 9000}])
    assert len(final["evidence"][0]["text"]) == 9000


def test_text_store_round_trip_and_a_missing_text_is_a_clear_error(tmp_path: Path) -> None:
    conn = sqlite3.connect(str(tmp_path / "texts.sqlite"), isolation_level=None, check_same_thread=False)
    serde = TextStoreSerde(conn)
    long = "z" * (MIN_CHARS + 1)
    state = {"candidates": [{"id": "p1", "text": long}, {"id": "p2", "text": "short"}],
             "pair": ("a", long), "n": 3}
    typed = serde.dumps_typed(state)
    assert long.encode() not in typed[1]
    plain = JsonPlusSerializer()  # what LangGraph's own serializer gives back (tuples as lists)
    assert serde.loads_typed(typed) == plain.loads_typed(plain.dumps_typed(state))
    assert serde.dumps_typed(state) == typed  # the same state, the same bytes: stored once
    assert conn.execute("SELECT COUNT(*) FROM texts").fetchone()[0] == 1
    conn.execute("DELETE FROM texts")
    with pytest.raises(CheckpointTextMissingError, match="ask the question again"):
        serde.loads_typed(typed)
