"""Merging ranked lists from dense and BM25 search into one ranking.

Both functions take lists of ``(id, score)`` pairs (higher is better) and return
one list of ``(id, fused_score)`` sorted best first; ties keep first-seen order.
"""

from __future__ import annotations

from collections.abc import Sequence

Ranked = Sequence[tuple[str, float]]


def min_max(scores: Ranked) -> dict[str, float]:
    """Scale a list's scores to [0, 1]: ``(s - min) / (max - min)``; all 1.0 when max == min."""
    if not scores:
        return {}
    values = [s for _, s in scores]
    low, high = min(values), max(values)
    span = high - low
    if span <= 0:
        # Every candidate is as good as the best one; 1.0 keeps them from being
        # ranked below candidates that only the other list found.
        return {doc_id: 1.0 for doc_id, _ in scores}
    return {doc_id: (s - low) / span for doc_id, s in scores}


def weighted_fusion(dense: Ranked, sparse: Ranked, w_dense: float = 0.8) -> list[tuple[str, float]]:
    """Weighted sum of min-max normalised scores over the union of candidates.

    ``fused(d) = w_dense * norm_dense(d) + (1 - w_dense) * norm_sparse(d)``, where
    ``norm_x`` is :func:`min_max` over list x's own candidates and a document missing
    from a list counts 0 there.
    """
    if not 0.0 <= w_dense <= 1.0:
        raise ValueError(f"w_dense must lie in [0, 1], got {w_dense}")
    norm_dense, norm_sparse = min_max(dense), min_max(sparse)
    fused: dict[str, float] = {}
    for doc_id in [*norm_dense, *norm_sparse]:
        if doc_id not in fused:
            fused[doc_id] = w_dense * norm_dense.get(doc_id, 0.0) + (
                1.0 - w_dense
            ) * norm_sparse.get(doc_id, 0.0)
    return sorted(fused.items(), key=lambda item: item[1], reverse=True)


def reciprocal_rank_fusion(lists: Sequence[Ranked], k: int = 60) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: ``fused(d) = sum over lists of 1 / (k + rank(d))``, ranks from 1.

    Scores are ignored, only each list's order counts; a document missing from a
    list contributes nothing for it.
    """
    fused: dict[str, float] = {}
    for ranked in lists:
        for rank, (doc_id, _) in enumerate(ranked, start=1):
            fused[doc_id] = fused.get(doc_id, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: item[1], reverse=True)
