"""Retrieval benchmark on any dataset ``load_dataset`` reads: ingestion speed and passage recall.

Reads the questions and corpus with the dataset adapters (MuSiQue, HotpotQA, 2Wiki,
MultiHop-RAG or the generic JSON Lines form; a corpus file may be a list of records or a
``{title: text | [sentences]}`` object), adds the corpus passages to a corpus store
(timed), times the embedder alone on the same texts (one call, before and after ingestion,
averaged), then scores BM25, dense, hybrid (weighted fusion), RRF and the agent's corpus
tool with each question as the query: Recall@2/5/10 (mean over questions of
|gold ∩ top-k| / |gold|) and full-chain@5 (share of questions with every gold passage in
the top 5). Gold passages are the adapter's ``supporting_ids`` (the ids ingestion assigns);
unanswerable questions and questions without gold passages are left out.

    python -m agentflow.evals.bench_retrieval --questions Q.json --corpus C.json --embedder minilm
    python -m agentflow.evals.bench_retrieval --questions DATASET_DIR --format hotpotqa
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

from agentflow.embed import resolve_embedder
from agentflow.errors import UserError
from agentflow.evals.datasets import FORMATS, Dataset, load_dataset
from agentflow.store.corpus import CorpusStore, embedding_text

KS = (2, 5, 10)
#: (label, search mode, fusion method)
CONFIGS = (
    ("bm25", "bm25", None),
    ("dense", "dense", None),
    ("hybrid", "hybrid", "weighted"),
    ("rrf", "hybrid", "rrf"),
)


def load_questions(path: str | Path, *, format: str = "auto",
                   corpus: str | Path | None = None) -> tuple[list[dict[str, Any]], Dataset]:
    """Questions with their gold passage ids under ``gold``, and the dataset they come from.

    Only answerable questions with at least one gold passage are kept.
    """
    data = load_dataset(path, format=format, corpus=corpus)
    questions = [{"id": ex.id, "question": ex.question, "gold": set(ex.supporting_ids)}
                 for ex in data.examples if ex.answerable and ex.supporting_ids]
    return questions, data


def score_rankings(
    rankings: Sequence[Sequence[str]], golds: Sequence[set[str]]
) -> dict[str, float]:
    """Recall@k for each k in ``KS`` and full-chain@5 over aligned rankings and gold sets."""
    n = len(golds)
    scores = {
        f"recall@{k}": sum(len(g & set(r[:k])) / len(g) for r, g in zip(rankings, golds)) / n
        for k in KS
    }
    scores["full_chain@5"] = sum(g <= set(r[:5]) for r, g in zip(rankings, golds)) / n
    return scores


class Stopwatch:
    """Wall-clock and process CPU seconds of a block (CPU time is less disturbed by other load)."""

    def __enter__(self) -> Self:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark and return its figures."""
    questions, data = load_questions(args.questions, format=args.format, corpus=args.corpus)
    if data.corpus is None:
        raise UserError(f"{args.questions} carries no passages: pass the corpus with --corpus FILE")
    if not questions:
        raise UserError(f"no answerable question with gold passages in {args.questions}"
                        + (f" ({data.errors[0]})" if data.errors else "")
                        + ": check the file and --format")
    embedder = resolve_embedder(args.embedder)
    embedder.embed(["warm-up: load the model before anything is timed"])
    texts = [embedding_text(p) for p in data.corpus]
    store_dir = Path(args.store) if args.store else Path(tempfile.mkdtemp(prefix="bench-store-"))
    store = CorpusStore(store_dir, embedder=embedder, dense_weight=args.dense_weight)

    # Embedder alone before and after ingestion, averaged, so that a change in the
    # machine's load during the run biases the ratio less.
    with Stopwatch() as before:
        if not args.skip_speed:
            embedder.embed(texts)
    with Stopwatch() as ingesting:
        added = store.add(data.corpus, progress=not args.json)
    with Stopwatch() as after:
        if not args.skip_speed:
            embedder.embed(texts)
    embed_wall, embed_cpu = (before.wall + after.wall) / 2, (before.cpu + after.cpu) / 2
    speed: dict[str, float | None] = {
        "ingest_docs_per_s": None,
        "embedder_docs_per_s": None if args.skip_speed else len(texts) / embed_wall,
        "ratio_wall": None,
        "ratio_cpu": None,
    }
    if added.added and not args.skip_speed:
        speed["ingest_docs_per_s"] = added.added / ingesting.wall
        speed["ratio_wall"] = embed_wall / ingesting.wall * added.added / len(texts)
        speed["ratio_cpu"] = embed_cpu / ingesting.cpu * added.added / len(texts)

    if args.limit:
        questions = questions[: args.limit]
    golds = [q["gold"] for q in questions]
    queries = [q["question"] for q in questions]
    present = {p.id for p in store.get(sorted(set().union(*golds)))}
    k = max(KS)

    results: dict[str, dict[str, float]] = {}
    for label, mode, fusion in CONFIGS:
        started = time.perf_counter()
        hits = store.search_many(queries, k=k, mode=mode, candidates=args.candidates, fusion=fusion)
        seconds = time.perf_counter() - started
        results[label] = score_rankings([[h.id for h in row] for row in hits], golds)
        results[label]["ms_per_query"] = 1000 * seconds / len(queries)
    # What the agent's corpus tool does: hybrid top-50 re-ranked by the corpus entity
    # graph (PPR from the query's entities), top 3 fused kept.
    from agentflow.tools.corpus_search import CorpusSearch

    started = time.perf_counter()
    tool = CorpusSearch(store, mode="hybrid", use_graph=True, candidates=args.candidates)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    hits = tool.search_many(queries, k=k)
    seconds = time.perf_counter() - started
    results["hybrid+graph"] = score_rankings([[h.id for h in row] for row in hits], golds)
    results["hybrid+graph"]["ms_per_query"] = 1000 * seconds / len(queries)
    results["hybrid+graph"]["graph_build_s"] = build_s
    for weight in args.sweep:
        store.dense_weight = weight
        hits = store.search_many(queries, k=k, candidates=args.candidates, fusion="weighted")
        results[f"hybrid w={weight:g}"] = score_rankings(
            [[h.id for h in row] for row in hits], golds
        )

    return {
        "dataset": data.name,
        "format": args.format,
        "load_errors": len(data.errors),
        "embedder": embedder.name,
        "store": str(store_dir),
        "passages": store.count(),
        "questions": len(questions),
        "gold_passages": len(set().union(*golds)),
        "gold_missing_from_store": len(set().union(*golds) - present),
        "dense_weight": args.dense_weight,
        "candidates": args.candidates,
        "ingest": {"passages": len(data.corpus), "added": added.added, "skipped": added.skipped,
                   "seconds": round(ingesting.wall, 3)},
        "speed": speed,
        "results": results,
    }


