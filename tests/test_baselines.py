"""The single-shot RAG and ReAct-style baselines, and LangGraph tooling's view of the graphs."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from langgraph.graph.state import CompiledStateGraph

from agentflow import Agent
from agentflow.errors import ConfigError
from agentflow.evals.world.demo import demo_chains, demo_store
from agentflow.evals.world.reader import read_like_a_model
from agentflow.trajectory import read_trajectory
from tests.helpers import with_overrides

FIRST = demo_chains()[0]
TWO_HOP = FIRST.question


def oracle(overrides: dict[str, Any] | None = None) -> Any:
    """The demo world's scripted reader, with ``overrides[node]`` in place of its answer."""
    return with_overrides(read_like_a_model, overrides)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_store(folder=tmp_path_factory.mktemp("baselines") / "store").path


def test_rag_answers_in_one_llm_call(store: Path) -> None:
    result = Agent(store, llm=oracle(), embedder="hash", graph="rag").ask(TWO_HOP)
    assert result.status == "answered" and result.usage["llm_calls"] == 1 and result.usage["searches"] == 1
    assert result.evidence and all(c["id"] in {e["id"] for e in result.evidence} for c in result.citations)


def test_react_prompts_grow_with_each_step(store: Path) -> None:
    steps = iter([f"{FIRST.company} founder", f"{FIRST.founder} birthplace", FIRST.city])

    def act(messages: object) -> dict[str, object]:
        q = next(steps, None)
        if q is None:
            return {"action": "answer", "answer": FIRST.city, "citations": ["4"]}
        return {"action": "search", "query": q}

    result = Agent(store, llm=oracle({"react": act}), embedder="hash", graph="react").ask(TWO_HOP)
    assert result.status == "answered"
    sizes = [c["first_prompt_tokens"] for c in read_trajectory(result.trajectory).llm_calls]
    assert len(sizes) == 4 and sizes == sorted(sizes) and sizes[-1] > 2 * sizes[0]


def test_unknown_graph_suggests_a_name(store: Path) -> None:
    with pytest.raises(ConfigError, match="Did you mean 'react'"):
        Agent(store, llm=oracle(), embedder="hash", graph="reakt")


def test_langgraph_json_graphs_load_like_langgraph_tooling(repo_root: Path) -> None:
    """langgraph dev / Studio import each `path:attr` by file path; do the same."""
    config = json.loads((repo_root / "langgraph.json").read_text())
    assert set(config["graphs"]) == {"deep_research", "rag", "react", "report"}
    for name, spec in config["graphs"].items():
        path, _, attr = spec.partition(":")
        module_spec = importlib.util.spec_from_file_location(f"lg_{name}", repo_root / path)
        assert module_spec and module_spec.loader
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        graph = getattr(module, attr)
        assert isinstance(graph, CompiledStateGraph)
        assert graph.get_graph().nodes  # the graph renders (Studio draws it)
        assert "__start__" in graph.get_graph().draw_mermaid()
