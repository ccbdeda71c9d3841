"""Kill a run with SIGKILL while two branches research at once, then resume it: the run
finishes, no completed LLM call is sent again, and the branch that had finished is kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import build_store, kill_at_hang
from tests.test_fanout import PLAN, QUESTION, A

SCRIPT = r"""
import json, os, re, sqlite3, sys, threading, time
from pathlib import Path
sys.path.insert(0, {root!r})
from agentflow import Agent
from agentflow.agent.context import ResearchSettings
from agentflow.evals.world.reader import read_like_a_model
from agentflow.llm import ScriptedLLM
from tests.helpers import node_of

mode, store, out, run_id = sys.argv[1:5]
plan, first_step, second_step = {plan!r}, {plan!r}[0][0], {plan!r}[1][0]
done = []  # completed calls: (node, question)
lock = threading.Lock()

def asked(messages):
    found = re.findall(r"^Question: (.*)$", messages[-1].content, re.MULTILINE)
    return found[-1] if found else ""

def fn(messages, schema):
    node, question = node_of(messages), asked(messages)
    if mode == "first" and node == "verify" and question == second_step:
        # Hang inside the fan-out once the other branch has finished and its result is
        # in the checkpoint database (a task's writes are saved as it ends), until killed.
        db = Path(os.environ["AGENTFLOW_HOME"]) / "runs" / run_id / "checkpoints.sqlite"
        deadline = time.time() + 60
        while time.time() < deadline:
            with sqlite3.connect(db) as conn:
                if conn.execute("SELECT count(*) FROM writes WHERE channel = 'branches'").fetchone()[0]:
                    break
            time.sleep(0.05)
        Path(out + ".hang").write_text("hanging")
        time.sleep(120)
    if node == "plan":
        answer = {{"sub_questions": [{{"question": q, "depends_on": d}} for q, d in plan]}}
    else:
        answer = read_like_a_model(messages, schema)
    # The fan-out's branches call this from two threads: one writer at a time, and the
    # file replaced whole (a write interleaved with another's truncation left two lists).
    with lock:
        done.append([node, question])
        Path(out + ".tmp").write_text(json.dumps(done))
        os.replace(out + ".tmp", out)
    return answer

agent = Agent(store, llm=ScriptedLLM(fn=fn), embedder="hash", settings=ResearchSettings(concurrency=2))
result = agent.ask({question!r}, run_id=run_id) if mode == "first" else agent.resume(run_id)
Path(out + ".result").write_text(json.dumps(result.to_json()))
"""


@pytest.mark.slow
def test_killed_fanout_resumes_without_repeating_completed_llm_calls(tmp_path: Path, repo_root: Path) -> None:
    store = build_store(tmp_path)
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(root=str(repo_root), question=QUESTION, plan=PLAN), encoding="utf-8")
    env = {**os.environ, "AGENTFLOW_HOME": str(tmp_path / "home")}
    first_out, second_out = tmp_path / "first.json", tmp_path / "second.json"

    kill_at_hang([sys.executable, str(script), "first", str(store), str(first_out), "run-1"], env,
                 Path(str(first_out) + ".hang"), "the fan-out")
    first = [tuple(c) for c in json.loads(first_out.read_text())]
    # Completed before the kill: the plan, both reads, the first branch's verify.
    assert sorted(first) == sorted([("plan", QUESTION), ("read", PLAN[0][0]), ("verify", PLAN[0][0]),
                                    ("read", PLAN[1][0])])

    subprocess.run([sys.executable, str(script), "second", str(store), str(second_out), "run-1"], env=env,
                   check=True, timeout=300)
    second = [tuple(c) for c in json.loads(second_out.read_text())]
    result = json.loads(Path(str(second_out) + ".result").read_text())
    assert result["status"] == "answered" and result["answer"] == A.city
    assert not set(first) & set(second), f"completed calls sent again: {set(first) & set(second)}"
    # The interrupted verify, then the step that needed both branches.
    third = PLAN[2][0].replace("#1", A.founder)
    assert second == [("verify", PLAN[1][0]), ("read", third), ("verify", third)]
    events = [json.loads(line) for line in
              (tmp_path / "home" / "runs" / "run-1" / "trajectory.jsonl").read_text().splitlines()]
    resumed = next(i for i, e in enumerate(events) if e["type"] == "run_resumed")
    # Only the unfinished branch ran again; the finished one's result was kept.
    assert [e["branch"] for e in events[resumed:] if e["type"] == "branch_start"] == ["2"]
    assert events[-1]["type"] == "final" and events[-1]["status"] == "answered"
