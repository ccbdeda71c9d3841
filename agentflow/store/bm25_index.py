"""The sparse half of the corpus store: a BM25 index (bm25s) persisted next to the Chroma data.

This is the only module that imports bm25s. bm25s cannot add documents to an
existing index, so the store rebuilds it from the full corpus after each
ingestion; that takes about a second per 10,000 passages.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

IDS_FILE = "ids.json"


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def _tokenize(texts: Sequence[str], stemmer: Any) -> list[list[str]]:
    import bm25s

    # English stopwords and Snowball stemming, identical for documents and queries.
    return bm25s.tokenize(
        list(texts), stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
    )


class BM25Index:
    """A BM25 index over passage ids; build it from texts, save it to a folder, load it back."""

    def __init__(self, retriever: Any, ids: list[str]) -> None:
        self._retriever = retriever
        self.ids = ids
        self._stemmer = _stemmer()

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> BM25Index:
        """Index ``texts`` (aligned with ``ids``) in memory."""
        import bm25s

        if len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids but {len(texts)} texts")
        if not ids:
            return cls(None, [])
        retriever = bm25s.BM25()
        retriever.index(_tokenize(texts, _stemmer()), show_progress=False)
        return cls(retriever, list(ids))

    def save(self, folder: Path) -> None:
        """Write the index to ``folder``, replacing what was there only once it is complete."""
        folder = Path(folder)
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self._retriever is not None:
            self._retriever.save(str(tmp), show_progress=False)
        (tmp / IDS_FILE).write_text(json.dumps(self.ids))
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        """Load an index written by :meth:`save`."""
        import bm25s

        folder = Path(folder)
        ids = json.loads((folder / IDS_FILE).read_text())
        if not ids:
            return cls(None, [])
        retriever = bm25s.BM25.load(str(folder), show_progress=False)
        return cls(retriever, ids)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top-``k`` passages for one query as ``(id, BM25 score)``, best first."""
        return self.search_many([query], k)[0]

    def search_many(self, queries: Sequence[str], k: int) -> list[list[tuple[str, float]]]:
        """Top-``k`` passages for each query; passages sharing no term with it are left out."""
        n = min(k, len(self.ids))
        if n <= 0 or not queries:
            return [[] for _ in queries]
        tokens = _tokenize(queries, self._stemmer)
        docs, scores = self._retriever.retrieve(tokens, k=n, show_progress=False)
        return [
            [(self.ids[int(i)], float(s)) for i, s in zip(row_docs, row_scores) if s > 0]
            for row_docs, row_scores in zip(docs, scores)
        ]
