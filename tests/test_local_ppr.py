"""Local (forward push) PPR against the global power iteration, its correctness reference:
on random graphs, and on the corpus entity graph of the generated world (same top 10)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from agentflow.evals.world import generate_world
from agentflow.memory.corpus_graph import CorpusGraph
from agentflow.memory.local_ppr import forward_push, multi_arange
from agentflow.memory.ppr import PageRankOperator
from agentflow.store.bm25_index import BM25Index
from agentflow.store.corpus import embedding_text


class MatrixGraph:
    """A plain weighted adjacency as forward push sees it."""

    def __init__(self, adjacency: sp.csr_matrix) -> None:
        self.matrix = adjacency
        self.size = adjacency.shape[0]
        self.out = np.asarray(adjacency.sum(axis=1)).ravel()

    def degrees(self, nodes: np.ndarray) -> np.ndarray:
        return np.diff(self.matrix.indptr)[nodes]

    def spread(self, nodes: np.ndarray, mass: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = self.matrix[nodes]
        share = np.repeat(mass / np.maximum(self.out[nodes], 1e-300), np.diff(rows.indptr))
        return rows.indices.astype(np.int64), rows.data * share


def test_multi_arange() -> None:
    got = multi_arange(np.array([3, 10, 0]), np.array([2, 0, 3]))
    assert got.tolist() == [3, 4, 0, 1, 2]
    assert multi_arange(np.array([5]), np.array([0])).tolist() == []


@pytest.mark.parametrize("seed", [0, 1])
def test_forward_push_converges_to_global_ppr(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    rows, cols = rng.integers(0, n, 900), rng.integers(0, n, 900)
    upper = sp.coo_matrix((rng.random(900), (rows, cols)), shape=(n, n))
    adjacency = sp.csr_matrix(upper + upper.T)
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    seeds, weights = np.array([0, 5, 7]), np.array([1.0, 0.5, 0.25])
    restart = np.zeros(n)
    restart[seeds] = weights
    exact = PageRankOperator(adjacency).run(restart, damping=0.5, tol=1e-14)
    nodes, scores = forward_push(MatrixGraph(adjacency), seeds, weights, damping=0.5, eps=1e-9)
    approx = np.zeros(n)
    approx[nodes] = scores
    assert np.abs(approx - exact).sum() < 1e-5
    with pytest.raises(ValueError, match="eps"):
        forward_push(MatrixGraph(adjacency), seeds, weights, damping=0.5, eps=0)


def test_pushes_reuse_clean_vectors_across_graphs_and_failures() -> None:
    rng = np.random.default_rng(3)

    def graph(n: int) -> MatrixGraph:
        upper = sp.coo_matrix((rng.random(3 * n), (rng.integers(0, n, 3 * n),
                                                   rng.integers(0, n, 3 * n))), shape=(n, n))
        return MatrixGraph(sp.csr_matrix(upper + upper.T))

    big, small = graph(400), graph(50)
    seeds, weights = np.array([1, 2]), np.array([1.0, 1.0])
    first = forward_push(big, seeds, weights, damping=0.5, eps=1e-7)

    class Failing(MatrixGraph):
        def spread(self, nodes: np.ndarray, mass: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            raise RuntimeError("spread failed")

    forward_push(small, seeds, weights, damping=0.5, eps=1e-7)
    with pytest.raises(RuntimeError):
        forward_push(Failing(big.matrix), seeds, weights, damping=0.5, eps=1e-7)
    again = forward_push(big, seeds, weights, damping=0.5, eps=1e-7)
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])


def test_dangling_seed_returns_its_mass_to_the_seeds() -> None:
    # Node 2 has no edges: a walker there restarts, as in the global iteration.
    adjacency = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=float))
    restart = np.array([0.5, 0.0, 0.5])
    exact = PageRankOperator(adjacency).run(restart, damping=0.5, tol=1e-14)
    nodes, scores = forward_push(MatrixGraph(adjacency), np.array([0, 2]), np.array([1.0, 1.0]),
                                 damping=0.5, eps=1e-12)
    approx = np.zeros(3)
    approx[nodes] = scores
    assert np.allclose(approx, exact, atol=1e-9)


def test_corpus_graph_local_top10_matches_global_on_the_generated_world() -> None:
    world = generate_world(n_docs=3000, n_questions=60, seed=7)
    graph = CorpusGraph.build((p.id, p.title, p.text) for p in world.corpus)
    bm25 = BM25Index.build([p.id for p in world.corpus], [embedding_text(p) for p in world.corpus])
    same = 0
    for question in world.questions:
        fused = bm25.search(question.question, 50)
        exact = graph.passage_scores(question.question, fused)
        rows, scores = graph.local_scores(question.question, fused)
        top_exact = np.lexsort((np.arange(len(exact)), -exact))[:10]
        top_local = rows[np.lexsort((rows, -scores))[:10]]
        # The same ten in the same order, but for near-ties (0.01%) that swap places.
        assert np.all(exact[top_local] >= exact[top_exact] * (1 - 1e-4)), question.question
        same += top_local.tolist() == top_exact.tolist()
        local, reference = (graph.rerank(question.question, fused, exact=exact)
                            for exact in (False, True))
        assert [pid for pid, _ in local] == [pid for pid, _ in reference]
        assert [s for _, s in local] == pytest.approx([s for _, s in reference], rel=1e-3)
    assert same >= 0.95 * len(world.questions)
