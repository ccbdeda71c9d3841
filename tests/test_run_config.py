"""The run configuration as LangGraph sees it: data with documented environment
defaults, both input shapes, usage per run, typed progress on the custom stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore
from pydantic import ValidationError

from agentflow.agent.events import PROGRESS_TYPES, progress_event
from agentflow.agent.run_config import RunConfig
from agentflow.agent.run_input import question_of
from agentflow.errors import ConfigError, UserError
from agentflow.evals.world.demo import FOLLOW_UP, demo_chains
from agentflow.llm import resolve_llm

DEMO_LLM = "scripted:agentflow.evals.world.reader:read_like_a_model"
QUESTION = demo_chains()[0].question


@pytest.fixture
def demo_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from agentflow.evals.world.demo import demo_store

    store = demo_store(folder=tmp_path / "store").path
    monkeypatch.setenv("AGENTFLOW_STORE", str(store))
    monkeypatch.setenv("AGENTFLOW_LLM", DEMO_LLM)
    monkeypatch.setenv("AGENTFLOW_RUNS", str(tmp_path / "runs"))
    return tmp_path


def test_defaults_come_from_the_environment_and_bad_fields_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTFLOW_LLM", "openai:gpt-4o-mini")
    monkeypatch.setenv("AGENTFLOW_STORE", "/data/store")
    config = RunConfig.model_validate({})
    assert (config.llm, config.store, config.embedder) == ("openai:gpt-4o-mini", "/data/store", None)
    assert RunConfig.model_validate_json(config.model_dump_json()) == config
    assert RunConfig(llm="local").llm == "local"  # explicit beats the environment
    with pytest.raises(ValidationError, match="budgt"):
        RunConfig.model_validate({"budgt": {}})
    assert {"llm", "store", "budget", "settings"} <= set(RunConfig.model_json_schema()["properties"])


def test_messages_give_the_question_and_the_conversation() -> None:
    messages = [{"type": "human", "content": "Who founded Zorvath Industries?"},
                {"type": "ai", "content": "Melira Quandt"},
                {"role": "user", "content": [{"type": "text", "text": "Where was she born?"}]}]
    question, turns = question_of({"messages": messages, "question": "stale"})
    assert question == "Where was she born?"
    assert [(t.question, t.answer) for t in turns] == [("Who founded Zorvath Industries?", "Melira Quandt")]
    with pytest.raises(UserError, match="no user message"):
        question_of({"messages": [{"role": "assistant", "content": "hi"}]})
    with pytest.raises(UserError, match="no question"):
        question_of({})


def test_progress_events_are_typed() -> None:
    event = progress_event(type="search", node="search", query="q", tool="corpus", found=3, new=2)
    assert type(event).__name__ == "SearchEvent" and event.found == 3
    with pytest.raises(ValidationError):
        progress_event(type="searching", node="search")
    assert {"plan", "search", "read", "verify", "answer"} <= set(PROGRESS_TYPES)


def test_a_model_string_names_a_scripted_function() -> None:
    assert resolve_llm(DEMO_LLM).name == "scripted"
    with pytest.raises(ConfigError, match="scripted:MODULE:FUNCTION"):
        resolve_llm("scripted:agentflow.nowhere:fn")


def test_runs_of_one_thread_count_their_own_usage_and_stream_progress(demo_env: Path) -> None:
    from agentflow.graphs.deep_research import build

    graph = build().compile(checkpointer=InMemorySaver(), store=InMemoryStore())
    config: dict[str, Any] = {"configurable": {"thread_id": "t"}}
    kinds = [chunk["type"] for chunk in graph.stream({"question": QUESTION}, config, context={},
                                                      stream_mode="custom")]
    assert {"plan", "search", "read", "verify", "answer"} <= set(kinds)
    first = graph.get_state(config).values
    second = graph.invoke({"messages": [{"role": "user", "content": FOLLOW_UP}]},
                          config, context={"budget": {"max_llm_calls": 2}})
    assert first["usage"]["llm_calls"] > 2 >= second["usage"]["llm_calls"] > 0
    assert second["run_id"] != first["run_id"] and second["memory"]["base"] == first["memory"]["rev"]
    # A follow-up leaning on the conversation ("that company") only through messages is
    # still researched: the thread's memory carries the company.
    assert second["status"] and second["messages"] == []
    trajectory = demo_env / "runs"
    assert len(list(trajectory.glob("*/trajectory.jsonl"))) == 2


def test_a_graph_without_a_store_keeps_memory_in_the_state(demo_env: Path) -> None:
    from agentflow.graphs.rag import graph

    state = graph.invoke({"question": QUESTION})
    assert state["status"] and state["usage"]["searches"] == 1


def test_a_failed_langgraph_run_still_ends_its_trajectory(demo_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    import agentflow.llm
    from agentflow.errors import BackendResponseError
    from agentflow.graphs.deep_research import build
    from agentflow.llm.scripted import ScriptedLLM

    broken = ScriptedLLM([BackendResponseError("the backend is down")])
    monkeypatch.setattr(agentflow.llm, "resolve_llm", lambda spec=None, **options: broken)
    graph = build().compile(checkpointer=InMemorySaver(), store=InMemoryStore())
    with pytest.raises(BackendResponseError):
        graph.invoke({"question": QUESTION}, {"configurable": {"thread_id": "t"}},
                     context={"llm": "broken-for-this-test"})
    (path,) = (demo_env / "runs").glob("*/trajectory.jsonl")
    events = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["type"] for e in events[-2:]] == ["error", "final"]
    assert events[-1]["status"] == "error" and "the backend is down" in events[-1]["error"]
