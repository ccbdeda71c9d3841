"""Scores of a generated world's evaluation run, by question kind and number of hops.

    python -m agentflow.evals.world_scores RUN_FOLDER WORLD_FOLDER [RUN_FOLDER WORLD_FOLDER ...]

RUN_FOLDER is what ``agentflow eval run --dataset WORLD_FOLDER`` wrote; WORLD_FOLDER is
what ``python -m agentflow.evals.world --out`` wrote (its ``questions.jsonl`` holds each
question's kind, hops and whether it is answerable). Prints, per world and over all of
them, answerable chains correct by hops, comparisons correct, and unanswerable questions
refused: the figures issue 8's world criteria are stated in.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table


def world_groups(run: Path, world: Path) -> dict[str, list[bool]]:
    """Per group ("2-hop correct", "unanswerable refused", ...), one outcome per question."""
    from agentflow.scoring.scorer import score_folder

    meta = {}
    for line in (world / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            q = json.loads(line)
            meta[q["id"]] = q
    groups: dict[str, list[bool]] = defaultdict(list)
    for q in score_folder(run, dataset=world).questions:
        m = meta.get(q.id)
        if m is None:
            continue
        if not m["answerable"]:
            groups["unanswerable refused"].append(q.status not in ("answered", "missing", "unfinished"))
        elif m.get("kind") == "comparison":
            groups["comparison correct"].append(bool(q.metrics.get("correct")))
        else:
            groups[f"{m['hops']}-hop correct"].append(bool(q.metrics.get("correct")))
    return groups


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pairs", nargs="+", type=Path, help="RUN_FOLDER WORLD_FOLDER pairs")
    args = parser.parse_args(argv)
    if len(args.pairs) % 2:
        parser.error("give RUN_FOLDER WORLD_FOLDER pairs")
    per_world = [(run, world_groups(run, world)) for run, world in zip(args.pairs[::2], args.pairs[1::2])]
    names = sorted({k for _, g in per_world for k in g})
    table = Table(title="generated worlds")
    table.add_column("run")
    for name in names:
        table.add_column(name, justify="right")
    total: dict[str, list[bool]] = defaultdict(list)
    for run, groups in per_world:
        table.add_row(run.name, *[f"{sum(groups[n])}/{len(groups[n])}" if groups.get(n) else "-" for n in names])
        for n, outcomes in groups.items():
            total[n] += outcomes
    table.add_row("all", *[f"{sum(total[n])}/{len(total[n])} = {sum(total[n]) / len(total[n]):.2f}"
                          if total.get(n) else "-" for n in names])
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
