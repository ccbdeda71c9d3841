"""Server benchmark: concurrent streaming conversations against ``agentflow serve``,
compared with calling the agent directly in the same run.

The model is the scripted demo model (:mod:`agentflow.evals.world.demo`, the demo world) with a fixed
latency per LLM call, so the figures are about the server, not a model. Three
phases, one process each side:

1. direct: ``concurrency`` threads call ``Agent.ask(question, thread_id=...)`` in this
   process (the graph plus the thread's bookkeeping, no HTTP) for ``direct_requests``
   requests;
2. server: an ``agentflow serve`` subprocess; ``concurrency`` asyncio clients each hold
   a conversation (a question, then its follow-up in the same thread, then a new
   thread) over streaming ``/v1/chat/completions`` until ``requests`` requests are done;
3. memory: the server's RSS (``/proc/PID/status``) before the first request, after
   ``warmup`` requests and at the end; growth is end minus after-warm-up.

CPU milliseconds per request (the server process; this process in the direct phase)
show what HTTP, SSE and the event bridge cost on top of the graph. With a fixed number
of clients each waiting for its answer, latency is clients / throughput, so any extra
CPU per request in a CPU-bound process shows up in every request's end-to-end time,
not only in the added latency.

Latency figures are given for the steady state (requests after the first ``warmup``)
and, separately, for the first wave (each client's first request, all arriving at
once at a fresh server: a thundering herd on a CPU-bound process).

Added latency per request = the client's time from sending the request to ``[DONE]``
minus ``run_s``, the time the server's worker spent in ``Agent.ask`` (reported in the
last chunk's ``agentflow.timing``): HTTP, SSE, event bridging, waiting for a worker.
Both sides share 2 cores here, so the client's own scheduling is in the figure too.

    python -m agentflow.evals.bench_server --concurrency 50 --requests 1000 --latency 0.05
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from agentflow.evals.serving import ServerProcess
from agentflow.evals.world.demo import demo_agent, demo_questions

FACTORY = "agentflow.evals.world.demo:demo_agent"


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summary(values: Sequence[float]) -> dict[str, float]:
    """p50, p99, mean and max in milliseconds."""
    ms = [v * 1000 for v in values]
    return {
        "p50_ms": round(percentile(ms, 50), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
        "max_ms": round(max(ms), 1) if ms else float("nan"),
    }


def conversation_plan(requests: int) -> list[tuple[str, str]]:
    """``(thread suffix, question)`` pairs: each conversation is a question and its follow-up."""
    pairs = demo_questions()
    plan: list[tuple[str, str]] = []
    i = 0
    while len(plan) < requests:
        question, follow_up, _ = pairs[i % len(pairs)]
        plan += [(f"c{i}", question), (f"c{i}", follow_up)]
        i += 1
    return plan[:requests]


# -- direct ------------------------------------------------------------------------------


def run_direct(home: Path, *, concurrency: int, requests: int, latency_s: float) -> dict[str, Any]:
    """``Agent.ask`` from ``concurrency`` threads, conversations as in the server phase."""
    os.environ["AGENTFLOW_HOME"] = str(home)
    agent = demo_agent(latency_s=latency_s, threads=f"sqlite:{home / 'threads.sqlite'}")
    plan = conversation_plan(requests)
    conversations = [plan[i : i + 2] for i in range(0, len(plan), 2)]
    by_worker = [
        [turn for conv in conversations[w::concurrency] for turn in conv]
        for w in range(concurrency)
    ]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker(w: int) -> None:
        for k in range(0, len(by_worker[w]), 2):
            for thread, question in by_worker[w][k : k + 2]:
                started = time.perf_counter()
                try:
                    result = agent.ask(question, thread_id=f"direct-{w}-{thread}")
                    ok = result.status != "error"
                except Exception as exc:  # noqa: BLE001 - counted, not fatal
                    ok, result = False, exc
                with lock:
                    latencies.append(time.perf_counter() - started)
                    if not ok:
                        errors.append(str(result)[:200])

    agent.ask(plan[0][1], thread_id="direct-warmup")  # first-call costs (imports, indexes)
    started, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, range(concurrency)))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "error_samples": errors[:3],
        "throughput_rps": round(len(latencies) / wall, 2),
        "cpu_ms_per_request": round(cpu / max(1, len(latencies)) * 1000, 1),
        "latency": summary(latencies),
    }


# -- server ------------------------------------------------------------------------------


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds a process has used (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def one_request(
    client: httpx.AsyncClient, url: str, question: str, thread_id: str
) -> dict[str, Any]:
    """One streamed completion: its timings, and an error if anything was off."""
    body = {
        "model": "agentflow",
        "stream": True,
        "messages": [{"role": "user", "content": question}],
    }
    out: dict[str, Any] = {"error": None}
    started = time.perf_counter()
    try:
        async with client.stream(
            "POST", url, json=body, headers={"X-Thread-Id": thread_id}
        ) as resp:
            if resp.status_code != 200:
                out["error"] = f"HTTP {resp.status_code}: {(await resp.aread())[:200]!r}"
                return out
            done = False
            async for line in resp.aiter_lines():
                if not line.startswith("data: "):
                    continue
                if "first_byte_s" not in out:
                    out["first_byte_s"] = time.perf_counter() - started
                data = line[6:]
                if data == "[DONE]":
                    done = True
                    continue
                chunk = json.loads(data)
                if "error" in chunk:
                    out["error"] = chunk["error"]["message"][:200]
                ext = chunk.get("agentflow") or {}
                if ext.get("type") == "final":
                    out["run_s"] = ext.get("timing", {}).get("run_s")
                    out["queued_s"] = ext.get("timing", {}).get("queued_s")
                    out["status"] = ext.get("status")
            if not done and out["error"] is None:
                out["error"] = "stream ended without [DONE]"
    except httpx.HTTPError as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    out["total_s"] = time.perf_counter() - started
    return out


async def drive_server(
    base_url: str, *, concurrency: int, requests: int, warmup: int, pid: int
) -> dict[str, Any]:
    """``concurrency`` clients in conversations until ``requests`` are done; RSS sampled."""
    plan = conversation_plan(requests)
    results: list[dict[str, Any]] = []
    rss: dict[str, float] = {"before": rss_mb(pid)}
    next_item = 0
    lock = asyncio.Lock()

    async def client_loop(w: int, client: httpx.AsyncClient) -> None:
        nonlocal next_item
        while True:
            async with lock:  # a conversation's two turns go to the same client, in order
                if next_item >= len(plan):
                    return
                pair = plan[next_item : next_item + 2]
                next_item += 2
            for thread, question in pair:
                results.append(
                    await one_request(
                        client, base_url + "/v1/chat/completions", question, f"bench-{w}-{thread}"
                    )
                )
                if len(results) == warmup:
                    rss["after_warmup"] = rss_mb(pid)

    limits = httpx.Limits(
        max_connections=concurrency + 8, max_keepalive_connections=concurrency + 8
    )
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        started, cpu = time.perf_counter(), cpu_s(pid)
        await asyncio.gather(*(client_loop(w, client) for w in range(concurrency)))
        wall, cpu = time.perf_counter() - started, cpu_s(pid) - cpu
    rss["end"] = rss_mb(pid)
    errors = [r["error"] for r in results if r["error"] is not None]
    ok = [r for r in results if r["error"] is None and r.get("run_s") is not None]
    return {
        "requests": len(results),
        "errors": len(errors),
        "error_samples": errors[:3],
        "throughput_rps": round(len(results) / wall, 2),
        "cpu_ms_per_request": round(cpu / max(1, len(results)) * 1000, 1),
        "statuses": {
            s: sum(1 for r in ok if r.get("status") == s) for s in {r.get("status") for r in ok}
        },
        # The first wave: every client's first request, all sent at once to a fresh server.
        "first_wave": timings(ok[:concurrency]),
        "steady": timings(ok[warmup:]),
        "rss_mb": {k: round(v, 1) for k, v in rss.items()},
        "rss_growth_mb": round(rss["end"] - rss.get("after_warmup", rss["before"]), 1),
    }


def timings(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Latency figures of a set of successful requests (see the module docstring)."""
    return {
        "requests": len(results),
        "latency": summary([r["total_s"] for r in results]),
        "first_byte": summary([r["first_byte_s"] for r in results]),
        "worker_run": summary([r["run_s"] for r in results]),
        "queued": summary([r["queued_s"] or 0.0 for r in results]),
        "added": summary([r["total_s"] - r["run_s"] for r in results]),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Both phases; returns the report."""
    root = Path(args.home or tempfile.mkdtemp(prefix="agentflow-bench-server-"))
    report: dict[str, Any] = {
        "config": {
            "concurrency": args.concurrency,
            "requests": args.requests,
            "direct_requests": args.direct_requests,
            "latency_s": args.latency,
            "warmup": args.warmup,
            "cpus": os.cpu_count(),
        }
    }
    print(
        f"direct: {args.direct_requests} requests from {args.concurrency} threads ...",
        file=sys.stderr,
    )
    report["direct"] = run_direct(
        root / "direct",
        concurrency=args.concurrency,
        requests=args.direct_requests,
        latency_s=args.latency,
    )
    server_home = root / "server"
    server = ServerProcess(
        [
            "--agent-factory",
            FACTORY,
            "--max-runs",
            str(args.concurrency),
            "--max-runs-per-key",
            str(args.concurrency),
            "--checkpointer",
            f"sqlite:{server_home / 'agentflow.sqlite'}",
            "--log-level",
            "warning",
        ],
        env={"AGENTFLOW_HOME": str(server_home), "AGENTFLOW_DEMO_LATENCY_S": str(args.latency)},
        log_path=root / "server.log",
    )
    print(
        f"server: {args.requests} streaming requests from {args.concurrency} clients ...",
        file=sys.stderr,
    )
    with server:
        report["server"] = asyncio.run(
            drive_server(
                server.base_url,
                concurrency=args.concurrency,
                requests=args.requests,
                warmup=args.warmup,
                pid=server.pid,
            )
        )
    s, d = report["server"], report["direct"]
    report["acceptance"] = {
        "concurrent_sessions": args.concurrency >= 50,
        "no_errors": s["errors"] == 0,
        "p99_added_under_100ms": s["steady"]["added"]["p99_ms"] < 100,
        "rss_growth_under_50mb": s["rss_growth_mb"] < 50 and s["requests"] >= 1000,
    }
    steady = s["steady"]["latency"]
    report["server_minus_direct_ms"] = {
        "p50": round(steady["p50_ms"] - d["latency"]["p50_ms"], 1),
        "p99": round(steady["p99_ms"] - d["latency"]["p99_ms"], 1),
    }
    report["home"] = str(root)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: prints the report as JSON (and writes it with --out)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--concurrency", type=int, default=50, help="concurrent conversations (default 50)"
    )
    p.add_argument(
        "--requests", type=int, default=1000, help="streaming requests to the server (default 1000)"
    )
    p.add_argument(
        "--direct-requests",
        type=int,
        default=300,
        help="requests in the direct phase (default 300)",
    )
    p.add_argument(
        "--latency", type=float, default=0.05, help="seconds per scripted LLM call (default 0.05)"
    )
    p.add_argument(
        "--warmup", type=int, default=100, help="requests before the RSS baseline (default 100)"
    )
    p.add_argument(
        "--home", help="folder for stores, threads and runs (default: a new temp folder)"
    )
    p.add_argument("--out", help="also write the JSON report here")
    args = p.parse_args(argv)
    report = run(args)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0 if all(report["acceptance"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
