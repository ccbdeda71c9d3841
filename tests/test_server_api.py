"""The OpenAI-compatible server, driven by the official ``openai`` client against a real
uvicorn server on 127.0.0.1 (in a thread of this process) over the scripted demo agent."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from agentflow.errors import UserError
from agentflow.evals.serving import serve_in_thread
from agentflow.evals.world.demo import demo_agent, demo_chains, demo_questions
from agentflow.server.app import create_app
from agentflow.server.auth import ApiKeys, check_bind
from agentflow.server.limits import ServerLimits
from agentflow.server.sources import bare_answer

KEY, OTHER_KEY = "key-alice", "key-bob"
QUESTION, FOLLOW_UP, FOLLOW_UP_ANSWER = demo_questions()[0]
FIRST = demo_chains()[0]


def start_server(tmp: Path, *, latency_s: float = 0.0, **limits: Any) -> Any:
    """A served demo agent whose state lives under ``tmp`` (a context manager -> base URL)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AGENTFLOW_HOME", str(tmp))
        agent = demo_agent(latency_s=latency_s, threads=f"sqlite:{tmp / 'threads.sqlite'}")
    app = create_app(agent, api_keys=[KEY, OTHER_KEY], limits=ServerLimits(**limits))
    return serve_in_thread(app)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with start_server(
        tmp_path_factory.mktemp("server"), max_body_bytes=64 * 1024, max_question_chars=500
    ) as url:
        yield url


