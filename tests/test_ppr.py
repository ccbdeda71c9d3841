"""Personalized PageRank by sparse power iteration, checked against networkx, and hub dampening."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from agentflow.memory.ppr import PageRankOperator, hub_dampened, personalized_pagerank


def _networkx_ppr(graph: nx.Graph, restart: dict, damping: float) -> np.ndarray:
    ref = nx.pagerank(graph, alpha=damping, personalization=restart, tol=1e-15, max_iter=10_000)
    return np.array([ref[n] for n in graph.nodes])


def test_agrees_with_networkx_on_a_weighted_graph_with_a_dangling_node() -> None:
    graph = nx.gnm_random_graph(80, 200, seed=3)
    graph.add_node(80)  # isolated: its mass must go back to the personalization
    for u, v in graph.edges:
        graph[u][v]["weight"] = 1.0 + (u * 7 + v) % 5
    restart = np.zeros(81)
    restart[[3, 10, 80]] = [1.0, 0.5, 0.25]
    adjacency = nx.to_scipy_sparse_array(graph, nodelist=list(graph.nodes), weight="weight")
    ours = personalized_pagerank(adjacency, restart, damping=0.5, tol=1e-12)
    ref = _networkx_ppr(graph, {n: restart[n] for n in graph.nodes}, 0.5)
    assert np.abs(ours - ref).max() < 1e-6
    assert ours.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("damping", [0.5, 0.85])
def test_agrees_with_networkx_on_ring_and_star(damping: float) -> None:
    for graph in (nx.cycle_graph(12), nx.star_graph(9)):
        restart = {n: 1.0 if n == 1 else 0.0 for n in graph.nodes}
        adjacency = nx.to_scipy_sparse_array(graph, nodelist=list(graph.nodes))
        ours = personalized_pagerank(
            adjacency, np.array([restart[n] for n in graph.nodes]), damping=damping
        )
        assert np.abs(ours - _networkx_ppr(graph, restart, damping)).max() < 1e-6


def test_directed_graph_follows_row_to_column_edges() -> None:
    graph = nx.DiGraph([(0, 1), (1, 2), (2, 0), (2, 3)])  # 3 is dangling
    adjacency = nx.to_scipy_sparse_array(graph, nodelist=[0, 1, 2, 3])
    ours = personalized_pagerank(adjacency, np.array([1.0, 0, 0, 0]), damping=0.85, tol=1e-13)
    assert np.abs(ours - _networkx_ppr(graph, {0: 1.0}, 0.85)).max() < 1e-9


def test_mass_stays_near_the_seed_on_a_ring() -> None:
    ring = nx.to_scipy_sparse_array(nx.cycle_graph(10))
    restart = np.zeros(10)
    restart[0] = 1.0
    scores = personalized_pagerank(ring, restart)
    assert scores.argmax() == 0
    assert scores[1] == pytest.approx(scores[9])  # symmetric around the seed
    assert scores[1] > scores[2] > scores[3] > scores[5]


def test_zero_personalization_is_plain_pagerank() -> None:
    star = nx.star_graph(4)
    adjacency = nx.to_scipy_sparse_array(star)
    ours = personalized_pagerank(adjacency, np.zeros(5), damping=0.85)
    ref = nx.pagerank(star, alpha=0.85, tol=1e-15, max_iter=10_000)
    assert np.abs(ours - np.array([ref[n] for n in star.nodes])).max() < 1e-6


def test_operator_is_reusable_and_validates_input() -> None:
    operator = PageRankOperator(nx.to_scipy_sparse_array(nx.path_graph(4)))
    first = operator.run(np.array([1.0, 0, 0, 0]))
    last = operator.run(np.array([0, 0, 0, 1.0]))
    assert first[0] > first[3] and last[3] > last[0]
    with pytest.raises(ValueError):
        operator.run(np.ones(3))
    with pytest.raises(ValueError):
        operator.run(np.ones(4), damping=1.0)
    with pytest.raises(ValueError):
        PageRankOperator(sp.csr_matrix(np.ones((2, 3))))


def test_hub_dampening_scales_edges_of_high_degree_nodes_only() -> None:
    # Node 0 is a hub with 8 neighbours; nodes 1 and 2 also share an ordinary edge.
    star = nx.star_graph(8)
    star.add_edge(1, 2)
    adjacency = nx.to_scipy_sparse_array(star, nodelist=range(9), weight=None)
    damped = hub_dampened(adjacency, max_degree=4).toarray()
    assert damped[0, 5] == pytest.approx(4 / 8)  # hub side scaled, leaf side (degree 1) not
    assert damped[5, 0] == pytest.approx(4 / 8)  # still symmetric
    assert damped[1, 2] == pytest.approx(1.0)  # neither endpoint is a hub
    untouched = hub_dampened(adjacency, max_degree=50).toarray()
    assert np.array_equal(untouched, adjacency.toarray())


def test_hub_dampening_moves_mass_away_from_the_hub() -> None:
    star = nx.star_graph(60)
    star.add_edge(1, 2)
    adjacency = nx.to_scipy_sparse_array(star, nodelist=range(61), weight=None)
    restart = np.zeros(61)
    restart[1] = 1.0
    plain = personalized_pagerank(adjacency, restart)
    damped = personalized_pagerank(hub_dampened(adjacency, 50), restart)
    assert damped[0] < plain[0]
    assert damped[2] > plain[2]
