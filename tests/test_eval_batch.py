"""Batch runs over a tiny synthetic world with a scripted LLM: files, manifest, resume,
failures, concurrency, and a scorer that calls no model."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentflow.errors import LLMError, UserError
from agentflow.evals.datasets import load_dataset
from agentflow.evals.world import write_world
from agentflow.llm import ScriptedLLM
from agentflow.records import ChatMessage
from agentflow.scoring.batch import run_batch
from agentflow.scoring.manifest import dataset_sha256, read_manifest, sha256_path, trajectory_path
from agentflow.scoring.scorer import score_folder
from agentflow.scoring.trajectories import trajectory_finished
from agentflow.trajectory import read_trajectory

N_QUESTIONS = 5
REFUSED, FAILING = 1, 2  # indices of the question the oracle refuses and the one where it crashes


def make_world(folder: Path) -> Path:
    """A 60-document world with five questions, as questions.jsonl + corpus.jsonl."""
    write_world(folder, n_docs=60, n_questions=N_QUESTIONS, seed=3)
    return folder


def make_oracle(world: Path) -> ScriptedLLM:
    """A scripted model that answers every prompt with the gold answer of the question it
    shows, refuses question ``REFUSED`` and raises a backend error on question ``FAILING``."""
    examples = load_dataset(world).examples
    gold = {e.question: e.answer for e in examples}
    refused, failing = examples[REFUSED].question, examples[FAILING].question

    def answer(messages: list[ChatMessage], schema: dict[str, Any] | None) -> dict[str, Any]:
        system, user = messages[0].content, messages[-1].content
        shown = re.findall(r"Question: (.*)", user)
        question = shown[-1].strip() if shown else ""
        if question == failing:
            raise LLMError("the model server went away", model="oracle")
        ans = "insufficient evidence" if question == refused else gold.get(question, "")
        if "split a question" in system:
            return {"sub_questions": [{"question": question, "depends_on": []}]}
        if "candidate answers" in system:
            return {"answer": ans if question != refused else "none of these"}
        if "check whether" in system:
            # an oracle critic: it accepts the gold answer only
            proposed = re.findall(r"Proposed answer: (.*)", user)[-1].strip()
            ok = question != refused and proposed == ans
            return {"verdict": "answered" if ok else "unanswerable", "refined_query": ""}
        if "step by step" in system:
            return {"action": "answer", "query": "", "answer": ans, "citations": ["1", "2"]}
        return {"answer": ans, "citations": ["1", "2"]}

    return ScriptedLLM(fn=answer, name="oracle")


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """One finished batch (deep_research) shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("eval-batch")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AGENTFLOW_HOME", str(root / "home"))
        world = make_world(root / "world")
        run_batch(world, out=root / "out", llm=make_oracle(world), embedder="hash", progress=False)
    yield {"root": root, "world": world, "out": root / "out", "home": root / "home"}


