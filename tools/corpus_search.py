"""Search the local corpus store (Chroma + BM25, fused), optionally re-ranked by the
corpus entity graph so that second-hop passages sharing an entity with the first
hop can surface."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentflow.records import SearchHit
from agentflow.tools.base import SearchTool

if TYPE_CHECKING:
    from agentflow.memory.corpus_graph import CorpusGraph
    from agentflow.store.corpus import CorpusStore


class CorpusSearch(SearchTool):
    """The local corpus as a tool: ``mode`` is hybrid, dense or bm25."""

    name = "corpus"

    def __init__(self, store: CorpusStore, *, mode: str = "hybrid", use_graph: bool = True,
                 candidates: int = 50) -> None:
        self.store = store
        self.mode = mode
        self.candidates = candidates
        self._graphs = None
        if use_graph:
            from agentflow.store.graph_index import graph_index_for

            self._graphs = graph_index_for(store)
            self._graphs.current(store)  # loaded (or built) now, not on the first query

    @property
    def _graph(self) -> CorpusGraph | None:
        # The graph as published now: another process may have ingested since.
        return self._graphs.current(self.store) if self._graphs is not None else None

    def entity_frequency(self, key: str) -> int:
        """Passages of the corpus that mention the normalised entity ``key`` (1 without a
        graph: every name then counts the same)."""
        graph = self._graph
        return graph.entity_frequency(key) if graph is not None else 1

    def graph_scores(self, text: str, fused: list[tuple[str, float]]) -> dict[str, float]:
        """Personalized PageRank mass of the passages near ``text``'s entities and the
        ``fused`` passages (best first, with scores) on the corpus entity graph (local
        push: cost independent of the corpus). Empty without a graph."""
        graph = self._graph
        if graph is None:
            return {}
        rows, scores = graph.local_scores(text, fused)
        return dict(zip(graph.passage_ids.take(rows), scores.tolist()))

    def vectors(self, ids: list[str], *, embedder_name: str) -> dict[str, list[float]]:
        """The store's embeddings of ``ids`` when ``embedder_name`` built them (else none:
        vectors of another embedder do not compare with that one's queries)."""
        if not ids or self.store.embedder.name != embedder_name:
            return {}
        return self.store.vectors(ids)

    def search(self, query: str, *, k: int = 5) -> list[SearchHit]:
        """Top ``k`` passages for ``query``."""
        return self.search_many([query], k=k)[0]

    def search_many(self, queries: list[str], *, k: int = 5) -> list[list[SearchHit]]:
        """Batch search (queries are embedded together)."""
        graph = self._graph
        if graph is None:
            return self.store.search_many(queries, k=k, mode=self.mode)
        pools = self.store.rank_many(queries, k=max(k, self.candidates), mode=self.mode)
        ranked = [graph.rerank(q, pool, k=k) for q, pool in zip(queries, pools)]
        # Only the winners' texts are fetched, in one request.
        found = {p.id: p for p in self.store.get(list({pid for r in ranked for pid, _ in r}))}
        return [
            [SearchHit(id=pid, title=found[pid].title, text=found[pid].text,
                       source=found[pid].source, score=float(score))
             for pid, score in r if pid in found][:k]
            for r in ranked
        ]
