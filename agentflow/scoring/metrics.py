"""Answer and evidence metrics on plain strings and id lists (no trajectories here).

Answer metrics follow the SQuAD evaluation script: both strings are normalised
(:func:`normalize_answer`) and the score is the maximum over the gold aliases.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lowercase, drop punctuation, drop the articles a/an/the,
    collapse whitespace."""
    text = text.lower().translate(_PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """EM = max over gold aliases g of [normalize(prediction) == normalize(g)].

    An empty gold list means "no answer" (SQuAD 2.0): EM is 1 when the prediction
    normalises to "" (a refusal), else 0.
    """
    pred = normalize_answer(prediction)
    if not golds:
        return float(pred == "")
    return float(any(pred == normalize_answer(g) for g in golds))


def _f1(pred_tokens: list[str], gold_tokens: list[str]) -> float:
    # SQuAD: when either side is empty, F1 is 1 if both are, else 0.
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    common = Counter(pred_tokens) & Counter(gold_tokens)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(pred_tokens)
    recall = overlap / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """Token F1 = max over gold aliases of 2PR/(P+R), where P = |common tokens| /
    |prediction tokens| and R = |common tokens| / |gold tokens| (multiset overlap of
    normalised whitespace tokens). Empty golds: 1 for an empty prediction, else 0."""
    pred = normalize_answer(prediction).split()
    if not golds:
        return float(not pred)
    return max(_f1(pred, normalize_answer(g).split()) for g in golds)


def cover_em(prediction: str, golds: Sequence[str]) -> float:
    """Cover-EM = max over gold aliases g of [normalize(g) occurs in normalize(prediction)
    on token boundaries]; a verbose but correct answer scores 1. Empty golds (or an alias
    that normalises to ""): 1 only for an empty prediction, as in :func:`exact_match`."""
    pred = normalize_answer(prediction)
    norms = [n for n in (normalize_answer(g) for g in golds) if n]
    if not norms:
        return float(pred == "")
    padded = f" {pred} "
    return float(any(f" {n} " in padded for n in norms))


def recall_at_k(ranked: Sequence[str], gold: Sequence[str], k: int) -> float | None:
    """Recall@k = |gold ∩ ranked[:k]| / |gold|; None when there is no gold passage."""
    gold_set = set(gold)
    if not gold_set:
        return None
    return len(gold_set & set(ranked[:k])) / len(gold_set)


def full_chain(ranked: Sequence[str], gold: Sequence[str], k: int = 5) -> float | None:
    """1 when every gold passage is in ``ranked[:k]``, else 0; None without gold passages."""
    gold_set = set(gold)
    if not gold_set:
        return None
    return float(gold_set <= set(ranked[:k]))


def precision(selected: Sequence[str], relevant: Sequence[str] | set[str]) -> float | None:
    """|selected ∩ relevant| / |selected| (distinct ids); None when nothing was selected."""
    chosen = set(selected)
    if not chosen:
        return None
    return len(chosen & set(relevant)) / len(chosen)
