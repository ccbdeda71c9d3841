"""Does prompt size grow with the step index? Read trajectories and report, per graph
and node, the first and the largest prompt of each run and their ratio.

    python -m agentflow.evals.prompt_growth TRAJECTORY_OR_DIR [...] [--min-calls 8] [--json]

Compact memory holds when every node's largest prompt stays within 1.5x its first
prompt; a transcript-carrying loop (the ReAct baseline) grows with every step.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from agentflow.trajectory import Trajectory, read_trajectory


def run_growth(traj: Trajectory) -> dict[str, Any]:
    """Per node: prompt tokens of each call in order, first, max and max/first."""
    nodes: dict[str, list[int]] = {}
    for call in traj.llm_calls:
        tokens = int(call.get("first_prompt_tokens") or call.get("prompt_tokens") or 0)
        nodes.setdefault(str(call.get("prompt")), []).append(tokens)
    return {
        "run_id": traj.run_id,
        "graph": traj.start.get("graph", "?"),
        "llm_calls": len(traj.llm_calls),
        "nodes": {n: {"sizes": s, "first": s[0], "max": max(s), "ratio": max(s) / max(1, s[0])}
                  for n, s in nodes.items()},
    }


def _paths(args: list[str]) -> list[Path]:
    out: list[Path] = []
    for a in args:
        p = Path(a)
        out.extend(sorted(p.rglob("*.jsonl")) if p.is_dir() else [p])
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the table (or JSON); exit 0."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", help="trajectory files or folders of them")
    parser.add_argument("--min-calls", type=int, default=8, help="only runs with at least this many LLM calls")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    runs = [run_growth(read_trajectory(p)) for p in _paths(args.paths)]
    runs = [r for r in runs if r["llm_calls"] >= args.min_calls]
    if args.json:
        print(json.dumps(runs, indent=1))
        return 0
    table = Table(title=f"prompt tokens by node, runs with >= {args.min_calls} LLM calls")
    for col in ("graph", "node", "runs", "median first", "median max", "median max/first", "worst max/first"):
        table.add_column(col, justify="right" if col not in {"graph", "node"} else "left")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in runs:
        for node, s in r["nodes"].items():
            groups.setdefault((r["graph"], node), []).append(s)
    for (graph, node), stats in sorted(groups.items()):
        table.add_row(graph, node, str(len(stats)), f"{statistics.median(s['first'] for s in stats):.0f}",
                      f"{statistics.median(s['max'] for s in stats):.0f}",
                      f"{statistics.median(s['ratio'] for s in stats):.2f}", f"{max(s['ratio'] for s in stats):.2f}")
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
