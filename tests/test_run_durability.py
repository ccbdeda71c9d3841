"""Runs survive a busy checkpoint database, kills at random moments, and hanging
backends: the answer is kept, completed LLM calls are never sent twice, and the time
budget covers a call in flight."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentflow import Agent
from agentflow.agent.budget import Budget
from agentflow.agent.journal import CallJournal, JournaledLLM
from agentflow.evals.world.demo import demo_chains
from agentflow.evals.world.reader import read_like_a_model
from agentflow.llm import ScriptedLLM
from agentflow.records import ChatMessage
from tests.helpers import build_store

CHAIN = demo_chains()[0]
THREE_HOP = CHAIN.three_hop


LOCKER = r"""
import sqlite3, sys, time
from pathlib import Path
conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
Path(sys.argv[2]).write_text("locked")
time.sleep(float(sys.argv[3]))
conn.execute("COMMIT")
"""


@pytest.mark.slow
def test_a_run_keeps_its_answer_while_another_process_holds_the_lock_for_12_s(tmp_path: Path) -> None:
    store = build_store(tmp_path)
    inner = ScriptedLLM(fn=read_like_a_model)
    ready = tmp_path / "locked"
    state: dict[str, object] = {}

    def fn(messages: list[ChatMessage], schema: object) -> object:
        if len(inner.calls) == 0 and "locker" not in state:
            db = agent.runner.checkpoint_path("run-lock")
            state["locker"] = subprocess.Popen([sys.executable, "-c", LOCKER, str(db), str(ready), "12"])
            while not ready.exists():
                time.sleep(0.02)
        inner.calls.append((messages, schema))
        return inner._fn(messages, schema)

    agent = Agent(store, llm=ScriptedLLM(fn=fn), embedder="hash")
    started = time.monotonic()
    result = agent.ask(THREE_HOP, run_id="run-lock")
    elapsed = time.monotonic() - started
    state["locker"].wait(timeout=30)  # type: ignore[attr-defined]
    assert result.error is None and result.status == "answered" and result.answer == CHAIN.country
    assert elapsed > 10  # it really waited for the lock instead of failing or skipping checkpoints
    resumed = agent.resume("run-lock")  # every step was checkpointed: nothing is left to do
    assert resumed.answer == CHAIN.country


@pytest.mark.slow
def test_runs_killed_at_random_under_contention_resume_without_repeating_calls(
    tmp_path: Path, loopback: None
) -> None:
    from agentflow.evals.bench_resume import kill_and_resume

    figures = kill_and_resume(3, delay_s=0.2, contention=True, seed=3, folder=tmp_path)
    assert figures["killed"] + figures["finished_before_kill"] == 3
    assert figures["resumed"] == 3, figures["cases"]
    assert figures["repeated_calls"] == 0, figures["cases"]


def test_the_time_budget_covers_a_call_in_flight(tmp_path: Path, loopback: None) -> None:
    from agentflow.evals.fault_server import FaultServer

    store = build_store(tmp_path)
    with FaultServer(lambda n, req: "hang", lambda req: "", hang_s=60) as server:
        agent = Agent(store, llm=f"openai:m@{server.base_url}", embedder="hash",
                      budget=Budget(max_seconds=2))
        started = time.monotonic()
        result = agent.ask(THREE_HOP)
        elapsed = time.monotonic() - started
    assert elapsed < 8, f"a 2 s budget ran {elapsed:.1f} s against a hanging backend"
    assert result.status != "error", result.error


def test_the_journal_replays_completed_requests_and_ignores_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "llm_calls.jsonl"
    first = ScriptedLLM(fn=lambda messages, schema: {"answer": messages[-1].content})
    llm = JournaledLLM(first, CallJournal(path))
    prompt = [{"role": "user", "content": "a"}]
    assert llm.complete(prompt).text == '{"answer": "a"}'
    with path.open("a") as f:
        f.write('{"key": "torn", "compl')  # killed mid-write
    second = ScriptedLLM(fn=lambda messages, schema: {"answer": "sent again"})
    again = JournaledLLM(second, CallJournal(path))
    assert again.complete(prompt).text == '{"answer": "a"}' and second.calls == []
    assert again.complete(prompt).text == '{"answer": "sent again"}'  # a second identical call is new
