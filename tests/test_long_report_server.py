"""The ``report`` graph under ``langgraph dev``, driven through ``langgraph_sdk``: it is
listed with its input schema (``words``), streams the research loop's progress and the
report's, ends with the report in the thread's state, and leaves one trajectory (the
loop's steps, then the report's) that the independent checker accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentflow.evals.check_report import check, retrieved_ids
from tests.test_langgraph_server import QUESTION, server  # noqa: F401 - the fixture

pytest.importorskip("langgraph_api")
pytest.importorskip("langgraph_runtime_inmem")
langgraph_sdk = pytest.importorskip("langgraph_sdk")

pytestmark = pytest.mark.slow

WRITER = "scripted:agentflow.report.scripted:write_like_a_model"


def test_report_graph_under_langgraph_dev(server: tuple[str, Path]) -> None:  # noqa: F811
    url, runs = server
    client = langgraph_sdk.get_sync_client(url=url)
    assistants = {a["graph_id"]: a for a in client.assistants.search()}
    assert "report" in assistants
    schemas = client.assistants.get_schemas(assistants["report"]["assistant_id"])
    assert {"question", "messages", "words"} <= set(schemas["input_schema"]["properties"])

    thread = client.threads.create()["thread_id"]
    run_id, events = "", []
    for part in client.runs.stream(thread, "report", input={"question": QUESTION, "words": 150},
                                   context={"llm": WRITER}, stream_mode=["custom", "values"]):
        if part.event == "metadata":
            run_id = part.data["run_id"]
        elif part.event == "custom":
            events.append(part.data)
        elif part.event == "error":
            pytest.fail(f"report run failed: {part.data}")
    nodes = {e.get("node") for e in events if e.get("type") == "step"}
    assert {"plan", "search", "answer", "outline", "write", "finish"} <= nodes, nodes
    assert any(e.get("kind") == "section" for e in events if e.get("type") == "note")

    state = client.threads.get_state(thread)["values"]
    assert state["status"] == "answered"
    report = state["report"]
    assert report["sections"] and report["sources"]
    assert state["answer"].startswith(f"# {QUESTION}")

    path = runs / run_id / "trajectory.jsonl"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    kinds = [e["type"] for e in lines]
    assert kinds[0] == "run_start" and kinds[-1] == "final" and "report" in kinds
    assert lines[-1]["answer"] == state["answer"]
    assert [e["seq"] for e in lines] == list(range(len(lines)))  # one file, appended in order
    figures = check(state["answer"], retrieved_ids(path))
    assert figures["cited_share"] == 1.0 and figures["retrieved_share"] == 1.0
    assert figures["words"] >= 150
