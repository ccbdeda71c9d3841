"""Embeddings from an OpenAI-compatible ``/v1/embeddings`` endpoint (OpenAI, vLLM, Ollama, ...)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from agentflow.embed.base import Embedder
from agentflow.errors import ConfigError
from agentflow.llm import guard

DEFAULT_BASE_URL = "https://api.openai.com/v1"
BATCH_SIZE = 256


class OpenAIEmbedder(Embedder):
    """Calls ``/v1/embeddings`` in batches and L2-normalises the vectors it gets back.

    ``dim`` is known after the first request unless given up front.
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        dim: int | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip(
            "/"
        )
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key and self.base_url == DEFAULT_BASE_URL:
            raise ConfigError(
                "the OpenAI embedder needs an API key: set OPENAI_API_KEY or pass api_key"
            )
        # Local OpenAI-compatible servers accept any key, but the client insists on one.
        self._api_key = key or "not-needed"
        self.name = f"openai:{model}"
        self.spec = f"openai:{model}@{self.base_url}" if base_url else f"openai:{model}"
        self.dim = dim or 0
        self.batch_size = batch_size
        self._client: Any = None

    def _get_client(self) -> Any:
        if self._client is None:
            import openai

            self._client = openai.OpenAI(base_url=self.base_url, api_key=self._api_key)
        return self._client

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts with one request per batch: an ``(n, dim)`` float32 array with unit rows."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        guard.check_request_allowed(self.base_url)
        client = self._get_client()
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            response = client.embeddings.create(model=self.model, input=batch)
            # The API documents `index`; sort on it rather than trust the response order.
            rows.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
        out = np.asarray(rows, dtype=np.float32)
        self.dim = out.shape[1]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out
