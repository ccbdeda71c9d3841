"""``eval run`` / ``eval score`` on a HotpotQA-format dataset whose corpus is the shipped
``{title: text}`` object: every passage is stored, gold passages resolve, and the rag
baseline's uncited answers are reported."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from agentflow.evals.datasets import load_dataset
from agentflow.evals.world import write_world
from agentflow.llm import ScriptedLLM
from agentflow.records import ChatMessage
from agentflow.scoring.batch import run_batch
from agentflow.scoring.scorer import score_folder
from tests.test_bench_retrieval import _as_hotpotqa


def test_rag_batch_over_a_hotpotqa_dict_corpus(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTFLOW_HOME", str(tmp_path / "home"))
    write_world(tmp_path / "world", n_docs=50, n_questions=4, seed=7)
    hotpot = _as_hotpotqa(tmp_path / "world", tmp_path / "hotpot")
    data = load_dataset(hotpot / "questions.json", corpus=hotpot / "corpus.json")
    assert data.errors == [] and data.corpus is not None and len(data.corpus) == 50
    gold = {e.question: e.answer for e in data.examples}

    def answer(messages: list[ChatMessage], schema: dict[str, Any] | None) -> dict[str, Any]:
        question = re.findall(r"Question: (.*)", messages[-1].content)[-1].strip()
        return {"answer": gold.get(question, "insufficient evidence"), "citations": []}

    report = run_batch(hotpot / "questions.json", out=tmp_path / "out", corpus=hotpot / "corpus.json",
                       graph="rag", llm=ScriptedLLM(fn=answer, name="gold"), embedder="hash",
                       progress=False)
    assert report.ran == len(data.examples) and "error" not in report.statuses
    assert set(report.statuses) <= {"answered", "unsupported"}
    scores = score_folder(tmp_path / "out", resamples=100)
    assert scores.metric("recall@10")["mean"] > 0
    assert scores.metric("em")["mean"] == 1.0  # unsupported answers are scored as answers
    uncited = scores.metric("uncited_answers")
    assert uncited["n"] == len(data.examples)
    assert uncited["mean"] == report.statuses.get("unsupported", 0) / len(data.examples)
