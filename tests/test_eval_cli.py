"""The ``agentflow eval`` commands through typer's CliRunner: run, score --json, report."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentflow.cli.main import app
from agentflow.scoring.batch import run_batch
from agentflow.scoring.manifest import read_manifest, trajectory_path
from agentflow.scoring.trajectories import trajectory_finished
from tests.test_eval_batch import N_QUESTIONS, make_oracle, make_world


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Two finished batches (rag and deep_research) over one world."""
    root = tmp_path_factory.mktemp("eval-cli")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AGENTFLOW_HOME", str(root / "home"))
        world = make_world(root / "world")
        for graph in ("rag", "deep_research"):
            run_batch(world, out=root / graph, graph=graph, llm=make_oracle(world), embedder="hash",
                      progress=False)
    yield {"world": world, "rag": root / "rag", "deep_research": root / "deep_research"}


def test_score_json(folders: dict[str, Path]) -> None:
    result = CliRunner().invoke(app, ["eval", "score", str(folders["rag"]), "--json", "--resamples", "200"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) == {"aggregate", "questions"}
    assert doc["aggregate"]["run"]["graph"] == "rag"
    assert doc["aggregate"]["bootstrap"] == {"resamples": 200, "seed": 0, "confidence": 0.95}
    assert [q["id"] for q in doc["questions"]] == read_manifest(folders["rag"]).question_ids
    assert {"mean", "lo", "hi", "n"} == set(doc["aggregate"]["metrics"]["recall@5"])


def test_score_table(folders: dict[str, Path]) -> None:
    result = CliRunner().invoke(app, ["eval", "score", str(folders["deep_research"]), "--resamples", "200"])
    assert result.exit_code == 0, result.output
    assert "| em |" in result.stdout and "| hop 1 accuracy |" in result.stdout


def test_report_writes_self_contained_html(folders: dict[str, Path], tmp_path: Path) -> None:
    html = tmp_path / "report" / "report.html"
    result = CliRunner().invoke(app, ["eval", "report", str(folders["rag"]), str(folders["deep_research"]),
                                      "--out", str(html), "--resamples", "200"])
    assert result.exit_code == 0, result.output
    assert "| metric | rag | deep_research |" in result.stdout
    page = html.read_text(encoding="utf-8")
    assert page.count("<svg") >= 4  # bars, hops, context growth, accuracy vs cost
    # nothing loaded from elsewhere: no scripts, stylesheets, images or fonts by URL
    assert "<script" not in page and "@import" not in page and "@font-face" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", page)


def test_run_records_failures_and_exits_cleanly(tmp_path: Path) -> None:
    world = make_world(tmp_path / "world")
    out = tmp_path / "out"
    # "scripted" without a script fails on its first call: every question ends in error,
    # and the batch still finishes.
    args = ["eval", "run", "--dataset", str(world), "--out", str(out), "--llm", "scripted",
            "--embedder", "hash", "--graph", "rag", "--limit", "3", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["total"], summary["ran"], summary["errors"]) == (3, 3, 3)
    ids = read_manifest(out).question_ids
    assert len(ids) == 3 and all(trajectory_finished(trajectory_path(out, i)) for i in ids)
    again = CliRunner().invoke(app, args)
    assert json.loads(again.stdout)["already_done"] == 3


def test_cli_errors_are_one_line_with_exit_code_2(folders: dict[str, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "score", str(tmp_path)])
    assert result.exit_code == 2
    assert "no manifest.json" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(app, ["eval", "run", "--dataset", str(folders["world"]), "--out",
                                      str(folders["rag"]), "--graph", "react", "--llm", "scripted"])
    assert result.exit_code == 2
    assert "--graph 'rag'" in result.output
    assert N_QUESTIONS == len(read_manifest(folders["rag"]).question_ids)
