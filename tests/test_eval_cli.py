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


def _ingest(runner: CliRunner, corpus: Path, store: Path) -> None:
    result = runner.invoke(app, ["ingest", str(corpus), "--store", str(store), "--embedder", "hash", "--json"])
    assert result.exit_code == 0, result.output


def test_run_on_an_existing_store_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``eval run --store DIR`` searches that store (no cached one is built), records it, and
    a resume uses it again; another --store on resume is refused."""
    home = tmp_path / "home"
    monkeypatch.setenv("AGENTFLOW_HOME", str(home))
    world, store, out = make_world(tmp_path / "world"), tmp_path / "store", tmp_path / "out"
    runner = CliRunner()
    _ingest(runner, world / "corpus.jsonl", store)

    args = ["eval", "run", "--dataset", str(world), "--out", str(out), "--json"]
    result = runner.invoke(app, [*args, "--store", str(store), "--llm", "oracle"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["store"], summary["store_kind"], summary["store_built"]) == (str(store.resolve()), "given", False)
    assert (summary["ran"], summary["errors"], summary["store_extra"], summary["chroma_url"]) == (N_QUESTIONS, 0, 0, None)
    assert not (home / "stores").exists()  # nothing was built
    manifest = read_manifest(out)
    assert (manifest.store, manifest.store_kind, manifest.embedder) == (str(store.resolve()), "given", "hash-384")
    scored = runner.invoke(app, ["eval", "score", str(out), "--json", "--resamples", "200"])
    assert json.loads(scored.stdout)["aggregate"]["metrics"]["em"]["mean"] > 0

    # A resume without --store uses the recorded one; another --store is refused.
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert (json.loads(again.stdout)["already_done"], json.loads(again.stdout)["store"]) == (N_QUESTIONS, str(store.resolve()))
    other = runner.invoke(app, [*args, "--store", str(tmp_path / "elsewhere")])
    assert other.exit_code == 2
    assert f"was run on the store {store.resolve()}" in other.output and "another --out" in other.output


def test_a_store_without_the_corpus_is_refused(folders: dict[str, Path], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Missing passages (counting the gold ones) or another version of a gold passage stop the
    run before anything is written, saying what to do; --chroma-url needs --store; a folder
    run on its cached store refuses --store."""
    from agentflow.evals.datasets import load_dataset

    monkeypatch.setenv("AGENTFLOW_HOME", str(tmp_path / "home"))
    world = folders["world"]
    data = load_dataset(world)
    assert data.corpus is not None
    gold = {i for e in data.examples for i in e.supporting_ids}
    records = [json.loads(line) for line in (world / "corpus.jsonl").read_text().splitlines()]
    kept = records[: len(records) // 2]
    lost = {r["id"] for r in records[len(records) // 2:]}
    part = tmp_path / "part.jsonl"
    part.write_text("".join(json.dumps(r) + "\n" for r in kept))
    runner = CliRunner()
    _ingest(runner, part, tmp_path / "half")
    out = tmp_path / "out"
    result = runner.invoke(app, ["eval", "run", "--dataset", str(world), "--out", str(out),
                                 "--store", str(tmp_path / "half"), "--llm", "oracle"])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert (f"lacks {len(lost)} of the dataset's {len(records)} corpus passages, {len(gold & lost)} of them "
            f"among the {len(gold)} gold supporting passages") in message
    assert f"agentflow ingest {world / 'corpus.jsonl'} --store {tmp_path / 'half'}" in message
    assert not out.exists()
    assert gold & lost  # the check above counted real gold passages

    # the same ids with another text of a gold passage: another version of the corpus
    changed = [dict(r, text=r["text"] + " (edited)") if r["id"] in gold else r for r in records]
    part.write_text("".join(json.dumps(r) + "\n" for r in changed))
    _ingest(runner, part, tmp_path / "edited")
    result = runner.invoke(app, ["eval", "run", "--dataset", str(world), "--out", str(out),
                                 "--store", str(tmp_path / "edited"), "--llm", "oracle"])
    assert result.exit_code == 2 and "another version of the corpus" in result.output

    result = runner.invoke(app, ["eval", "run", "--dataset", str(world), "--out", str(out),
                                 "--chroma-url", "http://127.0.0.1:9", "--llm", "oracle"])
    assert result.exit_code == 2 and "--chroma-url needs --store" in result.output
    result = runner.invoke(app, ["eval", "run", "--dataset", str(world), "--out", str(folders["rag"]),
                                 "--store", str(tmp_path / "half")])
    assert result.exit_code == 2 and "was run on its own cached store" in result.output
