"""The dense half of the corpus store: a Chroma collection of passages with our own vectors.

This is the only module that imports chromadb. Embeddings are always passed in
explicitly: Chroma's default embedding function downloads a model, which fails
offline, so collections are created with ``embedding_function=None``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from agentflow.errors import ConfigError
from agentflow.llm import guard

#: Rows fetched per request when iterating over the whole collection.
PAGE_SIZE = 5000
#: HNSW search breadth. Chroma's default (100) misses about 1% of the true top 50 on a
#: 2,000-passage corpus and varies between runs; 500 was exact there at ~0.5 ms a query.
EF_SEARCH = 500
_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]")


def _connect(path: Path | None, chroma_url: str | None) -> Any:
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError(f"bad chroma_url {chroma_url!r}: expected http://HOST:PORT")
        guard.check_request_allowed(chroma_url)
        return chromadb.HttpClient(
            host=url.hostname,
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=settings,
        )
    if path is None:
        raise ConfigError("a Chroma store needs a directory or a chroma_url")
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def check_name(name: str) -> None:
    """Raise ``ConfigError`` for a name Chroma would refuse, before anything is created."""
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"bad collection name {name!r}: use 3 to 512 letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit"
        )


class ChromaCollection:
    """One Chroma collection of passages (cosine space), local on disk or behind a server."""

    def __init__(
        self, name: str, *, path: Path | None = None, chroma_url: str | None = None,
        client: Any = None,
    ) -> None:
        check_name(name)
        self.name = name
        self.client = client if client is not None else _connect(path, chroma_url)
        self.collection = self.client.get_or_create_collection(
            name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine", "ef_search": EF_SEARCH}},
        )
        hnsw = (self.collection.configuration or {}).get("hnsw") or {}
        if hnsw.get("ef_search", EF_SEARCH) < EF_SEARCH:
            # A collection made elsewhere (or by an older version) keeps its own setting.
            self.collection.modify(configuration={"hnsw": {"ef_search": EF_SEARCH}})
        self.max_batch = int(self.client.get_max_batch_size())

    def count(self) -> int:
        """Number of passages in the collection."""
        return int(self.collection.count())

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """The subset of ``ids`` already in the collection."""
        found: set[str] = set()
        for start in range(0, len(ids), self.max_batch):
            result = self.collection.get(ids=list(ids[start : start + self.max_batch]), include=[])
            found.update(result["ids"])
        return found

    def add(
        self,
        ids: Sequence[str],
        embeddings: np.ndarray,
        documents: Sequence[str],
        metadatas: Sequence[dict[str, str | int]],
    ) -> None:
        """Add passages with their vectors, in batches no larger than the client allows."""
        for start in range(0, len(ids), self.max_batch):
            end = start + self.max_batch
            self.collection.add(
                ids=list(ids[start:end]),
                embeddings=embeddings[start:end],
                documents=list(documents[start:end]),
                metadatas=list(metadatas[start:end]),
            )

    def query(self, vectors: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        """Top-``k`` neighbours of each query vector as ``(id, cosine similarity)``, best first."""
        # No count() first: it costs time proportional to the collection, and Chroma
        # answers fewer than ``k`` neighbours when it holds fewer.
        if k <= 0 or len(vectors) == 0:
            return [[] for _ in range(len(vectors))]
        result = self.collection.query(query_embeddings=vectors, n_results=k, include=["distances"])
        # Chroma's cosine distance is 1 - cosine similarity.
        return [
            [(doc_id, 1.0 - float(dist)) for doc_id, dist in zip(ids, dists)]
            for ids, dists in zip(result["ids"], result["distances"])
        ]

    def get(self, ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """``id -> (document, metadata)`` for the given ids that exist."""
        out: dict[str, tuple[str, dict[str, Any]]] = {}
        for start in range(0, len(ids), self.max_batch):
            result = self.collection.get(
                ids=list(ids[start : start + self.max_batch]), include=["documents", "metadatas"]
            )
            for doc_id, doc, meta in zip(result["ids"], result["documents"], result["metadatas"]):
                out[doc_id] = (doc or "", dict(meta or {}))
        return out

    def vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """``id -> stored embedding`` for the given ids that exist (no documents)."""
        out: dict[str, list[float]] = {}
        for start in range(0, len(ids), self.max_batch):
            result = self.collection.get(ids=list(ids[start : start + self.max_batch]),
                                         include=["embeddings"])
            for doc_id, vector in zip(result["ids"], result["embeddings"]):
                if vector is not None:
                    out[doc_id] = vector
        return out

    def _pages(self, include: list[str]) -> Iterator[dict[str, Any]]:
        """The collection's rows, PAGE_SIZE at a time, with the fields in ``include``."""
        offset = 0
        while True:
            result = self.collection.get(limit=PAGE_SIZE, offset=offset, include=include)
            if not result["ids"]:
                return
            yield result
            offset += len(result["ids"])

    def all_ids(self) -> list[str]:
        """Every id in the collection (no documents or vectors), fetched page by page."""
        return [doc_id for page in self._pages([]) for doc_id in page["ids"]]

    def metadata(self, *, fresh: bool = False) -> dict[str, Any]:
        """The collection's own metadata (where a shared collection records how it was built
        and which segments it has). ``fresh`` reads it again from the database or server
        (another client may have changed it); otherwise the copy read when it was opened."""
        if fresh:
            self.collection = self.client.get_collection(self.name)
        return dict(self.collection.metadata or {})

    def set_metadata(self, values: dict[str, str | int | float | bool]) -> None:
        """Merge ``values`` into the collection's metadata as it is now."""
        merged = {**self.metadata(fresh=True), **values}
        merged.pop("hnsw:space", None)  # part of the configuration, which cannot change
        self.collection.modify(metadata=merged)

    def iter_rows(self) -> Iterator[tuple[list[str], np.ndarray, list[str], list[dict[str, Any]]]]:
        """Every row with its vector, a page at a time: ``(ids, vectors, documents,
        metadatas)`` (for copying a collection into another)."""
        for page in self._pages(["embeddings", "documents", "metadatas"]):
            yield (list(page["ids"]), np.asarray(page["embeddings"], dtype=np.float32),
                   [d or "" for d in page["documents"]], [dict(m or {}) for m in page["metadatas"]])

    def delete_collection(self) -> None:
        """Drop the whole collection (a segment merged into another)."""
        self.client.delete_collection(self.name)

    def iter_all(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every ``(id, document, metadata)`` in the collection, fetched page by page."""
        for page in self._pages(["documents", "metadatas"]):
            for doc_id, doc, meta in zip(page["ids"], page["documents"], page["metadatas"]):
                yield doc_id, doc or "", dict(meta or {})
