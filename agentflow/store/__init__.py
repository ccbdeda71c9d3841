"""The corpus store: Chroma for dense search, bm25s for keyword search, fused for hybrid search.

``CorpusStore`` is the entry point; ``ingest`` loads files into it.
"""

from agentflow.store.corpus import AddResult, CorpusStore, StoreManifest
from agentflow.store.fusion import reciprocal_rank_fusion, weighted_fusion
from agentflow.store.ingest import IngestReport, ingest, passage_id

__all__ = [
    "AddResult",
    "CorpusStore",
    "IngestReport",
    "StoreManifest",
    "ingest",
    "passage_id",
    "reciprocal_rank_fusion",
    "weighted_fusion",
]
