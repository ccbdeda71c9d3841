"""``agentflow eval run`` names every dataset record it skipped and why: on stdout, in
``--json`` and in the eval folder's manifest (issue 10, "nothing is dropped silently")."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from agentflow.cli.main import app
from agentflow.evals.datasets import load_dataset
from agentflow.scoring.manifest import read_manifest
from tests.test_eval_batch import make_world

#: line number -> what the reason must say
BAD_LINES = {
    2: "not valid JSON",
    3: "not valid UTF-8",
    4: "question",  # a record without its question
    5: "duplicate id",
    6: "nested too deeply",
}


def dirty_world(folder: Path) -> Path:
    """The synthetic world with a BOM, bad lines among its questions and a bad corpus record."""
    world = make_world(folder)
    questions = (world / "questions.jsonl").read_bytes().splitlines()
    first = json.loads(questions[0])
    bad = [
        b'{"id": "broken", "question": ',
        b'{"id": "bad-byte", "question": "Who \xff?", "answers": ["x"]}',
        json.dumps({"id": "no-question", "answers": ["x"]}).encode(),
        json.dumps(first).encode(),
        b"[" * 5000,
    ]
    lines = [b"\xef\xbb\xbf" + questions[0], *bad, *questions[1:]]
    (world / "questions.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    with (world / "corpus.jsonl").open("ab") as fh:
        fh.write(b'{"id": "no-text", "title": "Empty"}\n')
    return world


def test_the_loader_types_every_skipped_record(tmp_path: Path) -> None:
    world = dirty_world(tmp_path / "world")
    data = load_dataset(world)
    skipped = {(s.file, s.where): s.reason for s in data.skipped}
    for line, words in BAD_LINES.items():
        assert words in skipped[("questions.jsonl", f"line {line}")], skipped
    assert any(f == "corpus.jsonl" and "text" in r for (f, _), r in skipped.items())
    assert len(data.examples) == 5  # the BOM line and the good lines all read
    assert all(str(s) in data.errors for s in data.skipped)


def test_eval_run_reports_skipped_lines_in_json_stdout_and_manifest(tmp_path: Path) -> None:
    world = dirty_world(tmp_path / "world")
    out = tmp_path / "out"
    args = ["eval", "run", "--dataset", str(world), "--out", str(out), "--llm", "scripted",
            "--embedder", "hash", "--graph", "rag", "--limit", "1"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    reported = {(s["file"], s["where"]): s["reason"] for s in summary["skipped"]}
    assert len(reported) == len(BAD_LINES) + 1
    for line, words in BAD_LINES.items():
        assert words in reported[("questions.jsonl", f"line {line}")]
    manifest = read_manifest(out)
    assert [s.model_dump() for s in manifest.dataset.skipped] == summary["skipped"]
    again = CliRunner().invoke(app, args)  # the human summary, on a resumed folder
    assert again.exit_code == 0, again.output
    assert f"skipped {len(BAD_LINES) + 1} dataset record(s):" in again.stdout
    for line in BAD_LINES:
        assert f"questions.jsonl line {line}:" in again.stdout
