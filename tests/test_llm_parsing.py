"""The tolerant output parser and the structured loop (re-ask, then a clear error)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from agentflow.errors import StructuredOutputError
from agentflow.llm import OutputParseError, ScriptedLLM, parse_output
from agentflow.llm.parsing import strip_reasoning


class Answer(BaseModel):
    answer: str
    confidence: float


class Entity(BaseModel):
    name: str
    kind: str


class Entities(BaseModel):
    entities: list[Entity]


class Wrapped(BaseModel):
    result: Answer


def test_plain_json() -> None:
    assert parse_output('{"answer": "Paris", "confidence": 0.9}', Answer) == Answer(
        answer="Paris", confidence=0.9
    )


@pytest.mark.parametrize(
    "text",
    [
        'Sure! Here is the JSON:\n{"answer": "Paris", "confidence": 0.9}\nHope it helps.',
        '```json\n{"answer": "Paris", "confidence": 0.9}\n```',
        "```\n{'answer': 'Paris', 'confidence': 0.9,}\n```",
        '<think>France: Paris {not json}.</think>\n{"answer": "Paris", "confidence": 0.9}',
        '<think>unfinished reasoning about {braces}\n{"answer": "Paris", "confidence": 0.9}',
        'reasoning that the template opened</think>{"answer": "Paris", "confidence": 0.9}',
        "{'answer': 'Paris', 'confidence': 0.9,}",
        '{"answer": "Paris", "confidence": 0.9',
        '{"Answer": "Paris", "Confidence": "0.9"}',
        '{"Answer": {"answer": "Paris", "confidence": 0.9}}',
    ],
    ids=[
        "prose",
        "fenced",
        "fenced-single-quotes-trailing-comma",
        "think-block",
        "unterminated-think",
        "dangling-close-think",
        "single-quotes",
        "truncated",
        "capitalised-keys",
        "one-key-wrapper",
    ],
)
def test_tolerates_noise(text: str) -> None:
    assert parse_output(text, Answer) == Answer(answer="Paris", confidence=0.9)


def test_bare_list_for_single_list_field() -> None:
    value = parse_output('[{"name": "Paris", "kind": "city"}]', Entities)
    assert value.entities == [Entity(name="Paris", kind="city")]


def test_single_object_for_list_of_models() -> None:
    value = parse_output('{"name": "Paris", "kind": "city"}', Entities)
    assert value.entities == [Entity(name="Paris", kind="city")]


def test_bare_object_for_single_field_wrapper() -> None:
    value = parse_output('{"answer": "Paris", "confidence": 1}', Wrapped)
    assert value.result.answer == "Paris"


def test_skips_json_that_does_not_validate() -> None:
    text = 'Example: {"foo": 1}. Answer: {"answer": "Rome", "confidence": 0.5}'
    assert parse_output(text, Answer).answer == "Rome"


@pytest.mark.parametrize("text", ["I don't know.", "", "<think>hmm</think>", "[1, 2"])
def test_garbage_raises(text: str) -> None:
    with pytest.raises(OutputParseError, match="Answer"):
        parse_output(text, Answer)


def test_wrong_schema_names_the_field_and_shows_the_output() -> None:
    with pytest.raises(OutputParseError) as info:
        parse_output('{"answer": "Paris", "confidence": "very"}', Answer)
    message = str(info.value)
    assert "confidence" in message
    assert "very" in message  # the snippet of the raw text


def test_strip_reasoning() -> None:
    assert strip_reasoning("<THINK>a</THINK>b") == "b"
    assert strip_reasoning("x</think>y") == "y"


def test_structured_reasks_then_succeeds() -> None:
    llm = ScriptedLLM(["not json at all", '{"answer": "Paris", "confidence": 0.8}'])
    value, call = llm.structured([{"role": "user", "content": "Capital of France?"}], Answer)
    assert value == Answer(answer="Paris", confidence=0.8)
    assert len(call.attempts) == 2
    assert len(call.errors) == 1
    assert call.parsed == {"answer": "Paris", "confidence": 0.8}
    # The re-ask shows the bad answer and the error to the model, and sends the schema.
    reask_messages, schema = llm.calls[1]
    assert reask_messages[-2].content == "not json at all"
    assert "no JSON object found" in reask_messages[-1].content
    assert schema is not None and "confidence" in schema["properties"]
    llm.assert_exhausted()


def test_structured_gives_up_with_raw_outputs() -> None:
    llm = ScriptedLLM(["nope", "still nope", '{"answer": 3}'])
    with pytest.raises(StructuredOutputError) as info:
        llm.structured([{"role": "user", "content": "?"}], Answer, max_reasks=2)
    err = info.value
    assert err.raw_outputs == ["nope", "still nope", '{"answer": 3}']
    assert len(err.errors) == 3
    assert err.raw_output == '{"answer": 3}'
    assert err.model == "scripted"
    llm.assert_exhausted()
