"""Local (forward push) PPR against the global power iteration on a corpus entity graph:
ranking agreement and per-query time, with the same fused lists as seeds.

For each question: the store's hybrid top-50 seeds both; it prints the share of questions
whose top 10 PPR passages are the same in the same order, the mean top-10 overlap, the
share whose corpus-tool result (``rerank``, k=5) is the same, and median milliseconds of
each. Reads any dataset ``load_dataset`` reads, or a generated world.

    python -m agentflow.evals.bench_local_ppr --questions ../shared/data/musique_sample
    python -m agentflow.evals.bench_local_ppr --world 100000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from typing import Any

import numpy as np

from agentflow.evals.datasets import load_dataset
from agentflow.evals.world import generate_world
from agentflow.memory.corpus_graph import PUSH_EPS, CorpusGraph
from agentflow.store.corpus import CorpusStore


def agreement(graph: CorpusGraph, questions: list[str], pools: list[list[tuple[str, float]]],
              eps: float) -> dict[str, Any]:
    """Agreement and timing figures of local against global PPR over these questions."""
    same_order = same_rerank = 0
    overlap: list[float] = []
    t_local: list[float] = []
    t_global: list[float] = []
    for q, fused in zip(questions, pools):
        started = time.perf_counter()
        exact = graph.passage_scores(q, fused)
        t_global.append(time.perf_counter() - started)
        started = time.perf_counter()
        rows, scores = graph.local_scores(q, fused, eps=eps)
        t_local.append(time.perf_counter() - started)
        top_exact = np.lexsort((np.arange(len(exact)), -exact))[:10]
        top_local = rows[np.lexsort((rows, -scores))[:10]]
        same_order += top_local.tolist() == top_exact.tolist()
        overlap.append(len(set(top_local.tolist()) & set(top_exact.tolist())) / 10)
        local = [pid for pid, _ in graph.rerank(q, fused)]
        same_rerank += local == [pid for pid, _ in graph.rerank(q, fused, exact=True)]
    n = len(questions)
    return {"questions": n, "eps": eps, "same_top10_order": same_order / n,
            "top10_overlap": statistics.mean(overlap), "same_corpus_tool_top5": same_rerank / n,
            "local_ms_p50": 1000 * statistics.median(t_local),
            "global_ms_p50": 1000 * statistics.median(t_global)}


def main(argv: list[str] | None = None) -> None:
    """Print the agreement figures for a dataset or a generated world."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", help="dataset file or folder")
    parser.add_argument("--world", type=int, help="a generated world of this many documents")
    parser.add_argument("--embedder", default="hash")
    parser.add_argument("--eps", type=float, nargs="+", default=[PUSH_EPS])
    parser.add_argument("--limit", type=int, default=200)
    args = parser.parse_args(argv)
    if args.world:
        world = generate_world(n_docs=args.world, n_questions=args.limit, seed=0)
        corpus, questions = world.corpus, [q.question for q in world.questions]
    elif args.questions:
        data = load_dataset(args.questions)
        corpus, questions = data.corpus or [], [ex.question for ex in data.examples]
    else:
        parser.error("pass --questions or --world")
    store = CorpusStore(tempfile.mkdtemp(prefix="bench-ppr-"), embedder=args.embedder)
    store.add(corpus)
    graph = CorpusGraph.load(store.path / "graph")
    questions = questions[: args.limit]
    pools = [[(h.id, h.score) for h in hits] for hits in store.search_many(questions, k=50)]
    for eps in args.eps:
        fig = agreement(graph, questions, pools, eps)
        print(f"{len(corpus):,} passages, {fig['questions']} questions, eps {eps:g}: "
              f"same top-10 order {fig['same_top10_order']:.3f}, top-10 overlap "
              f"{fig['top10_overlap']:.4f}, same corpus-tool top 5 {fig['same_corpus_tool_top5']:.3f};"
              f" p50 local {fig['local_ms_p50']:.2f} ms, global {fig['global_ms_p50']:.2f} ms",
              flush=True)


if __name__ == "__main__":
    main()
