"""Fault injection: research runs against a misbehaving OpenAI-compatible server.

    python -m agentflow.evals.bench_faults [--runs 40] [--faults 112] [--kills 20] [--json]

Every other request to the loopback :class:`~agentflow.evals.fault_server.FaultServer`
gets the next fault of :data:`~agentflow.evals.fault_server.FAULT_KINDS` in turn (5xx,
429, empty / non-JSON / truncated bodies, wrong ``choices``, resets, hangs, garbage,
deeply nested and ``<think>``-flooded output) until ``--faults`` are injected; the
model behind it is :mod:`agentflow.evals.fake_model`. Printed: faults injected per
kind, what the client did next (retried the same request, re-asked the model, or
moved on because the output parsed anyway or the step used its fallback),
crashes (an exception out of ``Agent.ask``, or a run error that is not one of
agentflow's own types: must be 0), run statuses, and the kill/resume figures of
:mod:`agentflow.evals.bench_resume` (runs killed at random under checkpoint-lock
contention, then resumed).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import agentflow.errors as af_errors

__all__ = ["inject", "main"]

_OWN_ERRORS = {name for name, obj in vars(af_errors).items() if isinstance(obj, type)}


class _Schedule:
    """Every other request gets the next fault kind, until ``total`` are injected."""

    def __init__(self, kinds: tuple[str, ...], total: int) -> None:
        self.kinds, self.total, self.injected = kinds, total, 0
        self._lock = threading.Lock()

    def __call__(self, n: int, request: dict[str, Any]) -> str:
        with self._lock:
            if n % 2 == 1 or self.injected >= self.total:
                return "ok"
            kind = self.kinds[self.injected % len(self.kinds)]
            self.injected += 1
            return kind


def _reaction(requests: list[dict[str, Any]], i: int) -> str:
    """What the client did after the fault of request ``i``."""
    if i + 1 >= len(requests):
        return "moved on"
    fault, nxt = requests[i], requests[i + 1]
    if nxt["key"] == fault["key"]:
        return "retried"
    if len(nxt["messages"]) > len(fault["messages"]) and nxt["messages"][: len(fault["messages"])] == fault["messages"]:
        return "re-asked"
    return "moved on"  # the output parsed anyway (a <think> flood), or the step fell back


def inject(runs: int, faults: int, *, seed: int = 0, folder: Path | None = None) -> dict[str, Any]:
    """Run ``runs`` questions while ``faults`` faults are injected; return the figures."""
    from agentflow import Agent
    from agentflow.evals.bench_resume import _world
    from agentflow.evals.fake_model import answer_request
    from agentflow.evals.fault_server import FAULT_KINDS, FaultServer
    from agentflow.llm.openai_backend import OpenAIChat

    work = Path(folder or tempfile.mkdtemp(prefix="af-faults-"))
    store, questions = _world(work, runs, seed)
    schedule = _Schedule(FAULT_KINDS, faults)
    statuses: Counter[str] = Counter()
    crashes: list[str] = []
    errors: Counter[str] = Counter()
    started = time.monotonic()
    with FaultServer(schedule, answer_request, hang_s=3.0) as server:
        llm = OpenAIChat("fault-model", base_url=server.base_url, timeout_s=1.0, max_attempts=4,
                         backoff_initial_s=0.01, backoff_max_s=0.05)
        agent = Agent(store, llm=llm, embedder="hash", runs_dir=work / "runs")
        for i in range(runs):
            question = questions[i % len(questions)]
            try:
                result = agent.ask(question, run_id=f"fault-{i}")
            except Exception as exc:  # noqa: BLE001 - counting crashes is the point
                crashes.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            statuses[result.status] += 1
            if result.error:
                kind = result.error.split(":", 1)[0]
                errors[kind] += 1
                if kind not in _OWN_ERRORS:
                    crashes.append(result.error[:200])
        requests = list(server.requests)
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for i, entry in enumerate(requests):
        if entry["fault"] != "ok":
            by_kind[entry["fault"]][_reaction(requests, i)] += 1
    injected = sum(sum(c.values()) for c in by_kind.values())
    extra = sum(c["retried"] + c["re-asked"] for c in by_kind.values())
    return {
        "faults_injected": injected,
        "fault_kinds": len(by_kind),
        "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
        "retries_per_fault": round(extra / injected, 3) if injected else 0.0,
        "requests": len(requests),
        "runs": runs,
        "crashes": len(crashes),
        "crash_examples": crashes[:5],
        "statuses": dict(statuses),
        "run_errors": dict(errors),
        "seconds": round(time.monotonic() - started, 1),
    }


def _table(figures: dict[str, Any]) -> str:
    lines = [f"{'fault kind':24} {'injected':>8} {'retried':>8} {'re-asked':>8} {'moved on':>8}"]
    for kind, reactions in figures["by_kind"].items():
        lines.append(
            f"{kind:24} {sum(reactions.values()):8d} {reactions.get('retried', 0):8d} "
            f"{reactions.get('re-asked', 0):8d} {reactions.get('moved on', 0):8d}"
        )
    lines += [
        f"faults injected: {figures['faults_injected']} of {figures['fault_kinds']} kinds "
        f"over {figures['runs']} runs ({figures['requests']} requests, {figures['seconds']} s)",
        f"retries per fault: {figures['retries_per_fault']}",
        f"crashes: {figures['crashes']}",
        "run statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(figures["statuses"].items())),
    ]
    if figures["run_errors"]:
        lines.append("run errors: " + ", ".join(f"{k} {v}" for k, v in figures["run_errors"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--faults", type=int, default=112, help="faults to inject (>= 100 for the report)")
    parser.add_argument("--kills", type=int, default=20, help="kill/resume cases (0 to skip)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="af-faults-") as tmp:
        os.environ.setdefault("AGENTFLOW_HOME", str(Path(tmp) / "home"))
        figures = inject(args.runs, args.faults, seed=args.seed, folder=Path(tmp) / "faults")
        if args.kills:
            from agentflow.evals.bench_resume import kill_and_resume

            resume = kill_and_resume(args.kills, contention=True, seed=args.seed, folder=Path(tmp) / "kills")
            figures["kill_resume"] = {k: v for k, v in resume.items() if k != "cases"}
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(_table(figures))
    if "kill_resume" in figures:
        kr = figures["kill_resume"]
        print(f"kill/resume under lock contention: {kr['resumed']}/{kr['killed']} resumed, "
              f"{kr['repeated_calls']} completed calls sent again "
              f"({kr['late']} answered < 50 ms before the kill)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
