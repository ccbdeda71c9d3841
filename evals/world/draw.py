"""Fast seeded draws: ``random.Random.choice``/``randint``/``sample`` cost several times more
than one ``random()`` call, and generating a million documents makes tens of millions."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def pick(rng: random.Random, options: Sequence[T]) -> T:
    """One element of ``options``, uniformly."""
    return options[int(rng.random() * len(options))]


def between(rng: random.Random, low: int, high: int) -> int:
    """An integer in ``[low, high]``, uniformly."""
    return low + int(rng.random() * (high - low + 1))


def some(rng: random.Random, options: Sequence[T], k: int) -> list[T]:
    """``k`` distinct elements of ``options`` (all of them when there are fewer), in random order."""
    pool = list(options)
    k = min(k, len(pool))
    for j in range(k):
        m = j + int(rng.random() * (len(pool) - j))
        pool[j], pool[m] = pool[m], pool[j]
    return pool[:k]
