"""The OpenAI backend against a misbehaving server: every fault is retried or becomes a
typed error, and the run's time budget bounds a call in flight."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pydantic import BaseModel

from agentflow.errors import BackendResponseError, DeadlineExceededError, UserError
from agentflow.evals.fault_server import FaultServer
from agentflow.llm.deadline import call_deadline
from agentflow.llm.openai_backend import OpenAIChat

PROMPT = [{"role": "user", "content": "Capital of France?"}]
SERVER_FAULTS = [
    "http_500",
    "http_503_retry_after",
    "http_429",
    "empty_body",
    "non_json_body",
    "truncated_json",
    "choices_not_list",
    "choices_empty",
    "content_not_text",
    "connection_reset",
]


class Answer(BaseModel):
    answer: str


@pytest.fixture(autouse=True)
def _fresh_formats() -> Iterator[None]:
    OpenAIChat.forget_formats()
    yield
    OpenAIChat.forget_formats()


def _backend(server: FaultServer, **options: object) -> OpenAIChat:
    options = {"backoff_initial_s": 0.001, "backoff_max_s": 0.01, **options}
    return OpenAIChat("fault-model", base_url=server.base_url, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("fault", SERVER_FAULTS)
def test_one_fault_is_retried_then_the_call_succeeds(loopback: None, fault: str) -> None:
    plan = lambda n, req: fault if n == 0 else "ok"  # noqa: E731
    with FaultServer(plan, lambda req: '{"answer": "Paris"}') as server:
        value, call = _backend(server).structured(PROMPT, Answer)
    assert value.answer == "Paris"
    assert server.faults() == [fault, "ok"]


@pytest.mark.parametrize("fault", ["empty_body", "non_json_body", "choices_not_list", "content_not_text"])
def test_a_bad_body_every_time_is_a_typed_retryable_error(loopback: None, fault: str) -> None:
    with FaultServer(lambda n, req: fault, lambda req: "") as server:
        with pytest.raises(BackendResponseError, match="usable completion") as info:
            _backend(server, max_attempts=3).complete(PROMPT)
    assert info.value.retryable and len(server.requests) == 3


@pytest.mark.parametrize("fault", ["garbage_output", "deep_nesting", "think_flood"])
def test_hostile_output_is_reasked_not_raised(loopback: None, fault: str) -> None:
    plan = lambda n, req: fault if n == 0 else "ok"  # noqa: E731
    with FaultServer(plan, lambda req: '{"answer": "Paris"}') as server:
        value, call = _backend(server).structured(PROMPT, Answer)
    assert value.answer == "Paris" and len(call.errors) == (0 if fault == "think_flood" else 1)


def test_attempts_and_timeout_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTFLOW_LLM_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("AGENTFLOW_LLM_TIMEOUT_S", "7.5")
    llm = OpenAIChat("m", base_url="http://127.0.0.1:9/v1")
    assert (llm.max_attempts, llm.timeout_s) == (2, 7.5)
    assert OpenAIChat("m", base_url="http://127.0.0.1:9/v1", max_attempts=5).max_attempts == 5
    monkeypatch.setenv("AGENTFLOW_LLM_TIMEOUT_S", "soon")
    with pytest.raises(UserError, match="AGENTFLOW_LLM_TIMEOUT_S"):
        OpenAIChat("m", base_url="http://127.0.0.1:9/v1")


def test_a_hanging_server_is_cut_off_at_the_deadline(loopback: None) -> None:
    with FaultServer(lambda n, req: "hang", lambda req: "", hang_s=30) as server:
        llm = _backend(server, timeout_s=60, max_attempts=4)
        started = time.monotonic()
        with call_deadline(1.0), pytest.raises(DeadlineExceededError, match="time budget"):
            llm.complete(PROMPT)
        assert time.monotonic() - started < 3.0
