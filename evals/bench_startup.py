"""Cold-process start-up of the CLI: wall time of a fresh ``agentflow`` process per command.

    python -m agentflow.evals.bench_startup                 # this checkout
    python -m agentflow.evals.bench_startup --src /tmp/old  # another checkout's agentflow/

Measures ``--help``, ``search --mode bm25``, ``search`` (hybrid) and ``show`` over a
small store (the demo world, embedded with the store's default embedder: MiniLM when
installed) and a trajectory written by the scripted demo agent, ``--repeat`` times
each (median reported). ``--src`` puts another checkout first on ``PYTHONPATH`` so the
same store and trajectory can be timed on old and new code in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS: dict[str, list[str]] = {
    "--help": ["--help"],
    "search --mode bm25": ["search", "who founded {company}", "--mode", "bm25"],
    "search (hybrid)": ["search", "who founded {company}"],
    "show": ["show", "{trajectory}"],
}


def _env(home: Path, src: str | None) -> dict[str, str]:
    env = {**os.environ, "AGENTFLOW_HOME": str(home), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "COLUMNS": "120"}
    if src:
        env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _cli(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    # Run from the home folder: ``python -m`` puts the working directory first on sys.path,
    # which would shadow --src with a checkout's own agentflow/.
    done = subprocess.run([sys.executable, "-m", "agentflow.cli.main", *args], env=env,
                          capture_output=True, text=True, cwd=env["AGENTFLOW_HOME"])
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"`agentflow {' '.join(args)}` failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


def _origin(env: dict[str, str]) -> str:
    code = "import agentflow; print(agentflow.__file__)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          cwd=env["AGENTFLOW_HOME"]).stdout.strip()


def prepare(home: Path) -> Path:
    """Ingest the demo world into ``$AGENTFLOW_HOME/store`` and write one trajectory; returns its path."""
    from agentflow.evals.world.demo import demo_agent, demo_questions, demo_world

    docs = home / "docs.jsonl"
    docs.write_text("".join(json.dumps(r) + "\n" for r in demo_world()))
    _cli(["ingest", str(docs)], _env(home, None))
    trajectory = home / "trajectory.jsonl"
    os.environ["AGENTFLOW_HOME"] = str(home / "demo")
    demo_agent().ask(demo_questions()[0][0], trajectory=trajectory)
    return trajectory


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print one line per command plus a JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="Runs per command (median reported).")
    parser.add_argument("--src", action="append", default=[],
                        help="A checkout whose agentflow/ to time instead (repeatable; 'here' = this one).")
    args = parser.parse_args(argv)
    sources = args.src or ["here"]
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        home = Path(tmp)
        trajectory = prepare(home)
        from agentflow.evals.world.demo import demo_chains

        company = demo_chains()[0].company
        summary: dict[str, dict[str, float]] = {}
        for src in sources:
            env = _env(home, None if src == "here" else src)
            for name, command in COMMANDS.items():
                argv_ = [a.replace("{trajectory}", str(trajectory)).replace("{company}", company)
                         for a in command]
                if name == "--help":
                    print(f"{src:>12}  agentflow from {_origin(env)}", flush=True)
                _cli(argv_, env)  # warm the OS file cache: we time the process, not the disk
                times = [_cli(argv_, env) for _ in range(args.repeat)]
                med = statistics.median(times)
                summary.setdefault(src, {})[name] = round(med, 2)
                print(f"{src:>12}  {name:<20} median {med:6.2f}s  "
                      f"(min {min(times):.2f}, max {max(times):.2f}, n={len(times)})", flush=True)
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
