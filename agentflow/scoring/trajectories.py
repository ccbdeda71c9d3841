"""The trajectory files of an eval folder: is a question done, setting a killed run's
partial file aside, run ids unique in the folder, and recording a failure the runner
could not record itself."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from agentflow.scoring.manifest import INTERRUPTED, RUNS, trajectory_name
from agentflow.trajectory import TrajectoryRecorder, read_trajectory

if TYPE_CHECKING:
    from agentflow.evals.datasets import QAExample


def trajectory_finished(path: Path) -> bool:
    """True when the trajectory at ``path`` holds a ``final`` event (its run ended).

    Only the file's tail is parsed: ``final`` is the last event a run writes.
    """
    if not path.is_file():
        return False
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 65536))
        tail = fh.read().decode("utf-8", errors="replace")
    for line in reversed(tail.splitlines()):
        if '"final"' not in line:
            continue
        try:
            if json.loads(line).get("type") == "final":
                return True
        except json.JSONDecodeError:
            continue
    # A final event longer than the tail window (huge evidence): read it all.
    if size > 65536:
        return read_trajectory(path).final is not None
    return False


def _first_run_id(path: Path) -> str:
    try:
        with path.open(encoding="utf-8") as fh:
            return str(json.loads(fh.readline()).get("run_id") or "")
    except (OSError, ValueError):
        return ""


def set_aside(out: Path, path: Path) -> None:
    """Move a partial (or retried) trajectory to ``DIR/interrupted/``: kept for debugging,
    never scored."""
    folder = out / INTERRUPTED
    folder.mkdir(parents=True, exist_ok=True)
    stem = _first_run_id(path) or f"{path.stem}-{int(time.time())}"
    target = folder / f"{stem}.jsonl"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{stem}-{n}.jsonl"
    path.replace(target)


def new_run_id(out: Path, question_id: str) -> str:
    """``<qid>.r<N>`` with the first N whose run folder does not exist: unique in DIR."""
    stem = trajectory_name(question_id)
    n = 1
    while ((out / RUNS / f"{stem}.r{n}").exists()
           or (out / INTERRUPTED / f"{stem}.r{n}.jsonl").exists()):
        n += 1
    return f"{stem}.r{n}"


def record_failure(path: Path, run_id: str, example: QAExample, exc: BaseException) -> None:
    """Write (or finish) a trajectory for a question whose run raised outside the graph."""
    fresh = not path.exists() or path.stat().st_size == 0
    recorder = TrajectoryRecorder(path, run_id)
    if fresh:
        recorder.record("run_start", question=example.question, graph="", config={}, model="",
                        versions={}, metadata={"question_id": example.id}, seeded_memory=False)
    message = f"{type(exc).__name__}: {exc}"
    recorder.record("error", message=str(exc), error_type=type(exc).__name__)
    recorder.record("final", answer="", status="error", citations=[], sub_questions=[], evidence=[],
                    retrieved_ids=[], usage={}, removed_citations=[], error=message)
    recorder.close()


def final_status(path: Path) -> str:
    """The status of a finished trajectory ('' when it has no ``final`` event)."""
    final = read_trajectory(path).final
    return str(final.get("status", "")) if final else ""
