"""Personalized PageRank by sparse power iteration, and hub dampening.

networkx's own ``pagerank`` stops when the L1 change is below ``N * tol``, which on
large graphs is far too loose; here the tolerance is absolute, and the transition
matrix can be prepared once (:class:`PageRankOperator`) and reused across queries.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["PageRankOperator", "hub_dampened", "personalized_pagerank"]


class PageRankOperator:
    """The column-stochastic transition of a weighted adjacency, ready for repeated PPR runs.

    ``adjacency[i, j]`` is the weight of the edge i -> j (symmetric for an undirected
    graph); rows without outgoing weight are dangling nodes.
    """

    def __init__(self, adjacency: sp.spmatrix | sp.sparray) -> None:
        matrix = sp.csr_matrix(adjacency, dtype=np.float64)
        if matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"adjacency must be square, got shape {matrix.shape}")
        if matrix.nnz and matrix.data.min() < 0:
            raise ValueError("adjacency weights must be non-negative")
        out_weight = np.asarray(matrix.sum(axis=1)).ravel()
        self.size = matrix.shape[0]
        self.dangling = out_weight <= 0
        inverse = np.divide(1.0, out_weight, out=np.zeros_like(out_weight), where=~self.dangling)
        # transition[j, i] = probability of stepping i -> j, so that x_next = transition @ x.
        self.transition = sp.csr_matrix((sp.diags(inverse) @ matrix).T)

    def run(
        self,
        personalization: np.ndarray,
        *,
        damping: float = 0.5,
        tol: float = 1e-10,
        max_iter: int = 200,
    ) -> np.ndarray:
        """PPR scores (summing to 1) for a restart distribution ``personalization``.

        Iterates until the L1 change between two steps is below ``tol`` (absolute) or
        ``max_iter`` steps were taken; an all-zero personalization means plain PageRank.
        """
        if not 0.0 <= damping < 1.0:
            raise ValueError(f"damping must lie in [0, 1), got {damping}")
        restart = np.asarray(personalization, dtype=np.float64).ravel()
        if restart.shape[0] != self.size:
            raise ValueError(
                f"personalization has {restart.shape[0]} entries, the graph {self.size} nodes"
            )
        if self.size == 0:
            return restart.copy()
        if (restart < 0).any():
            raise ValueError("personalization must be non-negative")
        total = restart.sum()
        restart = restart / total if total > 0 else np.full(self.size, 1.0 / self.size)
        scores = restart.copy()
        for _ in range(max_iter):
            # A walker on a dangling node restarts, like networkx's default.
            leaked = scores[self.dangling].sum()
            following = damping * (self.transition @ scores)
            following += (damping * leaked + 1.0 - damping) * restart
            change = np.abs(following - scores).sum()
            scores = following
            if change < tol:
                break
        return scores


def personalized_pagerank(
    matrix: sp.spmatrix | sp.sparray,
    personalization: np.ndarray,
    *,
    damping: float = 0.5,
    tol: float = 1e-10,
    max_iter: int = 200,
) -> np.ndarray:
    """Personalized PageRank over the weighted adjacency ``matrix`` (rows are sources).

    ``damping`` is the probability of following an edge (HippoRAG 2 uses 0.5); the
    walk restarts according to ``personalization``, and dangling mass goes there too.
    Stops when the L1 change is below ``tol`` (absolute). Returns scores summing to 1.
    """
    operator = PageRankOperator(matrix)
    return operator.run(personalization, damping=damping, tol=tol, max_iter=max_iter)


def hub_dampened(adjacency: sp.spmatrix | sp.sparray, max_degree: int = 50) -> sp.csr_matrix:
    """Down-weight edges touching hubs: each endpoint whose degree (number of distinct
    neighbours) exceeds ``max_degree`` scales the edge by ``max_degree / degree``.

    A hub (a year, a country) otherwise spreads a seed's mass over everything it
    touches; scaling both endpoints keeps a symmetric adjacency symmetric.
    """
    if max_degree <= 0:
        raise ValueError(f"max_degree must be positive, got {max_degree}")
    matrix = sp.csr_matrix(adjacency, dtype=np.float64)
    matrix.eliminate_zeros()
    degree = np.diff(matrix.indptr).astype(np.float64)
    factor = np.minimum(1.0, max_degree / np.maximum(degree, 1.0))
    scaled = sp.diags(factor) @ matrix @ sp.diags(factor)
    return sp.csr_matrix(scaled)
