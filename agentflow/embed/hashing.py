"""A deterministic feature-hashing embedder: no model, no download, same vectors everywhere.

Retrieval quality is low (it only matches shared words), so it serves tests and
machines without the ``[local]`` extra.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

import numpy as np

from agentflow.embed.base import Embedder

_WORD = re.compile(r"\w+")
# Function words carry no topic; left in, they dominate every vector and make
# unrelated texts look alike.
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "after",
        "all",
        "also",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "before",
        "being",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "during",
        "each",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "more",
        "most",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "other",
        "our",
        "out",
        "over",
        "she",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)


@lru_cache(maxsize=200_000)
def _bucket(feature: str, dim: int) -> tuple[int, float]:
    # blake2b rather than hash(): Python's string hash is salted per process, and the
    # vectors must be identical across processes for a persisted store to stay valid.
    digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
    sign = 1.0 if digest >> 63 else -1.0
    return digest % dim, sign


def _features(text: str) -> list[str]:
    words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]
    return words + [f"{a} {b}" for a, b in pairwise(words)]


class HashingEmbedder(Embedder):
    """Signed feature hashing of lowercase word unigrams and bigrams (stopwords dropped),
    L2-normalised."""

    def __init__(self, dim: int = 384) -> None:
        if dim < 8:
            raise ValueError(f"hashing embedder dimension must be at least 8, got {dim}")
        self.dim = dim
        self.name = f"hash-{dim}"
        self.spec = f"hash:{dim}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts: an ``(n, dim)`` float32 array with unit rows (zero rows for empty texts)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in _features(text):
                col, sign = _bucket(feature, self.dim)
                out[row, col] += sign
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out
