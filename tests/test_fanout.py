"""Parallel sub-questions (``ResearchSettings.concurrency``): independent steps run in
branches at once, a step that depends on them runs after, budgets hold across branches,
and the merged result does not depend on which branch finished first."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentflow import Agent
from agentflow.agent.budget import Budget
from agentflow.agent.context import ResearchSettings
from agentflow.agent.memory_merge import merge_memory
from agentflow.agent.memory_store import fingerprint, graph_delta
from agentflow.evals.world.demo import demo_chains
from agentflow.evals.world.reader import read_like_a_model
from agentflow.evals.world.wording import QUESTIONS
from agentflow.llm import ScriptedLLM
from agentflow.memory.graph import MemoryGraph
from agentflow.records import ChatMessage, SearchHit
from agentflow.trajectory import read_trajectory
from tests.helpers import build_store, node_of

CHAINS = demo_chains()
A, B = CHAINS[0], CHAINS[1]
#: Two independent steps and a third that needs both (it names #1; #2 is a plan-level need).
QUESTION = (f"Who founded {A.company} and who founded {B.company}, "
            f"and in which city was the founder of {A.company} born?")
PLAN = [(QUESTIONS["founded_by"][0].format(x=A.company), []),
        (QUESTIONS["founded_by"][0].format(x=B.company), []),
        (QUESTIONS["born_in"][0].format(x="#1"), [1, 2])]
#: Four independent steps (the benchmark's shape).
WIDE_QUESTION = "Who founded " + ", ".join(c.company for c in CHAINS[:4]) + "?"
WIDE_PLAN = [(QUESTIONS["founded_by"][0].format(x=c.company), []) for c in CHAINS[:4]]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("fanout"))


def _asked(messages: list[ChatMessage]) -> str:
    found = re.findall(r"^Question: (.*)$", messages[-1].content, re.MULTILINE)
    return found[-1] if found else ""


def planned_llm(plan: list[tuple[str, list[int]]], *, delay: Callable[[str, str], float] | None = None,
                log: list[tuple[str, str, float, float]] | None = None) -> ScriptedLLM:
    """The world's scripted reader with ``plan`` as the model's plan; ``delay(node, question)``
    seconds per call; ``log`` gets ``(node, question, start, end)`` of every call."""

    def fn(messages: list[ChatMessage], schema: dict[str, Any] | None) -> Any:
        node, asked = node_of(messages), _asked(messages)
        start = time.monotonic()
        if delay is not None:
            time.sleep(delay(node, asked))
        if log is not None:
            log.append((node, asked, start, time.monotonic()))
        if node == "plan":
            return {"sub_questions": [{"question": q, "depends_on": d} for q, d in plan]}
        return read_like_a_model(messages, schema)

    return ScriptedLLM(fn=fn)


def ask(store: Path, llm: ScriptedLLM, question: str, tmp_path: Path, concurrency: int | None,
        **kw: Any) -> Any:
    agent = Agent(store, llm=llm, embedder="hash", runs_dir=tmp_path / f"runs-{concurrency}-{time.time_ns()}",
                  settings=ResearchSettings(concurrency=concurrency), **kw)
    return agent.ask(question)


def test_independent_steps_run_at_once_and_the_step_needing_both_after(store: Path, tmp_path: Path) -> None:
    result = ask(store, planned_llm(PLAN, delay=lambda node, q: 0.3), QUESTION, tmp_path, 2)
    assert result.status == "answered" and result.answer == A.city
    assert [s["answer"] for s in result.sub_questions] == [A.founder, B.founder, A.city]
    events = read_trajectory(result.trajectory).events
    window = {e["branch"]: [e["t"], None] for e in events if e["type"] == "branch_start"}
    for e in events:
        if e["type"] == "branch_end":
            window[e["branch"]][1] = e["t"]
    assert set(window) == {"1", "2"}  # step 3 was never ready with another: no branch of its own
    (s1, e1), (s2, e2) = window["1"], window["2"]
    assert s1 < e2 and s2 < e1, f"branch windows do not overlap: {window}"
    third = [e["t"] for e in events if e["type"] == "step_start" and e.get("sub_question") == "3"]
    assert third and min(third) >= max(e1, e2)
    # Every event of a branch names it; the branches' steps ran for their own sub-question.
    steps = [e for e in events if e["type"] == "step_start" and e.get("branch")]
    assert {(e["branch"], e["sub_question"]) for e in steps} == {("1", "1"), ("2", "2")}
    assert {e["node"] for e in steps} == {"search", "read", "verify"}
    # What both branches found is in the run's merged state.
    final = events[-1]
    assert {A.company_id, B.company_id, A.founder_id} <= set(final["retrieved_ids"])
    assert result.usage["llm_calls"] == 7  # plan, then read + verify for each of three steps


def test_concurrency_one_is_the_sequential_loop(store: Path, tmp_path: Path) -> None:
    """Concurrency 1 (the default for this model) sends the same requests in the same order,
    and a plan whose steps are never ready together does too at any concurrency."""
    sent: dict[Any, list[Any]] = {}
    for key, plan, question, concurrency in [("default", PLAN, QUESTION, None), ("one", PLAN, QUESTION, 1),
                                             ("chain-1", None, A.three_hop, 1), ("chain-4", None, A.three_hop, 4)]:
        llm = ScriptedLLM(fn=read_like_a_model) if plan is None else planned_llm(plan)
        result = ask(store, llm, question, tmp_path, concurrency)
        assert result.status == "answered"
        sent[key] = [[(m.role, m.content) for m in messages] for messages, _ in llm.calls]
        events = read_trajectory(result.trajectory).events
        assert not any(e["type"].startswith("branch") or e.get("node") == "join" for e in events)
    assert sent["default"] == sent["one"]
    assert sent["chain-1"] == sent["chain-4"]


def test_budget_holds_across_branches(store: Path, tmp_path: Path) -> None:
    llm = planned_llm(WIDE_PLAN)
    budget = Budget(max_llm_calls=4, max_searches=6)
    result = ask(store, llm, WIDE_QUESTION, tmp_path, 4, budget=budget)
    events = read_trajectory(result.trajectory).events
    searches = [e for e in events if e["type"] == "tool_call" and e["tool"] != "memory"]
    assert len(llm.calls) <= 4 and result.usage["llm_calls"] <= 4
    assert len(searches) <= 6 and result.usage["searches"] <= 6
    shares = [e["share"] for e in events if e["type"] == "branch_start"]
    assert len(shares) == 4
    # The shares add up to what the plan left: 3 calls and 6 searches.
    assert sum(s["llm_calls"] for s in shares) == 3 and sum(s["searches"] for s in shares) == 6
    assert result.status in {"answered", "budget_exhausted"}


def test_the_merge_does_not_depend_on_which_branch_finishes_first(store: Path, tmp_path: Path) -> None:
    def slow(company: str) -> Callable[[str, str], float]:
        return lambda node, asked: 0.4 if company in asked else 0.0

    runs = []
    for company in (A.company, B.company):
        log: list[tuple[str, str, float, float]] = []
        result = ask(store, planned_llm(PLAN, delay=slow(company), log=log), QUESTION, tmp_path, 2)
        ends = {q: end for node, q, _, end in log if node == "verify"}
        runs.append((result, ends))
    (first, ends_a), (second, ends_b) = runs
    q1, q2 = PLAN[0][0], PLAN[1][0]
    assert ends_a[q1] > ends_a[q2] and ends_b[q2] > ends_b[q1]  # the branches finished in both orders
    for field in ("answer", "status", "sub_questions", "citations", "evidence"):
        assert getattr(first, field) == getattr(second, field), field
    # The memory graphs are the same, node for node and edge for edge (its ids name the run).
    memory = [json.loads(json.dumps(r.memory).replace(r.run_id, "RUN")) for r in (first, second)]
    assert memory[0] == memory[1]
    assert {k: v for k, v in first.usage.items() if k != "seconds"} == \
        {k: v for k, v in second.usage.items() if k != "seconds"}
    final = [read_trajectory(r.trajectory).events[-1] for r in (first, second)]
    assert final[0]["retrieved_ids"] == final[1]["retrieved_ids"]


def _graph_with(facts: list[tuple[str, str]]) -> dict[str, Any]:
    graph = MemoryGraph()
    graph.add_subquestion("q.1", "Who?", question_id="q")
    for pid, text in facts:
        graph.add_passage(SearchHit(id=pid, title=pid.title(), text=text, score=1.0), retrieved_for="q.1")
        graph.add_fact(text, source_passage_id=pid, sub_question_id="q.1")
    return graph.to_json()


def test_memory_merge_renumbers_facts_and_keeps_shared_ones_once() -> None:
    base = _graph_with([("p0", "Ann founded Acme.")])
    one = graph_delta(fingerprint(base), _graph_with([("p0", "Ann founded Acme."), ("p1", "Bo was born in Oslo.")]))[0]
    two = graph_delta(fingerprint(base), _graph_with([("p0", "Ann founded Acme."), ("p2", "Cy lives in Rome.")]))[0]
    both = merge_memory(base, [one, two])
    facts = {n["text"]: n["id"] for n in both["nodes"] if n["type"] == "fact"}
    assert facts == {"Ann founded Acme.": "f:1", "Bo was born in Oslo.": "f:2", "Cy lives in Rome.": "f:3"}
    merged = MemoryGraph.from_json(both)
    assert [f["text"] for f in merged.facts_from("p2")] == ["Cy lives in Rome."]
    assert set(merged.passage_ids()) == {"p0", "p1", "p2"}


def test_concurrency_setting_is_checked_and_defaults_by_backend() -> None:
    from pydantic import ValidationError

    from agentflow.agent.context import RunContext
    from agentflow.agent.fanout import REMOTE_CONCURRENCY, concurrency_of

    with pytest.raises(ValidationError):
        ResearchSettings(concurrency=0)
    remote, local = ScriptedLLM(), ScriptedLLM()
    remote.base_url = "https://models.example.com/v1"  # type: ignore[attr-defined]
    local.base_url = "http://127.0.0.1:8080/v1"  # type: ignore[attr-defined]
    assert concurrency_of(RunContext(llm=remote, tools=[])) == REMOTE_CONCURRENCY
    assert concurrency_of(RunContext(llm=local, tools=[])) == 1
    assert concurrency_of(RunContext(llm=ScriptedLLM(), tools=[])) == 1
    assert concurrency_of(RunContext(llm=remote, tools=[], settings=ResearchSettings(concurrency=1))) == 1


def test_branches_overlap_in_wall_time(store: Path, tmp_path: Path) -> None:
    """Four independent steps at 0.2 s a call: at concurrency 4 the branches' LLM calls overlap."""
    log: list[tuple[str, str, float, float]] = []
    result = ask(store, planned_llm(WIDE_PLAN, delay=lambda node, q: 0.2, log=log), WIDE_QUESTION, tmp_path, 4)
    assert result.status == "answered"
    reads = sorted((start, end) for node, _, start, end in log if node == "read")
    assert len(reads) == 4
    assert any(reads[i + 1][0] < reads[i][1] for i in range(3)), reads


