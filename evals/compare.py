"""Compare graphs on one dataset: rag, react and deep_research with one LLM and one store.

Each graph runs through the same batch code as ``agentflow eval run`` into
``OUT/<graph>/`` (resumable: run the command again to finish an interrupted
comparison), is scored like ``agentflow eval score``, and the comparison is printed
as a table and written to ``OUT/report.html`` (plus ``OUT/scores.json``).

    python -m evals.compare --dataset Q.json --corpus C.json --llm local --limit 30 --out DIR
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from agentflow.errors import UserError

GRAPHS = ("rag", "react", "deep_research")


def compare(args: argparse.Namespace, console: Console) -> int:
    """Run, score and report every graph in ``args.graphs``; returns an exit code."""
    from agentflow.embed import resolve_embedder
    from agentflow.evals.datasets import load_dataset
    from agentflow.llm import resolve_llm
    from agentflow.scoring.batch import run_batch
    from agentflow.scoring.report import rich_table, write_html_report
    from agentflow.scoring.scorer import score_folder
    from agentflow.scoring.store_cache import cached_store

    out = Path(args.out)
    # One LLM, one embedder and one store for every graph: models load once and every
    # graph searches exactly the same index.
    llm = resolve_llm(args.llm)
    embedder = resolve_embedder(args.embedder)
    data = load_dataset(args.dataset, format=args.format, corpus=args.corpus)
    if data.corpus is None:
        raise UserError(f"{args.dataset} carries no passages: pass --corpus FILE")
    store, _, built = cached_store(data.corpus, embedder, progress=True)
    console.print(
        f"store {store.path} ({'built' if built else 'cached'}; {store.count()} passages)"
    )
    scores = []
    for graph in args.graphs:
        started = time.perf_counter()
        report = run_batch(
            args.dataset,
            out=out / graph,
            format=args.format,
            corpus=args.corpus,
            graph=graph,
            llm=llm,
            embedder=embedder,
            store=store,
            limit=args.limit,
            concurrency=args.concurrency,
            progress=True,
            console=console,
        )
        console.print(
            f"{graph}: {report.ran} run, {report.already_done} done before, "
            f"{report.errors} errors, {time.perf_counter() - started:.1f}s"
        )
        scores.append(score_folder(out / graph, resamples=args.resamples, seed=args.seed))
    Console().print(
        rich_table(scores, title=f"{data.name}: {', '.join(args.graphs)} with {llm.name}")
    )
    for s in scores:
        for warning in s.warnings:
            console.print(f"[yellow]warning[/] {s.label}: {warning}")
    report_path = write_html_report(
        scores, out / "report.html", title=f"{data.name}: graph comparison ({llm.name})"
    )
    (out / "scores.json").write_text(
        json.dumps({s.label: s.aggregate for s in scores}, indent=2) + "\n", encoding="utf-8"
    )
    console.print(f"report -> {report_path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run the comparison; 2 on a usage error."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, help="questions file or folder")
    parser.add_argument("--corpus", default=None, help="corpus file (JSON/JSONL)")
    parser.add_argument("--format", default="auto", help="dataset format (default auto)")
    parser.add_argument(
        "--llm", default=None, help="model string (default $AGENTFLOW_LLM or local)"
    )
    parser.add_argument("--embedder", default=None, help="embedder spec (default auto)")
    parser.add_argument("--limit", type=int, default=None, help="first N questions")
    parser.add_argument("--concurrency", type=int, default=1, help="questions at once (threads)")
    parser.add_argument("--graphs", nargs="+", default=list(GRAPHS), help="graphs to compare")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    parser.add_argument("--out", required=True, help="output folder (one sub-folder per graph)")
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    try:
        return compare(args, console)
    except UserError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
