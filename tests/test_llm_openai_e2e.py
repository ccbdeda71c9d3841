"""The OpenAI backend end to end against a real llama.cpp server on loopback (no mocks)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from pydantic import BaseModel

from agentflow.llm.openai_backend import OpenAIChat
from tests.helpers import requires_llama

pytestmark = [pytest.mark.slow, pytest.mark.llama, requires_llama]

PROMPT = [
    {"role": "system", "content": "You are a helpful assistant. Answer briefly."},
    {"role": "user", "content": "What is the capital of France?"},
]


class Answer(BaseModel):
    answer: str
    confidence: float


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    from agentflow.llm.local_backend import default_gguf_path
    from tests.llama_server import llama_server

    with llama_server(default_gguf_path(), n_ctx=2048) as base_url:
        yield base_url


@pytest.fixture
def llm(server_url: str, loopback: None) -> Iterator[OpenAIChat]:
    OpenAIChat.forget_formats()
    chat = OpenAIChat("smollm2", base_url=server_url, max_attempts=2, timeout_s=60)
    yield chat
    chat.close()


def test_models_and_chat(llm: OpenAIChat) -> None:
    assert llm.models()
    completion = llm.complete(PROMPT, max_tokens=24)
    assert completion.text.strip()
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0
    assert completion.usage.latency_s > 0


def test_structured_learns_the_server_format(llm: OpenAIChat) -> None:
    value, call = llm.structured(PROMPT, Answer, max_tokens=64)
    assert isinstance(value, Answer)
    assert value.answer.strip()
    # llama.cpp's server refuses OpenAI's json_schema (HTTP 500) and takes json_object + schema.
    assert llm.structured_format == "json_object_schema"
    assert call.parsed is not None


def test_async_chat_and_structured(llm: OpenAIChat) -> None:
    async def both() -> tuple[str, Answer]:
        completion = await llm.acomplete(PROMPT, max_tokens=16)
        value, _ = await llm.astructured(PROMPT, Answer, max_tokens=64)
        return completion.text, value

    text, value = asyncio.run(both())
    assert text.strip()
    assert isinstance(value, Answer)
