"""``agentflow ask --review-plan`` as a user runs it: a real process whose stdin is a
script of review commands (the demo world's store and scripted reader)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentflow.evals.world.demo import demo_chains
from agentflow.trajectory import read_trajectory
from tests.helpers import build_store
from tests.test_cli_research import AGENTFLOW

CHAIN = demo_chains()[0]
COMPANY = CHAIN.question.split("founder of ", 1)[1].removesuffix(" born?")
READER = "scripted:agentflow.evals.world.reader:read_like_a_model"

pytestmark = pytest.mark.slow


def ask(store: Path, home: Path, stdin: str, *args: str) -> tuple[int, str, str]:
    import os
    import subprocess

    env = {**os.environ, "AGENTFLOW_HOME": str(home), "AGENTFLOW_EMBEDDER": "hash"}
    proc = subprocess.run([*AGENTFLOW, "ask", *args, "--store", str(store), "--llm", READER], input=stdin,
                          env=env, capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def test_review_at_the_terminal_with_a_scripted_stdin(tmp_path: Path) -> None:
    store, home = build_store(tmp_path), tmp_path / "home"
    script = "\n".join([
        "remove 1",                                      # refused: step 2 refers to #1
        f"edit 1 Who was the founder of {COMPANY}?",    # reword
        f"add after 1 In which year was {COMPANY} established?",
        "add What is the weather like on Mars today?",  # accepted as an edit, refused at approve
        "approve",
        "remove 4",
        "approve",
    ]) + "\n"
    code, out, err = ask(store, home, script, CHAIN.question, "--review-plan", "--json")
    assert code == 0, err
    result = json.loads(out)  # stdout holds the one JSON result; the prompt went to stderr
    assert result["status"] == "answered" and result["answer"] == CHAIN.city
    assert [sq["question"] for sq in result["sub_questions"]][:2] == [
        f"Who was the founder of {COMPANY}?", f"In which year was {COMPANY} established?"]
    assert len(result["sub_questions"]) == 3
    assert "Plan for: " + CHAIN.question in err and "  2. In which city was #1 born?  (after 1)" in err
    assert "step 2 refers to #1, which is removed" in err
    assert "sub-question 4 shares no words with the question" in err
    review = read_trajectory(result["trajectory"]).of_type("plan_review")
    assert len(review) == 1 and review[0]["action"] == "edit"
    assert [e["op"] for e in review[0]["edits"]] == ["reword", "add", "add", "remove"]  # as the person made them
    assert [s["question"] for s in review[0]["before"]] == [f"Who founded {COMPANY}?", "In which city was #1 born?"]
    assert [s["depends_on"] for s in review[0]["after"]] == [[], [], [1]]


def test_the_end_of_input_leaves_the_run_waiting_and_resume_asks_again(tmp_path: Path) -> None:
    store, home = build_store(tmp_path), tmp_path / "home"
    code, _, err = ask(store, home, "show\n", CHAIN.question, "--review-plan", "--run-id", "waiting-1")
    assert code == 2 and "run waiting-1 waits for one" in err and "agentflow ask --resume waiting-1" in err
    # Another process: resuming the waiting run shows the plan again; replace it.
    script = f"replace\nWho founded {COMPANY}?\nIn which city was #1 born?\n\napprove\n"
    code, out, err = ask(store, home, script, "--resume", "waiting-1", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "answered" and result["answer"] == CHAIN.city
    review = read_trajectory(result["trajectory"]).of_type("plan_review")
    assert [r["action"] for r in review] == ["replace"]
