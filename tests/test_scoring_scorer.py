"""Scoring one trajectory: every per-question formula on a hand-built run."""

from __future__ import annotations

from typing import Any

import pytest

from agentflow.evals.datasets import DecompositionStep, QAExample
from agentflow.scoring.scorer import QuestionScore, aggregate, is_refusal, score_trajectory
from agentflow.trajectory import Trajectory

EXAMPLE = QAExample(
    id="q1", question="Where was the founder of Zorvath Industries born?",
    answers=["Ostrelle", "Ostrelle town"], supporting_ids=["p1", "p2"],
    decomposition=[DecompositionStep(question="Who founded Zorvath Industries?", answer="Melira Quandt"),
                   DecompositionStep(question="Where was #1 born?", answer="Ostrelle")],
)


def _llm(prompt_tokens: int, completion: int, attempts: list[int] | None = None) -> dict[str, Any]:
    sizes = attempts or [prompt_tokens]
    return {"type": "llm_call", "node": "read", "prompt_tokens": sum(sizes), "first_prompt_tokens": sizes[0],
            "completion_tokens": completion,
            "attempts": [{"output": "{}", "prompt_tokens": s, "completion_tokens": 1} for s in sizes]}


def _tool(tool: str, ids: list[str], known: list[str] | None = None) -> dict[str, Any]:
    return {"type": "tool_call", "tool": tool, "query": "q", "results": [{"id": i, "score": 1.0} for i in ids],
            "new_ids": [], "known_ids": known or []}


def _run(answer: str, status: str, *, evidence: list[str], cited: list[str],
         tools: list[dict[str, Any]], subs: list[str | None] | None = None) -> Trajectory:
    events: list[dict[str, Any]] = [
        {"type": "run_start", "run_id": "r1", "t": 100.0, "question": EXAMPLE.question},
        _llm(120, 30), *tools, _llm(300, 10, attempts=[300, 420]), _llm(200, 5),
        {"type": "final", "run_id": "r1", "t": 112.5, "answer": answer, "status": status,
         "evidence": [{"id": i, "title": i.upper(), "text": f"text {i}"} for i in evidence],
         "citations": [{"id": i, "title": "", "text": ""} for i in cited],
         "sub_questions": [{"id": str(n), "answer": a} for n, a in enumerate(subs or [], 1)]},
    ]
    return Trajectory(events=events)


def test_a_correct_sufficient_run() -> None:
    traj = _run("born in Ostrelle", "answered", evidence=["p1", "x", "p2", "y"], cited=["p1", "x"],
                tools=[_tool("corpus", ["p1", "x", "y"]), _tool("corpus", ["p2", "x"], known=["x"]),
                       _tool("memory", ["p1", "p2", "x"], known=["p1", "p2", "x"])],
                subs=["Melira Quandt", "the town of Ostrelle"])
    s = score_trajectory(traj, EXAMPLE)
    mt = s.metrics
    assert s.prediction == "born in Ostrelle" and s.status == "answered"
    assert (mt["em"], mt["cover_em"], mt["correct"]) == (0.0, 1.0, 1.0)
    assert mt["f1"] == pytest.approx(2 * (1 / 3) * 1 / (1 / 3 + 1))
    assert (mt["recall@2"], mt["recall@5"], mt["full_chain"]) == (0.5, 1.0, 1.0)
    assert mt["citation_precision"] == 0.5 and mt["citation_validity"] == 1.0
    assert (mt["sufficient"], mt["utilisation"], mt["over_refusal"], mt["good_refusal"]) == (1.0, 1.0, 0.0, None)
    assert s.hops == [1.0, 1.0] and mt["hop_accuracy"] == 1.0
    # cost: 3 calls; prompt tokens summed with re-asks; largest single prompt is the re-ask
    assert mt["llm_calls"] == 3 and mt["prompt_tokens"] == 120 + 720 + 200
    assert mt["completion_tokens"] == 45 and mt["max_prompt_tokens"] == 420
    assert mt["searches"] == 2  # the memory graph lookup is not a search
    assert mt["seconds"] == pytest.approx(12.5)
    # "x" comes back in the second corpus call (seen before, and reported known)
    assert mt["redundant_retrievals"] == 1 and mt["redundant_rate"] == pytest.approx(1 / 5)
    assert s.prompt_tokens_by_step == [120, 300, 200]
    assert s.retrieved_ids == ["p1", "x", "y", "p2"]
    assert [e["id"] for e in s.evidence] == ["p1", "x", "p2", "y"]