def plan_reader(messages: list[ChatMessage], schema: dict[str, Any] | None) -> Any:
    """``scripted:tests.test_fanout:plan_reader``: the world's reader, planning :data:`PLAN`."""
    if node_of(messages) == "plan":
        return {"sub_questions": [{"question": q, "depends_on": d} for q, d in PLAN]}
    return read_like_a_model(messages, schema)


def test_fanout_under_langgraph_tooling_with_a_store_and_checkpointer(store: Path, tmp_path: Path) -> None:
    """The graph as ``langgraph dev`` runs it: context from JSON, memory in the graph's store."""
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.store.memory import InMemoryStore

    from graphs.deep_research import build

    graph = build().compile(checkpointer=InMemorySaver(), store=InMemoryStore())
    context = {"llm": "scripted:tests.test_fanout:plan_reader", "store": str(store), "embedder": "hash",
               "runs": str(tmp_path / "runs"), "settings": {"concurrency": 2}}
    out = graph.invoke({"question": QUESTION, "run_id": "lg-1"}, {"configurable": {"thread_id": "t-1"}},
                       context=context)
    assert out["status"] == "answered" and out["answer"] == A.city
    assert out["memory"]["rev"] == out["memory_rev"]  # a reference: the graph lives in the store
    events = read_trajectory(tmp_path / "runs" / "lg-1" / "trajectory.jsonl").events
    assert sorted(e["branch"] for e in events if e["type"] == "branch_end") == ["1", "2"]
    assert events[-1]["type"] == "final" and events[-1]["status"] == "answered"
