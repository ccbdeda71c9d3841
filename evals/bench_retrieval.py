"""Retrieval benchmark on a MuSiQue-format dataset: ingestion speed and passage recall.

Ingests the corpus into a corpus store (timed), times the embedder alone on the
same texts (one call, before and after ingestion, averaged), then scores BM25,
dense, hybrid (weighted fusion) and RRF search with each question as the query:
Recall@2/5/10 (mean over questions of |gold ∩ top-k| / |gold|) and full-chain@5
(share of questions with every gold paragraph in the top 5). Gold paragraphs are
a question's ``paragraphs`` with ``is_supporting``, identified by
``passage_id(title, paragraph_text)``.

    python -m evals.bench_retrieval --questions Q.json --corpus C.json --embedder minilm
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
from agentflow.store.corpus import CorpusStore, embedding_text
from agentflow.store.ingest import chunk_document, ingest, load_documents, passage_id

KS = (2, 5, 10)
#: (label, search mode, fusion method)
CONFIGS = (
    ("bm25", "bm25", None),
    ("dense", "dense", None),
    ("hybrid", "hybrid", "weighted"),
    ("rrf", "hybrid", "rrf"),
)


def load_questions(path: Path) -> list[dict[str, Any]]:
    """MuSiQue questions with their gold passage ids under ``gold``."""
    questions = []
    for q in json.loads(path.read_text()):
        gold = {
            passage_id(p["title"], p["paragraph_text"])
            for p in q["paragraphs"]
            if p["is_supporting"]
        }
        if gold:
            questions.append({"id": q["id"], "question": q["question"], "gold": gold})
    return questions


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


def corpus_texts(corpus: Path) -> list[str]:
    """The texts ingestion embeds for this corpus, in the same form."""
    docs = load_documents([corpus], [])
    return [embedding_text(p) for d in docs for p in chunk_document(d)]


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark and return its figures."""
    embedder = resolve_embedder(args.embedder)
    embedder.embed(["warm-up: load the model before anything is timed"])
    texts = corpus_texts(Path(args.corpus))
    store_dir = Path(args.store) if args.store else Path(tempfile.mkdtemp(prefix="bench-store-"))
    store = CorpusStore(store_dir, embedder=embedder, dense_weight=args.dense_weight)

    # Embedder alone before and after ingestion, averaged, so that a change in the
    # machine's load during the run biases the ratio less.
    with Stopwatch() as before:
        if not args.skip_speed:
            embedder.embed(texts)
    with Stopwatch() as ingesting:
        report = ingest([args.corpus], store, progress=not args.json)
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
    if report.added and not args.skip_speed:
        speed["ingest_docs_per_s"] = report.added / ingesting.wall
        speed["ratio_wall"] = embed_wall / ingesting.wall * report.added / len(texts)
        speed["ratio_cpu"] = embed_cpu / ingesting.cpu * report.added / len(texts)

    questions = load_questions(Path(args.questions))
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
        "embedder": embedder.name,
        "store": str(store_dir),
        "passages": store.count(),
        "questions": len(questions),
        "gold_passages": len(set().union(*golds)),
        "gold_missing_from_store": len(set().union(*golds) - present),
        "dense_weight": args.dense_weight,
        "candidates": args.candidates,
        "ingest": report.model_dump(exclude={"errors"}) | {"errors": len(report.errors)},
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
            f"Passage retrieval, {figures['questions']} questions, question as query "
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
    if figures["gold_missing_from_store"]:
        console.print(
            f"[red]{figures['gold_missing_from_store']} gold passages are not in the store"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", required=True, help="MuSiQue-format questions JSON")
    parser.add_argument(
        "--corpus", required=True, help="corpus JSON/JSONL of {title, text} records"
    )
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
    args = parser.parse_args(argv)
    figures = run(args)
    if args.json:
        json.dump(figures, sys.stdout, indent=2)
        print()
    else:
        print_table(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
