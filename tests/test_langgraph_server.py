"""The graphs under LangGraph's own server: ``langgraph dev`` over the repository's
``langgraph.json``, driven through ``langgraph_sdk`` the way a Studio or SDK user does.

The server runs on loopback with no browser, no reload, no analytics and no tracing;
its store is the hashing-embedder demo world built in a temporary folder and its model
the scripted demo reader, both chosen through the documented environment defaults
(one run also passes ``context={...}``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentflow.evals.world.demo import demo_chains

pytest.importorskip("langgraph_api")
pytest.importorskip("langgraph_runtime_inmem")
langgraph_sdk = pytest.importorskip("langgraph_sdk")

pytestmark = pytest.mark.slow

GRAPHS = ("deep_research", "rag", "react")
QUESTION, SECOND = (chain.question for chain in demo_chains()[:2])
#: Progress events a deep-research run must show live.
LOOP_EVENTS = {"plan", "search", "read", "verify"}
#: Variables that would let the server reach LangSmith or send analytics.
_REMOTE = ("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY", "LANGGRAPH_CLOUD_LICENSE_KEY",
           "LANGSMITH_CONTROL_PLANE_API_KEY", "LANGSMITH_ENDPOINT", "LANGCHAIN_ENDPOINT")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(repo: Path, folder: Path) -> Path:
    """The repository's ``langgraph.json`` with its paths made absolute, so the server
    can run (and write its ``.langgraph_api`` folder) outside the checkout."""
    config = json.loads((repo / "langgraph.json").read_text(encoding="utf-8"))
    config["graphs"] = {name: str(repo / spec.removeprefix("./")) for name, spec in config["graphs"].items()}
    config["dependencies"] = [str(repo)]
    config["env"] = str(repo / config["env"]) if config.get("env") else {}
    path = folder / "langgraph.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


@pytest.fixture
def server(tmp_path: Path, repo_root: Path, loopback: None) -> Iterator[tuple[str, Path]]:
    from agentflow.evals.world.demo import demo_store

    store = demo_store(folder=tmp_path / "store")
    runs = tmp_path / "runs"
    env = {k: v for k, v in os.environ.items() if k not in _REMOTE}
    env.update(AGENTFLOW_HOME=str(tmp_path / "home"), AGENTFLOW_STORE=str(store.path), AGENTFLOW_RUNS=str(runs),
               AGENTFLOW_LLM="scripted:agentflow.evals.world.reader:read_like_a_model",
               LANGGRAPH_CLI_NO_ANALYTICS="1", LANGSMITH_TRACING="false", LANGCHAIN_TRACING_V2="false",
               DO_NOT_TRACK="1")
    port = _free_port()
    cmd = [sys.executable, "-m", "langgraph_cli", "dev", "--config", str(_config(repo_root, tmp_path)),
           "--host", "127.0.0.1", "--port", str(port), "--no-browser", "--no-reload"]
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail("langgraph dev exited: " + (tmp_path / "server.log").read_text(errors="replace")[-3000:])
            try:
                if httpx.get(url + "/ok", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("langgraph dev did not start: " + (tmp_path / "server.log").read_text(errors="replace")[-3000:])
            time.sleep(0.25)
        yield url, runs
        # No license key and no LangSmith key: the server's metadata beacon never starts.
        assert "skipping metadata loop" in (tmp_path / "server.log").read_text(errors="replace")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _stream(client: Any, thread_id: str, graph: str, run_input: dict[str, Any],
            context: dict[str, Any] | None = None) -> tuple[str, list[dict[str, Any]]]:
    """One streamed run: its id and its custom (progress) events."""
    run_id, events = "", []
    for part in client.runs.stream(thread_id, graph, input=run_input, context=context,
                                   stream_mode=["custom", "values"]):
        if part.event == "metadata":
            run_id = part.data["run_id"]
        elif part.event == "custom":
            events.append(part.data)
        elif part.event == "error":
            pytest.fail(f"{graph} run failed: {part.data}")
    return run_id, events


def _llm_calls(runs: Path, run_id: str) -> int:
    lines = (runs / run_id / "trajectory.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    assert events[0]["type"] == "run_start" and events[-1]["type"] == "final"
    return sum(e["type"] == "llm_call" for e in events)


def test_every_graph_runs_under_langgraph_dev(server: tuple[str, Path]) -> None:
    url, runs = server
    client = langgraph_sdk.get_sync_client(url=url)
    assistants = {a["graph_id"]: a for a in client.assistants.search()}
    assert set(GRAPHS) <= set(assistants)
    for graph in GRAPHS:
        schemas = client.assistants.get_schemas(assistants[graph]["assistant_id"])
        assert {"question", "messages"} <= set(schemas["input_schema"]["properties"])
        assert {"llm", "store", "embedder", "budget", "settings"} <= set(schemas["context_schema"]["properties"])

        thread = client.threads.create()["thread_id"]
        first, events = _stream(client, thread, graph, {"question": QUESTION})
        types = {e["type"] for e in events}
        assert "answer" in types and "step" in types
        if graph == "deep_research":
            assert LOOP_EVENTS <= types, types
        state = client.threads.get_state(thread)["values"]
        assert state["status"] in {"answered", "refused", "unsupported", "budget_exhausted"}
        assert state["answer"]
        if state["status"] == "answered":
            assert state["citations"], state
        usage_first = state["usage"]
        assert usage_first["llm_calls"] == _llm_calls(runs, first)

        # The same thread again, as a chat client sends it, with a context of its own.
        context = {"budget": {"max_llm_calls": 10}} if graph == "react" else None
        second, events = _stream(client, thread, graph,
                                 {"messages": [{"role": "user", "content": SECOND}]}, context)
        assert second != first and events
        state = client.threads.get_state(thread)["values"]
        assert state["question"] == SECOND and state["answer"]
        assert "citations" in state and state["status"]
        # Usage is the second run's own, not the thread's total.
        assert state["usage"]["llm_calls"] == _llm_calls(runs, second)
