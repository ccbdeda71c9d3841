"""A run waiting for its plan's review, checkpointed in PostgreSQL: one process plans
and stops, another (with its own runs folder view of the same run) resumes it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentflow.agent.review import AWAITING_REVIEW
from agentflow.evals.world.demo import demo_agent, demo_chains
from agentflow.trajectory import read_trajectory
from tests.test_server_postgres import dsn  # noqa: F401 - the throwaway cluster fixture

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

CHAIN = demo_chains()[0]

_PAUSE = """
import json, sys
from agentflow.evals.world.demo import demo_agent
agent = demo_agent(runs_dir=sys.argv[1], checkpoint_db=sys.argv[2])
result = agent.ask(sys.argv[3], review_plan=True)
print(json.dumps({"status": result.status, "run_id": result.run_id}))
"""


def test_a_paused_run_resumes_from_postgres_in_another_process(
    dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    db = f"postgres:{dsn}"
    env = {**os.environ, "AGENTFLOW_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", _PAUSE, str(tmp_path / "runs"), db, CHAIN.question], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    paused = json.loads(proc.stdout.strip().splitlines()[-1])
    assert paused["status"] == AWAITING_REVIEW
    assert not (tmp_path / "runs" / paused["run_id"] / "checkpoints.sqlite").exists()

    monkeypatch.setenv("AGENTFLOW_HOME", str(tmp_path))
    agent = demo_agent(runs_dir=tmp_path / "runs", checkpoint_db=db)
    proposal = agent.pending_review(paused["run_id"])
    assert proposal is not None and [s.step for s in proposal.sub_questions] == [1, 2]
    done = agent.resume(paused["run_id"], review="approve")
    assert done.status == "answered" and done.answer == CHAIN.city
    assert agent.pending_review(paused["run_id"]) is None
    assert [e["action"] for e in read_trajectory(done.trajectory).of_type("plan_review")] == ["approve"]
