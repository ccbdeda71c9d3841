"""Corpus stores for eval batches, cached by content so a corpus is embedded once.

The cache key is the SHA-256 of the corpus passages (sorted by id; id, title and text
of each) and the embedder's name, because a store holds the vectors of one embedder.
A store lives at ``$AGENTFLOW_HOME/stores/<key>/`` and is marked complete once every
passage is in it; an interrupted build is finished (not redone) on the next run.

A batch may instead search an existing store (``eval run --store DIR``, local or attached
to a remote collection): :func:`check_store_holds_corpus` makes sure it holds every
passage of the dataset's corpus, and the gold supporting passages as the dataset has them,
so a run never searches a silent mix of two corpora.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from agentflow.config import home_dir
from agentflow.embed.base import Embedder
from agentflow.errors import UserError
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


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def check_store_holds_corpus(store: CorpusStore, passages: Sequence[Passage],
                             gold_ids: Iterable[str], *, ingest_hint: str) -> int:
    """Check that ``store`` holds every passage of the corpus ``passages`` (by id), and the
    gold supporting passages (``gold_ids``) with the corpus's title and text; a clear
    error otherwise. Returns how many passages the store holds beyond the corpus.

    ``ingest_hint`` says how to put the corpus into the store (named in the error).
    """
    corpus = {p.id: p for p in passages}
    gold = [i for i in dict.fromkeys(gold_ids) if i in corpus]
    where = f"{store.path}" + (f" (collection on {store.chroma_url})" if store.chroma_url else "")
    what_to_do = (f"{ingest_hint}, or leave out --store to let `eval run` build a store of its "
                  "own from the dataset")
    missing = store.missing_ids(list(corpus))
    if missing:
        gone = set(missing)
        gold_missing = sum(1 for i in gold if i in gone)
        raise UserError(
            f"the store at {where} lacks {len(missing)} of the dataset's {len(corpus)} corpus "
            f"passages, {gold_missing} of them among the {len(gold)} gold supporting passages "
            f"of the questions (first missing: {missing[0]!r}): {what_to_do}")
    differ = [p.id for p in store.get(gold)
              if p.title != corpus[p.id].title or not _same_text(p.text, corpus[p.id].text)]
    if differ:
        raise UserError(
            f"{len(differ)} of the {len(gold)} gold supporting passages have another title or "
            f"text in the store at {where} than in the dataset (first: {differ[0]!r}): the store "
            f"holds another version of the corpus; {what_to_do}")
    return max(0, store.count() - len(corpus))
