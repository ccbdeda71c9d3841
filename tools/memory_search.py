"""Search what the run already knows: the passages in its memory graph, ranked by
dense similarity plus Personalized PageRank from the query's entities."""

from __future__ import annotations

from agentflow.memory.graph import MemoryGraph
from agentflow.records import SearchHit
from agentflow.tools.base import SearchTool


class MemorySearch(SearchTool):
    """The run's memory graph as a tool (no corpus access, no new passages)."""

    name = "memory"
    mode = "memory-ppr"

    def __init__(self, graph: MemoryGraph) -> None:
        self.graph = graph

    def search(self, query: str, *, k: int = 5) -> list[SearchHit]:
        """Passages already in memory most relevant to ``query``."""
        hits: list[SearchHit] = []
        for pid, score in self.graph.search(query, k=k):
            p = self.graph.passage(pid)
            if p is not None:
                hits.append(SearchHit(id=p.id, title=p.title, text=p.text, source=p.source, score=score))
        return hits
