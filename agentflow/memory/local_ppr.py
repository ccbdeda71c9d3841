"""Local Personalized PageRank by forward push (Andersen, Chung and Lang, 2006).

Each node holds an estimate ``p`` and a residual ``r`` (mass not yet spread); pushing a
node moves ``(1 - damping)`` of its residual into its estimate and spreads the rest to its
neighbours in proportion to the edge weights. Nodes are pushed while ``r[u] > eps *
degree(u)``, so the work is proportional to ``1 / eps`` and to the neighbourhood of the
seeds, not to the graph; every estimate is below the exact PPR value by at most about
``eps * degree``. Pushes run in rounds (every node over the threshold at once), which keeps
the loop in numpy; any push order converges to the same vector.

The graph is given by :class:`PushGraph`, which spreads a batch of nodes' mass; the corpus
graph implements it over its on-disk segments.
"""

from __future__ import annotations

import threading
from typing import Protocol

import numpy as np

__all__ = ["PushGraph", "forward_push", "multi_arange"]


class PushGraph(Protocol):
    """What forward push needs from a graph."""

    #: Number of nodes.
    size: int

    def degrees(self, nodes: np.ndarray) -> np.ndarray:
        """Number of neighbours of each node (0 for a dangling node)."""

    def spread(self, nodes: np.ndarray, mass: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(targets, amounts)``: ``mass[i]`` of ``nodes[i]`` split over its neighbours by
        transition probability; a dangling node's mass is left out (returned to the seeds)."""


def multi_arange(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])``, without a loop."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    offsets = np.cumsum(lengths) - lengths
    return (np.arange(total, dtype=np.int64) - np.repeat(offsets, lengths)
            + np.repeat(np.asarray(starts, dtype=np.int64), lengths))


#: Spare (residual, estimate) vector pairs, reused by later pushes.
_SPARE: list[tuple[np.ndarray, np.ndarray]] = []
_SPARE_LOCK = threading.Lock()
#: Pairs kept spare at most: as many pushes as run at once, bounded (each pair is
#: 2 x 8 bytes x the graph's nodes: 34 MB at 10^6 passages).
MAX_SPARE = 4


def _take_vectors(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Zeroed residual and estimate vectors of at least ``size`` entries. Allocating them
    for every push costs a memset of the whole graph (2 x 17 MB at 10^6 passages: ~5 ms,
    more than the push itself), since the allocator reuses freed memory."""
    with _SPARE_LOCK:
        while _SPARE:
            vectors = _SPARE.pop()
            if len(vectors[0]) >= size:
                return vectors
    return np.zeros(size), np.zeros(size)


def _give_back(vectors: tuple[np.ndarray, np.ndarray]) -> None:
    with _SPARE_LOCK:
        if len(_SPARE) < MAX_SPARE:
            _SPARE.append(vectors)


def _unique(values: np.ndarray) -> np.ndarray:
    # Sorting beats np.unique's hash table on the few thousand nodes of a round.
    if values.size == 0:
        return values
    ordered = np.sort(values)
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def forward_push(graph: PushGraph, seeds: np.ndarray, weights: np.ndarray, *,
                 damping: float, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Approximate PPR restarting at ``seeds`` (with ``weights``, normalised here): returns
    the nodes the push reached and their estimates (``p + (1 - damping) r``). A dangling node's spread mass
    goes back to the seeds, as in :class:`~agentflow.memory.ppr.PageRankOperator`."""
    if not 0.0 <= damping < 1.0:
        raise ValueError(f"damping must lie in [0, 1), got {damping}")
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps}")
    seeds = np.asarray(seeds, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float64)
    total = weights.sum()
    if seeds.size == 0 or total <= 0:
        return np.zeros(0, np.int64), np.zeros(0)
    restart = weights / total
    vectors = _take_vectors(graph.size)
    residual, estimate = vectors
    reached: list[np.ndarray] = []
    try:
        return _push(graph, seeds, restart, residual, estimate, reached, damping, eps)
    finally:
        # Every entry written lies in a reached frontier: zeroing those leaves the
        # vectors clean for the next push at the cost of the push, not of the graph.
        for nodes in reached:
            residual[nodes] = 0.0
            estimate[nodes] = 0.0
        _give_back(vectors)


def _push(graph: PushGraph, seeds: np.ndarray, restart: np.ndarray, residual: np.ndarray,
          estimate: np.ndarray, reached: list[np.ndarray], damping: float,
          eps: float) -> tuple[np.ndarray, np.ndarray]:
    np.add.at(residual, seeds, restart)
    frontier = _unique(seeds)
    reached.append(frontier)
    while frontier.size:
        threshold = eps * np.maximum(graph.degrees(frontier), 1)
        active = frontier[residual[frontier] > threshold]
        if active.size == 0:
            break
        mass = residual[active]
        residual[active] = 0.0
        estimate[active] += (1.0 - damping) * mass
        targets, amounts = graph.spread(active, damping * mass)
        dangling = damping * mass[graph.degrees(active) == 0].sum()
        if dangling > 0:
            targets = np.concatenate([targets, seeds])
            amounts = np.concatenate([amounts, dangling * restart])
        if targets.size == 0:
            break
        np.add.at(residual, targets, amounts)
        frontier = _unique(targets)
        reached.append(frontier)
    nodes = _unique(np.concatenate(reached))
    # A node keeps at least (1 - damping) of its unspread residual: counting it now
    # halves the error of the estimate for free.
    return nodes, estimate[nodes] + (1.0 - damping) * residual[nodes]
