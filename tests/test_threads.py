"""Threads: the SQLite store, and Agent.ask(thread_id=...) continuing a conversation
from the memory its earlier turns left behind."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from agentflow.agent.api import RunCancelledError
from agentflow.errors import ConfigError, UserError
from agentflow.evals.world.demo import demo_agent, demo_questions
from agentflow.threads import (
    CANCELLED,
    INTERRUPTED,
    RUNNING,
    SqliteThreadStore,
    ThreadStore,
    check_thread_id,
    new_thread_id,
    open_thread_store,
)
from agentflow.trajectory import read_trajectory


@pytest.fixture
def store(tmp_path: Path) -> SqliteThreadStore:
    with SqliteThreadStore(tmp_path / "threads.sqlite") as s:
        yield s


def corpus_searches(trajectory: str) -> int:
    """Searches of the corpus a run made, counted from its trajectory."""
    return sum(1 for call in read_trajectory(trajectory).tool_calls if call["tool"] == "corpus")


def exercise_store(store: ThreadStore) -> None:
    """What every thread store must do (also run against PostgreSQL in test_server_postgres)."""
    index, memory = store.start_turn("chat-1", question="q1", run_id="r1")
    assert (index, memory) == (1, None)
    store.finish_turn(
        "chat-1",
        1,
        status="answered",
        answer="a1",
        citations=[{"id": "p1", "title": "T", "text": "x"}],
        usage={"searches": 2},
        memory={"nodes": [1]},
    )
    index, memory = store.start_turn("chat-1", question="q2", run_id="r2")
    assert (index, memory) == (2, {"nodes": [1]})
    # A turn that ended without memory (cancelled) leaves the thread on the last one.
    store.finish_turn("chat-1", 2, status=CANCELLED, error="cancelled")
    assert store.memory("chat-1") == {"nodes": [1]}
    thread = store.get("chat-1")
    assert thread is not None
    assert [(t.index, t.question, t.status) for t in thread.turns] == [
        (1, "q1", "answered"),
        (2, "q2", CANCELLED),
    ]
    assert thread.turns[0].citations[0]["id"] == "p1" and thread.turns[0].usage == {"searches": 2}
    assert store.thread_of_run("r2") == ("chat-1", "")
    assert store.thread_of_run("nope") is None
    # Threads belong to their owner, and ids are scoped per owner: bob's "shared" is not
    # alice's, so no key can claim an id another key then cannot use.
    store.start_turn("shared", question="q", run_id="r3", owner="alice")
    assert store.get("shared", owner="bob") is None and store.get("shared") is None
    store.start_turn("shared", question="bob's q", run_id="r4", owner="bob")
    alice, bob = store.get("shared", owner="alice"), store.get("shared", owner="bob")
    assert alice is not None and bob is not None and alice.id == bob.id == "shared"
    assert [t.question for t in alice.turns] == ["q"] and [t.question for t in bob.turns] == ["bob's q"]
    store.finish_turn("shared", 1, status="answered", answer="for bob", owner="bob", memory={"m": 1})
    assert store.get("shared", owner="alice").turns[0].status == RUNNING
    assert store.memory("shared", owner="bob") == {"m": 1} and store.memory("shared", owner="alice") is None
    assert store.thread_of_run("r4") == ("shared", "bob")
    assert store.get("no such thread") is None and store.owner("no such thread") is None


def test_the_sqlite_store(store: SqliteThreadStore) -> None:
    exercise_store(store)


def test_a_thread_from_before_scoping_stays_with_its_owner(store: SqliteThreadStore) -> None:
    with store._transaction() as cur:  # a row as older versions wrote it: the plain id
        cur.execute("INSERT INTO agentflow_threads VALUES ('old', 'carol', 1.0, 1.0)")
    index, _ = store.start_turn("old", question="q", run_id="r-old", owner="carol")
    store.finish_turn("old", index, status="answered", owner="carol")
    thread = store.get("old", owner="carol")
    assert thread is not None and [t.status for t in thread.turns] == ["answered"]
    assert store.thread_of_run("r-old") == ("old", "carol") and store.get("old", owner="dave") is None


def test_a_turn_left_running_reads_as_interrupted_once_stale(store: SqliteThreadStore) -> None:
    store.start_turn("t", question="q", run_id="r1")
    assert store.get("t", stale_after_s=60).turns[0].status == RUNNING
    time.sleep(0.05)
    assert store.get("t", stale_after_s=0.01).turns[0].status == INTERRUPTED


def test_threads_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"
    with SqliteThreadStore(path) as first:
        first.start_turn("keep", question="q", run_id="r1")
        first.finish_turn("keep", 1, status="answered", answer="a", memory={"m": 1})
    with SqliteThreadStore(path) as second:
        assert second.get("keep").turns[0].answer == "a"
        assert second.memory("keep") == {"m": 1}


def test_thread_ids_are_checked() -> None:
    assert check_thread_id("chat-42_a.b:c") == "chat-42_a.b:c"
    assert new_thread_id().startswith("thread_")
    for bad in ("", "has space", "x" * 129, "-leading", "semi;colon"):
        with pytest.raises(UserError, match="invalid thread id"):
            check_thread_id(bad)


def test_open_thread_store_specs(tmp_path: Path) -> None:
    assert isinstance(open_thread_store(f"sqlite:{tmp_path / 'a.sqlite'}"), SqliteThreadStore)
    assert isinstance(open_thread_store(tmp_path / "b.sqlite"), SqliteThreadStore)
    default = open_thread_store(None)
    assert isinstance(default, SqliteThreadStore) and default.path.name == "threads.sqlite"
    with pytest.raises(ConfigError, match="sqlite:PATH or postgres:DSN"):
        open_thread_store("redis://localhost")


def test_a_follow_up_in_a_thread_reuses_memory_and_searches_less(tmp_path: Path) -> None:
    agent = demo_agent(threads=f"sqlite:{tmp_path / 'threads.sqlite'}")
    question, follow_up, expected = demo_questions()[1]
    first = agent.ask(question, thread_id="conv")
    assert first.status == "answered"
    in_thread = agent.ask(follow_up, thread_id="conv")
    fresh = agent.ask(follow_up, thread_id="other")
    # "that company" is only known from the thread: its memory answers at the first search.
    assert in_thread.answer == expected and in_thread.status == "answered"
    # Without the thread the follow-up names nothing: refused, or answered about something else.
    assert fresh.status == "refused" or fresh.answer != in_thread.answer
    # bridge hops search a fixed number of times either way; the thread never searches more
    assert corpus_searches(in_thread.trajectory) <= corpus_searches(fresh.trajectory)
    start = read_trajectory(in_thread.trajectory).start
    assert start["seeded_memory"] is True
    assert {k: start["metadata"][k] for k in ("thread_id", "turn")} == {"thread_id": "conv", "turn": 2}
    # The follow-up was researched as a self-contained question, recorded as such.
    rewrite = start["metadata"]["follow_up"]
    assert rewrite["asked"] == follow_up and rewrite["source"] == "llm"
    assert "that company" not in rewrite["question"] and start["question"] == rewrite["question"]
    reused = [c for c in read_trajectory(in_thread.trajectory).tool_calls if c["tool"] == "corpus"]
    assert reused[0]["known_ids"] and not reused[0]["new_ids"]  # every passage came from memory
    thread = agent.thread("conv")
    assert [t.status for t in thread.turns] == ["answered", "answered"]
    assert thread.turns[1].citations[0]["id"] == in_thread.citations[0]["id"]


def test_cancel_stops_the_run_and_records_it(tmp_path: Path) -> None:
    agent = demo_agent(threads=f"sqlite:{tmp_path / 'threads.sqlite'}")
    cancel = threading.Event()
    seen: list[str] = []

    def on_event(event: dict) -> None:
        seen.append(event["type"])
        if event["type"] == "plan":
            cancel.set()  # as if the client had just gone away

    with pytest.raises(RunCancelledError) as info:
        agent.ask(demo_questions()[0][0], thread_id="c", on_event=on_event, cancel=cancel)
    assert "search" not in seen  # stopped at the next step after the plan
    thread = agent.thread("c")
    assert thread.turns[0].status == CANCELLED
    final = read_trajectory(agent.runner.runs / info.value.run_id / "trajectory.jsonl").final
    assert final is not None and final["error"].startswith("RunCancelled")
    # The thread goes on from before the cancelled turn.
    assert agent.ask(demo_questions()[0][0], thread_id="c").status == "answered"
