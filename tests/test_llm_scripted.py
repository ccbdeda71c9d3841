"""The scripted LLM test double: queue, fn, exhaustion, exceptions, async."""

from __future__ import annotations

import asyncio
import time

import pytest
from pydantic import BaseModel

from agentflow.errors import LLMError, ScriptExhaustedError
from agentflow.llm import ScriptedLLM
from agentflow.llm.tokens import count_message_tokens, estimate_tokens
from agentflow.records import ChatMessage

PROMPT = [{"role": "user", "content": "What is the capital of France?"}]


class Answer(BaseModel):
    answer: str


def test_queue_in_order_and_recorded() -> None:
    llm = ScriptedLLM(["one", {"answer": "two"}, Answer(answer="three")])
    assert llm.complete(PROMPT).text == "one"
    assert llm.complete(PROMPT).text == '{"answer": "two"}'
    value, _ = llm.structured(PROMPT, Answer)
    assert value.answer == "three"
    assert len(llm.calls) == 3
    messages, schema = llm.calls[0]
    assert messages == [ChatMessage(role="user", content="What is the capital of France?")]
    assert schema is None
    assert llm.calls[2][1] is not None
    llm.assert_exhausted()


def test_usage_is_estimated() -> None:
    completion = ScriptedLLM(["Paris"]).complete(PROMPT)
    assert completion.usage.model == "scripted"
    assert completion.usage.prompt_tokens == count_message_tokens(PROMPT) > 0
    assert completion.usage.completion_tokens == estimate_tokens("Paris") == 2


def test_fn_computes_responses_after_queue() -> None:
    def echo(messages: list[ChatMessage], schema: dict | None) -> str:
        return messages[-1].content.upper()

    llm = ScriptedLLM(["first"], fn=echo)
    assert llm.complete(PROMPT).text == "first"
    assert llm.complete([{"role": "user", "content": "hi"}]).text == "HI"
    assert llm.complete([{"role": "user", "content": "yo"}]).text == "YO"


def test_fn_sees_schema_and_may_return_models() -> None:
    def from_schema(messages: list[ChatMessage], schema: dict | None) -> Answer:
        assert schema is not None
        return Answer(answer=str(sorted(schema["properties"])))

    value, _ = ScriptedLLM(fn=from_schema).structured(PROMPT, Answer)
    assert value.answer == "['answer']"


def test_exhaustion_is_loud() -> None:
    llm = ScriptedLLM(["only"])
    llm.complete(PROMPT)
    with pytest.raises(ScriptExhaustedError, match="called 2 times but scripted for only 1"):
        llm.complete(PROMPT)


def test_assert_exhausted_reports_leftovers() -> None:
    llm = ScriptedLLM(["a", "b"])
    llm.complete(PROMPT)
    assert llm.remaining == 1
    with pytest.raises(AssertionError, match="1 of 2 scripted responses were never used"):
        llm.assert_exhausted()


def test_exception_injection() -> None:
    llm = ScriptedLLM([LLMError("rate limited"), TimeoutError, "recovered"])
    with pytest.raises(LLMError, match="rate limited"):
        llm.complete(PROMPT)
    with pytest.raises(TimeoutError):
        llm.complete(PROMPT)
    assert llm.complete(PROMPT).text == "recovered"
    assert len(llm.calls) == 3


def test_empty_script_fails_on_first_call() -> None:
    with pytest.raises(ScriptExhaustedError, match="pass fn="):
        ScriptedLLM().complete(PROMPT)


def test_async_and_latency() -> None:
    llm = ScriptedLLM(fn=lambda m, s: "ok", latency_s=0.05)

    async def many() -> list[str]:
        results = await asyncio.gather(*(llm.acomplete(PROMPT) for _ in range(10)))
        return [r.text for r in results]

    started = time.perf_counter()
    texts = asyncio.run(many())
    elapsed = time.perf_counter() - started
    assert texts == ["ok"] * 10
    # asyncio.sleep lets the ten calls overlap; sequential would take 0.5 s.
    assert elapsed < 0.4
    assert len(llm.calls) == 10


def test_async_structured() -> None:
    llm = ScriptedLLM(["junk", {"answer": "Paris"}])
    value, call = asyncio.run(llm.astructured(PROMPT, Answer))
    assert value.answer == "Paris"
    assert len(call.attempts) == 2


def test_bad_response_type_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="scripted response must be"):
        ScriptedLLM([42]).complete(PROMPT)  # type: ignore[list-item]