def test_a_refusal_with_insufficient_evidence() -> None:
    traj = _run("insufficient evidence", "refused", evidence=["p1"], cited=[],
                tools=[_tool("corpus", ["p1", "z"])], subs=["Melira Quandt"])
    s = score_trajectory(traj, EXAMPLE)
    mt = s.metrics
    assert s.prediction == ""
    assert (mt["em"], mt["f1"], mt["cover_em"], mt["refused"]) == (0.0, 0.0, 0.0, 1.0)
    assert (mt["sufficient"], mt["good_refusal"], mt["utilisation"], mt["over_refusal"]) == (0.0, 1.0, None, None)
    assert mt["citation_precision"] is None and mt["citation_validity"] is None
    assert s.hops == [1.0, 0.0]  # the missing second sub-answer is wrong


def test_an_invalid_citation_is_measured() -> None:
    traj = _run("Ostrelle", "answered", evidence=["p1"], cited=["p1", "never-seen"],
                tools=[_tool("corpus", ["p1"])])
    assert score_trajectory(traj, EXAMPLE).metrics["citation_validity"] == 0.5


def test_unanswerable_questions_reward_refusal() -> None:
    unanswerable = EXAMPLE.model_copy(update={"answerable": False})
    refused = score_trajectory(_run("insufficient evidence", "budget_exhausted", evidence=[], cited=[],
                                    tools=[_tool("corpus", ["p1"])]), unanswerable)
    guessed = score_trajectory(_run("Paris", "answered", evidence=["p1"], cited=["p1"],
                                    tools=[_tool("corpus", ["p1"])]), unanswerable)
    assert refused.metrics["em"] == 1.0 and refused.metrics["good_refusal"] == 1.0
    assert guessed.metrics["em"] == 0.0 and guessed.metrics["good_refusal"] == 0.0
    assert refused.metrics["recall@5"] is None and refused.metrics["sufficient"] is None


def test_graphs_without_sub_questions_have_no_hop_scores() -> None:
    s = score_trajectory(_run("Ostrelle", "answered", evidence=["p1"], cited=["p1"],
                              tools=[_tool("corpus", ["p1"])]), EXAMPLE)
    assert s.hops == [None, None] and s.metrics["hop_accuracy"] is None


def test_is_refusal() -> None:
    assert is_refusal("refused", "anything")
    assert is_refusal("budget_exhausted", "Insufficient evidence.")
    assert not is_refusal("answered", "Paris")
    assert not is_refusal("error", "")


def test_aggregate_is_seeded_and_conditional() -> None:
    good = score_trajectory(_run("Ostrelle", "answered", evidence=["p1", "p2"], cited=["p1"],
                                 tools=[_tool("corpus", ["p1", "p2"])], subs=["Melira Quandt", "Ostrelle"]), EXAMPLE)
    bad = score_trajectory(_run("insufficient evidence", "refused", evidence=["p1"], cited=[],
                                tools=[_tool("corpus", ["p1"])]), EXAMPLE)
    missing = QuestionScore(id="q3", status="missing")
    qs = [good, bad, missing]
    agg = aggregate(qs, resamples=200, seed=3)
    assert agg == aggregate(qs, resamples=200, seed=3)
    assert agg["scored"] == 2 and agg["missing"] == ["q3"]
    assert agg["statuses"] == {"answered": 1, "refused": 1, "missing": 1}
    assert agg["metrics"]["em"]["mean"] == 0.5
    # utilisation only counts the sufficient run; good refusal only the insufficient one
    assert agg["metrics"]["utilisation"] == {"mean": 1.0, "lo": 1.0, "hi": 1.0, "n": 1}
    assert agg["metrics"]["good_refusal"]["mean"] == 1.0
    assert [h["hop"] for h in agg["per_hop"]] == [1, 2]
    assert agg["per_hop"][0]["n"] == 1  # the refused run has no sub-questions
    assert agg["prompt_tokens_by_step"][1] == {"step": 2, "mean": 300.0, "max": 300, "n": 2}
