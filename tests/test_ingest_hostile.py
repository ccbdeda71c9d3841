"""Ingestion of hostile or broken inputs: one bad file or line is named and skipped, the
rest is ingested; nothing hangs, nothing grows without bound, no record is dropped
silently, and counts add up."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentflow.store import CorpusStore, ingest
from agentflow.store.ingest import MAX_PASSAGE_CHARS, chunk_text, load_documents

ingest_module = importlib.import_module("agentflow.store.ingest")
GOOD = {"id": "good", "title": "Good", "text": "A good record about the river Lune."}


@pytest.fixture
def store(tmp_path: Path) -> CorpusStore:
    return CorpusStore(tmp_path / "store", embedder="hash")


def _adds_up(report: object) -> bool:
    r = report
    return r.chunks == r.added + r.skipped + r.duplicates + r.conflicts  # type: ignore[attr-defined]


def test_deeply_nested_json_skips_that_file_or_line_only(tmp_path: Path, store: CorpusStore) -> None:
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "lines.jsonl").write_text(json.dumps(GOOD) + "\n" + "[" * 100_000 + "\n")
    report = ingest([tmp_path], store, progress=False)
    errors = "\n".join(report.errors)
    assert report.added == 1
    assert "deep.json: JSON nested too deeply" in errors
    assert "lines.jsonl: line 2 is JSON nested too deeply" in errors


@pytest.mark.timeout(30)
def test_fifos_and_devices_named_txt_are_named_and_skipped(tmp_path: Path, store: CorpusStore) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    os.mkfifo(docs / "pipe.txt")
    (docs / "zero.txt").symlink_to("/dev/zero")
    (docs / "fine.txt").write_text("A fine document.")
    report = ingest([docs, docs / "pipe.txt"], store, progress=False)
    errors = "\n".join(report.errors)
    assert report.added == 1
    assert "pipe.txt: not a regular file (a FIFO)" in errors
    assert "zero.txt: not a regular file (a device)" in errors


def test_a_file_over_the_size_limit_is_skipped(
    tmp_path: Path, store: CorpusStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(ingest_module, "MAX_LINE_BYTES", 1000)
    (tmp_path / "big.txt").write_text("word " * 1000)
    (tmp_path / "lines.jsonl").write_text(json.dumps({**GOOD, "text": "x" * 5000}) + "\n" + json.dumps(GOOD) + "\n")
    errors: list[str] = []
    docs = load_documents([tmp_path], errors)
    assert [d.id for d in docs] == ["good"]
    joined = "\n".join(errors)
    assert "big.txt: over the" in joined and "lines.jsonl: line 1 is over the" in joined


def test_text_without_word_boundaries_is_cut_into_bounded_passages(tmp_path: Path, store: CorpusStore) -> None:
    blob = "".join(f"{i:06d}" for i in range(35_000))  # 210 KB, no spaces, no repeats
    chunks = chunk_text(blob)
    assert len(chunks) > 100 and max(map(len, chunks)) <= MAX_PASSAGE_CHARS
    assert "".join(c[:1300] for c in chunks[:-1]) == blob[: 1300 * (len(chunks) - 1)]
    (tmp_path / "blob.jsonl").write_text(json.dumps({"title": "B", "text": blob}) + "\n")
    report = ingest([tmp_path / "blob.jsonl"], store, progress=False)
    assert report.added == len(chunks) and _adds_up(report)


def test_a_changed_record_is_a_reported_conflict_and_counts_add_up(tmp_path: Path, store: CorpusStore) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps(GOOD) + "\n")
    first = ingest([path], store, progress=False)
    assert (first.chunks, first.added, first.duplicates, first.conflicts) == (2, 1, 1, 0) and _adds_up(first)
    again = ingest([path], store, progress=False)
    assert (again.added, again.skipped, again.duplicates) == (0, 1, 1) and _adds_up(again)
    changed = tmp_path / "b.jsonl"
    changed.write_text(json.dumps({**GOOD, "text": "Another text under the same id."}) + "\n")
    report = ingest([changed], store, progress=False)
    assert (report.added, report.skipped, report.conflicts) == (0, 0, 1) and _adds_up(report)
    assert "id 'good' is in the store already with another text" in "\n".join(report.errors)
    assert store.get(["good"])[0].text == GOOD["text"]


def test_a_bad_utf8_byte_skips_its_line_and_a_bom_is_accepted(tmp_path: Path, store: CorpusStore) -> None:
    lines = b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\n"
    lines += b'{"id": "bad", "title": "B", "text": "caf\xe9"}\n'
    lines += json.dumps({"id": "last", "title": "L", "text": "The last record."}).encode() + b"\n"
    (tmp_path / "a.jsonl").write_bytes(lines)
    (tmp_path / "b.json").write_bytes(b"\xef\xbb\xbf" + json.dumps([{"id": "j", "title": "J", "text": "Jay."}]).encode())
    (tmp_path / "c.txt").write_bytes(b"\xef\xbb\xbfBOM text.")
    errors: list[str] = []
    docs = load_documents([tmp_path], errors)
    assert sorted(d.id or d.title for d in docs) == ["C", "good", "j", "last"]
    assert len(errors) == 1 and errors[0].startswith(f"{tmp_path / 'a.jsonl'}: line 2 is not UTF-8")
    assert next(d for d in docs if d.title == "C").text == "BOM text."


def test_cli_ingest_of_missing_paths_fails_and_creates_no_store(tmp_path: Path) -> None:
    from agentflow.cli.main import app

    target = tmp_path / "store"
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "nonexistent"), "--store", str(target),
                                      "--embedder", "hash"])
    assert result.exit_code != 0
    assert "no such file or folder" in result.output and "nothing to ingest" in result.output
    assert result.output.count("skipped") == 1  # said once, not "skipped ...: skipped"
    assert not target.exists()


def test_cli_reingest_counts_add_up(tmp_path: Path) -> None:
    from agentflow.cli.main import app

    docs = tmp_path / "docs"
    docs.mkdir()
    long = " ".join(f"word{i}" for i in range(500))  # chunked into overlapping windows
    (docs / "a.md").write_text(f"# Long\n\n{long}")
    (docs / "b.txt").write_text(f"# Long\n\n{long}")  # the same title and text: repeated chunks
    (docs / "c.txt").write_text("A short note.")
    args = ["ingest", str(docs), str(tmp_path / "missing"), "--store", str(tmp_path / "store"),
            "--embedder", "hash"]
    first = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
    assert first.exit_code == 0, first.output
    count = CorpusStore(tmp_path / "store").count()
    assert f"{count} added, 0 already present" in first.output
    again = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
    chunks = int(again.output.split(" chunks:")[0].rsplit(" ", 1)[1])
    repeated = chunks - count
    assert f"0 added, {count} already present, {repeated} repeated, 1 error in" in again.output
