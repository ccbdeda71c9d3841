"""Honest baselines: ``answered`` only with a valid citation, ``unsupported`` otherwise, and
no prompt example ever reaches a final answer (rag refuses, react searches instead)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentflow import Agent
from agentflow.agent.citations import UNSUPPORTED
from agentflow.evals.world.demo import demo_chains, demo_store
from agentflow.evals.world.reader import read_like_a_model
from agentflow.trajectory import read_trajectory
from tests.helpers import with_overrides

FIRST = demo_chains()[0]
TWO_HOP = FIRST.question


def oracle(overrides: dict[str, Any] | None = None) -> Any:
    """The demo world's scripted reader, with ``overrides[node]`` in place of its answer."""
    return with_overrides(read_like_a_model, overrides)

EXAMPLE_ANSWER = "Wimble Jaxcott"  # the rag_answer prompt's example answer
REACT_PLACEHOLDER = "<the words of a passage that answer the question>"  # react_step's


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_store(folder=tmp_path_factory.mktemp("honest") / "store").path


def _notes(result: Any, kind: str) -> list[dict[str, Any]]:
    return [e for e in read_trajectory(result.trajectory).of_type("note") if e["kind"] == kind]


def test_rag_cites_in_code_the_passages_holding_its_answer(store: Path) -> None:
    llm = oracle({"rag": {"answer": FIRST.founder, "citations": ["99"]}})  # no such passage
    result = Agent(store, llm=llm, embedder="hash", graph="rag").ask(TWO_HOP)
    assert result.status == "answered"
    ids = [c["id"] for c in result.citations]
    assert ids and all(FIRST.founder in c["text"] for c in result.citations)
    assert _notes(result, "cited_in_code")[0]["data"]["passage_ids"] == ids


def test_rag_answer_without_support_is_unsupported(store: Path) -> None:
    llm = oracle({"rag": {"answer": "Tomas Brandvik", "citations": []}})
    result = Agent(store, llm=llm, embedder="hash", graph="rag").ask(TWO_HOP)
    assert (result.status, result.answer, result.citations) == (UNSUPPORTED, "Tomas Brandvik", [])
    assert _notes(result, "unsupported")


def test_rag_refuses_rather_than_answer_the_prompt_example(store: Path) -> None:
    llm = oracle({"rag": {"answer": EXAMPLE_ANSWER, "citations": ["1"]}})
    result = Agent(store, llm=llm, embedder="hash", graph="rag").ask(TWO_HOP)
    assert result.status == "refused" and EXAMPLE_ANSWER not in result.answer
    assert result.usage["llm_calls"] == 1
    assert _notes(result, "example_copied")


def test_react_never_answers_the_prompt_example(store: Path) -> None:
    # A weak model that answers the prompt's example at every step, without searching.
    llm = oracle({"react": {"action": "answer", "answer": REACT_PLACEHOLDER, "citations": ["1"]}})
    result = Agent(store, llm=llm, embedder="hash", graph="react").ask(TWO_HOP)
    assert result.status == "refused" and result.answer == "insufficient evidence"
    assert result.usage["searches"] >= 1  # it searched the question instead
    assert _notes(result, "example_copied")


def test_react_searches_before_it_answers(store: Path) -> None:
    # One hop, so the one search it is made to run shows the passages that name the answer.
    llm = oracle({"react": {"action": "answer", "answer": FIRST.founder, "citations": []}})
    result = Agent(store, llm=llm, embedder="hash", graph="react").ask(f"Who founded {FIRST.company}?")
    assert _notes(result, "answer_before_search")
    assert result.usage["searches"] == 1 and result.answer == FIRST.founder
    # No valid citation from the model: the shown passages naming the founder are cited in code.
    assert result.status == "answered"
    shown = [r["id"] for call in read_trajectory(result.trajectory).tool_calls for r in call["results"]]
    assert FIRST.founder_id not in shown  # of the two passages naming the founder, one was shown
    assert [c["id"] for c in result.citations] == [FIRST.company_id]


def test_react_answer_with_no_support_is_unsupported(store: Path) -> None:
    llm = oracle({"react": {"action": "answer", "answer": "Tomas Brandvik", "citations": ["7"]}})
    result = Agent(store, llm=llm, embedder="hash", graph="react").ask(TWO_HOP)
    assert (result.status, result.answer, result.citations) == (UNSUPPORTED, "Tomas Brandvik", [])
    assert result.usage["searches"] == 1
