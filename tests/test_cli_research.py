"""``agentflow ask`` and ``agentflow show`` as a user runs them (real processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentflow.evals.world.demo import demo_chains
from tests.helpers import build_store, requires_llama

TWO_HOP = demo_chains()[0].question

AGENTFLOW = [sys.executable, "-m", "agentflow.cli.main"]


def run_cli(*args: str, home: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENTFLOW_HOME": str(home), "AGENTFLOW_EMBEDDER": "hash"}
    return subprocess.run([*AGENTFLOW, *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
@requires_llama
def test_ask_with_the_embedded_model_json(tmp_path: Path) -> None:
    """One short real run with SmolLM2: the run completes and every citation was retrieved."""
    store = build_store(tmp_path)
    traj = tmp_path / "run.jsonl"
    proc = run_cli("ask", TWO_HOP, "--store", str(store), "--llm", "local", "--json",
                   "--max-llm-calls", "8", "--trajectory", str(traj), home=tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) >= {"answer", "status", "citations", "sub_questions", "evidence", "usage", "trajectory"}
    assert out["status"] in {"answered", "refused", "budget_exhausted"}
    assert set(out["usage"]) == {"llm_calls", "prompt_tokens", "completion_tokens", "searches", "seconds"}
    assert 1 <= out["usage"]["llm_calls"] <= 8
    events = [json.loads(line) for line in traj.read_text().splitlines()]
    retrieved = {r["id"] for e in events if e["type"] == "tool_call" for r in e["results"]}
    assert {c["id"] for c in out["citations"]} <= retrieved
    assert events[-1]["type"] == "final"
    shown = run_cli("show", str(traj), home=tmp_path / "home")
    assert shown.returncode == 0 and "plan" in shown.stdout and "result" in shown.stdout


def test_ask_without_a_store_is_one_line_error(tmp_path: Path) -> None:
    proc = run_cli("ask", TWO_HOP, "--store", str(tmp_path / "missing"), "--llm", "scripted",
                   home=tmp_path / "home", timeout=120)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "agentflow ingest" in lines[0] and "Traceback" not in proc.stderr


def test_unknown_llm_lists_the_valid_ones(tmp_path: Path) -> None:
    store = build_store(tmp_path)
    proc = run_cli("ask", TWO_HOP, "--store", str(store), "--llm", "olama:x", home=tmp_path / "home", timeout=120)
    assert proc.returncode == 2
    assert "openai" in proc.stderr and "local" in proc.stderr


def test_show_of_a_truncated_trajectory_says_how_to_resume(tmp_path: Path) -> None:
    traj = tmp_path / "t.jsonl"
    traj.write_text(json.dumps({"v": 1, "type": "run_start", "run_id": "r1", "seq": 0, "t": 0, "question": "q?"})
                    + "\n{\"v\": 1, \"type\": \"step_st")  # a writer killed mid-line
    proc = run_cli("show", str(traj), home=tmp_path / "home", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "agentflow ask --resume r1" in proc.stdout.replace("\n", " ")
    assert "skipped 1 unreadable line" in proc.stdout
