"""Follow-ups made self-contained: the deterministic floor, the LLM rewrite and its checks."""

from __future__ import annotations

import pytest

from agentflow.agent.followup import EarlierTurn, floor_rewrite, needs_context, standalone_question
from agentflow.llm import ScriptedLLM

TURNS = [EarlierTurn(question="Who founded Zorvath Industries?", answer="Melira Quandt")]


@pytest.mark.parametrize("asked,want", [
    ("Where was she born?", "Where was Melira Quandt born?"),
    ("What was her husband called?", "What was Melira Quandt's husband called?"),
    ("Who wrote about him?", "Who wrote about Melira Quandt?"),
    ("When was it founded?", "When was Zorvath Industries founded?"),
    ("When was that company founded?", "When was Zorvath Industries founded?"),
])
def test_floor_substitutes_the_right_entity(asked: str, want: str) -> None:
    assert floor_rewrite(asked, TURNS)[0] == want


def test_a_refused_turn_points_at_its_question_entity() -> None:
    turns = [EarlierTurn(question="In which year was the founder of Bresgyl & Co. born?",
                         answer="insufficient evidence")]
    assert floor_rewrite("When was it founded?", turns)[0] == "When was Bresgyl & Co. founded?"


def test_self_contained_and_first_questions_are_kept() -> None:
    assert not needs_context("Who founded Kestrin Works?")
    kept = standalone_question("Who founded Kestrin Works?", TURNS)
    assert (kept.question, kept.source) == ("Who founded Kestrin Works?", "unchanged")
    first = standalone_question("Where was she born?", [])
    assert (first.question, first.reason) == ("Where was she born?", "first question")


def test_a_good_llm_rewrite_is_used() -> None:
    llm = ScriptedLLM(['{"question": "In which town was Melira Quandt born?"}'])
    got = standalone_question("Where was she born?", TURNS, llm=llm)
    assert (got.question, got.source) == ("In which town was Melira Quandt born?", "llm")
    assert "Melira Quandt" in llm.calls[0][0][-1].content  # the model saw the conversation


@pytest.mark.parametrize("output,why", [
    ('{"question": "Where was she born?"}', "unchanged"),
    ('{"question": "Where was the person born?"}', "names nothing from the conversation"),
    ('{"question": ""}', "empty"),
    # What SmolLM2-135M answered in a real run: the earlier question, not the follow-up.
    ('{"question": "Who founded Zorvath Industries?"}', "repeats an earlier question"),
    ('{"question": "What did Melira Quandt found?"}', "drops the follow-up's own words (born)"),
])
def test_a_bad_llm_rewrite_falls_back_to_the_floor(output: str, why: str) -> None:
    got = standalone_question("Where was she born?", TURNS, llm=ScriptedLLM([output]))
    assert (got.question, got.source) == ("Where was Melira Quandt born?", "floor")
    assert why in got.reason and got.llm_output == output


def test_an_llm_that_never_answers_falls_back_to_the_floor() -> None:
    got = standalone_question("Where was she born?", TURNS, llm=ScriptedLLM(["no json", "still none"]))
    assert got.source == "floor" and "no rewrite" in got.reason
