"""Fusion math: min-max weighted fusion and reciprocal rank fusion, checked by hand."""

from __future__ import annotations

import pytest

from agentflow.store.fusion import min_max, reciprocal_rank_fusion, weighted_fusion

DENSE = [("a", 0.9), ("b", 0.5), ("c", 0.1)]
SPARSE = [("b", 10.0), ("d", 5.0), ("a", 0.0)]


def test_min_max_scales_to_unit_interval() -> None:
    assert min_max(DENSE) == pytest.approx({"a": 1.0, "b": 0.5, "c": 0.0})
    assert min_max([]) == {}


def test_min_max_of_equal_scores_is_all_ones() -> None:
    assert min_max([("x", 3.0), ("y", 3.0)]) == {"x": 1.0, "y": 1.0}


def test_weighted_fusion_by_hand() -> None:
    fused = dict(weighted_fusion(DENSE, SPARSE, w_dense=0.8))
    # a: 0.8*1 + 0.2*0; b: 0.8*0.5 + 0.2*1; c: 0.8*0 + missing; d: missing + 0.2*0.5
    assert fused == pytest.approx({"a": 0.8, "b": 0.6, "c": 0.0, "d": 0.1})
    assert [doc for doc, _ in weighted_fusion(DENSE, SPARSE, w_dense=0.8)] == ["a", "b", "d", "c"]


def test_weighted_fusion_extreme_weights_follow_one_list() -> None:
    assert [d for d, _ in weighted_fusion(DENSE, SPARSE, w_dense=1.0)][:3] == ["a", "b", "c"]
    assert [d for d, _ in weighted_fusion(DENSE, SPARSE, w_dense=0.0)][:2] == ["b", "d"]


def test_weighted_fusion_with_one_empty_list() -> None:
    assert weighted_fusion([], SPARSE, w_dense=0.5)[0] == ("b", 0.5)
    assert weighted_fusion([], [], w_dense=0.5) == []


def test_weighted_fusion_rejects_bad_weight() -> None:
    with pytest.raises(ValueError, match="w_dense"):
        weighted_fusion(DENSE, SPARSE, w_dense=1.5)


def test_reciprocal_rank_fusion_by_hand() -> None:
    fused = dict(reciprocal_rank_fusion([DENSE, SPARSE], k=60))
    assert fused == pytest.approx(
        {"a": 1 / 61 + 1 / 63, "b": 1 / 62 + 1 / 61, "c": 1 / 63, "d": 1 / 62}
    )
    assert [d for d, _ in reciprocal_rank_fusion([DENSE, SPARSE])] == ["b", "a", "d", "c"]


def test_reciprocal_rank_fusion_ignores_scores_and_uses_k() -> None:
    fused = reciprocal_rank_fusion([[("x", -100.0), ("y", 100.0)]], k=1)
    assert fused == [("x", pytest.approx(0.5)), ("y", pytest.approx(1 / 3))]
    assert reciprocal_rank_fusion([]) == []
