"""Abusive requests against the server: malformed bodies are 4xx, error bodies keep the
backend's address to themselves, cross-site and rebinding requests are refused without
keys, and slow senders are cut off."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentflow import Agent
from agentflow.evals.fault_server import FaultServer
from agentflow.evals.serving import serve_in_thread
from agentflow.evals.world.demo import demo_agent, demo_chains, demo_store
from agentflow.llm.openai_backend import OpenAIChat
from agentflow.server.app import create_app
from agentflow.server.limits import ServerLimits

KEY = "key-hardening"
CHAT = "/v1/chat/completions"
ASK = {"model": "agentflow", "messages": [{"role": "user", "content": f"Who founded {demo_chains()[0].company}?"}]}


def _serve(tmp: Path, keys: list[str], **limits: Any) -> Any:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AGENTFLOW_HOME", str(tmp))
        agent = demo_agent(threads=f"sqlite:{tmp / 'threads.sqlite'}")
    return serve_in_thread(create_app(agent, api_keys=keys, limits=ServerLimits(**limits)))


@pytest.fixture(scope="module")
def open_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server without keys (loopback mode)."""
    with _serve(tmp_path_factory.mktemp("open"), [], body_timeout_s=1.0) as url:
        yield url


@pytest.fixture(scope="module")
def keyed_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _serve(tmp_path_factory.mktemp("keyed"), [KEY]) as url:
        yield url


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"messages": ' + b"[" * 50_000, b'{"a":' * 30_000])
def test_deeply_nested_bodies_are_400(keyed_url: str, body: bytes) -> None:
    response = httpx.post(keyed_url + CHAT, content=body, headers=_auth())
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] in {"invalid_json", "invalid_request"}


def test_a_non_json_content_type_is_415(keyed_url: str, open_url: str) -> None:
    import json

    for url, headers in ((keyed_url, {"Authorization": f"Bearer {KEY}"}), (open_url, {})):
        response = httpx.post(url + CHAT, content=json.dumps(ASK), headers={**headers, "Content-Type": "text/plain"})
        assert response.status_code == 415 and response.json()["error"]["code"] == "unsupported_media_type"


def test_without_keys_foreign_hosts_and_origins_are_refused(open_url: str, keyed_url: str) -> None:
    port = open_url.rsplit(":", 1)[1]
    assert httpx.get(open_url + "/v1/models", headers={"Host": f"attacker.example:{port}"}).status_code == 403
    assert httpx.get(open_url + "/v1/models", headers={"Origin": "http://attacker.example"}).status_code == 403
    page = httpx.post(open_url + CHAT, json=ASK, headers={"Origin": f"http://127.0.0.1:{port}"}, timeout=60)
    assert page.status_code == 200, page.text
    assert httpx.get(open_url + "/v1/models", headers={"Host": f"localhost:{port}"}).status_code == 200
    # With keys, the key is the protection: a proxy's Host header is fine.
    assert httpx.get(keyed_url + "/v1/models", headers={**_auth(), "Host": "agent.example.com"}).status_code == 200


def test_a_slow_body_gets_408_and_its_connection_closed(open_url: str) -> None:
    host, port = open_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST {CHAT} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            "Content-Length: 500\r\n\r\n{\"messages\"".encode()
        )
        started = time.monotonic()
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        assert time.monotonic() - started < 8
    assert received.startswith(b"HTTP/1.1 408"), received[:200]


def test_a_failed_run_does_not_reveal_the_backend_url(tmp_path: Path, loopback: None) -> None:
    store = demo_store(folder=tmp_path / "store")
    with FaultServer(lambda n, req: "http_500", lambda req: "") as backend:
        llm = OpenAIChat("m", base_url=backend.base_url, max_attempts=1)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("AGENTFLOW_HOME", str(tmp_path / "home"))
            agent = Agent(store, llm=llm, embedder="hash", threads=f"sqlite:{tmp_path / 't.sqlite'}")
        with serve_in_thread(create_app(agent, api_keys=[KEY])) as url:
            plain = httpx.post(url + CHAT, json=ASK, headers=_auth(), timeout=60)
            streamed = httpx.post(url + CHAT, json={**ASK, "stream": True}, headers=_auth(), timeout=60)
    assert plain.status_code == 500 and plain.json()["error"]["code"] == "run_failed"
    port = backend.base_url.rsplit(":", 1)[1].split("/")[0]
    for text in (plain.text, streamed.text):
        assert "127.0.0.1" not in text and port not in text and "<backend>" in text


def test_healthz_stays_fast_while_a_huge_reply_is_parsed(tmp_path: Path, loopback: None) -> None:
    import threading

    from agentflow.evals.fake_model import answer_request

    store = demo_store(folder=tmp_path / "store")
    with FaultServer(lambda n, req: "think_flood", answer_request) as backend:
        llm = OpenAIChat("m", base_url=backend.base_url, max_attempts=1)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("AGENTFLOW_HOME", str(tmp_path / "home"))
            agent = Agent(store, llm=llm, embedder="hash", threads=f"sqlite:{tmp_path / 't.sqlite'}")
        with serve_in_thread(create_app(agent, api_keys=[KEY])) as url:
            done = threading.Event()
            answer: dict[str, Any] = {}

            def ask() -> None:
                answer["r"] = httpx.post(url + CHAT, json=ASK, headers=_auth(), timeout=120)
                done.set()

            threading.Thread(target=ask, daemon=True).start()
            worst = 0.0
            while not done.is_set():
                started = time.monotonic()
                assert httpx.get(url + "/healthz", timeout=30).status_code == 200
                worst = max(worst, time.monotonic() - started)
                time.sleep(0.02)
    assert answer["r"].status_code == 200 and len(backend.requests) >= 3
    # Generous for a loaded CI machine: the parse on the event loop took 4+ s before.
    assert worst < 3.0, f"/healthz took {worst:.2f} s while 70 KB replies were parsed"
