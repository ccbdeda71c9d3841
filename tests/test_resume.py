"""Kill a real run with SIGKILL mid-way and resume it from the SQLite checkpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentflow.evals.world.demo import demo_chains
from tests.helpers import build_store, kill_at_hang

SCRIPT = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from agentflow import Agent
from agentflow.evals.world.reader import read_like_a_model
from agentflow.llm import ScriptedLLM
from tests.helpers import node_of

mode, store, out, run_id = sys.argv[1:5]
calls = []
inner = ScriptedLLM(fn=read_like_a_model)
def fn(messages, schema):
    node = node_of(messages)
    calls.append(node)
    Path(out).write_text(json.dumps(calls))
    if mode == "first" and len(calls) == 4:   # the 4th call: hang until killed
        Path(out + ".hang").write_text("hanging")
        time.sleep(120)
    return inner._fn(messages, schema)
agent = Agent(store, llm=ScriptedLLM(fn=fn), embedder="hash")
result = agent.ask({question!r}, run_id=run_id) if mode == "first" else agent.resume(run_id)
Path(out + ".result").write_text(json.dumps(result.to_json()))
"""

#: A three-hop chain of the demo world: plan, then read and verify
#: for each hop, so the 4th LLM call is the second hop's read.
CHAIN = demo_chains()[1]
THREE_HOP = CHAIN.three_hop


@pytest.mark.slow
def test_killed_run_resumes_without_repeating_completed_llm_calls(tmp_path: Path, repo_root: Path) -> None:
    store = build_store(tmp_path)
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(root=str(repo_root), question=THREE_HOP), encoding="utf-8")
    env = {**os.environ, "AGENTFLOW_HOME": str(tmp_path / "home")}
    first_out, second_out = tmp_path / "first.json", tmp_path / "second.json"

    kill_at_hang([sys.executable, str(script), "first", str(store), str(first_out), "run-1"], env,
                 Path(str(first_out) + ".hang"), "its 4th LLM call")
    first_calls = json.loads(first_out.read_text())
    assert first_calls == ["plan", "read", "verify", "read"]  # killed inside the 2nd read

    subprocess.run([sys.executable, str(script), "second", str(store), str(second_out), "run-1"], env=env,
                   check=True, timeout=300)
    second_calls = json.loads(second_out.read_text())
    result = json.loads(Path(str(second_out) + ".result").read_text())
    assert result["status"] == "answered" and result["answer"] == CHAIN.country
    # Completed steps (plan, the first sub-question's read and verify) are not repeated;
    # only the node that was interrupted runs again.
    assert second_calls[0] == "read" and "plan" not in second_calls
    assert second_calls.count("read") == 2 and "answer" not in second_calls
    trajectory = tmp_path / "home" / "runs" / "run-1" / "trajectory.jsonl"
    events = [json.loads(line) for line in trajectory.read_text().splitlines()]
    assert sum(e["type"] == "run_resumed" for e in events) == 1
    assert events[-1]["type"] == "final" and events[-1]["status"] == "answered"
