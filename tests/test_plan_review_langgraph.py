"""Plan review under LangGraph's own server: ``langgraph dev`` over the repository's
``langgraph.json``, driven through ``langgraph_sdk``. A run with
``context={"review_plan": True}`` stops on an interrupt carrying the plan; resuming with
``Command(resume=...)`` (the SDK's ``command={"resume": ...}``) goes on with the
reviewed plan; an unusable answer is refused by asking again (the next interrupt says
why), and the run's one trajectory records it all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentflow.evals.world.demo import demo_chains
from tests.test_langgraph_server import server  # noqa: F401 - the langgraph dev fixture

langgraph_sdk = pytest.importorskip("langgraph_sdk")

pytestmark = pytest.mark.slow

CHAIN = demo_chains()[0]
COMPANY = CHAIN.question.split("founder of ", 1)[1].removesuffix(" born?")
REVIEW = {"review_plan": True}


def _run(client: Any, thread_id: str, **kwargs: Any) -> tuple[str, list[Any]]:
    """One streamed run: its id and the interrupts it stopped on."""
    run_id, interrupts = "", []
    for part in client.runs.stream(thread_id, "deep_research", stream_mode=["updates"], **kwargs):
        if part.event == "metadata":
            run_id = part.data["run_id"]
        elif part.event == "updates" and "__interrupt__" in (part.data or {}):
            interrupts.extend(part.data["__interrupt__"])
        elif part.event == "error":
            pytest.fail(f"run failed: {part.data}")
    return run_id, interrupts


def test_interrupt_then_resume_with_a_command(server: tuple[str, Path]) -> None:  # noqa: F811
    url, runs = server
    client = langgraph_sdk.get_sync_client(url=url)
    thread = client.threads.create()["thread_id"]

    first, interrupts = _run(client, thread, input={"question": CHAIN.question}, context=REVIEW)
    assert len(interrupts) == 1
    proposal = interrupts[0]["value"]
    assert proposal["kind"] == "plan_review" and proposal["error"] is None
    assert [(s["question"], s["depends_on"]) for s in proposal["sub_questions"]] == [
        (f"Who founded {COMPANY}?", []), ("In which city was #1 born?", [1])]
    state = client.threads.get_state(thread)
    assert state["next"] == ["review_plan"] and not state["values"].get("status")

    # An unusable answer is refused by asking again, with the reason.
    _, interrupts = _run(client, thread, command={"resume": {"action": "edit", "edits": [{"op": "remove", "step": 1}]}},
                         context=REVIEW)
    assert len(interrupts) == 1
    assert "step 2 refers to #1, which is removed" in interrupts[0]["value"]["error"]
    assert interrupts[0]["value"]["sub_questions"] == proposal["sub_questions"]

    # Contexts are per run: a resume that does not repeat review_plan still counts.
    reword = f"Who was the founder of {COMPANY}?"
    _, interrupts = _run(client, thread, command={"resume": {"action": "edit", "edits": [
        {"op": "reword", "step": 1, "question": reword}]}})
    assert interrupts == []
    values = client.threads.get_state(thread)["values"]
    assert values["status"] == "answered" and values["answer"] == CHAIN.city
    assert values["sub_questions"][0]["text"] == reword

    # One trajectory for the whole run, under the first server run's id.
    events = [json.loads(line) for line in (runs / first / "trajectory.jsonl").read_text().splitlines()]
    types = [e["type"] for e in events]
    assert types[0] == "run_start" and types[-1] == "final" and types.count("final") == 1
    assert types.count("plan_review_requested") == 2
    review = [e for e in events if e["type"] == "plan_review"]
    assert len(review) == 1 and review[0]["action"] == "edit"
    assert len(review[0]["refused"]) == 1 and "removed" in review[0]["refused"][0]["error"]
    assert review[0]["after"][0]["question"] == reword
