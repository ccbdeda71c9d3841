"""The sparse half of the corpus store: a BM25 index persisted next to the Chroma data.

This is the only module that imports bm25s (for its tokenizer: English stopwords and
Snowball stemming, the same for documents and queries). The index itself is ours, because
bm25s cannot add documents to an index: term frequencies are kept in segments, one per
ingestion, and scores are computed at query time from corpus-wide statistics (document
frequency, average length), so a store added to in ten batches ranks exactly like one
built at once. The formula is bm25s's default (Lucene's): ``idf = ln(1 + (N - df + 0.5) /
(df + 0.5))`` and ``tf / (tf + k1 (1 - b + b |d| / avgdl))`` with k1 = 1.5, b = 0.75.

On disk the segments are columns of an :class:`~agentflow.store.index_files.IndexFolder`,
appended by each ingestion and loaded memory-mapped; past :data:`MAX_SEGMENTS` the
younger segments are merged into one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agentflow.store.index_files import IndexCorruptError, IndexFolder
from agentflow.store.lazy_segments import LazySegments
from agentflow.store.string_table import StringTable

KIND = "agentflow.bm25"
#: 3: ids and vocabulary as string tables (looked up without loading them into a dict).
VERSION = 3
K1 = 1.5
B = 0.75
#: A query term held by fewer than one passage in this many is scored in full first.
RARE = 64
#: Cached gains of common terms, at most this many values per passage (8 bytes each).
PART_CACHE_PER_PASSAGE = 8
#: More segments than this and all but the first (the big initial build) are merged.
MAX_SEGMENTS = 8


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def _tokenize(texts: Sequence[str], stemmer: Any) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(
        list(texts), stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
    )


@dataclass
class Segment:
    """Term frequencies of one batch of passages, grouped by term: the passages holding
    term ``t`` are ``docs[indptr[t]:indptr[t + 1]]`` (global rows), with counts ``tf``.
    Terms first seen after the segment was made (``t >= terms``) do not occur in it."""

    sid: int
    indptr: np.ndarray
    docs: np.ndarray
    tf: np.ndarray

    @property
    def terms(self) -> int:
        """Number of vocabulary terms the segment covers."""
        return len(self.indptr) - 1


def _segment(sid: int, rows: np.ndarray, term_ids: np.ndarray, n_terms: int) -> Segment:
    """A segment from parallel arrays of (global row, term id), one pair per token."""
    if len(term_ids) == 0:
        return Segment(sid, np.zeros(n_terms + 1, np.int64), np.zeros(0, np.int32),
                       np.zeros(0, np.float32))
    key = term_ids.astype(np.int64) * (int(rows.max()) + 1) + rows
    pairs, counts = np.unique(key, return_counts=True)
    terms = pairs // (int(rows.max()) + 1)
    docs = (pairs % (int(rows.max()) + 1)).astype(np.int32)
    indptr = np.zeros(n_terms + 1, np.int64)
    np.cumsum(np.bincount(terms, minlength=n_terms), out=indptr[1:])
    return Segment(sid, indptr, docs, counts.astype(np.float32))


def _merge(sid: int, segments: Sequence[Segment], n_terms: int) -> Segment:
    """One segment holding what ``segments`` hold."""
    rows, terms, tfs = [], [], []
    for seg in segments:
        lengths = np.diff(np.asarray(seg.indptr))
        terms.append(np.repeat(np.arange(seg.terms, dtype=np.int64), lengths))
        rows.append(np.asarray(seg.docs, dtype=np.int64))
        tfs.append(np.asarray(seg.tf))
    term = np.concatenate(terms)
    order = np.lexsort((np.concatenate(rows), term))
    indptr = np.zeros(n_terms + 1, np.int64)
    np.cumsum(np.bincount(term, minlength=n_terms), out=indptr[1:])
    return Segment(sid, indptr, np.concatenate(rows)[order].astype(np.int32),
                   np.concatenate(tfs)[order].astype(np.float32))


def _merge_runs(docs: np.ndarray, scores: np.ndarray, other: np.ndarray,
                other_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The union of two ascending runs of distinct passages, a passage in both with the sum
    of its two scores: the shorter run is looked up in the longer by binary search and
    inserted into it (O(longer), no sort)."""
    if len(other) == 0:
        return docs, scores
    if len(docs) == 0:
        return other, other_scores
    if len(docs) < len(other):
        docs, scores, other, other_scores = other, other_scores, docs, scores
    at = np.searchsorted(docs, other)
    hit = at < len(docs)
    hit[hit] = docs[at[hit]] == other[hit]
    summed = scores.astype(np.float64)  # a copy
    summed[at[hit]] += other_scores[hit]
    miss = ~hit
    return (np.insert(docs, at[miss], other[miss]),
            np.insert(summed, at[miss], other_scores[miss]))


