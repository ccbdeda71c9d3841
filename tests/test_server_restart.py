"""A real ``agentflow serve`` process killed with SIGKILL mid-conversation and restarted
on the same SQLite file keeps the thread: its history, and the memory a follow-up uses."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai
import pytest

from agentflow.agent.context import ResearchSettings
from agentflow.evals.serving import ServerProcess
from agentflow.evals.world.demo import demo_chains, demo_questions
from agentflow.server.sources import bare_answer

pytestmark = pytest.mark.slow

QUESTION, FOLLOW_UP, FOLLOW_UP_ANSWER = demo_questions()[3]
KEY = "restart-key"
OTHER = f"Where was the founder of {demo_chains()[1].company} born?"


def test_a_killed_server_restarts_with_the_thread(tmp_path: Path) -> None:
    db = tmp_path / "agentflow.sqlite"
    args = [
        "--agent-factory",
        "agentflow.evals.world.demo:demo_agent",
        "--checkpointer",
        f"sqlite:{db}",
        "--api-key",
        KEY,
        "--log-level",
        "warning",
    ]
    env = {"AGENTFLOW_HOME": str(tmp_path / "home"), "AGENTFLOW_DEMO_LATENCY_S": "0.1"}
    headers = {"Authorization": f"Bearer {KEY}", "X-Thread-Id": "survives"}
    first = ServerProcess(args, env=env, log_path=tmp_path / "first.log").start()
    try:
        c = openai.OpenAI(base_url=first.base_url + "/v1", api_key=KEY, max_retries=0)
        turn1 = c.chat.completions.create(
            model="agentflow",
            messages=[{"role": "user", "content": QUESTION}],
            extra_headers={"X-Thread-Id": "survives"},
        )
        answer1 = bare_answer(turn1.choices[0].message.content)
        assert turn1.model_extra["agentflow"]["status"] == "answered"
        # Turn 2 is under way when the server dies.
        body = {
            "messages": [
                {"role": "user", "content": OTHER}
            ],
            "stream": True,
        }
        with httpx.stream(
            "POST", first.base_url + "/v1/chat/completions", json=body, headers=headers, timeout=30
        ) as r:
            for line in r.iter_lines():
                if '"type":"plan"' in line:
                    first.kill()
                    break
        assert first.process.returncode == -9
    finally:
        first.kill()

    with ServerProcess(args, env=env, log_path=tmp_path / "second.log") as second:
        thread = httpx.get(f"{second.base_url}/v1/threads/survives", headers=headers).json()
        turns = thread["turns"]
        assert [(t["question"], t["answer"], t["status"]) for t in turns] == [
            (QUESTION, answer1, "answered"),
            (OTHER, "", "running"),  # reads "interrupted" once stale
        ]
        assert turns[0]["citations"] and turns[0]["citations"][0]["text"]
        # The follow-up continues from the memory of the last finished turn.
        c = openai.OpenAI(base_url=second.base_url + "/v1", api_key=KEY, max_retries=0)
        follow = c.chat.completions.create(
            model="agentflow",
            messages=[{"role": "user", "content": FOLLOW_UP}],
            extra_headers={"X-Thread-Id": "survives"},
        )
        assert bare_answer(follow.choices[0].message.content) == FOLLOW_UP_ANSWER
        info = follow.model_extra["agentflow"]
        # The question, then its bridge hops (no new sub-question searched).
        assert info["usage"]["searches"] <= 1 + ResearchSettings().bridge_searches
        events = httpx.get(
            f"{second.base_url}/v1/runs/{info['run_id']}/trajectory", headers=headers
        ).json()["events"]
        assert events[0]["seeded_memory"] is True and events[0]["metadata"]["turn"] == 3
        assert (
            len(
                httpx.get(f"{second.base_url}/v1/threads/survives", headers=headers).json()["turns"]
            )
            == 3
        )
