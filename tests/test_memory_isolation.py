"""Two threads run at the same time in one process never see each other's memory graph.

Both run the deep-research graph as LangGraph tooling does (no context passed), in
lockstep (every LLM call waits for the other thread's), so both are at the same memory
revision at the same moments: a memory cache keyed by revision alone, on a context the
two runs share, hands one thread the other's graph."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

import agentflow.llm
from agentflow.evals.world.demo import demo_chains
from agentflow.llm.scripted import ScriptedLLM

QUESTIONS = {"A": demo_chains(24)[0].question, "B": demo_chains(24)[1].question}


def _lockstep_llm() -> ScriptedLLM:
    from agentflow.evals.world.reader import read_like_a_model

    barrier = threading.Barrier(2, timeout=5)

    def answer(messages: Any, schema: Any) -> Any:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:  # the runs diverged: carry on unsynchronised
            pass
        return read_like_a_model(messages, schema)

    return ScriptedLLM(fn=answer, name="lockstep")


def _memory(state: dict[str, Any], store: Any) -> dict[str, Any]:
    data = state["memory"]
    if "namespace" in data:  # a reference into the store
        from agentflow.agent.memory_store import StoreMemory

        data = StoreMemory(store).graph_json(data)
    return data


@pytest.mark.parametrize("with_store", [False, True], ids=["memory-in-state", "memory-in-store"])
def test_concurrent_threads_keep_their_own_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  with_store: bool) -> None:
    from agentflow.evals.world.demo import demo_store
    from agentflow.graphs.deep_research import build

    store_dir = demo_store(24, folder=tmp_path / "store").path
    monkeypatch.setenv("AGENTFLOW_STORE", str(store_dir))
    llm = _lockstep_llm()
    monkeypatch.setattr(agentflow.llm, "resolve_llm", lambda spec=None, **options: llm)
    store = InMemoryStore() if with_store else None
    graph = build().compile(checkpointer=InMemorySaver(), store=store)

    def run(thread: str) -> dict[str, Any]:
        config = {"configurable": {"thread_id": thread}, "recursion_limit": 100}
        return graph.invoke({"question": QUESTIONS[thread]}, config)

    with ThreadPoolExecutor(2) as pool:
        states = dict(zip(QUESTIONS, pool.map(run, QUESTIONS)))
    for thread, state in states.items():
        questions = {n.get("text") for n in _memory(state, store)["nodes"] if n.get("type") == "question"}
        assert questions == {QUESTIONS[thread]}, f"thread {thread} sees {questions}"
        assert state["status"] == "answered"
