"""AsyncAgent: ``await agent.ask(question, thread_id=...)`` and ``async for event in
agent.astream(...)`` inside an asyncio application, with cancellation."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from agentflow import AsyncAgent
from agentflow.evals.world.demo import demo_agent, demo_questions
from agentflow.threads import CANCELLED


@pytest.fixture
def agent(tmp_path: Path) -> AsyncAgent:
    a = AsyncAgent(
        demo_agent(threads=f"sqlite:{tmp_path / 'threads.sqlite'}"), max_concurrent_runs=4
    )
    yield a
    a.close()


async def test_ask_and_astream_in_a_thread(agent: AsyncAgent) -> None:
    question, follow_up, expected = demo_questions()[2]
    first = await agent.ask(question, thread_id="chat")
    assert first.status == "answered" and first.citations
    events = [e async for e in agent.astream(follow_up, thread_id="chat")]
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["turn", "step"] and kinds[-1] == "final"
    assert events[0]["turn"] == 2 and events[0]["thread_id"] == "chat"
    assert {"plan", "sub_question", "search", "read", "verify", "answer"} <= set(kinds)
    final = events[-1]
    assert final["answer"] == expected and final["thread_id"] == "chat"
    thread = await agent.thread("chat")
    assert [t.answer for t in thread.turns] == [first.answer, expected]


async def test_the_event_loop_stays_free_while_runs_go_on(tmp_path: Path) -> None:
    slow = AsyncAgent(
        demo_agent(latency_s=0.05, threads=f"sqlite:{tmp_path / 't.sqlite'}"), max_concurrent_runs=4
    )
    try:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        started = time.perf_counter()
        results = await asyncio.gather(
            *(slow.ask(q, thread_id=f"t{i}") for i, (q, _, _) in enumerate(demo_questions()))
        )
        elapsed = time.perf_counter() - started
        ticker.cancel()
        assert all(r.status == "answered" for r in results)
        # 4 runs of 6 LLM calls x 50 ms each ran side by side, and the loop kept ticking.
        assert elapsed < 4 * 6 * 0.05
        assert ticks > elapsed / 0.01 / 3
    finally:
        slow.close()


async def test_leaving_a_stream_early_cancels_its_run(tmp_path: Path) -> None:
    slow = AsyncAgent(
        demo_agent(latency_s=0.05, threads=f"sqlite:{tmp_path / 't.sqlite'}"), max_concurrent_runs=1
    )
    try:
        handle = slow.start(demo_questions()[0][0], thread_id="gone")
        async for event in handle.events():
            if event["type"] == "plan":
                break  # the consumer goes away, as a disconnected client does
        for _ in range(200):
            if handle.done:
                break
            await asyncio.sleep(0.01)
        assert handle.done
        thread = await slow.thread("gone")
        assert thread.turns[0].status == CANCELLED
        # The only worker is free again.
        assert (await slow.ask(demo_questions()[0][0])).status == "answered"
    finally:
        slow.close()
