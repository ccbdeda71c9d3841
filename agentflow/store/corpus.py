"""The corpus store: passages in Chroma (dense) and bm25s (sparse), searched alone or fused.

On disk a store is a folder::

    <store>/store.json   manifest: embedder, dimension, collection, Chroma URL, counts, fusion
    <store>/chroma/      the Chroma database (absent when ``chroma_url`` points at a server):
                         a base collection and, once it is big, small delta collections
                         that later ingestions add to (:mod:`agentflow.store.segments`)
    <store>/bm25/        the BM25 index: segments appended by each ``add`` (memory-mapped)
    <store>/graph/       the corpus entity graph, appended by each ``add`` likewise

The folder is the one description of where a corpus lives: a store made with
``chroma_url`` records it, and reopening the folder without the URL uses it. A second
client attaches to a remote collection from a new folder: the collection's metadata says
which embedder built it. Chroma's own sparse index is not available for local or
self-hosted servers, so BM25 and the entity graph live in the folder. Several processes
may share one folder (on shared storage): each ``add`` appends under a lock and publishes
a new index manifest, and every process notices the new manifest (one ``stat`` a search)
and reloads. A folder whose indexes fall behind the collection (another client added
through its own folder, an interrupted ingestion) fetches only the missing passages; that
check compares counts at most every :data:`COUNT_TTL` seconds, since Chroma's ``count``
costs time proportional to the collection.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel

from agentflow.config import resolve_store_dir
from agentflow.embed import embedder_spec, resolve_embedder
from agentflow.embed.base import Embedder
from agentflow.errors import ConfigError, StoreMismatchError, StoreNotFoundError
from agentflow.records import Passage, SearchHit
from agentflow.store.bm25_index import KIND as BM25_KIND
from agentflow.store.bm25_index import VERSION as BM25_VERSION
from agentflow.store.bm25_index import BM25Index
from agentflow.store.chroma_store import ChromaCollection
from agentflow.store.fusion import reciprocal_rank_fusion, weighted_fusion
from agentflow.store.overlap import all_at_once
from agentflow.store.segments import SegmentedCollection
from agentflow.store.side_index import COUNT_TTL, SideIndex
from agentflow.store.titles import TitleRule

MANIFEST_FILE = "store.json"
BM25_DIR = "bm25"
#: Key of the collection metadata entry holding the manifest (remote collections).
REMOTE_MANIFEST_KEY = "agentflow_manifest"
_SHARED_FIELDS = ("embedder", "embedder_spec", "dim", "fusion", "dense_weight", "rrf_k", "candidates",
                  "created", "title_rule")
DEFAULT_COLLECTION = "agentflow_corpus"
#: Texts per embedding call in ``add``: big enough to keep the embedder busy, small
#: enough for a progress bar that moves.
EMBED_BATCH = 256
#: Longest time embedded passages wait before they are added to Chroma.
FLUSH_SECONDS = 10.0

SearchMode = Literal["hybrid", "dense", "bm25"]
FusionMethod = Literal["weighted", "rrf"]
SEARCH_MODES = ("hybrid", "dense", "bm25")
FUSION_METHODS = ("weighted", "rrf")


class AddResult(BaseModel):
    """What one ``CorpusStore.add`` did: passages added, and passages skipped as already present."""

    added: int
    skipped: int


class StoreManifest(BaseModel):
    """The store's ``store.json``: what it was built with, so a reopen can check it."""

    version: int = 1
    embedder: str
    embedder_spec: str
    dim: int
    collection: str = DEFAULT_COLLECTION
    chroma_url: str | None = None
    passages: int = 0
    fusion: FusionMethod = "weighted"
    dense_weight: float = 0.8
    rrf_k: int = 60
    candidates: int = 50
    #: How text files are titled (:mod:`agentflow.store.titles`). A manifest without it
    #: was written before titles were derived: ``legacy`` keeps its ids on re-ingest.
    title_rule: TitleRule = "legacy"
    created: str
    updated: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _read_manifest(path: Path) -> StoreManifest | None:
    file = path / MANIFEST_FILE
    if not file.is_file():
        return None
    return StoreManifest.model_validate_json(file.read_text())


def _same_url(a: str | None, b: str | None) -> bool:
    return (a or "").rstrip("/").lower() == (b or "").rstrip("/").lower()


