"""The scorer on honest statuses: ``unsupported`` answers are scored as answers, and the share
of answers without a valid citation is reported beside citation validity (which averages
over runs that cite only), in the aggregate, the markdown table and the HTML report."""

from __future__ import annotations

from typing import Any

from agentflow.evals.datasets import QAExample
from agentflow.scoring.manifest import DatasetInfo, EvalManifest
from agentflow.scoring.report import markdown_table, render_html
from agentflow.scoring.scorer import METRICS, RunScore, aggregate, score_trajectory
from agentflow.trajectory import Trajectory

EXAMPLE = QAExample(id="q1", question="Where was the founder of Zorvath Industries born?",
                    answers=["Ostrelle"], supporting_ids=["p1", "p2"])
UNANSWERABLE = QAExample(id="q2", question="Who is the spouse of Dario Feln?", answers=[],
                         answerable=False)


def _run(answer: str, status: str, *, cited: list[str], retrieved: list[str]) -> Trajectory:
    return Trajectory(events=[
        {"type": "run_start", "run_id": "r", "t": 0.0, "question": EXAMPLE.question},
        {"type": "llm_call", "node": "answer", "prompt_tokens": 50, "first_prompt_tokens": 50,
         "completion_tokens": 5, "attempts": []},
        {"type": "tool_call", "tool": "corpus", "query": "q",
         "results": [{"id": i, "score": 1.0} for i in retrieved], "known_ids": []},
        {"type": "final", "run_id": "r", "t": 1.0, "answer": answer, "status": status,
         "evidence": [{"id": i, "title": "", "text": ""} for i in retrieved],
         "citations": [{"id": i, "title": "", "text": ""} for i in cited], "sub_questions": []},
    ])


def _metrics(traj: Trajectory, example: QAExample = EXAMPLE) -> dict[str, Any]:
    return score_trajectory(traj, example).metrics


def test_unsupported_is_scored_as_an_answer_and_counted_uncited() -> None:
    score = score_trajectory(_run("Ostrelle", "unsupported", cited=[], retrieved=["p1"]), EXAMPLE)
    assert score.prediction == "Ostrelle" and score.status == "unsupported"
    mt = score.metrics
    assert (mt["em"], mt["correct"], mt["refused"]) == (1.0, 1.0, 0.0)
    assert mt["uncited_answers"] == 1.0 and mt["citation_validity"] is None


def test_uncited_answers_needs_a_retrieved_citation() -> None:
    cited = _metrics(_run("Ostrelle", "answered", cited=["p1"], retrieved=["p1", "p2"]))
    assert (cited["uncited_answers"], cited["citation_validity"]) == (0.0, 1.0)
    # Citing only a passage no tool returned is no valid citation.
    invalid = _metrics(_run("Ostrelle", "answered", cited=["zz"], retrieved=["p1"]))
    assert (invalid["uncited_answers"], invalid["citation_validity"]) == (1.0, 0.0)
    bare = _metrics(_run("Ostrelle", "answered", cited=[], retrieved=["p1"]))
    assert bare["uncited_answers"] == 1.0
    # Refusals and errors are no answers: not counted either way.
    for status, answer in (("refused", "insufficient evidence"), ("error", "")):
        assert _metrics(_run(answer, status, cited=[], retrieved=["p1"]))["uncited_answers"] is None


def test_refusal_rates_follow_the_issue_definitions() -> None:
    # over_refusal: refused although every gold passage was retrieved.
    over = _metrics(_run("insufficient evidence", "refused", cited=[], retrieved=["p1", "p2"]))
    assert (over["sufficient"], over["over_refusal"], over["good_refusal"]) == (1.0, 1.0, None)
    # good_refusal: refused where the evidence was missing, or the question unanswerable.
    missing = _metrics(_run("insufficient evidence", "refused", cited=[], retrieved=["p1"]))
    assert (missing["over_refusal"], missing["good_refusal"]) == (None, 1.0)
    guessed = _metrics(_run("Parvania", "unsupported", cited=[], retrieved=[]), UNANSWERABLE)
    assert (guessed["good_refusal"], guessed["refused"], guessed["uncited_answers"]) == (0.0, 0.0, 1.0)


def _run_score(label: str, runs: list[tuple[Trajectory, QAExample]]) -> RunScore:
    questions = [score_trajectory(t, e) for t, e in runs]
    manifest = EvalManifest(
        dataset=DatasetInfo(path="d", sha256="0" * 64, format="jsonl", name="d"), graph=label,
        llm="scripted", model="scripted", embedder="hash", embedder_spec="hash", store="s",
        corpus_hash="h", created="2026-12-01T00:00:00+00:00")
    return RunScore(label=label, folder=f"/tmp/{label}", manifest=manifest, questions=questions,
                    aggregate=aggregate(questions, resamples=100))


def test_reports_show_uncited_answers_statuses_and_both_refusal_rates() -> None:
    run = _run_score("rag", [
        (_run("Ostrelle", "answered", cited=["p1"], retrieved=["p1", "p2"]), EXAMPLE),
        (_run("Ostrelle", "unsupported", cited=[], retrieved=["p1"]), EXAMPLE),
        (_run("Pellack", "unsupported", cited=[], retrieved=["p2"]), EXAMPLE),
        (_run("insufficient evidence", "refused", cited=[], retrieved=[]), UNANSWERABLE),
    ])
    est = run.metric("uncited_answers")
    assert (round(est["mean"], 3), est["n"]) == (0.667, 3)
    assert run.metric("citation_validity")["n"] == 1  # only the run that cites
    assert "uncited_answers" in METRICS
    table = markdown_table([run])
    for row in ("| uncited_answers | 0.667", "| citation_validity | 1.000", "| good_refusal |",
                "| over_refusal |", "| statuses | unsupported 2, answered 1, refused 1 |"):
        assert row in table, row
    page = render_html([run])
    assert "uncited_answers" in page and "answers without a valid citation" in page
