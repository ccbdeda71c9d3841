"""Answer and evidence metrics on known strings, and the seeded bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agentflow.scoring.bootstrap import Bootstrap
from agentflow.scoring.metrics import (
    cover_em,
    exact_match,
    full_chain,
    normalize_answer,
    precision,
    recall_at_k,
    token_f1,
)


@pytest.mark.parametrize("text, expected", [
    ("The Eiffel Tower!", "eiffel tower"),
    ("  an   apple, a pear ", "apple pear"),
    ("G. Stanley Hall", "g stanley hall"),
    ("Theatre", "theatre"),  # "the" only as a whole word
    ("", ""),
])
def test_normalize_answer_follows_squad(text: str, expected: str) -> None:
    assert normalize_answer(text) == expected


def test_exact_match_takes_the_best_alias() -> None:
    assert exact_match("the Stanley Hall.", ["G. Stanley Hall", "Stanley Hall"]) == 1.0
    assert exact_match("Stanley", ["G. Stanley Hall", "Stanley Hall"]) == 0.0


def test_token_f1_on_known_strings() -> None:
    # pred {stanley, hall}, gold {g, stanley, hall}: P = 1, R = 2/3, F1 = 0.8
    assert token_f1("Stanley Hall", ["G. Stanley Hall"]) == pytest.approx(0.8)
    # pred {born, in, paris}, gold {paris}: P = 1/3, R = 1, F1 = 0.5
    assert token_f1("born in Paris", ["Paris"]) == pytest.approx(0.5)
    assert token_f1("London", ["Paris"]) == 0.0
    # max over aliases
    assert token_f1("Paris", ["Lyon", "Paris"]) == 1.0
    # repeated tokens count as a multiset
    assert token_f1("paris paris", ["paris"]) == pytest.approx(2 * 0.5 * 1 / 1.5)


def test_cover_em_needs_whole_tokens() -> None:
    assert cover_em("It was founded by G. Stanley Hall in 1892", ["G. Stanley Hall"]) == 1.0
    assert cover_em("Hallstatt", ["Hall"]) == 0.0
    assert cover_em("", ["Paris"]) == 0.0


def test_refusal_is_the_empty_prediction() -> None:
    # Answerable: a refusal ("") scores 0 everywhere.
    for metric in (exact_match, token_f1, cover_em):
        assert metric("", ["Paris"]) == 0.0
    # Unanswerable (no gold answer): the refusal is the right answer, anything else is wrong.
    for metric in (exact_match, token_f1, cover_em):
        assert metric("", []) == 1.0
        assert metric("Paris", []) == 0.0


def test_recall_and_full_chain() -> None:
    ranked = ["a", "x", "b", "y", "z", "c"]
    assert recall_at_k(ranked, ["a", "b", "c"], 2) == pytest.approx(1 / 3)
    assert recall_at_k(ranked, ["a", "b", "c"], 5) == pytest.approx(2 / 3)
    assert recall_at_k(ranked, ["a", "b", "c"], 10) == 1.0
    assert recall_at_k(ranked, [], 5) is None
    assert full_chain(ranked, ["a", "b"], 5) == 1.0
    assert full_chain(ranked, ["a", "c"], 5) == 0.0
    assert full_chain(ranked, [], 5) is None


def test_precision_of_citations() -> None:
    assert precision(["a", "b", "b"], {"a"}) == 0.5  # distinct ids
    assert precision([], {"a"}) is None


def test_bootstrap_is_deterministic_and_brackets_the_mean() -> None:
    values = [1.0, 0.0, 1.0, 1.0, None, 0.0, 1.0, 0.0, 1.0, 1.0]
    a = Bootstrap(len(values), resamples=500, seed=7).estimate(values)
    b = Bootstrap(len(values), resamples=500, seed=7).estimate(values)
    c = Bootstrap(len(values), resamples=500, seed=8).estimate(values)
    assert a == b
    assert (a.lo, a.hi) != (c.lo, c.hi)
    assert a.n == 9 and a.mean == pytest.approx(6 / 9)
    assert a.lo is not None and a.hi is not None and a.lo <= a.mean <= a.hi
    assert 0.0 <= a.lo < a.hi <= 1.0


def test_bootstrap_edge_cases() -> None:
    boot = Bootstrap(3, resamples=200, seed=0)
    assert boot.estimate([None, None, None]).mean is None
    constant = boot.estimate([0.5, 0.5, 0.5])
    assert (constant.mean, constant.lo, constant.hi) == (0.5, 0.5, 0.5)
    assert boot.estimate(np.array([1.0, math.nan, 0.0])).n == 2
    with pytest.raises(ValueError):
        boot.estimate([1.0])
    assert Bootstrap(0).estimate([]).mean is None


def test_bootstrap_interval_narrows_with_more_questions() -> None:
    rng = np.random.default_rng(0)
    small = rng.integers(0, 2, 20).astype(float)
    large = rng.integers(0, 2, 2000).astype(float)
    s = Bootstrap(len(small), seed=0).estimate(small)
    big = Bootstrap(len(large), seed=0).estimate(large)
    assert (big.hi - big.lo) < (s.hi - s.lo)  # type: ignore[operator]