@pytest.fixture(scope="module")
def slow_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server whose model takes 0.15 s a call, allowing one run per key."""
    with start_server(tmp_path_factory.mktemp("slow"), latency_s=0.15, max_runs_per_key=1) as url:
        yield url


def client(url: str, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=30)


def ext(obj: Any) -> dict[str, Any]:
    """The ``agentflow`` extension field of a response or chunk."""
    return (obj.model_extra or {}).get("agentflow") or {}


def corpus_searches(url: str, run_id: str, key: str = KEY) -> int:
    events = httpx.get(
        f"{url}/v1/runs/{run_id}/trajectory", headers={"Authorization": f"Bearer {key}"}
    ).json()["events"]
    return sum(1 for e in events if e["type"] == "tool_call" and e["tool"] == "corpus")


def test_models_and_health(base_url: str) -> None:
    assert [m.id for m in client(base_url).models.list()] == ["agentflow"]
    health = httpx.get(base_url + "/healthz").json()
    assert health["status"] == "ok" and health["auth"] is True
    page = httpx.get(base_url + "/")  # the chat page needs no key; its API calls do
    assert page.status_code == 200 and "<title>agentflow chat</title>" in page.text


def test_non_streaming_completion(base_url: str) -> None:
    raw = client(base_url).chat.completions.with_raw_response.create(
        model="agentflow",
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": QUESTION}],
    )
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert bare_answer(completion.choices[0].message.content) == FIRST.city
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens > 0
    info = ext(completion)
    assert info["status"] == "answered"
    assert [c["id"] for c in info["citations"]] == list(FIRST.ids)
    assert FIRST.founder in info["citations"][1]["text"]
    assert (
        info["thread_id"].startswith("thread_") and raw.headers["X-Thread-Id"] == info["thread_id"]
    )
    assert info["run_id"] == raw.headers["X-Run-Id"] and info["usage"]["searches"] >= 2


def test_streaming_completion(base_url: str) -> None:
    stream = client(base_url).chat.completions.create(
        model="agentflow",
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    # What a plain OpenAI client sees: content deltas that add up to the answer.
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert bare_answer(text) == FIRST.city
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    progress = [
        ext(c) for c in chunks if c.choices and ext(c).get("type") not in (None, "start", "final")
    ]
    kinds = {p["type"] for p in progress}
    assert {"step", "plan", "sub_question", "search", "read", "verify", "answer"} <= kinds
    assert all(
        c.choices[0].delta.content is None
        for c in chunks
        if c.choices and ext(c).get("type") == "search"
    )
    final = [c for c in chunks if c.choices and c.choices[0].finish_reason == "stop"]
    assert len(final) == 1 and ext(final[0])["status"] == "answered"
    assert [c["id"] for c in ext(final[0])["citations"]] == list(FIRST.ids)
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0


def test_streaming_without_progress_is_plain_openai(base_url: str) -> None:
    stream = client(base_url).chat.completions.create(
        model="agentflow",
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        extra_body={"progress": False},
    )
    chunks = list(stream)
    assert [ext(c).get("type") for c in chunks if ext(c)] == ["start", "final"]


def test_a_follow_up_in_the_thread_searches_less_than_in_a_new_thread(base_url: str) -> None:
    c = client(base_url)
    first = c.chat.completions.create(
        model="agentflow",
        messages=[{"role": "user", "content": QUESTION}],
        extra_body={"thread_id": "conv-1"},
    )
    assert ext(first)["thread_id"] == "conv-1"
    follow = c.chat.completions.create(
        model="agentflow",
        messages=[{"role": "user", "content": FOLLOW_UP}],
        extra_headers={"X-Thread-Id": "conv-1"},
    )
    fresh = c.chat.completions.create(
        model="agentflow", messages=[{"role": "user", "content": FOLLOW_UP}]
    )
    assert bare_answer(follow.choices[0].message.content) == FOLLOW_UP_ANSWER
    # Without the thread the follow-up names nothing: refused, or answered about something else.
    assert ext(fresh)["thread_id"] != "conv-1"
    in_thread, new_thread = (
        corpus_searches(base_url, ext(follow)["run_id"]),
        corpus_searches(base_url, ext(fresh)["run_id"]),
    )
    assert in_thread <= new_thread, (in_thread, new_thread)  # bridge hops: a fixed number either way
    thread = httpx.get(
        f"{base_url}/v1/threads/conv-1", headers={"Authorization": f"Bearer {KEY}"}
    ).json()
    assert [(t["question"], t["answer"], t["status"]) for t in thread["turns"]] == [
        (QUESTION, FIRST.city, "answered"),
        (FOLLOW_UP, FOLLOW_UP_ANSWER, "answered"),
    ]
    assert thread["turns"][1]["citations"][0]["id"] == FIRST.company_id
    assert thread["turns"][1]["run_id"] == ext(follow)["run_id"]


def test_a_key_is_required_and_threads_are_private(base_url: str) -> None:
    with pytest.raises(openai.AuthenticationError) as info:
        client(base_url, key="wrong").chat.completions.create(
            model="agentflow", messages=[{"role": "user", "content": "hi there"}]
        )
    assert info.value.status_code == 401 and info.value.body["code"] == "invalid_api_key"
    missing = httpx.post(
        base_url + "/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]}
    )
    assert missing.status_code == 401
    assert set(missing.json()["error"]) == {"message", "type", "code", "param"}
    assert httpx.get(base_url + "/v1/models").status_code == 401
    alice = client(base_url).chat.completions.create(
        model="agentflow", messages=[{"role": "user", "content": QUESTION}]
    )
    tid, rid = ext(alice)["thread_id"], ext(alice)["run_id"]
    bob = {"Authorization": f"Bearer {OTHER_KEY}"}
    assert httpx.get(f"{base_url}/v1/threads/{tid}", headers=bob).status_code == 404
    assert httpx.get(f"{base_url}/v1/runs/{rid}/trajectory", headers=bob).status_code == 404
    # Thread ids are scoped per key: bob's request with alice's id starts bob's own
    # thread of that name and neither sees nor changes alice's.
    bobs = client(base_url, OTHER_KEY).chat.completions.create(
        model="agentflow",
        messages=[{"role": "user", "content": QUESTION}],
        extra_headers={"X-Thread-Id": tid},
    )
    assert ext(bobs)["thread_id"] == tid
    mine = httpx.get(f"{base_url}/v1/threads/{tid}", headers={"Authorization": f"Bearer {KEY}"}).json()
    theirs = httpx.get(f"{base_url}/v1/threads/{tid}", headers=bob).json()
    assert [t["run_id"] for t in mine["turns"]] == [rid]
    assert [t["run_id"] for t in theirs["turns"]] == [ext(bobs)["run_id"]]


def test_oversized_body_and_question_are_refused(base_url: str) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        client(base_url).chat.completions.create(
            model="agentflow", messages=[{"role": "user", "content": "x" * 100_000}]
        )
    assert info.value.status_code == 413 and info.value.body["code"] == "request_too_large"
    # A chunked body (no Content-Length) is cut off as it streams in.
    chunked = httpx.post(
        base_url + "/v1/chat/completions",
        headers={"Authorization": f"Bearer {KEY}"},
        content=iter([b'{"messages": [{"role": "user", "content": "' + b"y" * 40_000] * 3),
    )
    assert chunked.status_code == 413
    with pytest.raises(openai.BadRequestError) as info:
        client(base_url).chat.completions.create(
            model="agentflow", messages=[{"role": "user", "content": "why? " * 200}]
        )
    assert info.value.body["code"] == "question_too_long"
    for body in (
        {"messages": []},
        {"messages": [{"role": "assistant", "content": "hi"}]},
        {"nope": 1},
    ):
        r = httpx.post(
            base_url + "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"}
        )
        assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    bad_thread = httpx.post(
        base_url + "/v1/chat/completions",
        headers={"Authorization": f"Bearer {KEY}", "X-Thread-Id": "no spaces"},
        json={"messages": [{"role": "user", "content": "hello"}]},
    )
    assert (
        bad_thread.status_code == 400 and bad_thread.json()["error"]["code"] == "invalid_thread_id"
    )


def test_concurrent_runs_per_key_are_limited(slow_url: str) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    body = {"messages": [{"role": "user", "content": QUESTION}], "stream": True}
    with httpx.stream(
        "POST", slow_url + "/v1/chat/completions", json=body, headers=headers, timeout=30
    ) as first:
        assert first.status_code == 200
        lines = first.iter_lines()
        next(lines)  # the run is under way
        with pytest.raises(openai.RateLimitError) as info:
            client(slow_url).chat.completions.create(
                model="agentflow", messages=[{"role": "user", "content": QUESTION}]
            )
        assert info.value.body["code"] == "rate_limit_exceeded"
        # Another key has its own allowance.
        other = client(slow_url, OTHER_KEY).chat.completions.create(
            model="agentflow", messages=[{"role": "user", "content": QUESTION}]
        )
        assert bare_answer(other.choices[0].message.content) == FIRST.city
        rest = [line for line in lines if line]
    assert rest[-1] == "data: [DONE]"
    assert (
        client(slow_url)
        .chat.completions.create(
            model="agentflow", messages=[{"role": "user", "content": QUESTION}]
        )
        .choices[0]
        .message.content.startswith(f"{FIRST.city} [1]")
    )


def wait_for_turn(url: str, thread_id: str, status: str) -> dict[str, Any]:
    for _ in range(100):
        thread = httpx.get(
            f"{url}/v1/threads/{thread_id}", headers={"Authorization": f"Bearer {KEY}"}
        ).json()
        if thread["turns"] and thread["turns"][-1]["status"] == status:
            return thread
        time.sleep(0.05)
    raise AssertionError(f"turn never became {status}: {thread}")


def test_a_client_that_disconnects_cancels_its_run(slow_url: str) -> None:
    headers = {"Authorization": f"Bearer {KEY}", "X-Thread-Id": "leaves-early"}
    body = {"messages": [{"role": "user", "content": QUESTION}], "stream": True}
    with httpx.stream(
        "POST", slow_url + "/v1/chat/completions", json=body, headers=headers, timeout=30
    ) as r:
        for line in r.iter_lines():
            if line.startswith("data: ") and '"type":"plan"' in line:
                break  # close the connection mid-run
    thread = wait_for_turn(slow_url, "leaves-early", "cancelled")
    events = httpx.get(
        f"{slow_url}/v1/runs/{thread['turns'][0]['run_id']}/trajectory",
        headers={"Authorization": f"Bearer {KEY}"},
    ).json()["events"]
    assert events[-1]["type"] == "final" and events[-1]["error"].startswith("RunCancelled")
    assert not any(e["type"] == "step_start" and e["node"] == "answer" for e in events)
    # Its slot is free again: the key may run once more.
    for _ in range(100):
        if httpx.get(slow_url + "/healthz").json()["runs_in_progress"] == 0:
            break
        time.sleep(0.05)
    assert httpx.get(slow_url + "/healthz").json()["runs_in_progress"] == 0
    # A non-streaming client that times out is a disconnect too.
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            slow_url + "/v1/chat/completions",
            json={"messages": body["messages"]},
            headers={**headers, "X-Thread-Id": "times-out"},
            timeout=0.4,
        )
    wait_for_turn(slow_url, "times-out", "cancelled")


def test_the_openai_error_shape_everywhere(base_url: str) -> None:
    for method, path in (
        ("GET", "/nope"),
        ("DELETE", "/v1/models"),
        ("GET", "/v1/threads/unknown"),
    ):
        r = httpx.request(method, base_url + path, headers={"Authorization": f"Bearer {KEY}"})
        assert r.status_code in (404, 405)
        assert set(r.json()["error"]) == {"message", "type", "code", "param"}, r.text


def test_no_key_means_loopback_only() -> None:
    check_bind("127.0.0.1", ApiKeys([]))
    check_bind("localhost", ApiKeys([]))
    check_bind("0.0.0.0", ApiKeys(["k"]))
    with pytest.raises(UserError, match="refusing to listen on 0.0.0.0 without an API key"):
        check_bind("0.0.0.0", ApiKeys([]))
    with pytest.raises(UserError):
        check_bind("192.168.1.5", ApiKeys.from_option(""))


def test_keys_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTFLOW_API_KEY", "a, b")
    keys = ApiKeys.from_option(None)
    assert keys.enabled and keys.owner("Bearer b") != keys.owner("Bearer a")
    assert ApiKeys.from_option("c").owner("Bearer c")
    assert json.dumps(ApiKeys([]).owner(None)) == '""'


def test_heartbeats_keep_quiet_streams_alive(
    slow_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentflow.server import chat

    monkeypatch.setattr(chat, "HEARTBEAT_S", 0.05)  # the model takes 0.15 s a call
    headers = {"Authorization": f"Bearer {KEY}"}
    body = {"messages": [{"role": "user", "content": QUESTION}], "stream": True}
    with httpx.stream(
        "POST", slow_url + "/v1/chat/completions", json=body, headers=headers, timeout=30
    ) as r:
        lines = [line for line in r.iter_lines() if line]
    assert ": working" in lines and lines[-1] == "data: [DONE]"
    # SSE comments are invisible to OpenAI clients.
    stream = client(slow_url).chat.completions.create(
        model="agentflow", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    assert bare_answer("".join(c.choices[0].delta.content or "" for c in stream if c.choices)) == FIRST.city


def test_serve_refuses_to_listen_beyond_loopback_without_a_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from agentflow.cli.main import app
    from agentflow.cli.serve import persistence

    monkeypatch.delenv("AGENTFLOW_API_KEY", raising=False)
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0 without an API key" in result.output
    assert persistence("sqlite:/data/af.sqlite") == {
        "threads": "sqlite:/data/af-threads.sqlite",
        "checkpoint_db": Path("/data/af.sqlite"),
    }
    assert persistence("postgres:postgresql://u@h/db") == {
        "threads": "postgres:postgresql://u@h/db", "checkpoint_db": "postgres:postgresql://u@h/db"
    }
    bad = CliRunner().invoke(app, ["serve", "--checkpointer", "redis://x"])
    assert bad.exit_code == 2 and "use sqlite:PATH or postgres:DSN" in bad.output
