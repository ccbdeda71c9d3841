"""Kill a run whose checkpoints and memory live in PostgreSQL, resume it in a new
process: the run's own budget comes back with it (from run.json, in the runner)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentflow.evals.world.demo import demo_chains
from tests.helpers import build_store, kill_at_hang
from tests.test_server_postgres import dsn  # noqa: F401 - the throwaway cluster fixture

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SCRIPT = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from agentflow import Agent
from agentflow.agent.budget import Budget
from agentflow.evals.world.reader import read_like_a_model
from agentflow.llm import ScriptedLLM
from tests.helpers import node_of

mode, store, out, run_id, db = sys.argv[1:6]
calls = []
inner = ScriptedLLM(fn=read_like_a_model)
def fn(messages, schema):
    calls.append(node_of(messages))
    Path(out).write_text(json.dumps(calls))
    if mode == "first" and len(calls) == 4:   # the 4th call: hang until killed
        Path(out + ".hang").write_text("hanging")
        time.sleep(120)
    return inner._fn(messages, schema)
# The resuming process is configured with another budget: the run's own must win.
budget = Budget(max_llm_calls=25) if mode == "first" else Budget(max_llm_calls=4)
agent = Agent(store, llm=ScriptedLLM(fn=fn), embedder="hash", checkpoint_db=db, budget=budget)
result = agent.ask({question!r}, run_id=run_id) if mode == "first" else agent.resume(run_id)
Path(out + ".result").write_text(json.dumps(result.to_json()))
"""

#: A three-hop chain of the demo world: plan, then read and verify
#: for each hop, so the 4th LLM call is the second hop's read.
CHAIN = demo_chains()[1]
THREE_HOP = CHAIN.three_hop


def test_killed_run_resumes_from_postgres(dsn: str, tmp_path: Path, repo_root: Path) -> None:  # noqa: F811
    store = build_store(tmp_path)
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(root=str(repo_root), question=THREE_HOP), encoding="utf-8")
    env = {**os.environ, "AGENTFLOW_HOME": str(tmp_path / "home")}
    db = f"postgres:{dsn}"
    first_out, second_out = tmp_path / "first.json", tmp_path / "second.json"
    kill_at_hang([sys.executable, str(script), "first", str(store), str(first_out), "pg-run", db], env,
                 Path(str(first_out) + ".hang"), "its 4th LLM call")
    # No SQLite checkpoint or memory file: the run's state is in PostgreSQL only.
    assert not list((tmp_path / "home").rglob("*.sqlite"))

    subprocess.run([sys.executable, str(script), "second", str(store), str(second_out), "pg-run", db], env=env,
                   check=True, timeout=300)
    second_calls = json.loads(second_out.read_text())
    result = json.loads(Path(str(second_out) + ".result").read_text())
    # With the resuming process's budget (4 LLM calls) the run could not finish answered.
    assert result["status"] == "answered" and result["answer"] == CHAIN.country
    assert second_calls[0] == "read" and "plan" not in second_calls