def embedding_text(passage: Passage) -> str:
    """The text that is embedded and BM25-indexed for a passage: its title, a newline, its text."""
    return f"{passage.title}\n{passage.text}" if passage.title else passage.text


class CorpusStore:
    """A folder of passages searchable by dense vectors, BM25, or both fused.

    ``embedder=None`` means: the embedder the store was built with when it exists
    and ``$AGENTFLOW_EMBEDDER`` is unset, else ``resolve_embedder(None)``. An
    embedder other than the one in the manifest raises ``StoreMismatchError``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        embedder: str | Embedder | None = None,
        chroma_url: str | None = None,
        collection: str = DEFAULT_COLLECTION,
        fusion: FusionMethod | None = None,
        dense_weight: float | None = None,
    ) -> None:
        self.path = resolve_store_dir(path)
        self.manifest = _read_manifest(self.path)
        if self.manifest and self.manifest.collection != collection:
            raise StoreMismatchError(
                f"the store at {self.path} holds the collection {self.manifest.collection!r}, "
                f"not {collection!r}: pass collection={self.manifest.collection!r} "
                "or use another store"
            )
        chroma_url = self._check_chroma_url(chroma_url)
        self.collection = collection
        self.chroma_url = chroma_url
        self._chroma = SegmentedCollection(
            collection, path=None if chroma_url else self.path / "chroma", chroma_url=chroma_url
        )
        if self.manifest is None and chroma_url:
            self.manifest = self._remote_manifest()
        self.embedder = self._choose_embedder(embedder)
        self.fusion: FusionMethod = fusion or (
            self.manifest.fusion if self.manifest else "weighted"
        )
        if self.fusion not in FUSION_METHODS:
            raise ConfigError(
                f"unknown fusion {self.fusion!r}: use one of {', '.join(FUSION_METHODS)}"
            )
        self.dense_weight = (
            dense_weight
            if dense_weight is not None
            else (self.manifest.dense_weight if self.manifest else 0.8)
        )
        self.rrf_k = self.manifest.rrf_k if self.manifest else 60
        self.candidates = self.manifest.candidates if self.manifest else 50
        self.title_rule: TitleRule = self._choose_title_rule()
        self._count_cache: tuple[float, int] | None = None
        self._bm25 = bm25_side_index(self.path / BM25_DIR)

    @classmethod
    def open_existing(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        embedder: str | Embedder | None = None,
        chroma_url: str | None = None,
        collection: str = DEFAULT_COLLECTION,
    ) -> CorpusStore:
        """Open a store that already holds passages.

        Raises ``StoreNotFoundError`` if it is missing or empty.
        """
        folder = resolve_store_dir(path)
        missing = StoreNotFoundError(
            f"no corpus at {folder}: run `agentflow ingest FILES --store {folder}` first"
        )
        if not (folder / MANIFEST_FILE).is_file() and not chroma_url:
            raise missing
        store = cls(folder, embedder=embedder, chroma_url=chroma_url, collection=collection)
        if store.count() == 0:
            if chroma_url:
                raise StoreNotFoundError(
                    f"the collection {collection!r} on {chroma_url} holds no passages: run "
                    f"`agentflow ingest FILES --chroma-url {chroma_url} --store {folder}` first"
                )
            raise missing
        if not (folder / MANIFEST_FILE).is_file():
            store._write_manifest()  # attached to a remote collection: the folder now says so
        return store

    def _check_chroma_url(self, chroma_url: str | None) -> str | None:
        """The Chroma URL to use: the one given, else the one the folder records; a URL
        the folder contradicts is an error rather than a silent mix of two corpora."""
        recorded = self.manifest.chroma_url if self.manifest else None
        if chroma_url is None or self.manifest is None or _same_url(chroma_url, recorded):
            return chroma_url or recorded
        where = f"a corpus on {recorded}" if recorded else "a local corpus"
        raise StoreMismatchError(
            f"the store at {self.path} describes {where}, not one on {chroma_url}: leave out "
            f"--chroma-url to use it, or pass --store with another folder for the corpus on "
            f"{chroma_url}"
        )

    def _remote_manifest(self) -> StoreManifest | None:
        """The manifest a remote collection carries in its metadata (written by the client
        that built it), so another client can attach from an empty folder."""
        raw = self._chroma.metadata().get(REMOTE_MANIFEST_KEY)
        if not raw:
            return None
        try:
            shared = json.loads(str(raw))
        except json.JSONDecodeError:
            return None
        now = _now()
        return StoreManifest(**{**{"created": now}, **shared, "collection": self.collection,
                                "chroma_url": self.chroma_url, "updated": now})

    def _choose_title_rule(self) -> TitleRule:
        """The recorded rule; ``derived`` for a new corpus. A remote collection that holds
        passages but no manifest was built before manifests were shared: ``legacy``."""
        if self.manifest is not None:
            return self.manifest.title_rule
        if self.chroma_url and self._chroma.count() > 0:
            return "legacy"
        return "derived"

    def _choose_embedder(self, embedder: str | Embedder | None) -> Embedder:
        built = self.manifest
        if embedder is None and built and not os.environ.get("AGENTFLOW_EMBEDDER"):
            embedder = built.embedder_spec
        chosen = resolve_embedder(embedder)
        if built and (
            chosen.name != built.embedder or (chosen.dim and built.dim and chosen.dim != built.dim)
        ):
            raise StoreMismatchError(
                f"the store at {self.path} was built with the embedder {built.embedder!r} "
                f"({built.dim} dimensions), not {chosen.name!r}: use --embedder "
                f"{built.embedder_spec} or ingest into a new store"
            )
        return chosen

    # -- size and lookup ---------------------------------------------------------

    def count(self) -> int:
        """Number of passages in the store."""
        return self._chroma.count()

    def get(self, ids: Sequence[str]) -> list[Passage]:
        """The passages with these ids, in the order asked; unknown ids are left out."""
        found = self._chroma.get(list(dict.fromkeys(ids)))
        out = []
        for doc_id in ids:
            if doc_id in found:
                text, meta = found[doc_id]
                out.append(_passage(doc_id, text, meta))
        return out

    def vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored embeddings of these passages (by id; unknown ids are left out), as
        :attr:`embedder` made them: a reader of the same passages need not embed again."""
        return self._chroma.vectors(list(dict.fromkeys(ids)))

    def missing_ids(self, ids: Sequence[str]) -> list[str]:
        """The ids of ``ids`` the store does not hold, in the order given (no texts fetched)."""
        present = self._chroma.existing_ids(list(dict.fromkeys(ids)))
        return [doc_id for doc_id in dict.fromkeys(ids) if doc_id not in present]

    def iter_passages(self) -> Iterator[Passage]:
        """Every passage in the store, page by page (for building side indexes)."""
        for doc_id, text, meta in self._chroma.iter_all():
            yield _passage(doc_id, text, meta)

    # -- ingestion -----------------------------------------------------------------

    def add(self, passages: Sequence[Passage], *, progress: bool = False) -> AddResult:
        """Embed and add the passages not yet in the store (by id), then append them to the
        BM25 index and the entity graph."""
        unique: dict[str, Passage] = {}
        for p in passages:
            unique.setdefault(p.id, p)
        present = self._chroma.existing_ids(list(unique))
        new = [p for doc_id, p in unique.items() if doc_id not in present]
        skipped = len(passages) - len(new)
        if new:
            self._embed_and_add(new, self._chroma.target(len(new)), progress=progress)
        # One count for the whole ingestion (the side indexes' check and the manifest):
        # Chroma's count costs time proportional to the collection.
        self._count_cache = (time.monotonic(), self.count())
        self.update_indexes(new)
        self._write_manifest()
        # After the new passages are searchable: an interrupted merge loses nothing.
        self._chroma.merge_small_deltas()
        return AddResult(added=len(new), skipped=skipped)

    def segments(self) -> list[tuple[str, int]]:
        """``(collection name, passages)`` of the base and each delta segment."""
        return [(s.name, s.count()) for s in self._chroma.segments]

    def compact(self) -> int:
        """Make the store what it would be if built at once: fold the collection's delta
        segments into its base (see :mod:`agentflow.store.segments`) and merge the BM25
        index's and the entity graph's segments into one each. Returns how many passages
        moved between collections. Searches may go on meanwhile (same passages, by id)."""
        from agentflow.store.graph_index import graph_index_for

        moved = self._chroma.compact()
        self._count_cache = None
        self._bm25.compact(self, BM25Index.merge_segments)
        graph_index_for(self).compact(self, lambda graph: graph.merge_segments())
        return moved

    def update_indexes(self, passages: Sequence[Passage] = ()) -> None:
        """Append ``passages`` (just added to Chroma) to the BM25 index and the entity graph,
        with any passage of the collection they lack; build them when missing or damaged."""
        from agentflow.store.graph_index import graph_index_for

        self._bm25.update(self, passages)
        graph_index_for(self).update(self, passages)

    def _embed_and_add(self, passages: list[Passage], segment: ChromaCollection, *,
                       progress: bool) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        # Similar lengths in one batch mean little padding: the same gain the embedder
        # gets from sorting when it is handed all texts at once.
        passages = sorted(passages, key=lambda p: len(p.title) + len(p.text), reverse=True)
        with Progress(
            TextColumn("embedding"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=not progress,
            transient=False,
        ) as bar:
            task = bar.add_task("embedding", total=len(passages))
            pending: list[tuple[list[Passage], np.ndarray]] = []
            since = time.monotonic()
            for start in range(0, len(passages), EMBED_BATCH):
                batch = passages[start : start + EMBED_BATCH]
                pending.append((batch, self.embedder.embed([embedding_text(p) for p in batch])))
                bar.advance(task, len(batch))
                # Chroma's add costs a lot per call (a transaction and an index batch):
                # one call per max batch runs at its own bulk speed. Flushed at least every
                # FLUSH_SECONDS, so that an interrupted slow ingestion keeps what it
                # embedded and a re-run only embeds the rest.
                if (sum(len(b) for b, _ in pending) + EMBED_BATCH > self._chroma.max_batch
                        or time.monotonic() - since > FLUSH_SECONDS):
                    self._flush(segment, pending)
                    pending, since = [], time.monotonic()
            self._flush(segment, pending)

    @staticmethod
    def _flush(segment: ChromaCollection, pending: list[tuple[list[Passage], np.ndarray]]
               ) -> None:
        """Add embedded batches to the segment in one call."""
        if not pending:
            return
        batch = [p for b, _ in pending for p in b]
        segment.add(
            [p.id for p in batch],
            np.concatenate([v for _, v in pending]),
            [p.text for p in batch],
            [{"title": p.title, "source": p.source, "chunk": p.chunk} for p in batch],
        )

    def rebuild_bm25(self) -> None:
        """Rebuild the BM25 index from every passage in the collection and publish it."""
        with self._bm25.folder.lock():
            self._bm25.folder.clear()
        self._bm25.update(self, [])

    @property
    def last_bm25_fetch(self) -> int:
        """Passages the last BM25 update fetched from the collection (they were missing)."""
        return self._bm25.last_fetch

    def all_ids(self) -> list[str]:
        """Every passage id in the collection (a full scan: for repairs, not searches)."""
        return self._chroma.all_ids()

    def cached_count(self, max_age: float) -> int:
        """:meth:`count`, reused for ``max_age`` seconds (and reset by :meth:`add`)."""
        now = time.monotonic()
        cached = self._count_cache
        if cached is None or now - cached[0] > max_age:
            cached = self._count_cache = (now, self.count())
        return cached[1]

    def _write_manifest(self) -> None:
        now = _now()
        old = self.manifest
        self.manifest = StoreManifest(
            embedder=self.embedder.name,
            embedder_spec=embedder_spec(self.embedder),
            dim=self.embedder.dim or (old.dim if old else 0),
            collection=self.collection,
            chroma_url=self.chroma_url,
            passages=self.cached_count(COUNT_TTL),
            fusion=self.fusion,
            dense_weight=self.dense_weight,
            rrf_k=self.rrf_k,
            candidates=self.candidates,
            title_rule=self.title_rule,
            created=old.created if old else now,
            updated=now,
        )
        if self.chroma_url:
            shared = {k: getattr(self.manifest, k) for k in _SHARED_FIELDS}
            self._chroma.set_metadata({REMOTE_MANIFEST_KEY: json.dumps(shared)})
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.path / (MANIFEST_FILE + ".tmp")
        tmp.write_text(json.dumps(self.manifest.model_dump(), indent=2) + "\n")
        tmp.replace(self.path / MANIFEST_FILE)

    # -- search --------------------------------------------------------------------

    def _bm25_index(self) -> BM25Index:
        return self._bm25.current(self)

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        mode: SearchMode = "hybrid",
        candidates: int | None = None,
        fusion: FusionMethod | None = None,
    ) -> list[SearchHit]:
        """The ``k`` best passages for ``query``.

        ``hybrid`` fuses the top ``candidates`` of dense and BM25 search with ``fusion``
        (default: the store's, weighted 0.8 dense / 0.2 BM25 unless set otherwise).
        """
        return self.search_many([query], k=k, mode=mode, candidates=candidates, fusion=fusion)[0]

    def search_many(
        self,
        queries: Sequence[str],
        *,
        k: int = 5,
        mode: SearchMode = "hybrid",
        candidates: int | None = None,
        fusion: FusionMethod | None = None,
    ) -> list[list[SearchHit]]:
        """:meth:`search` for several queries, embedding them in one batch."""
        ranked = self.rank_many(queries, k=k, mode=mode, candidates=candidates, fusion=fusion)
        found = self._chroma.get(list({doc_id for r in ranked for doc_id, _ in r}))
        return [
            [_hit(doc_id, score, *found[doc_id]) for doc_id, score in r if doc_id in found]
            for r in ranked
        ]

    def rank_many(
        self,
        queries: Sequence[str],
        *,
        k: int = 5,
        mode: SearchMode = "hybrid",
        candidates: int | None = None,
        fusion: FusionMethod | None = None,
    ) -> list[list[tuple[str, float]]]:
        """The ranking :meth:`search_many` returns, as ``(id, score)`` pairs without the
        passages' texts (for callers that rerank a pool and fetch only the winners)."""
        if mode not in SEARCH_MODES:
            raise ConfigError(f"unknown search mode {mode!r}: use one of {', '.join(SEARCH_MODES)}")
        method = fusion or self.fusion
        if method not in FUSION_METHODS:
            raise ConfigError(f"unknown fusion {method!r}: use one of {', '.join(FUSION_METHODS)}")
        if k <= 0 or not queries:
            return [[] for _ in queries]
        pool = k if mode != "hybrid" else max(k, candidates or self.candidates)
        dense: list[list[tuple[str, float]]] = [[] for _ in queries]
        sparse: list[list[tuple[str, float]]] = [[] for _ in queries]
        if mode == "hybrid":
            # The two halves overlap (see :mod:`agentflow.store.overlap`).
            dense, sparse = all_at_once([
                lambda: self._chroma.query(self.embedder.embed_queries(list(queries)), pool),
                lambda: self._bm25_index().search_many(list(queries), pool)])
        elif mode == "dense":
            dense = self._chroma.query(self.embedder.embed_queries(list(queries)), pool)
        else:
            sparse = self._bm25_index().search_many(list(queries), pool)
        ranked: list[list[tuple[str, float]]] = []
        for d, s in zip(dense, sparse):
            if mode == "dense":
                ranked.append(d[:k])
            elif mode == "bm25":
                ranked.append(s[:k])
            elif method == "rrf":
                ranked.append(reciprocal_rank_fusion([d, s], k=self.rrf_k)[:k])
            else:
                ranked.append(weighted_fusion(d, s, w_dense=self.dense_weight)[:k])
        return ranked


def bm25_side_index(folder: Path) -> SideIndex[BM25Index]:
    """The BM25 index of a store folder, kept in step with its collection."""

    def extend(index: BM25Index, passages: Sequence[Passage]) -> int:
        return index.append([p.id for p in passages], [embedding_text(p) for p in passages])

    return SideIndex(folder, kind=BM25_KIND, version=BM25_VERSION,
                     load=lambda path: BM25Index.load(path, lazy=True),
                     new=BM25Index, extend=extend, ids=lambda index: index.ids,
                     count_ttl=COUNT_TTL)


def _passage(doc_id: str, text: str, meta: dict[str, object]) -> Passage:
    return Passage(
        id=doc_id,
        title=str(meta.get("title", "")),
        text=text,
        source=str(meta.get("source", "")),
        chunk=int(meta.get("chunk", 0) or 0),  # type: ignore[call-overload]
    )


def _hit(doc_id: str, score: float, text: str, meta: dict[str, object]) -> SearchHit:
    return SearchHit(
        id=doc_id,
        title=str(meta.get("title", "")),
        text=text,
        score=float(score),
        source=str(meta.get("source", "")),
    )
