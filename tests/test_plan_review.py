"""A plan a person can review (issue 13): the plan-edit records and their validation,
and the pause/resume through the Python API, including a resume from another process.

The runs use the demo world (hashing embedder) and its scripted reader, whose plan for
"In which city was the founder of X born?" is ``1. Who founded X?  2. In which city was
#1 born?``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agentflow.agent.review import (
    AWAITING_REVIEW,
    PlanEditError,
    PlannedStep,
    PlanProposal,
    ProposedStep,
    StepEdit,
    apply_edit,
    check_review,
    parse_review,
    plan_text,
)
from agentflow.errors import UserError
from agentflow.evals.world.demo import demo_agent, demo_chains
from agentflow.trajectory import read_trajectory

CHAIN = demo_chains()[0]
QUESTION = CHAIN.question
COMPANY = QUESTION.split("founder of ", 1)[1].removesuffix(" born?")


def proposal(*steps: tuple[str, list[int]], question: str = QUESTION, max_steps: int = 4) -> PlanProposal:
    return PlanProposal(run_id="r1", question=question, max_sub_questions=max_steps,
                        sub_questions=[ProposedStep(step=i, question=q, depends_on=d)
                                       for i, (q, d) in enumerate(steps, 1)])


TWO_STEPS = proposal((f"Who founded {COMPANY}?", []), ("In which city was #1 born?", [1]))


def texts(plan: Any) -> list[tuple[str, list[int]]]:
    return [(s.question, s.depends_on) for s in plan.sub_questions]


# -- the edits ------------------------------------------------------------------------


def test_approve_keeps_the_plan() -> None:
    for answer in ("approve", {"action": "approve"}, {}):
        review, plan = check_review(TWO_STEPS, answer)
        assert review.action == "approve" and plan is None


def test_reword_add_and_remove_renumber_the_references() -> None:
    steps = TWO_STEPS.plan().sub_questions
    added = apply_edit(steps, StepEdit(op="add", after=0, question=f"What is {COMPANY}?"))
    assert [(s.question, s.depends_on) for s in added] == [
        (f"What is {COMPANY}?", []), (f"Who founded {COMPANY}?", []), ("In which city was #2 born?", [2])]
    removed = apply_edit(added, StepEdit(op="remove", step=1))
    assert [(s.question, s.depends_on) for s in removed] == [(s.question, s.depends_on) for s in steps]
    reworded = apply_edit(steps, StepEdit(op="reword", step=2, question="Where was #1   born?"))
    assert reworded[1] == PlannedStep(question="Where was #1 born?", depends_on=[1])


def test_an_edited_plan_is_validated_like_a_generated_one() -> None:
    review, plan = check_review(TWO_STEPS, {"action": "edit", "edits": [
        {"op": "reword", "step": 1, "question": f"Who was the founder of {COMPANY}?"},
        {"op": "add", "question": f"In which year was {COMPANY} established?"}]})
    assert review.action == "edit" and len(review.edits) == 2
    assert texts(plan) == [(f"Who was the founder of {COMPANY}?", []), ("In which city was #1 born?", [1]),
                           (f"In which year was {COMPANY} established?", [])]
    # repair_plan runs too (spaces, dependencies read from "#k" later); what it would drop
    # silently from a model's plan is refused with the reason instead
    _, plan = check_review(TWO_STEPS, {"action": "replace", "sub_questions": [
        f"Who  founded {COMPANY}?", "In which city was #1 born?"]})
    assert texts(plan) == [(f"Who founded {COMPANY}?", []), ("In which city was #1 born?", [])]
    with pytest.raises(PlanEditError, match="step 3 asks what step 1 asks"):
        check_review(TWO_STEPS, {"action": "edit", "edits": [{"op": "add", "question": f"When was {COMPANY} founded?"}]})


@pytest.mark.parametrize(("answer", "reason"), [
    ({"action": "edit", "edits": [{"op": "remove", "step": 1}]}, "step 2 refers to #1, which is removed"),
    ({"action": "edit", "edits": [{"op": "reword", "step": 5, "question": "Who?"}]}, "there is no step 5"),
    ({"action": "edit", "edits": [{"op": "add", "after": 9, "question": "What else?"}]}, "cannot add after step 9"),
    ({"action": "edit", "edits": [{"op": "reword", "step": 1, "question": "Who is #2 married to?"}]},
     "sub-question 1 refers to #2, which is not an earlier step"),
    ({"action": "edit", "edits": [{"op": "add", "question": "What is the weather like on Mars today?"}]},
     "sub-question 3 shares no words with the question"),
    ({"action": "replace", "sub_questions": [f"Q{i} about {COMPANY}?" for i in range(5)]},
     "5 sub-questions, more than the limit of 4"),
    ({"action": "replace", "sub_questions": []}, '"replace" needs the new plan'),
    ({"action": "edit"}, '"edit" needs at least one edit'),
    ({"action": "approve", "edits": [{"op": "remove", "step": 1}]}, '"approve" takes no edits'),
    ({"action": "reject"}, "invalid plan review: action"),
    ({"action": "edit", "edits": [{"op": "rename", "step": 1}]}, "invalid plan review: edits.0.op"),
    ("maybe", "invalid plan review 'maybe'"),
    ({"action": "edit", "edits": [{"op": "remove"}]}, "needs the number of the step"),
    ({"action": "edit", "edits": [{"op": "add", "question": f"Where is {COMPANY}?", "depends_on": [4]}]},
     "sub-question 3 refers to #4, which is not an earlier step"),
])
def test_an_unusable_review_says_why(answer: Any, reason: str) -> None:
    with pytest.raises(PlanEditError) as info:
        check_review(TWO_STEPS, answer)
    assert reason in str(info.value)


def test_the_only_step_cannot_be_removed() -> None:
    single = proposal((QUESTION, []))
    with pytest.raises(PlanEditError, match="only step"):
        check_review(single, {"action": "edit", "edits": [{"op": "remove", "step": 1}]})


def test_plan_text_shows_steps_dependencies_and_the_last_error() -> None:
    text = plan_text(TWO_STEPS.model_copy(update={"error": "there is no step 5"}))
    assert text.splitlines() == [f"Plan for: {QUESTION}", f"  1. Who founded {COMPANY}?",
                                 "  2. In which city was #1 born?  (after 1)",
                                 "Your last answer was not applied: there is no step 5"]
    assert parse_review("approve").action == "approve"


# -- runs -----------------------------------------------------------------------------


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AGENTFLOW_HOME", str(tmp_path))
    return demo_agent(runs_dir=tmp_path / "runs")


def events_of(path: str | None, type_: str) -> list[dict[str, Any]]:
    assert path is not None
    return read_trajectory(path).of_type(type_)


def test_without_review_the_node_does_nothing(agent: Any) -> None:
    result = agent.ask(QUESTION)
    assert result.status == "answered" and result.plan_review is None and "plan_review" not in result.to_json()
    assert not events_of(result.trajectory, "plan_review_requested")


def test_a_run_stops_for_review_and_goes_on_with_the_edited_plan(agent: Any) -> None:
    events: list[dict[str, Any]] = []
    paused = agent.ask(QUESTION, review_plan=True, on_event=events.append)
    assert paused.status == AWAITING_REVIEW and paused.answer == ""
    shown = PlanProposal.model_validate(paused.plan_review)
    assert [(s.step, s.depends_on) for s in shown.sub_questions] == [(1, []), (2, [1])]
    assert [e["type"] for e in events][-2:] == ["plan_review", "final"]
    assert paused.usage["searches"] == 0  # nothing spent beyond the plan
    assert agent.pending_review(paused.run_id) == shown
    traj = read_trajectory(paused.trajectory)
    assert traj.events[-1]["type"] == "run_paused" and not traj.of_type("final")

    # A refused edit changes nothing: the run still waits with the same plan.
    with pytest.raises(PlanEditError, match="removed"):
        agent.resume(paused.run_id, review={"action": "edit", "edits": [{"op": "remove", "step": 1}]})
    assert agent.pending_review(paused.run_id) == shown
    again = agent.resume(paused.run_id)  # no review given: the waiting result again
    assert again.status == AWAITING_REVIEW and again.plan_review == paused.plan_review

    reword = f"Who was the founder of {COMPANY}?"
    done = agent.resume(paused.run_id, review={"action": "edit", "edits": [
        {"op": "reword", "step": 1, "question": reword}]})
    assert done.status == "answered" and done.answer == CHAIN.city
    assert done.sub_questions[0]["question"] == reword
    assert agent.pending_review(paused.run_id) is None
    review = events_of(done.trajectory, "plan_review")
    assert len(review) == 1 and review[0]["action"] == "edit"
    assert review[0]["before"][0]["question"] == f"Who founded {COMPANY}?"
    assert review[0]["after"][0]["question"] == reword
    assert review[0]["edits"] == [{"op": "reword", "step": 1, "question": reword}]
    assert [e["type"] for e in read_trajectory(done.trajectory).events].count("final") == 1


def test_a_reviewer_answers_in_process_and_is_asked_again_after_a_refusal(agent: Any) -> None:
    seen: list[PlanProposal] = []

    def reviewer(p: PlanProposal) -> Any:
        seen.append(p)
        if len(seen) == 1:
            return {"action": "edit", "edits": [{"op": "reword", "step": 9, "question": "x"}]}
        return {"action": "replace", "sub_questions": [
            {"question": f"Who founded {COMPANY}?"}, {"question": "In which city was #1 born?", "depends_on": [1]}]}

    result = agent.ask(QUESTION, review_plan=True, reviewer=reviewer)
    assert result.status == "answered" and result.answer == CHAIN.city
    assert seen[0].error is None and "there is no step 9" in (seen[1].error or "")
    assert events_of(result.trajectory, "plan_review")[0]["action"] == "replace"


def test_a_thread_turn_waits_for_review_then_is_completed(agent: Any) -> None:
    paused = agent.ask(QUESTION, thread_id="t-review", review_plan=True)
    turn = agent.thread("t-review").turns[0]
    assert (turn.status, turn.run_id) == (AWAITING_REVIEW, paused.run_id)
    with pytest.raises(Exception, match="no run"):
        agent.resume(paused.run_id, review="approve", owner="someone-else")
    done = agent.resume(paused.run_id, review="approve")
    turn = agent.thread("t-review").turns[0]
    assert (turn.status, turn.answer) == ("answered", CHAIN.city) == (done.status, done.answer)
    assert events_of(done.trajectory, "plan_review")[0]["action"] == "approve"


def test_a_graph_without_a_plan_cannot_be_reviewed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTFLOW_HOME", str(tmp_path))
    with pytest.raises(UserError, match="review_plan needs the deep_research graph"):
        demo_agent(graph="rag").ask(QUESTION, review_plan=True)


_PAUSE = """
import json, sys
from agentflow.evals.world.demo import demo_agent
agent = demo_agent(runs_dir=sys.argv[1])
result = agent.ask(sys.argv[2], review_plan=True)
print(json.dumps({"status": result.status, "run_id": result.run_id}))
"""


@pytest.mark.slow
def test_the_pause_survives_the_process(agent: Any, tmp_path: Path) -> None:
    """One process plans and stops; this one resumes the run from its checkpoint."""
    env = {**os.environ, "AGENTFLOW_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", _PAUSE, str(tmp_path / "runs"), QUESTION], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    paused = json.loads(proc.stdout.strip().splitlines()[-1])
    assert paused["status"] == AWAITING_REVIEW
    proposal_ = agent.pending_review(paused["run_id"])
    assert proposal_ is not None and len(proposal_.sub_questions) == 2
    done = agent.resume(paused["run_id"], review={"action": "edit", "edits": [
        {"op": "add", "after": 1, "question": f"In which year was {COMPANY} established?"}]})
    assert done.status == "answered" and done.answer == CHAIN.city
    assert [(sq["question"], sq["status"]) for sq in done.sub_questions][1] == (
        f"In which year was {COMPANY} established?", "answered")
    types = [e["type"] for e in read_trajectory(done.trajectory).events]
    assert types.index("run_paused") < types.index("run_resumed") < types.index("plan_review") < types.index("final")
