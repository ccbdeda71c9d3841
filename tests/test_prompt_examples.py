"""Prompt examples can never reach an output: each template's example values are known, and
an output that copies one is treated by ``RunContext.ask`` like invalid output."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from agentflow.agent.budget import new_usage
from agentflow.agent.context import RunContext
from agentflow.agent.prompting import (
    _content_words,
    copied_example,
    example_values,
    template_names,
)
from agentflow.agent.schemas import FinalAnswer, Plan, ReactAction, Reading
from agentflow.llm import ScriptedLLM
from agentflow.trajectory import TrajectoryRecorder

SHOWN = {"question": "Who founded Zorvath Industries?",
         "passages": [{"title": "Zorvath Industries",
                       "text": "Zorvath Industries was founded by Melira Quandt."}]}


def test_example_values_come_from_json_and_the_declared_block() -> None:
    values = example_values("rag_answer")
    assert "wimble jaxcott" in values  # the example output's JSON
    assert "cogwheel moon" in values and "quexa" in values  # the {# examples: #} block
    assert "1" not in values  # a citation label says nothing
    react = example_values("react_step")  # JSON written inside a sentence counts too
    assert "who winds up cogwheel moon of quexa" in react and "quexa" in react
    assert "words of passage that answer question" in react
    assert all(example_values(name) is not None for name in template_names())


def test_equal_or_containing_an_example_is_copied() -> None:
    assert copied_example("rag_answer", FinalAnswer(answer="Wimble Jaxcott."), SHOWN) == \
        "wimble jaxcott"
    contains = FinalAnswer(answer="it was Wimble Jaxcott, the clockmaker")
    assert copied_example("rag_answer", contains, SHOWN) == "wimble jaxcott"
    # A one-word value counts only when the whole field equals it.
    assert copied_example("rag_answer", FinalAnswer(answer="Quexa"), SHOWN) == "quexa"
    assert copied_example("rag_answer", FinalAnswer(answer="the Quexa line"), SHOWN) is None
    query = ReactAction(action="search", query="who winds up the Cogwheel Moon of Quexa")
    assert copied_example("react_step", query, SHOWN) == "who winds up cogwheel moon of quexa"


def test_real_content_and_schema_choices_are_not_copies() -> None:
    assert copied_example("rag_answer", FinalAnswer(answer="Melira Quandt", citations=["1"]),
                          SHOWN) is None
    # A real passage may name the example's words: then the output is the passage's.
    real = {"passages": [{"title": "Cogwheel Moon", "text": "Wimble Jaxcott built it."}]}
    assert copied_example("rag_answer", FinalAnswer(answer="Wimble Jaxcott"), real) is None
    # "answer" and "search" are the action's Literal choices, not copied text.
    assert copied_example("react_step", ReactAction(action="answer", answer="Melira Quandt"),
                          SHOWN) is None


def test_the_issue_leaks_are_caught() -> None:
    # The ReAct baseline answered the old example "Dario Feln"; plans copied "Who is the
    # mother of #1?"; reader facts copied the example claim. Whatever the lead's templates
    # say, whatever they show as an example is caught the same way.
    for name, model_type in (("read", Reading), ("plan", Plan)):
        for value in example_values(name):
            if not _content_words(value):  # nothing to tell a copy by ("who is it?")
                continue
            fake = _output_with(model_type, value)
            assert copied_example(name, fake, {"question": "?"}) == value, (name, value)


def _output_with(model_type: type[BaseModel], value: str) -> BaseModel:
    if model_type is Reading:
        return Reading(facts=[{"source": 1, "claim": value}], answer="")
    return Plan(sub_questions=[{"question": value, "depends_on": []}])


def test_ask_treats_a_copied_example_as_invalid_output() -> None:
    llm = ScriptedLLM([{"answer": "Wimble Jaxcott", "citations": ["1"]},
                       {"answer": "Melira Quandt", "citations": ["1"]}])
    recorder = TrajectoryRecorder(None, "t")
    ctx = RunContext(llm=llm, tools=[], recorder=recorder)
    usage: dict[str, Any] = new_usage()
    first = ctx.ask(usage, node="answer", prompt="rag_answer", output_type=FinalAnswer, **SHOWN)
    second = ctx.ask(usage, node="answer", prompt="rag_answer", output_type=FinalAnswer, **SHOWN)
    assert first is None and second is not None and second.answer == "Melira Quandt"
    assert usage["llm_calls"] == 2
    events = recorder.events
    calls = [e for e in events if e["type"] == "llm_call"]
    assert calls[0]["parsed"] is None and "prompt's example" in calls[0]["error"]
    assert "Wimble Jaxcott" in calls[0]["attempts"][0]["output"]  # the raw output is kept
    notes = [e for e in events if e["type"] == "note" and e["kind"] == "example_copied"]
    assert len(notes) == 1 and notes[0]["data"]["example"] == "wimble jaxcott"
