"""The embedded llama.cpp backend on the packaged SmolLM2-135M."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from tests.helpers import requires_llama

pytestmark = [pytest.mark.slow, pytest.mark.llama, requires_llama]

PROMPT = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]


class Answer(BaseModel):
    answer: str
    confidence: float


def test_short_generation() -> None:
    from agentflow.llm.local_backend import LocalLlama

    llm = LocalLlama()
    completion = llm.complete(PROMPT, max_tokens=16)
    assert completion.text.strip()
    assert 0 < completion.usage.completion_tokens <= 16
    assert completion.usage.prompt_tokens > 0
    assert "SmolLM2" in completion.usage.model


def test_structured_with_schema_and_determinism() -> None:
    from agentflow.llm.local_backend import LocalLlama

    llm = LocalLlama()
    value, call = llm.structured(PROMPT, Answer, max_tokens=64)
    assert isinstance(value, Answer)
    # Grammar-constrained decoding gives valid JSON on the first attempt.
    assert len(call.attempts) == 1
    again, _ = LocalLlama().structured(PROMPT, Answer, max_tokens=64)
    assert again == value  # same model object, fixed seed, temperature 0


def test_model_is_loaded_once() -> None:
    from agentflow.llm import local_backend

    a, b = local_backend.LocalLlama(), local_backend.LocalLlama()
    assert a._model()[0] is b._model()[0]


def test_context_overflow_is_an_llm_error() -> None:
    from agentflow.errors import LLMError
    from agentflow.llm.local_backend import LocalLlama

    llm = LocalLlama(n_ctx=256)
    with pytest.raises(LLMError, match="n_ctx"):
        llm.complete([{"role": "user", "content": "word " * 600}], max_tokens=8)


class Entity(BaseModel):
    name: str
    kind: str


class Entities(BaseModel):
    entities: list[Entity]


def test_nested_schema_with_refs() -> None:
    from agentflow.llm.local_backend import LocalLlama

    prompt = [{"role": "user", "content": "List the entities in: Paris is the capital of France."}]
    value, call = LocalLlama().structured(prompt, Entities, max_tokens=96)
    assert isinstance(value, Entities)
    assert len(call.attempts) == 1


def test_generation_stops_at_the_call_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deadline is checked after every generated token, also under a JSON grammar.

    The clock is scripted (time is left for the first few checks, then none) so the
    test does not depend on how fast this machine generates: a fast CPU can finish a
    short story inside any wall-clock budget small enough to keep the test quick.
    """
    from agentflow.errors import DeadlineExceededError
    from agentflow.llm import local_backend
    from agentflow.llm.deadline import call_deadline
    from agentflow.llm.local_backend import LocalLlama

    class Story(BaseModel):
        story: str

    checks: list[int] = []

    def scripted_remaining() -> float:
        checks.append(1)
        return 5.0 if len(checks) <= 4 else -1.0  # the pre-check, then three tokens

    llm = LocalLlama()
    prompt = [{"role": "user", "content": "Write a very long story about a ship."}]
    monkeypatch.setattr(local_backend, "remaining", scripted_remaining)
    with call_deadline(60), pytest.raises(DeadlineExceededError, match="time budget"):
        llm.structured(prompt, Story, max_tokens=2000)  # under a JSON grammar
    assert 5 <= len(checks) < 20  # stopped at the first token past the deadline
    monkeypatch.undo()
    with call_deadline(0.0), pytest.raises(DeadlineExceededError):
        llm.complete(prompt, max_tokens=2000)
    assert llm.complete([{"role": "user", "content": "hi"}], max_tokens=3).text is not None