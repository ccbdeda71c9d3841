"""Kill runs at random moments and resume them: how many finish as an unkilled run does,
and how many LLM requests that had completed before the kill are sent again.

    python -m agentflow.evals.bench_resume --kills 20 [--delay 0.25] [--contention] [--json]

A slow fake OpenAI-compatible server (:mod:`agentflow.evals.fault_server`, answering
with :mod:`agentflow.evals.fake_model`) logs every request. For each of ``--kills``
questions of a synthetic world: a reference run in this process, then a run in a child
process killed with SIGKILL at a random moment, then ``Agent.resume`` here. With
``--contention`` another connection keeps taking the run's checkpoint write lock
(1 s held, 0.2 s free) during both the killed run and its resume.

A request counts as repeated when the killed and resumed runs together sent it more
often than the reference run did, counting only copies whose answer had been written
before the kill. ``late`` counts those written less than 50 ms before the kill (a
response still in the socket buffer cannot be saved by any client).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

__all__ = ["ResumeFigures", "hold_write_lock", "kill_and_resume", "main"]

LATE_S = 0.05


def hold_write_lock(
    paths: list[Path], stop: threading.Event, hold_s: float = 1.0, gap_s: float = 0.2
) -> None:
    """Keep taking the write lock of the first SQLite database of ``paths`` to exist, until
    ``stop`` (the run's own database, or the shared one older versions used)."""
    while not stop.is_set() and not any(p.exists() for p in paths):
        time.sleep(0.02)
    if stop.is_set():
        return
    path = next(p for p in paths if p.exists())
    conn = sqlite3.connect(str(path), timeout=60, isolation_level=None)
    try:
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            stop.wait(hold_s)
            conn.execute("COMMIT")
            stop.wait(gap_s)
    finally:
        conn.close()


class ResumeFigures(dict):  # type: ignore[type-arg]
    """The figures of a kill/resume series (a plain dict with a printable summary)."""

    def summary(self) -> str:
        """One line per figure."""
        return (
            f"killed and resumed: {self['resumed']}/{self['killed']} resumed to the reference result\n"
            f"repeated completed calls: {self['repeated_calls']} (of which late: {self['late']})\n"
            f"finished before the kill: {self['finished_before_kill']}\n"
            f"requests: reference {self['reference_requests']}, killed runs {self['killed_requests']}, "
            f"resumes {self['resume_requests']}"
        )


def _child(argv: list[str]) -> int:
    store, runs, url, run_id, question = argv
    from agentflow import Agent

    agent = Agent(store, llm=f"openai:fault-model@{url}", embedder="hash", runs_dir=runs)
    agent.ask(question, run_id=run_id)
    return 0


def _world(folder: Path, n_questions: int, seed: int) -> tuple[Path, list[str]]:
    from agentflow.evals.world.generator import write_world
    from agentflow.store.corpus import CorpusStore
    from agentflow.store.ingest import ingest

    files = write_world(folder / "world", n_docs=80, n_questions=max(n_questions, 4), seed=seed)
    store = folder / "store"
    ingest([files.corpus], CorpusStore(store, embedder="hash"), progress=False)
    lines = files.questions.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines]
    return store, questions[:n_questions]


def kill_and_resume(
    n: int, *, delay_s: float = 0.25, contention: bool = False, seed: int = 0, folder: Path | None = None
) -> ResumeFigures:
    """Run the series of ``n`` kills and return its figures."""
    from agentflow import Agent
    from agentflow.evals.fake_model import answer_request
    from agentflow.evals.fault_server import FaultServer

    rng = random.Random(seed)
    work = Path(folder or tempfile.mkdtemp(prefix="af-resume-"))
    store, questions = _world(work, n, seed)
    runs = work / "runs"
    figures = ResumeFigures(killed=0, resumed=0, repeated_calls=0, late=0, finished_before_kill=0,
                            reference_requests=0, killed_requests=0, resume_requests=0, cases=[])
    with FaultServer(lambda i, req: "ok", answer_request, delay_s=delay_s) as server:
        agent = Agent(store, llm=f"openai:fault-model@{server.base_url}", embedder="hash", runs_dir=runs)
        for i, question in enumerate(questions):
            start = len(server.requests)
            began = time.monotonic()
            reference = agent.ask(question, run_id=f"ref-{i}")
            duration = time.monotonic() - began
            ref_keys = Counter(r["key"] for r in server.requests[start:])
            figures["reference_requests"] += len(server.requests) - start

            run_id = f"kill-{i}"
            first = len(server.requests)
            stop = threading.Event()
            locker = threading.Thread(target=hold_write_lock, args=([runs / run_id / "checkpoints.sqlite", runs / "checkpoints.sqlite"], stop),
                                      daemon=True)
            if contention:
                locker.start()
            env = {**os.environ, "AGENTFLOW_HOME": str(work / "home")}
            child = subprocess.Popen(
                [sys.executable, "-m", "agentflow.evals.bench_resume", "--child", str(store), str(runs),
                 server.base_url, run_id, question], env=env)
            while len(server.requests) == first and child.poll() is None:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, duration * (1.5 if contention else 0.9)))
            killed_at = time.time()
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
                figures["killed"] += 1
            else:
                figures["finished_before_kill"] += 1
            child.wait()
            cut = len(server.requests)
            before = server.requests[first:cut]
            resumed = agent.resume(run_id)
            stop.set()
            if contention:
                locker.join()
            after = server.requests[cut:]
            done = Counter(r["key"] for r in before if r.get("done_at", 1e18) <= killed_at)
            late = Counter(r["key"] for r in before if killed_at - LATE_S < r.get("done_at", 1e18) <= killed_at)
            sent_after = Counter(r["key"] for r in after)
            repeated = sum(max(0, done[k] + sent_after[k] - ref_keys[k]) for k in set(done) | set(sent_after))
            late_repeats = min(repeated, sum(late.values()))
            unmatched = [r["messages"][-1]["content"][:300] for r in after if r["key"] not in ref_keys]
            gaps = sorted(round((killed_at - r["done_at"]) * 1000, 1) for r in before
                          if r.get("done_at", 1e18) <= killed_at and sent_after[r["key"]])
            same = (resumed.status, resumed.answer) == (reference.status, reference.answer)
            figures["resumed"] += int(same and resumed.status != "error")
            figures["repeated_calls"] += repeated
            figures["late"] += late_repeats
            figures["killed_requests"] += len(before)
            figures["resume_requests"] += len(after)
            figures["cases"].append({"run_id": run_id, "status": resumed.status, "reference": reference.status,
                                     "same": same, "sent_before": len(before), "sent_after": len(after),
                                     "repeated": repeated, "unmatched": unmatched, "ms_from_answer_to_kill": gaps[:3] if repeated else [],
                                     "error": resumed.error})
    return figures


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return _child(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.25, help="seconds per fake LLM answer")
    parser.add_argument("--contention", action="store_true", help="hold the checkpoint lock meanwhile")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="af-resume-") as tmp:
        os.environ.setdefault("AGENTFLOW_HOME", str(Path(tmp) / "home"))
        figures = kill_and_resume(args.kills, delay_s=args.delay, contention=args.contention,
                                  seed=args.seed, folder=Path(tmp) / "work")
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(figures.summary())
        for case in figures["cases"]:
            if not case["same"] or case["repeated"]:
                print("  ", json.dumps(case))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
