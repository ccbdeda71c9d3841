"""Corpus stores for eval batches, cached by content so a corpus is embedded once.

The cache key is the SHA-256 of the corpus passages (sorted by id; id, title and text
of each) and the embedder's name, because a store holds the vectors of one embedder.
A store lives at ``$AGENTFLOW_HOME/stores/<key>/`` and is marked complete once every
passage is in it; an interrupted build is finished (not redone) on the next run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from agentflow.config import home_dir
from agentflow.embed.base import Embedder
from agentflow.records import Passage
from agentflow.store.corpus import CorpusStore

COMPLETE_FILE = "eval-store-complete.json"


def corpus_hash(passages: Sequence[Passage], embedder_name: str) -> str:
    """The cache key of a corpus embedded by ``embedder_name`` (16 hex digits)."""
    digest = hashlib.sha256(f"embedder={embedder_name}\n".encode())
    for p in sorted(passages, key=lambda p: p.id):
        digest.update(json.dumps([p.id, p.title, p.text], ensure_ascii=False).encode() + b"\n")
    return digest.hexdigest()[:16]


def stores_dir() -> Path:
    """Where cached eval stores live: ``$AGENTFLOW_HOME/stores``."""
    return home_dir() / "stores"


def cached_store(passages: Sequence[Passage], embedder: Embedder, *,
                 progress: bool = True) -> tuple[CorpusStore, str, bool]:
    """The store holding ``passages`` embedded by ``embedder``: ``(store, key, built)``.

    ``built`` is False when the cached store was complete already (nothing was embedded).
    """
    key = corpus_hash(passages, embedder.name)
    folder = stores_dir() / key
    store = CorpusStore(folder, embedder=embedder)
    marker = folder / COMPLETE_FILE
    expected = len({p.id for p in passages})
    if marker.is_file() and store.count() == expected:
        return store, key, False
    # Passages already present are skipped by id, so a half-built store is completed.
    store.add(list(passages), progress=progress)
    marker.write_text(json.dumps({"passages": expected, "embedder": embedder.name}) + "\n",
                      encoding="utf-8")
    return store, key, True
