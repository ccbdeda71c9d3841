"""The tolerant parser on hostile output: only OutputParseError escapes, and the work
stays linear in the length of the text."""

from __future__ import annotations

import time

import pytest
from pydantic import BaseModel

from agentflow.llm.parsing import OutputParseError, parse_output, strip_reasoning


class Answer(BaseModel):
    answer: str


@pytest.mark.parametrize(
    "text",
    ["[" * 2000, "{" * 2000, '{"a":' * 3000, "[" * 70_000, '{"answer": ' + "[" * 5000 + '"x"'],
)
def test_deep_nesting_is_a_parse_error(text: str) -> None:
    with pytest.raises(OutputParseError):
        parse_output(text, Answer)


def test_a_deep_prefix_does_not_hide_a_later_answer() -> None:
    assert parse_output("[" * 2000 + ' {"answer": "ok"}', Answer).answer == "ok"


def test_huge_output_is_refused_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(OutputParseError, match="limit"):
        parse_output("x" * 2_000_000, Answer)
    assert time.perf_counter() - started < 1.0


def test_think_stripping_is_linear() -> None:
    def seconds(n: int) -> float:
        text = "<think>x " * n + '{"answer": "ok"}'
        started = time.perf_counter()
        assert parse_output(text, Answer).answer == "ok"
        return time.perf_counter() - started

    small, large = seconds(1000), seconds(8000)
    # Quadratic stripping took 0.03 s / 0.47 s for 1,000 / 4,000 tags: 8x the tags was ~60x the time.
    assert large < 0.25 and large < 20 * max(small, 0.002)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('<think>a</think>{"x":1}', '{"x":1}'),
        ('<THINK>a</think> b', " b"),
        ('reasoning </think> {"x":1}', ' {"x":1}'),
        ('<think> no end {"x":1}', ' no end {"x":1}'),
        ("<think> a <reasoning> b </reasoning> c", " a  c"),
        ("<a><think>1</think>2</think>3", "3"),
        ("<think>1<reasoning>2</think>3</reasoning>4", "4"),
        ("plain", "plain"),
    ],
)
def test_strip_reasoning_keeps_its_meaning(text: str, expected: str) -> None:
    assert strip_reasoning(text) == expected
