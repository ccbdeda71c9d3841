"""Personalized PageRank benchmark: agentflow's sparse power iteration against
``networkx.pagerank`` on random sparse graphs of growing size.

For each size it prints median seconds of: ours from an adjacency matrix (``cold``,
building the transition each call), ours with the transition prepared once
(``warm``, what the memory and corpus graphs do between writes), and networkx
(default tolerance, which includes its own graph-to-matrix conversion), the
networkx/ours ratio, and the L1 distance of networkx's default result and of a
tight-tolerance networkx result from ours. networkx stops when the L1 change is
below ``N * tol``, so its default result drifts as graphs grow.

    python -m evals.bench_ppr --sizes 1000 10000 100000 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from agentflow.memory.ppr import PageRankOperator, personalized_pagerank

DAMPING = 0.5


def random_graph(nodes: int, mean_degree: float, seed: int) -> tuple[nx.Graph, sp.csr_matrix]:
    """A random undirected graph with about ``mean_degree`` neighbours a node, as networkx
    graph and as the matching symmetric adjacency (nodes 0..n-1 in order)."""
    rng = np.random.default_rng(seed)
    edges = int(nodes * mean_degree / 2)
    rows = rng.integers(0, nodes, edges)
    cols = rng.integers(0, nodes, edges)
    keep = rows != cols
    upper = sp.coo_matrix((np.ones(keep.sum()), (rows[keep], cols[keep])), shape=(nodes, nodes))
    adjacency = ((upper + upper.T) > 0).astype(np.float64).tocsr()
    graph = nx.Graph()
    graph.add_nodes_from(range(nodes))
    coo = sp.triu(adjacency).tocoo()
    graph.add_edges_from(zip(coo.row.tolist(), coo.col.tolist(), strict=True))
    return graph, adjacency


def median_seconds(run: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``repeats`` calls, and the last call's result."""
    times = []
    result = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def bench(
    nodes: int, *, mean_degree: float, repeats: int, seeds: int, rng_seed: int
) -> dict[str, float]:
    """Time ours (cold and warm) and networkx on one random graph; return the figures."""
    graph, adjacency = random_graph(nodes, mean_degree, rng_seed)
    picked = np.random.default_rng(rng_seed + 1).choice(nodes, size=seeds, replace=False)
    restart = np.zeros(nodes)
    restart[picked] = 1.0
    personalization = {int(n): 1.0 for n in picked}
    cold, ours = median_seconds(
        lambda: personalized_pagerank(adjacency, restart, damping=DAMPING), repeats
    )
    operator = PageRankOperator(adjacency)
    warm, _ = median_seconds(lambda: operator.run(restart, damping=DAMPING), repeats)
    ref_time, ref = median_seconds(
        lambda: nx.pagerank(graph, alpha=DAMPING, personalization=personalization), repeats
    )
    tight = nx.pagerank(
        graph, alpha=DAMPING, personalization=personalization, tol=1e-14, max_iter=1000
    )

    def as_array(scores: dict[int, float]) -> np.ndarray:
        return np.array([scores[n] for n in range(nodes)])

    return {
        "nodes": nodes,
        "edges": graph.number_of_edges(),
        "ours_cold_s": cold,
        "ours_warm_s": warm,
        "networkx_s": ref_time,
        "ratio_cold": ref_time / cold,
        "ratio_warm": ref_time / warm,
        "l1_networkx_default": float(np.abs(as_array(ref) - ours).sum()),
        "l1_networkx_tight": float(np.abs(as_array(tight) - ours).sum()),
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print one line per graph size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--degree", type=float, default=8.0, help="mean neighbours a node")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=5, help="personalization nodes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(
        f"damping {DAMPING}, mean degree {args.degree}, {args.seeds} seed nodes, "
        f"median of {args.repeats}"
    )
    header = (
        f"{'nodes':>8} {'edges':>9} {'ours cold':>10} {'ours warm':>10} {'networkx':>10} "
        f"{'nx/cold':>8} {'nx/warm':>8} {'L1 nx default':>14} {'L1 nx tight':>12}"
    )
    print(header)
    for size in args.sizes:
        r = bench(
            size,
            mean_degree=args.degree,
            repeats=args.repeats,
            seeds=args.seeds,
            rng_seed=args.seed,
        )
        print(
            f"{r['nodes']:>8} {r['edges']:>9} {r['ours_cold_s']:>10.4f} {r['ours_warm_s']:>10.4f} "
            f"{r['networkx_s']:>10.4f} {r['ratio_cold']:>8.1f} {r['ratio_warm']:>8.1f} "
            f"{r['l1_networkx_default']:>14.2e} {r['l1_networkx_tight']:>12.2e}"
        )


if __name__ == "__main__":
    main()
