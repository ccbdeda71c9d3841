"""The corpus entity graph kept beside a store (``<store>/graph``), built or brought
up to date from the store's passages when it is missing or stale."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from agentflow.errors import StoreNotFoundError
from agentflow.memory.corpus_graph import CorpusGraph

if TYPE_CHECKING:
    from agentflow.store.corpus import CorpusStore

GRAPH_DIR = "graph"
_lock = threading.Lock()


def corpus_graph_for(store: CorpusStore) -> CorpusGraph:
    """The store's corpus graph: loaded from disk, extended with passages added since
    it was saved, or built from scratch (then saved) for an older store."""
    folder = store.path / GRAPH_DIR
    with _lock:
        try:
            graph = CorpusGraph.load(folder)
        except StoreNotFoundError:
            graph = CorpusGraph()
        if len(graph) != store.count():
            added = graph.add((p.id, p.title, p.text) for p in store.iter_passages())
            if added:
                graph.save(folder)
        return graph
