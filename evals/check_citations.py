"""Check, from trajectories alone, that every citation in every final answer is a
passage some tool returned earlier in the same run.

    python -m agentflow.evals.check_citations TRAJECTORY_OR_DIR [...]

Exit status 1 when any citation was not retrieved (that would be a bug: the answer
node removes such citations before the run ends).
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from agentflow.trajectory import read_trajectory


def main(argv: list[str] | None = None) -> int:
    """Print one row per run and a total; exit 1 on any citation not retrieved."""
    args = sys.argv[1:] if argv is None else argv
    paths: list[Path] = []
    for a in args:
        p = Path(a)
        paths.extend(sorted(p.rglob("*.jsonl")) if p.is_dir() else [p])
    table = Table(title="citations vs passages retrieved in the same run")
    for col in ("run", "status", "cited", "retrieved", "not retrieved"):
        table.add_column(col)
    bad = total = 0
    for path in paths:
        traj = read_trajectory(path)
        final = traj.final or {}
        retrieved = set(traj.retrieved_ids())
        cited = [c["id"] for c in final.get("citations", [])]
        missing = [c for c in cited if c not in retrieved]
        bad += len(missing)
        total += len(cited)
        table.add_row(traj.run_id, str(final.get("status", "unfinished")), str(len(cited)), str(len(retrieved)),
                      ", ".join(missing) or "0")
    console = Console()
    console.print(table)
    console.print(f"{len(paths)} runs, {total} citations, {bad} not retrieved in their run")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
