"""What real chat clients see: the official ``openai`` client and LangChain's
``ChatOpenAI`` get the answer with numbered markers and its sources, streaming and not;
``/v1/models`` lists the served model and any other model is a 404 ``model_not_found``;
a pronoun follow-up is researched about the right entity (scripted demo agent)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from agentflow.evals.serving import serve_in_thread
from agentflow.evals.world.demo import demo_agent, demo_chains, demo_world
from agentflow.server.app import create_app
from agentflow.server.sources import bare_answer, earlier_turns
from agentflow.trajectory import read_trajectory

KEY = "key-clients"
FIRST = demo_chains()[0]
COMPANY_TEXT = next(d["text"] for d in demo_world() if d["id"] == FIRST.company_id)
WHO = f"Who founded {FIRST.company}?"
WHERE = "Where was she born?"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("clients")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AGENTFLOW_HOME", str(tmp))
        agent = demo_agent(threads=f"sqlite:{tmp / 'threads.sqlite'}")
    with serve_in_thread(create_app(agent, api_keys=[KEY])) as url:
        yield url


def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0, timeout=30)


def ext(obj: Any) -> dict[str, Any]:
    return (obj.model_extra or {}).get("agentflow") or {}


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def assert_cited(content: str, answer: str) -> None:
    head, _, sources = content.partition("\n\nSources:\n")
    assert re.fullmatch(re.escape(answer) + r" \[1\](\[\d\])*", head), content
    n = head.count("[")
    assert [line.split("]")[0] + "]" for line in sources.splitlines()] == [f"[{i}]" for i in range(1, n + 1)]
    assert sources.startswith(f"[1] {FIRST.company}: {COMPANY_TEXT[:30]}"), content


# -- /v1/models and unknown models ----------------------------------------------------


def test_models_lists_what_is_served(base_url: str) -> None:
    models = client(base_url).models.list()
    assert [(m.id, m.object) for m in models] == [("agentflow", "model")]


def test_unknown_model_is_openais_404(base_url: str) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client(base_url).chat.completions.create(model="gpt-4o-mini", messages=[user(WHO)])
    body = info.value.body
    assert info.value.status_code == 404
    assert body["code"] == "model_not_found" and body["param"] == "model"
    assert body["type"] == "invalid_request_error" and "gpt-4o-mini" in body["message"]
    assert "agentflow" in body["message"]


# -- sources in the content -------------------------------------------------------------


def test_openai_client_sees_sources(base_url: str) -> None:
    reply = client(base_url).chat.completions.create(model="agentflow", messages=[user(WHO)])
    assert_cited(reply.choices[0].message.content, FIRST.founder)
    citations = ext(reply)["citations"]
    assert citations[0]["id"] == FIRST.company_id and citations[0]["text"]


def test_openai_client_sees_sources_streaming(base_url: str) -> None:
    chunks = list(client(base_url).chat.completions.create(
        model="agentflow", messages=[user(WHO)], stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert_cited(text, FIRST.founder)
    final = next(ext(c) for c in chunks if c.choices and c.choices[0].finish_reason)
    assert final["citations"][0]["id"] == FIRST.company_id


def test_stream_order_and_usage(base_url: str) -> None:
    """Role first, then the answer in order with its sources last, the finish chunk, and
    the usage chunk ``stream_options.include_usage`` asks for."""
    chunks = list(client(base_url).chat.completions.create(
        model="agentflow", messages=[user(WHO)], stream=True,
        stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    kinds = ["usage" if not c.choices else "finish" if c.choices[0].finish_reason
             else "content" if c.choices[0].delta.content else "other" for c in chunks[1:]]
    first, last = kinds.index("content"), len(kinds) - 1 - kinds[::-1].index("content")
    assert set(kinds[first:last + 1]) == {"content"}  # no progress chunk cuts the answer
    assert kinds[last + 1:] == ["finish", "usage"]
    pieces = [c.choices[0].delta.content for c in chunks[1:] if c.choices and c.choices[0].delta.content]
    assert len(pieces) >= 2 and pieces[-1].startswith(f"\n\nSources:\n[1] {FIRST.company}")
    assert_cited("".join(pieces), FIRST.founder)
    usage = chunks[-1].usage
    assert usage is not None and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.total_tokens > 0


def test_sources_can_be_turned_off(base_url: str) -> None:
    c = client(base_url)
    reply = c.chat.completions.create(model="agentflow", messages=[user(WHO)],
                                      extra_body={"sources": False})
    assert reply.choices[0].message.content == FIRST.founder
    assert ext(reply)["citations"]  # the structured field stays
    chunks = list(c.chat.completions.create(model="agentflow", messages=[user(WHO)], stream=True,
                                            extra_body={"sources": False}))
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == FIRST.founder
    bad = httpx.post(f"{base_url}/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}"},
                     json={"messages": [user(WHO)], "sources": "yes"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "sources"


def test_langchain_chat_openai_sees_sources(base_url: str) -> None:
    pytest.importorskip("langchain_openai", reason="needs the [dev] extra (langchain-openai)")
    from langchain_openai import ChatOpenAI

    chat = ChatOpenAI(model="agentflow", base_url=base_url + "/v1", api_key=KEY, max_retries=0,
                      timeout=30)
    assert_cited(chat.invoke(WHO).content, FIRST.founder)
    streamed = "".join(str(piece.content) for piece in chat.stream(WHO))
    assert_cited(streamed, FIRST.founder)


# -- follow-ups -------------------------------------------------------------------------


def _trajectory(url: str, run_id: str) -> list[dict[str, Any]]:
    return httpx.get(f"{url}/v1/runs/{run_id}/trajectory",
                     headers={"Authorization": f"Bearer {KEY}"}).json()["events"]


def test_pronoun_follow_up_in_a_thread(base_url: str) -> None:
    c = client(base_url)
    first = c.chat.completions.create(model="agentflow", messages=[user(WHO)])
    thread = ext(first)["thread_id"]
    follow = c.chat.completions.create(model="agentflow", messages=[user(WHERE)],
                                       extra_headers={"X-Thread-Id": thread})
    assert bare_answer(follow.choices[0].message.content) == FIRST.city
    start = _trajectory(base_url, ext(follow)["run_id"])[0]
    assert start["question"] == f"Where was {FIRST.founder} born?"
    assert start["metadata"]["follow_up"]["asked"] == WHERE
    turns = httpx.get(f"{base_url}/v1/threads/{thread}",
                      headers={"Authorization": f"Bearer {KEY}"}).json()["turns"]
    assert [t["question"] for t in turns] == [WHO, WHERE]  # the thread keeps what was asked


def test_pronoun_follow_up_from_the_request_history(base_url: str) -> None:
    c = client(base_url)
    first = c.chat.completions.create(model="agentflow", messages=[user(WHO)])
    history = [user(WHO), {"role": "assistant", "content": first.choices[0].message.content},
               user(WHERE)]
    follow = c.chat.completions.create(model="agentflow", messages=history)
    assert bare_answer(follow.choices[0].message.content) == FIRST.city


def test_pronoun_follow_up_streaming_with_langchain(base_url: str) -> None:
    pytest.importorskip("langchain_openai", reason="needs the [dev] extra (langchain-openai)")
    from langchain_core.messages import AIMessage, HumanMessage
    from langchain_openai import ChatOpenAI

    chat = ChatOpenAI(model="agentflow", base_url=base_url + "/v1", api_key=KEY, max_retries=0)
    first = chat.invoke([HumanMessage(WHO)])
    streamed = "".join(str(p.content) for p in chat.stream([HumanMessage(WHO), first,
                                                            HumanMessage(WHERE)]))
    assert isinstance(first, AIMessage)
    assert bare_answer(streamed) == FIRST.city and "Sources:" in streamed


def test_earlier_turns_strip_what_the_server_added() -> None:
    class M:
        def __init__(self, role: str, content: Any) -> None:
            self.role, self.content = role, content

    msgs = [M("system", "be brief"), M("user", WHO),
            M("assistant", f"{FIRST.founder} [1]\n\nSources:\n[1] {FIRST.company}: ..."),
            M("user", [{"type": "text", "text": WHERE}])]
    turns = earlier_turns(msgs)
    assert [(t.question, t.answer) for t in turns] == [(WHO, FIRST.founder)]


def test_trajectory_of_a_direct_agent_follow_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTFLOW_HOME", str(tmp_path))
    agent = demo_agent(threads=f"sqlite:{tmp_path / 't.sqlite'}")
    agent.ask(WHO, thread_id="t")
    result = agent.ask(WHERE, thread_id="t")
    assert result.answer == FIRST.city
    follow_up = read_trajectory(result.trajectory).start["metadata"]["follow_up"]
    assert follow_up["question"] == f"Where was {FIRST.founder} born?" and follow_up["source"] == "llm"
