"""Plan review through the OpenAI-compatible server (a real uvicorn server in a thread,
the official ``openai`` client, the scripted demo agent): ``review_plan: true`` ends the
stream with a ``plan_review`` event, a follow-up request on the thread with
``plan_review`` resumes the run with the edited plan, and a refused edit is a 400 that
leaves the run waiting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from agentflow.evals.world.demo import demo_chains
from agentflow.server.sources import bare_answer
from tests.test_server_api import KEY, OTHER_KEY, client, ext, start_server

CHAIN = demo_chains()[0]
COMPANY = CHAIN.question.split("founder of ", 1)[1].removesuffix(" born?")
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with start_server(tmp_path_factory.mktemp("review")) as base:
        yield base


def turns(url: str, thread_id: str) -> list[dict[str, Any]]:
    return httpx.get(f"{url}/v1/threads/{thread_id}", headers=AUTH).json()["turns"]


def post(url: str, body: dict[str, Any], key: str = KEY) -> httpx.Response:
    return httpx.post(f"{url}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"},
                      timeout=60)


def test_the_stream_ends_with_a_plan_review_and_a_follow_up_resumes_it(url: str) -> None:
    c = client(url)
    chunks = list(c.chat.completions.create(
        model="agentflow", messages=[{"role": "user", "content": CHAIN.question}], stream=True,
        extra_body={"review_plan": True, "thread_id": "review-1"}))
    with_choices = [ch for ch in chunks if ch.choices]
    last = with_choices[-1]
    assert last.choices[0].finish_reason == "stop"
    event = ext(last)
    assert event["type"] == "plan_review" and event["status"] == "awaiting_review"
    plan = event["plan_review"]
    assert [(s["step"], s["question"], s["depends_on"]) for s in plan["sub_questions"]] == [
        (1, f"Who founded {COMPANY}?", []), (2, "In which city was #1 born?", [1])]
    assert event["resume"]["body"]["plan_review"] == {"run_id": event["run_id"], "action": "approve"}
    assert event["resume"]["headers"] == {"X-Thread-Id": "review-1"}
    text = "".join(ch.choices[0].delta.content or "" for ch in with_choices)
    assert text.startswith(f"Plan for: {CHAIN.question}") and "2. In which city was #1 born?" in text
    assert sum(1 for ch in with_choices if ch.choices[0].finish_reason) == 1
    assert [t["status"] for t in turns(url, "review-1")] == ["awaiting_review"]

    # A refused edit: 400 with the reason, and the run still waits with the same plan.
    bad = post(url, {"messages": [{"role": "user", "content": "remove step 1"}], "thread_id": "review-1",
                     "plan_review": {"action": "edit", "edits": [{"op": "remove", "step": 1}]}})
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert error["code"] == "invalid_plan_review" and error["param"] == "plan_review"
    assert "step 2 refers to #1, which is removed" in error["message"]
    # Another key sees no such thread.
    other = post(url, {"messages": [{"role": "user", "content": "approve"}], "thread_id": "review-1",
                       "plan_review": {"action": "approve"}}, key=OTHER_KEY)
    assert other.status_code == 404
    assert [t["status"] for t in turns(url, "review-1")] == ["awaiting_review"]

    # The edited plan: stream the rest of the run on the same thread.
    reword = f"Who was the founder of {COMPANY}?"
    chunks = list(c.chat.completions.create(
        model="agentflow", messages=[{"role": "user", "content": "go on"}], stream=True,
        extra_headers={"X-Thread-Id": "review-1"},
        extra_body={"plan_review": {"run_id": event["run_id"], "action": "edit",
                                    "edits": [{"op": "reword", "step": 1, "question": reword}]}}))
    final = [ch for ch in chunks if ch.choices and ch.choices[0].finish_reason == "stop"]
    assert len(final) == 1 and ext(final[0])["type"] == "final" and ext(final[0])["status"] == "answered"
    assert ext(final[0])["run_id"] == event["run_id"]  # the same run went on
    assert ext(final[0])["sub_questions"][0]["question"] == reword
    progress = {ext(ch).get("type") for ch in chunks if ch.choices}
    assert {"search", "read", "verify"} <= progress
    answer = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert bare_answer(answer) == CHAIN.city
    done = turns(url, "review-1")
    assert [(t["status"], t["answer"], t["run_id"]) for t in done] == [("answered", CHAIN.city, event["run_id"])]

    events = httpx.get(f"{url}/v1/runs/{event['run_id']}/trajectory", headers=AUTH).json()["events"]
    review = [e for e in events if e["type"] == "plan_review"]
    assert len(review) == 1 and review[0]["edits"] == [{"op": "reword", "step": 1, "question": reword}]

    # Nothing waits any more.
    again = post(url, {"messages": [{"role": "user", "content": "approve"}], "thread_id": "review-1",
                       "plan_review": {"action": "approve"}})
    assert again.status_code == 400 and again.json()["error"]["code"] == "no_plan_review"


def test_without_streaming_the_plan_is_the_message_and_approve_goes_on(url: str) -> None:
    c = client(url)
    first = c.chat.completions.create(model="agentflow", messages=[{"role": "user", "content": CHAIN.question}],
                                      extra_body={"review_plan": True})
    info = ext(first)
    assert info["status"] == "awaiting_review" and len(info["plan_review"]["sub_questions"]) == 2
    assert first.choices[0].message.content.startswith("Plan for: ")
    thread = info["thread_id"]
    with pytest.raises(openai.BadRequestError) as refused:  # a plan review answers a thread's run
        c.chat.completions.create(model="agentflow", messages=[{"role": "user", "content": "ok"}],
                                  extra_body={"plan_review": {"action": "approve"}})
    assert refused.value.status_code == 400
    done = c.chat.completions.create(model="agentflow", messages=[{"role": "user", "content": "approve"}],
                                     extra_headers={"X-Thread-Id": thread},
                                     extra_body={"plan_review": {"action": "approve"}})
    assert ext(done)["status"] == "answered" and ext(done)["run_id"] == info["run_id"]
    assert bare_answer(done.choices[0].message.content) == CHAIN.city
    assert "plan_review" not in ext(done)


def test_clients_that_never_ask_for_review_see_no_change(url: str) -> None:
    plain = client(url).chat.completions.create(
        model="agentflow", messages=[{"role": "user", "content": CHAIN.question}])
    assert ext(plain)["status"] == "answered" and "plan_review" not in ext(plain)
    assert bare_answer(plain.choices[0].message.content) == CHAIN.city


def test_a_waiting_run_is_resumed_by_a_restarted_server(tmp_path: Path) -> None:
    """The pause lives in the run's checkpoint and the thread's turn, not in the process."""
    with start_server(tmp_path) as first_url:
        paused = client(first_url).chat.completions.create(
            model="agentflow", messages=[{"role": "user", "content": CHAIN.question}],
            extra_body={"review_plan": True, "thread_id": "restart-1"})
    assert ext(paused)["status"] == "awaiting_review"
    with start_server(tmp_path) as second_url:
        assert [t["status"] for t in turns(second_url, "restart-1")] == ["awaiting_review"]
        done = client(second_url).chat.completions.create(
            model="agentflow", messages=[{"role": "user", "content": "approve"}],
            extra_body={"thread_id": "restart-1", "plan_review": {"action": "approve"}})
        assert ext(done)["status"] == "answered" and ext(done)["run_id"] == ext(paused)["run_id"]
        assert bare_answer(done.choices[0].message.content) == CHAIN.city
        assert [t["status"] for t in turns(second_url, "restart-1")] == ["answered"]