class BM25Index:
    """A BM25 index over passage ids: build it, extend it, save it to a folder, load it back."""

    def __init__(self) -> None:
        #: Passage ids by row, and the vocabulary by term id.
        self.ids = StringTable()
        self.vocab = StringTable()
        self._doclen = np.zeros(0, np.float32)
        # Document frequencies, computed from the segments when first needed (an append to
        # an index whose segments were not read leaves them uncomputed).
        self._df_cache: np.ndarray | None = np.zeros(0, np.int64)
        self._segs: LazySegments[Segment] = LazySegments()
        self._norm: np.ndarray | None = None
        # Per-term score bounds for max-score and common terms' tf parts, valid for one
        # length norm (one index state).
        self._bounds: dict[int, float] = {}
        self._part_cache: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        self._part_cached = 0
        self._next_sid = 0
        self._stemmer = _stemmer()
        # What the folder this index came from (or was last saved to) holds, so that a
        # save appends only what is new.
        self._saved: tuple[Path, dict[str, Any]] | None = None

    @property
    def _segments(self) -> list[Segment]:
        return self._segs.all()

    @property
    def _df(self) -> np.ndarray:
        df = self._df_cache
        if df is None:
            df = np.zeros(len(self.vocab), np.int64)
            for seg in self._segments:
                df[: seg.terms] += np.diff(seg.indptr)
            self._df_cache = df
        return df

    def complete(self) -> None:
        """Read the segments not read yet (a damaged one raises :class:`IndexCorruptError`)."""
        self._df  # noqa: B018 - reads the segments and sums their frequencies

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> BM25Index:
        """Index ``texts`` (aligned with ``ids``) in memory."""
        index = cls()
        index.append(ids, texts)
        return index

    def append(self, ids: Sequence[str], texts: Sequence[str]) -> int:
        """Add passages as a new segment; returns how many were added."""
        if len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids but {len(texts)} texts")
        if not ids:
            return 0
        tokens = _tokenize(texts, self._stemmer)
        first = len(self.ids)
        # Term ids: the known terms' from the vocabulary, new terms numbered in the order
        # first seen (as one build over all passages numbers them).
        term = self.vocab.intern([tok for doc in tokens for tok in doc])
        flat = [term[tok] for doc in tokens for tok in doc]
        lengths = np.fromiter((len(t) for t in tokens), dtype=np.int64, count=len(tokens))
        rows = np.repeat(np.arange(first, first + len(ids), dtype=np.int64), lengths)
        seg = _segment(self._next_sid, rows, np.asarray(flat, dtype=np.int64), len(self.vocab))
        self._next_sid += 1
        self._segs.append(seg)
        self.ids.extend(list(ids))
        self._doclen = np.concatenate([self._doclen, lengths.astype(np.float32)])
        if self._df_cache is not None:
            df = np.zeros(len(self.vocab), np.int64)
            df[: len(self._df_cache)] = self._df_cache
            df += np.diff(seg.indptr)
            self._df_cache = df
        self._norm = None
        self._bounds, self._part_cache, self._part_cached = {}, {}, 0
        return len(ids)

    def __len__(self) -> int:
        return len(self.ids)

    def merge_segments(self) -> bool:
        """Merge every segment into one, as if the index were built at once (a store's
        compaction); False when there was nothing to merge."""
        if len(self._segs) < 2:
            return False
        self._segs.replace([_merge(self._next_sid, self._segments, len(self.vocab))])
        self._next_sid += 1
        self.ids.compact()
        self.vocab.compact()
        self._bounds, self._part_cache, self._part_cached = {}, {}, 0
        return True

    def clone(self) -> BM25Index:
        """A copy to extend while searches go on in this one (arrays are shared: they are
        replaced, never written in place)."""
        other = BM25Index.__new__(BM25Index)
        other.__dict__.update(self.__dict__)
        other.ids, other.vocab = self.ids.clone(), self.vocab.clone()
        other._segs = self._segs.copy()
        return other

    # ---- persistence ------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write the index to ``folder``: only the new segments and rows when the folder holds
        what this index was loaded from, everything otherwise. Hold the folder's lock."""
        store = IndexFolder(folder, KIND, VERSION)
        try:
            current = store.read_manifest()
        except IndexCorruptError:
            current = None  # replaced whole below
        base = self._saved[1] if self._saved and self._saved[0] == Path(folder) else None
        if current is None or base is None or current.get("generation") != base.get("generation"):
            store.clear()
            base, current = {"columns": {}, "segments": [], "rows": 0, "terms": 0,
                             "generation": 0, "tables": {}}, None
        columns = dict(base["columns"])
        gen = int(base["generation"]) + 1
        store.path.mkdir(parents=True, exist_ok=True)
        tables = {name: getattr(self, name).save(store, columns, name, base["tables"].get(name), gen)
                  for name in ("ids", "vocab")}
        store.append(columns, "doclen", self._doclen[base["rows"]:])
        saved = {s["sid"] for s in base["segments"]}
        if not saved or len(self._segs) > MAX_SEGMENTS:
            segments = self._segments  # all of them written, or some merged: read them
            if len(segments) > MAX_SEGMENTS:
                merged = _merge(self._next_sid, segments[1:], len(self.vocab))
                self._next_sid += 1
                self._segs.replace([segments[0], merged])
        for seg in self._segs.in_memory():
            if seg.sid not in saved:
                for part in ("indptr", "docs", "tf"):
                    store.write(columns, f"seg{seg.sid}.{part}", getattr(seg, part), gen)
        entries = self._segs.entries(lambda seg: {"sid": seg.sid})
        live = {f"seg{e['sid']}." for e in entries}
        columns = {k: v for k, v in columns.items()
                   if not k.startswith("seg") or k[: k.index(".") + 1] in live}
        manifest = {"generation": gen, "rows": len(self.ids), "terms": len(self.vocab),
                    "total_length": float(self._doclen.sum(dtype=np.float64)),
                    "segments": entries, "columns": columns,
                    "tables": tables, "next_segment": self._next_sid}
        store.commit(manifest, previous=current)
        self._saved = (Path(folder), manifest)

    @classmethod
    def load(cls, folder: Path, *, lazy: bool = False) -> BM25Index:
        """Load an index written by :meth:`save` (memory-mapped); a missing index raises
        ``FileNotFoundError``, a damaged one :class:`IndexCorruptError`. ``lazy``: read the
        segments only when first needed (an append does not need them; :meth:`complete`
        reads them and checks them)."""
        store = IndexFolder(folder, KIND, VERSION)
        manifest = store.read_manifest()
        if manifest is None:
            raise FileNotFoundError(f"no BM25 index in {folder}")
        index = cls()
        index.ids = StringTable.load(store, manifest, "ids")
        index.vocab = StringTable.load(store, manifest, "vocab")
        index._doclen = store.column(manifest, "doclen")
        if (len(index.ids), len(index.vocab), len(index._doclen)) != (
                manifest["rows"], manifest["terms"], manifest["rows"]):
            raise IndexCorruptError(f"{folder}: the columns disagree with the manifest")

        def read(entry: dict[str, Any]) -> Segment:
            sid = entry["sid"]
            return Segment(sid, *(store.column(manifest, f"seg{sid}.{p}")
                                  for p in ("indptr", "docs", "tf")))

        index._segs = LazySegments(manifest["segments"], read)
        index._df_cache = None
        if not lazy:
            index.complete()
        index._next_sid = int(manifest["next_segment"])
        index._saved = (Path(folder), manifest)
        return index

    # ---- search -----------------------------------------------------------------------

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top-``k`` passages for one query as ``(id, BM25 score)``, best first."""
        return self.search_many([query], k)[0]

    def search_many(self, queries: Sequence[str], k: int) -> list[list[tuple[str, float]]]:
        """Top-``k`` passages for each query; passages sharing no term with it are left out."""
        if k <= 0 or not queries or not self.ids:
            return [[] for _ in queries]
        return [self._top(tokens, k) for tokens in _tokenize(queries, self._stemmer)]

    def _length_norm(self) -> np.ndarray:
        """``k1 (1 - b + b |d| / avgdl)`` of every passage, computed once per index state
        (searches would otherwise sum the lengths, O(corpus), each time)."""
        norm = self._norm
        if norm is None or len(norm) != len(self._doclen):
            doclen = np.asarray(self._doclen, dtype=np.float32)
            avgdl = float(doclen.sum(dtype=np.float64)) / max(len(doclen), 1)
            # float32 throughout, as the scores were validated against bm25s.
            norm = K1 * ((1.0 - B) + B * doclen / avgdl)
            self._norm, self._bounds = norm, {}
            self._part_cache, self._part_cached = {}, 0
        return norm

    def _bound(self, tid: int, idf: np.float32) -> float:
        """The most term ``tid`` adds to any passage's score (its best gain), computed on
        first use and kept for this index state."""
        bound = self._bounds.get(tid)
        if bound is None:
            gains = [gain for _, gain in self._gains(tid, idf)]
            bound = self._bounds[tid] = max((float(gain.max()) for gain in gains), default=0.0)
        return bound

    def _gains(self, tid: int, idf: np.float32) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(rows, idf * tf / (tf + norm))`` of term ``tid`` in each segment holding it:
        what one occurrence of the term in a query adds to each passage's score (computed
        in float32, as validated against bm25s, and held as float64, the type scores are
        summed in). ``idf`` is the term's in this index state. A common term's are kept
        for this index state (its long list is asked for again and again), up to
        :data:`PART_CACHE_PER_PASSAGE` values per passage in all."""
        gains = self._part_cache.get(tid)
        if gains is None:
            norm = self._length_norm()
            gains = [(rows, (idf * (tf / (tf + norm[rows]))).astype(np.float64))
                     for rows, tf in self._postings(tid)]
            size = sum(len(rows) for rows, _ in gains)
            n_docs = len(self._doclen)
            if (int(self._df[tid]) * RARE >= n_docs
                    and self._part_cached + size <= PART_CACHE_PER_PASSAGE * n_docs):
                self._part_cache[tid] = gains
                self._part_cached += size
        return gains

    def _postings(self, tid: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(rows, tf)`` of term ``tid`` in each segment holding it (rows ascending)."""
        out = []
        for seg in self._segments:
            if tid < seg.terms:
                start, end = int(seg.indptr[tid]), int(seg.indptr[tid + 1])
                if start < end:
                    out.append((seg.docs[start:end], seg.tf[start:end]))
        return out

    def _top(self, tokens: list[str], k: int) -> list[tuple[str, float]]:
        """Max-score (Turtle and Flood, 1995) over whole terms. The rare terms are scored
        in full and set a bar, the ``k``-th best score among their passages; a passage
        holding only common terms whose best parts add up to less than the bar cannot reach
        the top ``k``, so those terms are only looked up for the candidates (binary search
        in their long posting lists), the candidates dropped as soon as they cannot reach
        the bar. Every score returned is exact (the sum over all query terms), and a query
        with no such terms costs what one full pass costs."""
        n_docs = len(self._doclen)
        self._length_norm()  # (drops the bounds and gains kept for an earlier index state)
        df_all = self._df
        # A term repeated in the query counts each time, as in bm25s.
        counts: dict[int, int] = {}
        for tid in self.vocab.find(tokens).tolist():
            if 0 <= tid < len(df_all):
                counts[tid] = counts.get(tid, 0) + 1
        if not counts:
            return []
        terms = []
        for tid, times in counts.items():
            df = int(df_all[tid])
            if df == 0:
                continue
            idf = np.float32(math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5)))
            terms.append((df, tid, times, idf, 0.0))
        terms.sort()
        # 1. The rare terms (short posting lists): scored in full, they set a first bar,
        # the k-th best score among the passages holding them.
        docs = np.zeros(0, np.int64)
        scores = np.zeros(0, np.float64)
        rare = 0
        while rare < len(terms) and terms[rare][0] * RARE < n_docs:
            rare += 1
        if rare:
            docs, scores = self._accumulate(docs, scores, terms[:rare])
        rest = terms[rare:]
        while rest and len(docs) < k:
            # Too few passages to set a bar (a name held by one passage): the rarest
            # common term is scored in full too, else every common term would be.
            docs, scores = self._accumulate(docs, scores, rest[:1])
            rest = rest[1:]
        bar = 0.0
        if rest and len(docs) >= k:
            bar = float(np.partition(scores, len(scores) - k)[len(scores) - k])
            # Each term's most it adds to one passage (only the common terms need it).
            rest = [(df, tid, times, idf, times * self._bound(tid, idf))
                    for df, tid, times, idf, _ in rest]
        if rest:
            # 2. Of the common terms, those whose bounds add up to less than the bar
            # cannot bring in a passage of their own: only looked up for the candidates
            # (max-score's non-essential terms). The others are scored in full, at once.
            rest.sort(key=lambda t: t[4])
            cut, total = 0, 0.0
            while cut < len(rest) and (total + rest[cut][4]) * (1.0 + 1e-6) < bar:
                total += rest[cut][4]
                cut += 1
            lookup, essential = rest[:cut], rest[cut:]
            essential.sort()
            if essential:
                # A passage can end in the top k only if it reaches the k-th best score
                # of the rare terms' passages once the lookup terms are added.
                left = sum(t[4] for t in lookup) * (1.0 + 1e-6)
                floor = bar - left if len(docs) >= k else 0.0
                docs, scores = self._accumulate(docs, scores, essential, floor)
            if lookup:
                docs, scores = self._add_for(docs, scores, lookup, k, bar)
        scores = scores.astype(np.float32)
        want = min(k, len(docs))
        if want < len(docs):
            # Every passage scoring at least the k-th best, so that a tie at the cut goes
            # to the earlier passage, never to whichever argpartition left there.
            kth32 = np.partition(scores, len(scores) - want)[len(scores) - want]
            head = np.flatnonzero(scores >= kth32)
        else:
            head = np.arange(len(docs))
        head = head[np.lexsort((docs[head], -scores[head]))][:want]
        head = head[scores[head] > 0]
        return list(zip(self.ids.take(docs[head]), scores[head].tolist()))

    def _accumulate(self, docs: np.ndarray, scores: np.ndarray, terms: list[tuple],
                    floor: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Every passage of ``docs`` or holding one of ``terms`` (ascending), with its
        partial score plus what ``terms`` add; passages left below a positive ``floor``
        after that may be left out. (The arrays returned may be shared: not to be
        written in place.)"""
        n_docs = len(self._doclen)
        # Sorted runs of distinct passages: the candidates so far, then each term's
        # postings (its segments hold successive rows: one after the other, one run).
        runs = [(docs, scores)]
        for _, tid, times, idf, _ in terms:
            parts = self._gains(tid, idf)
            if not parts:
                continue
            rows, gain = parts[0] if len(parts) == 1 else (
                np.concatenate([r for r, _ in parts]), np.concatenate([g for _, g in parts]))
            runs.append((rows, gain if times == 1 else times * gain))
        # A run much shorter than the one it meets is merged into it (binary search, no
        # sort); the sums are made in the same order as the passes below make them.
        docs, scores = runs[0]
        i = 1
        while i < len(runs) and min(len(docs), len(runs[i][0])) * 8 <= max(len(docs), len(runs[i][0])):
            docs, scores = _merge_runs(docs, scores, *runs[i])
            i += 1
        if i == len(runs):
            return docs, scores
        all_docs = np.concatenate([docs, *(r for r, _ in runs[i:])])
        all_scores = np.concatenate([scores, *(g for _, g in runs[i:])])
        if len(all_docs) * 8 < n_docs:
            # Few: sum per passage over them alone.
            docs, inverse = np.unique(all_docs, return_inverse=True)
            return docs, np.bincount(inverse, weights=all_scores)
        # Many: one dense pass over the corpus.
        dense = np.bincount(all_docs, weights=all_scores, minlength=n_docs)
        docs = np.flatnonzero(dense >= floor) if floor > 0 else np.flatnonzero(dense)
        return docs, dense[docs]

    def _add_for(self, docs: np.ndarray, scores: np.ndarray, terms: list[tuple],
                 k: int, bar: float) -> tuple[np.ndarray, np.ndarray]:
        """The candidates (ascending ``docs``, partial ``scores``) that can still reach the
        top ``k`` once ``terms`` are added, with those terms' parts added (exact scores).
        A candidate is dropped as soon as the terms left cannot lift it to the ``k``-th
        best partial score (which only grows); ``bar`` is at most that score (at least
        ``k`` candidates reach it)."""
        terms = sorted(terms, key=lambda t: -t[4])
        left = float(sum(t[4] for t in terms))
        n_docs = len(self._doclen)
        for _, tid, times, idf, bound in terms:
            # The k-th best is among the few candidates at or above the last one known.
            top = scores[scores >= bar]
            if len(top) < k:
                top = scores
            bar = float(np.partition(top, len(top) - k)[len(top) - k])
            keep = scores + left * (1.0 + 1e-6) >= bar
            # (A copy either way: the scores are added to in place below.)
            docs, scores = (docs, scores.copy()) if keep.all() else (docs[keep], scores[keep])
            for rows, gain in self._gains(tid, idf):
                if len(docs) * 16 < len(rows):
                    # Few candidates: binary search each in the long posting list.
                    at = np.searchsorted(rows, docs)
                    at[at == len(rows)] = 0
                    hit = rows[at] == docs
                    where, at = np.flatnonzero(hit), at[hit]
                else:
                    # Many: one pass over the postings through a row -> candidate map.
                    slot = np.full(n_docs, -1, np.int32)
                    slot[docs] = np.arange(len(docs), dtype=np.int32)
                    found = slot[rows]
                    at = np.flatnonzero(found >= 0)
                    where = found[at]
                if len(where):
                    scores[where] += gain[at] if times == 1 else times * gain[at]
            left -= bound
        return docs, scores