def _copy(batch: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AGENTFLOW_HOME", str(batch["home"]))  # reuse the cached store
    out = tmp_path / "out"
    shutil.copytree(batch["out"], out)
    return out


def test_batch_writes_trajectories_and_manifest(batch: dict[str, Path]) -> None:
    out, world = batch["out"], batch["world"]
    manifest = read_manifest(out)
    examples = load_dataset(world).examples
    assert manifest.question_ids == [e.id for e in examples]
    assert manifest.dataset.sha256 == dataset_sha256(world)
    assert dataset_sha256(world / "questions.jsonl") == sha256_path(world / "questions.jsonl")
    assert (manifest.graph, manifest.model, manifest.embedder) == ("deep_research", "oracle", "hash-384")
    assert manifest.budget["max_llm_calls"] == 30 and "k" in manifest.settings
    assert "python" in manifest.versions and manifest.created
    assert Path(manifest.store).parent == batch["home"] / "stores"
    run_ids = set()
    statuses = {}
    for ex in examples:
        traj = read_trajectory(trajectory_path(out, ex.id))
        assert traj.final is not None and traj.question == ex.question
        run_ids.add(traj.run_id)
        statuses[ex.id] = traj.final["status"]
    assert len(run_ids) == N_QUESTIONS  # run ids are unique in the folder
    assert statuses[examples[FAILING].id] == "error"
    # The model declines REFUSED, but the typed floor may still answer it from the evidence.
    assert statuses[examples[REFUSED].id] in {"refused", "answered"}
    failed = read_trajectory(trajectory_path(out, examples[FAILING].id))
    assert failed.of_type("error")[0]["error_type"] == "LLMError"
    assert "went away" in failed.final["error"]


def test_second_run_skips_finished_questions_and_reuses_the_store(
        batch: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = _copy(batch, tmp_path, monkeypatch)
    llm = make_oracle(batch["world"])
    report = run_batch(batch["world"], out=out, llm=llm, embedder="hash", progress=False)
    assert (report.ran, report.already_done, report.store_built) == (0, N_QUESTIONS, False)
    assert llm.calls == []
    assert len(read_manifest(out).batches) == 2


def test_resume_reruns_only_unfinished_questions(
        batch: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = _copy(batch, tmp_path, monkeypatch)
    ids = read_manifest(out).question_ids
    truncated, deleted = trajectory_path(out, ids[0]), trajectory_path(out, ids[3])
    # A killed run: the final event never written, the last line cut in half.
    lines = truncated.read_text(encoding="utf-8").splitlines()
    truncated.write_text("\n".join(lines[:5]) + "\n" + lines[5][:20], encoding="utf-8")
    deleted.unlink()
    untouched = {i: trajectory_path(out, i).read_bytes() for i in ids if i not in (ids[0], ids[3])}
    assert not trajectory_finished(truncated)

    llm = make_oracle(batch["world"])
    report = run_batch(batch["world"], out=out, llm=llm, embedder="hash", progress=False)

    assert (report.ran, report.already_done, report.restarted) == (2, 3, 1)
    assert {i: trajectory_path(out, i).read_bytes() for i in untouched} == untouched
    for qid in (ids[0], ids[3]):
        traj = read_trajectory(trajectory_path(out, qid))
        assert traj.final is not None and traj.of_type("run_start").__len__() == 1
    # the partial trajectory was set aside, and the restart got a new run id
    assert [p.name for p in (out / "interrupted").iterdir()] == [f"{ids[0]}.r1.jsonl"]
    assert read_trajectory(truncated).run_id == f"{ids[0]}.r2"
    assert read_trajectory(trajectory_path(out, ids[3])).run_id == f"{ids[3]}.r2"


def test_a_failure_outside_the_graph_is_recorded_and_the_batch_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agentflow.agent.runner import Runner

    world = make_world(tmp_path / "world")
    victim = load_dataset(world).examples[0].question
    real_run = Runner.run

    def flaky(self: Runner, question: str, **kwargs: Any) -> Any:
        if question == victim:
            raise OSError("disk full")
        return real_run(self, question, **kwargs)

    monkeypatch.setattr(Runner, "run", flaky)
    report = run_batch(world, out=tmp_path / "out", llm=make_oracle(world), embedder="hash",
                       graph="rag", progress=False)
    assert report.ran == N_QUESTIONS and report.errors == 2  # the victim and the crashing model
    ids = read_manifest(tmp_path / "out").question_ids
    traj = read_trajectory(trajectory_path(tmp_path / "out", ids[0]))
    assert traj.final["status"] == "error" and "disk full" in traj.final["error"]
    assert traj.of_type("error")[0]["error_type"] == "OSError"
    assert all(trajectory_finished(trajectory_path(tmp_path / "out", i)) for i in ids)

    # --retry-errors runs exactly the failed questions again
    monkeypatch.setattr(Runner, "run", real_run)
    again = run_batch(world, out=tmp_path / "out", llm=make_oracle(world), retry_errors=True, progress=False)
    assert (again.ran, again.already_done, again.errors) == (2, 3, 1)


def test_an_eval_folder_inside_the_dataset_folder_resumes(
        batch: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTFLOW_HOME", str(batch["home"]))
    world = shutil.copytree(batch["world"], tmp_path / "world")
    first = run_batch(world, out=world / "eval", llm=make_oracle(world), embedder="hash",
                      graph="rag", limit=2, progress=False)
    again = run_batch(world, out=world / "eval", llm=make_oracle(world), progress=False)
    assert (first.ran, again.ran, again.already_done) == (2, 0, 2)


def test_concurrent_batch_matches_the_sequential_one(
        batch: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTFLOW_HOME", str(batch["home"]))
    report = run_batch(batch["world"], out=tmp_path / "out", llm=make_oracle(batch["world"]),
                       embedder="hash", concurrency=3, progress=False)
    sequential = score_folder(batch["out"], resamples=200)
    concurrent = score_folder(tmp_path / "out", resamples=200)
    assert report.ran == N_QUESTIONS
    assert [(q.id, q.status, q.prediction) for q in concurrent.questions] == \
        [(q.id, q.status, q.prediction) for q in sequential.questions]


def test_resuming_with_other_options_is_refused(
        batch: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = _copy(batch, tmp_path, monkeypatch)
    with pytest.raises(UserError, match="--graph 'deep_research'"):
        run_batch(batch["world"], out=out, graph="rag", llm=make_oracle(batch["world"]), progress=False)
    with pytest.raises(UserError, match="embedder"):
        run_batch(batch["world"], out=out, embedder="hash:64", llm=make_oracle(batch["world"]), progress=False)


def test_scoring_calls_no_model(batch: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import agentflow.embed
    import agentflow.llm
    from agentflow.llm.base import LLM

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the scorer must not call or build a model")

    for name in ("complete", "acomplete", "structured", "astructured"):
        monkeypatch.setattr(LLM, name, forbidden)
    monkeypatch.setattr(agentflow.llm, "resolve_llm", forbidden)
    monkeypatch.setattr(agentflow.embed, "resolve_embedder", forbidden)
    scores = score_folder(batch["out"], resamples=200)
    assert scores.aggregate["scored"] == N_QUESTIONS
    assert scores.aggregate["statuses"]["error"] == 1


def test_score_json_shape(batch: dict[str, Path]) -> None:
    doc = json.loads(json.dumps(score_folder(batch["out"], resamples=200).to_json()))
    assert set(doc) == {"aggregate", "questions"}
    agg = doc["aggregate"]
    for key in ("metrics", "per_hop", "statuses", "bootstrap", "run", "scored"):
        assert key in agg
    for name in ("em", "f1", "cover_em", "recall@2", "recall@5", "recall@10", "full_chain",
                 "citation_precision", "citation_validity", "sufficient", "utilisation",
                 "good_refusal", "over_refusal", "hop_accuracy", "llm_calls", "prompt_tokens",
                 "completion_tokens", "searches", "seconds", "max_prompt_tokens",
                 "redundant_retrievals"):
        assert set(agg["metrics"][name]) == {"mean", "lo", "hi", "n"}, name
    assert len(doc["questions"]) == N_QUESTIONS
    q = doc["questions"][0]
    for key in ("id", "prediction", "gold_answers", "status", "evidence", "cited_ids", "retrieved_ids", "metrics"):
        assert key in q, key
    assert all(set(e) >= {"id", "title", "text"} for e in q["evidence"])
    # the oracle answers with the gold answer: answered questions score EM 1
    answered = [x for x in doc["questions"] if x["status"] == "answered"]
    assert answered and any(x["metrics"]["em"] == 1.0 for x in answered)
    assert all(x["metrics"]["citation_validity"] in (None, 1.0) for x in doc["questions"])