def print_table(figures: dict[str, Any]) -> None:
    """Show the figures as rich tables."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    speed = figures["speed"]
    table = Table(title=f"Ingestion ({figures['embedder']}, {figures['passages']} passages)")
    for col in ("ingestion docs/s", "embedder alone docs/s", "ratio (wall)", "ratio (CPU)"):
        table.add_column(col, justify="right")

    def fmt(value: float | None, spec: str) -> str:
        return format(value, spec) if value is not None else "n/a"

    table.add_row(
        fmt(speed["ingest_docs_per_s"], ".1f"),
        fmt(speed["embedder_docs_per_s"], ".1f"),
        fmt(speed["ratio_wall"], ".1%"),
        fmt(speed["ratio_cpu"], ".1%"),
    )
    console.print(table)

    table = Table(
        title=(
            f"Passage retrieval, {figures['dataset']}: {figures['questions']} questions, "
            "question as query "
            f"(hybrid: {figures['dense_weight']:g} dense + {1 - figures['dense_weight']:g} BM25, "
            f"min-max over top {figures['candidates']})"
        )
    )
    table.add_column("method")
    for col in [f"R@{k}" for k in KS] + ["full-chain@5", "ms/query"]:
        table.add_column(col, justify="right")
    for label, row in figures["results"].items():
        ms = row.get("ms_per_query")
        table.add_row(
            label,
            *(f"{row[f'recall@{k}']:.3f}" for k in KS),
            f"{row['full_chain@5']:.3f}",
            f"{ms:.1f}" if ms is not None else "",
        )
    console.print(table)
    if figures["load_errors"]:
        console.print(f"[yellow]{figures['load_errors']} problems reading the dataset "
                      "(records skipped or gold passages unresolved)")
    if figures["gold_missing_from_store"]:
        console.print(
            f"[red]{figures['gold_missing_from_store']} gold passages are not in the store"
        )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The benchmark's command-line options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--questions", required=True,
                        help="questions file, or a folder with questions.json(l) and corpus.json(l)")
    parser.add_argument("--format", default="auto",
                        help=f"dataset format: auto | {' | '.join(FORMATS)} (default: auto)")
    parser.add_argument("--corpus", help="corpus file (default: the folder's corpus.json(l), "
                        "else the passages the questions carry)")
    parser.add_argument("--embedder", default="minilm", help="embedder spec (default: minilm)")
    parser.add_argument("--store", help="store directory (default: a new temporary one)")
    parser.add_argument("--dense-weight", type=float, default=0.8, help="hybrid dense weight")
    parser.add_argument("--candidates", type=int, default=50, help="candidates per list for fusion")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N questions")
    parser.add_argument(
        "--sweep",
        type=lambda s: [float(x) for x in s.split(",") if x],
        default=[],
        help="also score hybrid at these dense weights, e.g. 0.6,0.7,0.9 (for tuning)",
    )
    parser.add_argument(
        "--skip-speed", action="store_true", help="do not time the embedder alone (for tuning)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    args = parse_args(argv)
    try:
        figures = run(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(figures, sys.stdout, indent=2)
        print()
    else:
        print_table(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
