"""The retrieval benchmark reads every dataset format: one generated world written as the
generic JSON Lines form and as HotpotQA (questions with context, a {title: text} corpus)
gives the same gold passages and the same recall."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentflow.evals.bench_retrieval import main, parse_args, run
from agentflow.evals.datasets import load_dataset
from agentflow.evals.world import write_world


def _as_hotpotqa(world: Path, out: Path) -> Path:
    """The world rewritten as HotpotQA ships it: a question list and a title -> text corpus."""
    data = load_dataset(world)
    assert data.corpus is not None
    by_id = {p.id: p for p in data.corpus}
    records: list[dict[str, Any]] = []
    for ex in data.examples:
        if not ex.answerable or not ex.supporting_ids:
            continue
        gold = [by_id[i] for i in ex.supporting_ids]
        distractors = [p for p in data.corpus if p.id not in ex.supporting_ids][:2]
        records.append({
            "_id": ex.id, "question": ex.question, "answer": ex.answer, "type": "bridge",
            "context": [[p.title, [p.text]] for p in [*gold, *distractors]],
            "supporting_facts": [[p.title, 0] for p in gold]})
    out.mkdir(parents=True)
    (out / "questions.json").write_text(json.dumps(records), encoding="utf-8")
    corpus = {p.title: p.text for p in data.corpus}
    (out / "corpus.json").write_text(json.dumps(corpus, indent=1), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bench-retrieval")
    write_world(root / "jsonl", n_docs=60, n_questions=6, seed=5)
    return {"jsonl": root / "jsonl", "hotpotqa": _as_hotpotqa(root / "jsonl", root / "hotpot")}


def _figures(folder: Path, fmt: str, store: Path) -> dict[str, Any]:
    return run(parse_args(["--questions", str(folder), "--format", fmt, "--embedder", "hash",
                           "--store", str(store), "--skip-speed", "--json"]))


def test_two_formats_of_one_world_score_alike(worlds: dict[str, Path], tmp_path: Path) -> None:
    generic = _figures(worlds["jsonl"], "jsonl", tmp_path / "s1")
    hotpot = _figures(worlds["hotpotqa"], "hotpotqa", tmp_path / "s2")
    for figures in (generic, hotpot):
        assert figures["load_errors"] == 0 and figures["gold_missing_from_store"] == 0
        assert figures["passages"] == 60 and figures["questions"] > 0
    assert hotpot["questions"] == generic["questions"]
    assert hotpot["gold_passages"] == generic["gold_passages"]
    for method in ("bm25", "dense", "hybrid", "hybrid+graph"):
        for metric in ("recall@5", "recall@10", "full_chain@5"):
            assert hotpot["results"][method][metric] == pytest.approx(
                generic["results"][method][metric]), (method, metric)
    assert generic["results"]["bm25"]["recall@10"] > 0


def test_auto_format_and_a_clear_error(worlds: dict[str, Path], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--questions", str(worlds["hotpotqa"] / "questions.json"), "--corpus",
                 str(worlds["hotpotqa"] / "corpus.json"), "--embedder", "hash", "--store",
                 str(tmp_path / "s"), "--skip-speed", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["passages"] == 60
    empty = tmp_path / "q.jsonl"
    empty.write_text(json.dumps({"id": "a", "question": "Q?", "answers": [],
                                 "answerable": False}) + "\n")
    assert main(["--questions", str(empty), "--corpus", str(worlds["jsonl"] / "corpus.jsonl"),
                 "--embedder", "hash", "--skip-speed"]) == 2
    assert "no answerable question" in capsys.readouterr().err
