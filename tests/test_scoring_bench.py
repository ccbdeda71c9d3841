"""The scoring benchmark's synthetic folders score like real ones (and quickly)."""

from __future__ import annotations

import time
from pathlib import Path

from agentflow.evals.bench_scoring import synthesise
from agentflow.scoring.scorer import score_folder


def test_synthetic_folder_scores(tmp_path: Path) -> None:
    folder = synthesise(tmp_path / "eval", 60, seed=1)
    started = time.perf_counter()
    scores = score_folder(folder, resamples=200)
    assert time.perf_counter() - started < 5
    agg = scores.aggregate
    assert agg["scored"] == 60 and agg["missing"] == []
    assert set(agg["statuses"]) <= {"answered", "refused"}
    metrics = agg["metrics"]
    assert metrics["llm_calls"]["mean"] == 12 and metrics["searches"]["mean"] == 4
    assert 0 < metrics["refused"]["mean"] < 0.5
    assert metrics["citation_validity"]["mean"] == 1.0
    assert 2 <= len(agg["per_hop"]) <= 4
