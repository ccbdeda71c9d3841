"""Seeded percentile-bootstrap confidence intervals for per-question metrics.

Every metric is a vector with one value per question and NaN where it does not apply
(e.g. Recall@5 of an unanswerable question, or P(correct | sufficient) for a question
whose evidence was not sufficient). Its point estimate is the mean over the questions
where it applies; a conditional probability P(A | B) is therefore the mean of A over the
questions where B holds.

Interval: draw B resamples of the n questions with replacement (one index matrix,
shared by all metrics, so the intervals are paired and reproducible from ``seed``),
compute the same mean in each resample (skipping resamples where the metric applies to
no question), and take the 2.5th and 97.5th percentiles of those B means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel

DEFAULT_RESAMPLES = 1000
CONFIDENCE = 0.95


class Estimate(BaseModel):
    """A metric's mean over the questions where it applies, with its bootstrap interval."""

    mean: float | None
    lo: float | None
    hi: float | None
    n: int

    def fmt(self, digits: int = 3) -> str:
        """``0.512 [0.430, 0.600]`` (or ``-`` when the metric never applied)."""
        if self.mean is None:
            return "-"
        if self.lo is None or self.hi is None:
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} [{self.lo:.{digits}f}, {self.hi:.{digits}f}]"


class Bootstrap:
    """Resamples of ``n`` questions drawn once from ``seed``; :meth:`estimate` reuses them."""

    def __init__(self, n: int, *, resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
                 confidence: float = CONFIDENCE) -> None:
        self.n = n
        self.resamples = resamples
        self.seed = seed
        self.confidence = confidence
        rng = np.random.default_rng(seed)
        self._idx = rng.integers(0, n, size=(resamples, n)) if n else np.zeros((0, 0), dtype=int)

    def estimate(self, values: Sequence[float | None] | np.ndarray) -> Estimate:
        """Mean and percentile interval of one metric (None/NaN entries do not apply)."""
        v = np.array([np.nan if x is None else float(x) for x in values], dtype=float) \
            if not isinstance(values, np.ndarray) else values.astype(float)
        if len(v) != self.n:
            raise ValueError(f"expected {self.n} values, got {len(v)}")
        applies = ~np.isnan(v)
        count = int(applies.sum())
        if count == 0:
            return Estimate(mean=None, lo=None, hi=None, n=0)
        mean = float(v[applies].mean())
        filled = np.where(applies, v, 0.0)
        sums = filled[self._idx].sum(axis=1)
        counts = applies[self._idx].sum(axis=1)
        ok = counts > 0
        if not ok.any():
            return Estimate(mean=mean, lo=None, hi=None, n=count)
        means = sums[ok] / counts[ok]
        tail = (1 - self.confidence) / 2 * 100
        lo, hi = np.percentile(means, [tail, 100 - tail])
        return Estimate(mean=_clean(mean), lo=_clean(float(lo)), hi=_clean(float(hi)), n=count)


def _clean(x: float) -> float:
    # Tidy floating noise (0.30000000000000004) so JSON and tables read well.
    return 0.0 if math.isclose(x, 0.0, abs_tol=1e-12) else round(x, 6)
