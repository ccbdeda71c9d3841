"""Memory: the run's memory graph (networkx + Personalized PageRank), its compact
rendering for prompts, the LLM-free entity extractor, and the corpus-wide entity
graph used for graph-augmented retrieval.

Names are imported lazily so that using the corpus graph or the extractor does not
pay for importing networkx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentflow.memory.corpus_graph import CorpusGraph
    from agentflow.memory.entities import extract_entities, normalize_entity
    from agentflow.memory.graph import MemoryGraph
    from agentflow.memory.ppr import PageRankOperator, hub_dampened, personalized_pagerank
    from agentflow.memory.render import render_memory

_EXPORTS = {
    "CorpusGraph": "corpus_graph",
    "MemoryGraph": "graph",
    "PageRankOperator": "ppr",
    "extract_entities": "entities",
    "hub_dampened": "ppr",
    "normalize_entity": "entities",
    "personalized_pagerank": "ppr",
    "render_memory": "render",
}
__all__ = [
    "CorpusGraph",
    "MemoryGraph",
    "PageRankOperator",
    "extract_entities",
    "hub_dampened",
    "normalize_entity",
    "personalized_pagerank",
    "render_memory",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentflow.memory' has no attribute {name!r}")
    return getattr(importlib.import_module(f"agentflow.memory.{module}"), name)
