"""The embedder interface: texts in, L2-normalised float32 vectors out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np


class Embedder(ABC):
    """Turns texts into vectors. Implementations batch internally and load any model
    once per process."""

    #: Stable identifier recorded in a store's manifest, e.g. ``minilm``, ``hash-384``.
    name: str = "embedder"
    #: Vector dimension.
    dim: int = 0

    #: What people call it, for "loading ..." messages.
    label: str = ""

    def load(self) -> None:
        """Load the model now rather than on the first call (no-op for embedders without one)."""

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed documents: returns an ``(len(texts), dim)`` float32 array, rows L2-normalised."""

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query: a ``(dim,)`` float32 vector. Override for asymmetric models."""
        return self.embed([text])[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed several queries at once."""
        return self.embed(list(texts))
