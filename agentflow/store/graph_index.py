"""The corpus entity graph kept beside a store (``<store>/graph``): appended by each
ingestion, loaded memory-mapped, reloaded when another process publishes a newer one, and
built from the store's passages when it is missing or damaged (an older store)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from agentflow.memory.corpus_graph import KIND, VERSION, CorpusGraph
from agentflow.records import Passage
from agentflow.store.side_index import COUNT_TTL, SideIndex

if TYPE_CHECKING:
    from agentflow.store.corpus import CorpusStore

GRAPH_DIR = "graph"


def _extend(graph: CorpusGraph, passages: Sequence[Passage]) -> int:
    return graph.add((p.id, p.title, p.text) for p in passages)


def graph_index_for(store: CorpusStore) -> SideIndex[CorpusGraph]:
    """The store's entity-graph side index (one per store object)."""
    index = getattr(store, "_graph_index", None)
    if index is None:
        index = SideIndex(store.path / GRAPH_DIR, kind=KIND, version=VERSION,
                          load=lambda path: CorpusGraph.load(path, lazy=True), new=CorpusGraph, extend=_extend,
                          ids=lambda graph: graph.passage_ids, count_ttl=COUNT_TTL)
        store._graph_index = index  # type: ignore[attr-defined]
    return index


def corpus_graph_for(store: CorpusStore) -> CorpusGraph:
    """The store's corpus graph as published now, with every passage of the store."""
    return graph_index_for(store).current(store)
