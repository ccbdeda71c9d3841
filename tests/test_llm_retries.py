"""The OpenAI backend against a tiny loopback server: retries by exception type, no
retries on client errors, the request guard, and per-endpoint response_format learning."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import BaseModel

from agentflow.errors import LLMError, NetworkBlockedError
from agentflow.llm.base import as_messages
from agentflow.llm.openai_backend import OpenAIChat

PROMPT = [{"role": "user", "content": "Capital of France?"}]

Reply = tuple[int, dict[str, Any]]


class Answer(BaseModel):
    answer: str
    confidence: float


def chat_body(content: str, *, usage: bool = True) -> dict[str, Any]:
    """An OpenAI chat.completion response body."""
    body: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "fake-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
    }
    if usage:
        body["usage"] = {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}
    return body


def error_body(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "error", "code": None}}


class FakeOpenAIServer:
    """A loopback HTTP server that answers chat completions with ``reply(request_json)``
    and records every request body."""

    def __init__(self, reply: Callable[[dict[str, Any]], Reply]) -> None:
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(payload)
                status, body = reply(payload)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FakeOpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def scripted(*replies: Reply) -> Callable[[dict[str, Any]], Reply]:
    queue = list(replies)
    return lambda payload: queue.pop(0)


def backend(server: FakeOpenAIServer, **options: Any) -> OpenAIChat:
    options.setdefault("backoff_initial_s", 0.001)
    options.setdefault("backoff_max_s", 0.01)
    return OpenAIChat("fake-model", base_url=server.base_url, **options)


@pytest.fixture(autouse=True)
def _fresh_format_cache() -> Iterator[None]:
    # Ports get reused across tests; what one fake server taught must not leak into the next.
    OpenAIChat.forget_formats()
    yield
    OpenAIChat.forget_formats()


@pytest.fixture
def fake_server() -> Iterator[Callable[..., FakeOpenAIServer]]:
    servers: list[FakeOpenAIServer] = []

    def start(reply: Callable[[dict[str, Any]], Reply]) -> FakeOpenAIServer:
        server = FakeOpenAIServer(reply).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__()


def test_retries_429_and_500_then_succeeds(
    loopback: None, fake_server: Callable[..., FakeOpenAIServer]
) -> None:
    server = fake_server(
        scripted(
            (429, error_body("Rate limit reached")),
            (500, error_body("upstream crashed")),
            (200, chat_body("Paris")),
        )
    )
    completion = backend(server).complete(PROMPT, max_tokens=20)
    assert completion.text == "Paris"
    assert len(server.requests) == 3
    assert completion.usage.prompt_tokens == 11 and completion.usage.completion_tokens == 3
    assert completion.usage.model == "fake-model"
    assert completion.usage.latency_s > 0
    assert completion.finish_reason == "stop"
    sent = server.requests[0]
    assert sent["max_tokens"] == 20 and sent["messages"] == PROMPT
    assert "response_format" not in sent


def test_client_error_is_not_retried(
    loopback: None, fake_server: Callable[..., FakeOpenAIServer]
) -> None:
    server = fake_server(scripted((400, error_body("bad request: messages must not be empty"))))
    with pytest.raises(LLMError, match="HTTP 400") as info:
        backend(server).complete(PROMPT)
    assert len(server.requests) == 1
    assert info.value.cause is not None
    assert info.value.model == f"openai:fake-model@{server.base_url}"


def test_retries_are_bounded(loopback: None, fake_server: Callable[..., FakeOpenAIServer]) -> None:
    server = fake_server(lambda payload: (503, error_body("overloaded")))
    with pytest.raises(LLMError, match="after 3 attempts"):
        backend(server, max_attempts=3).complete(PROMPT)
    assert len(server.requests) == 3


def test_missing_usage_is_estimated(
    loopback: None, fake_server: Callable[..., FakeOpenAIServer]
) -> None:
    server = fake_server(lambda payload: (200, chat_body("Paris is the capital", usage=False)))
    completion = backend(server).complete(PROMPT)
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0


def test_guard_blocks_without_loopback_fixture() -> None:
    llm = OpenAIChat("fake-model", base_url="http://10.255.255.1:9/v1")
    with pytest.raises(NetworkBlockedError, match="blocked"):
        llm.complete(PROMPT)
    with pytest.raises(NetworkBlockedError):
        llm.models()


def test_guard_blocks_remote_hosts_even_with_loopback(loopback: None) -> None:
    llm = OpenAIChat("fake-model", base_url="http://10.255.255.1:9/v1")
    with pytest.raises(NetworkBlockedError):
        llm.structured(PROMPT, Answer)
    with pytest.raises(NetworkBlockedError):
        asyncio.run(llm.acomplete(PROMPT))


def llama_cpp_like(payload: dict[str, Any]) -> Reply:
    """Answers like llama_cpp.server: HTTP 500 with a validation error for json_schema."""
    response_format = payload.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        detail = (
            "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
            "'msg': \"Input should be 'text' or 'json_object'\"}]"
        )
        return 500, error_body(detail)
    return 200, chat_body('{"answer": "Paris", "confidence": 0.9}')


def test_json_schema_falls_back_and_is_remembered(
    loopback: None, fake_server: Callable[..., FakeOpenAIServer]
) -> None:
    server = fake_server(llama_cpp_like)
    llm = backend(server)
    value, _ = llm.structured(PROMPT, Answer)
    assert value == Answer(answer="Paris", confidence=0.9)
    formats = [r["response_format"] for r in server.requests]
    assert formats[0]["type"] == "json_schema"
    assert formats[0]["json_schema"]["name"] == "Answer"
    assert formats[0]["json_schema"]["strict"] is False
    assert formats[1] == {"type": "json_object", "schema": Answer.model_json_schema()}
    assert len(server.requests) == 2  # the rejected format was not retried
    assert llm.structured_format == "json_object_schema"

    # A second call, even from a new instance, goes straight to what worked.
    again = backend(server)
    again.structured(PROMPT, Answer)
    assert len(server.requests) == 3
    assert server.requests[2]["response_format"]["type"] == "json_object"

    # Free-text calls never send a response_format.
    again.complete(PROMPT)
    assert "response_format" not in server.requests[3]


def test_fallback_ladder_reaches_no_format(
    loopback: None, fake_server: Callable[..., FakeOpenAIServer]
) -> None:
    def no_formats(payload: dict[str, Any]) -> Reply:
        if "response_format" in payload:
            return 400, error_body("response_format is not supported by this server")
        return 200, chat_body('Sure: {"answer": "Paris", "confidence": 1}')

    server = fake_server(no_formats)
    value, _ = backend(server).structured(PROMPT, Answer)
    assert value.answer == "Paris"
    kinds = [(r.get("response_format") or {}).get("type") for r in server.requests]
    assert kinds == ["json_schema", "json_object", "json_object", None]
    assert backend(server).structured_format == "none"


def test_unrelated_400_does_not_degrade_format(
    loopback: None, fake_server: Callable[..., FakeOpenAIServer]
) -> None:
    server = fake_server(lambda payload: (400, error_body("maximum context length exceeded")))
    llm = backend(server)
    with pytest.raises(LLMError, match="context length"):
        llm.structured(PROMPT, Answer)
    assert len(server.requests) == 1
    assert llm.structured_format == "json_schema"


def test_async_retries_and_fallback(
    loopback: None, fake_server: Callable[..., FakeOpenAIServer]
) -> None:
    calls = {"n": 0}

    def flaky_llama(payload: dict[str, Any]) -> Reply:
        calls["n"] += 1
        if calls["n"] == 1:
            return 429, error_body("slow down")
        return llama_cpp_like(payload)

    server = fake_server(flaky_llama)
    llm = backend(server)
    completion = asyncio.run(
        llm._arequest(
            as_messages(PROMPT),
            json_schema=Answer.model_json_schema(),
            max_tokens=50,
            temperature=0.0,
        )
    )
    assert json.loads(completion.text)["answer"] == "Paris"
    kinds = [r["response_format"]["type"] for r in server.requests]
    # 429 retried on json_schema, then the 500 rejection steps down to json_object.
    assert kinds == ["json_schema", "json_schema", "json_object"]
    assert asyncio.run(llm.acomplete(PROMPT)).text.startswith("{")
