"""The store's passages in segments: one big base collection and small, newer deltas.

Chroma's ``add`` slows as a collection grows: on the development machine, adding 10^4
passages to a collection of 10^6 took 4.6x adding them to an empty one, while adding them
to a *new* collection beside the big one (same database) cost what an empty store costs.
So once the base is big, an ingestion adds to a small delta collection instead, and a
search asks the base and every delta for its top ``k`` and merges them by similarity.
Every segment holds vectors of the same cosine space, so the merged list is the same top
``k`` one collection would give (up to each segment's own HNSW recall, which is exact at
our ``ef_search`` on small segments).

The segments are Lucene's idea applied to Chroma collections:

- a delta takes adds until it holds :data:`DELTA_CAP` passages; then a new one starts;
- more than :data:`MAX_DELTAS` deltas and the :data:`MERGE_FACTOR` smallest are merged into
  one (a size-tiered merge: the cost of a merge is paid by few ingestions, and the number
  of segments a search asks stays bounded);
- :meth:`SegmentedCollection.compact` folds every delta into the base (``agentflow
  compact``): the one step whose cost grows with the base, run when nothing else writes.

A local store keeps each delta in a Chroma database of its own (``<store>/chroma-deltas/
<name>``): Chroma's add also slows with the size of the *database* (its SQLite tables and
full-text index are shared by every collection in it): adding 10^4 passages to a new
collection took 4.0-5.9 s inside the 1.2x10^6 store's database and 3.1-3.7 s in a
database of its own, on the same machine in alternating rounds. Deltas of a Chroma server
(``--chroma-url``) are collections beside the base on that server, and deltas made by an
earlier version inside the base's database are still found there. A delta's number is
never used again (see :meth:`SegmentedCollection._new_delta`), so a name always means one
database.

Which deltas exist is recorded in the base collection's metadata, so every client of a
shared (``--chroma-url``) collection sees the same segments; a client re-reads that list
at most every :data:`REGISTRY_TTL` seconds, and at once when a delta it knew has gone.
A merge copies first and publishes after, so an interrupted merge leaves the old
segments in place (and, at worst, an unregistered copy). Registry changes are made to the
list as read afresh; two clients adding at the same instant could still overwrite each
other's entry, so compaction folds every delta collection it finds into the base,
registered or not, and deletes none unread: nothing ingested is ever lost.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from agentflow.store.chroma_store import ChromaCollection, _connect, check_name
from agentflow.store.overlap import all_at_once

log = logging.getLogger(__name__)

#: Key of the base collection's metadata entry listing its deltas, oldest first.
REGISTRY_KEY = "agentflow_deltas"
#: A base smaller than this takes adds directly: Chroma's add barely slows below it.
DELTA_FROM = 50_000
#: A delta takes adds until it holds this many passages (adding 10^4 to a collection of
#: 3x10^4 costs ~1.3x adding them to an empty one).
DELTA_CAP = 30_000
#: More deltas than this and the smallest MERGE_FACTOR are merged into one.
MAX_DELTAS = 8
MERGE_FACTOR = 4
#: Seconds a client trusts its list of deltas before reading it again.
REGISTRY_TTL = 2.0
#: Folder beside a local store's Chroma database that holds each delta's own database.
DELTA_DIR = "chroma-deltas"
_SQLITE = "chroma.sqlite3"

# Delta names this process made: never made again (Chroma keeps one client per database
# path for the life of a process, so a name used again could reach a deleted database).
_made: set[str] = set()
_made_lock = threading.Lock()


def _delta_number(base: str, name: str) -> int | None:
    match = re.fullmatch(re.escape(base) + r"\.d(\d+)", name)
    return int(match.group(1)) if match else None


class SegmentedCollection:
    """The passages of one store: a base Chroma collection plus its deltas.

    Offers what :class:`~agentflow.store.chroma_store.ChromaCollection` offers (count,
    lookups, query, pages), over every segment; :meth:`target` chooses where an
    ingestion adds.
    """

    def __init__(
        self, name: str, *, path: Path | None = None, chroma_url: str | None = None
    ) -> None:
        check_name(name)
        self.name = name
        self.client = _connect(path, chroma_url)
        self.base = ChromaCollection(name, client=self.client)
        self._delta_root = path.parent / DELTA_DIR if path is not None and not chroma_url else None
        self.max_batch = self.base.max_batch
        self._deltas: list[ChromaCollection] = []
        self._read_at = -float("inf")
        # Which segment each recently found passage came from, so that fetching a
        # search's winners asks only the segments holding them (a Chroma call costs
        # about a millisecond however small the segment).
        self._found_in: dict[str, str] = {}
        self._refresh(force=True)

    # -- the registry of deltas -----------------------------------------------------

    def _registered(self) -> list[str]:
        raw = self.base.metadata(fresh=True).get(REGISTRY_KEY)
        try:
            names = json.loads(str(raw)) if raw else []
        except json.JSONDecodeError:
            log.warning("collection %s: unreadable list of deltas %r; searching the base only",
                        self.name, raw)
            return []
        return [n for n in names if isinstance(n, str) and _delta_number(self.name, n) is not None]

    def _refresh(self, *, force: bool = False) -> None:
        """Re-read the list of deltas (at most every REGISTRY_TTL seconds unless forced)."""
        now = time.monotonic()
        if not force and now - self._read_at < REGISTRY_TTL:
            return
        names = self._registered()
        known = {d.name: d for d in self._deltas}
        opened = (known.get(n) or self._open_delta(n) for n in names)
        self._deltas = [d for d in opened if d is not None]
        self._read_at = now

    def _delta_folder(self, name: str) -> Path | None:
        return self._delta_root / name if self._delta_root is not None else None

    def _open_delta(self, name: str) -> ChromaCollection | None:
        """A registered delta: in its own database when it has one, else beside the base
        (a server's, or one made by an earlier version); ``None`` when it is gone (another
        client merged it away after we read the list)."""
        folder = self._delta_folder(name)
        if folder is not None and (folder / _SQLITE).exists():
            return ChromaCollection(name, client=_connect(folder, None))
        if folder is not None and name not in self._collection_names():
            return None
        return ChromaCollection(name, client=self.client)

    def _publish(self, *, add: Sequence[str] = (), remove: Sequence[str] = (),
                 after: str | None = None) -> None:
        """Change the registry as it is now (read afresh, so that another client's delta
        registered meanwhile stays listed): ``add`` names at the end, or in the place of
        ``after``; ``remove`` names."""
        current = self._registered()
        new = [n for n in add if n not in current]
        names: list[str] = []
        for name in current:
            if name == after:
                names += new
            if name not in remove:
                names.append(name)
        if after not in current:
            names += new
        self.base.set_metadata({REGISTRY_KEY: json.dumps(names)})
        self._refresh(force=True)

    @property
    def segments(self) -> list[ChromaCollection]:
        """The base, then the deltas oldest first (as last read)."""
        self._refresh()
        return [self.base, *self._deltas]

    def _new_delta(self) -> ChromaCollection:
        """A new, empty delta. Its number follows every delta's there is and the clock (in
        ms), so that no process ever sees a name again after its database was deleted."""
        taken = [_delta_number(self.name, c) for c in self._delta_names()]
        number = max([n for n in taken if n is not None] + [time.time_ns() // 1_000_000 - 1]) + 1
        with _made_lock:
            while f"{self.name}.d{number:04d}" in _made:
                number += 1
            name = f"{self.name}.d{number:04d}"
            _made.add(name)
        folder = self._delta_folder(name)
        return ChromaCollection(name, client=_connect(folder, None) if folder else self.client)

    def _collection_names(self) -> list[str]:
        return [c if isinstance(c, str) else c.name for c in self.client.list_collections()]

    def _delta_names(self) -> list[str]:
        """Every delta there is, registered or not: own databases and collections beside
        the base."""
        names = [n for n in self._collection_names() if _delta_number(self.name, n) is not None]
        if self._delta_root is not None and self._delta_root.is_dir():
            names += [f.name for f in self._delta_root.iterdir()
                      if _delta_number(self.name, f.name) is not None]
        return list(dict.fromkeys(names))

    def _drop(self, delta: ChromaCollection) -> None:
        """Delete a delta merged into another segment, and its database folder if it has one."""
        delta.delete_collection()
        folder = self._delta_folder(delta.name)
        if folder is not None and delta.client is not self.client:
            shutil.rmtree(folder, ignore_errors=True)

    # -- writing ----------------------------------------------------------------------

    def target(self, incoming: int) -> ChromaCollection:
        """The segment an ingestion of ``incoming`` new passages adds to: the base while
        it is small and has no deltas; else the newest delta while it has room; else a
        new delta (registered before anything is added to it, so nothing added is ever
        outside the registry)."""
        self._refresh(force=True)
        if not self._deltas and self.base.count() < DELTA_FROM:
            return self.base
        if self._deltas and self._deltas[-1].count() < DELTA_CAP:
            return self._deltas[-1]
        delta = self._new_delta()
        self._publish(add=[delta.name])
        return delta

    def add(self, ids: Sequence[str], embeddings: np.ndarray, documents: Sequence[str],
            metadatas: Sequence[dict[str, str | int]]) -> None:
        """Add to the segment :meth:`target` chooses (callers that add in several calls
        choose once and add to that segment directly)."""
        self.target(len(ids)).add(ids, embeddings, documents, metadatas)

    def merge_small_deltas(self) -> int:
        """With more than MAX_DELTAS deltas, merge the MERGE_FACTOR smallest into one;
        returns how many passages were copied (0: nothing to merge)."""
        self._refresh(force=True)
        if len(self._deltas) <= MAX_DELTAS:
            return 0
        sizes = sorted(((d.count(), i) for i, d in enumerate(self._deltas)))
        chosen = sorted(i for _, i in sizes[:MERGE_FACTOR])
        sources = [self._deltas[i] for i in chosen]
        merged = self._new_delta()
        copied = sum(_copy(src, merged) for src in sources)
        # The merged delta takes the place of the oldest of its sources: adds keep going
        # to the newest delta, and the order stays oldest first.
        self._publish(add=[merged.name], after=sources[0].name, remove=[src.name for src in sources])
        for src in sources:
            self._drop(src)
        return copied

    def compact(self) -> int:
        """Fold every delta into the base, the registered ones and any other (the copy an
        interrupted merge left, or a delta whose registration another client's
        overwrote: folded too, never just deleted); returns how many passages moved."""
        self._refresh(force=True)
        copied = 0
        for delta in list(self._deltas):
            copied += _copy(delta, self.base)
            self._publish(remove=[delta.name])
            self._drop(delta)
        registered = {d.name for d in self._deltas}
        for name in self._delta_names():
            if name not in registered:
                leftover = self._open_delta(name)
                if leftover is None:  # an empty folder: nothing to fold
                    shutil.rmtree(self._delta_folder(name) or "", ignore_errors=True)
                    continue
                moved = _copy(leftover, self.base)
                log.info("folded %s (not registered: %d passages not in the base yet)", name, moved)
                copied += moved
                self._drop(leftover)
        return copied

    # -- reading ----------------------------------------------------------------------

    def _over_segments(self, call: Any) -> Any:
        """``call(segments)`` over the segments as listed; a delta deleted meanwhile
        (another client merged it) means the list is stale: read it again, retry once."""
        segments = self.segments
        try:
            return call(segments)
        except Exception as exc:
            if len(segments) == 1 or not _gone(exc):
                raise
            self._refresh(force=True)
            return call(self.segments)

    def _each(self, call: Any) -> tuple[list[ChromaCollection], list[Any]]:
        """The segments and ``call(segment)`` for each (all at once)."""
        return self._over_segments(lambda segments: (segments, all_at_once(
            [partial(call, segment) for segment in segments])))

    def count(self) -> int:
        """Passages in every segment (read afresh: Chroma's count is O(n) anyway)."""
        self._refresh(force=True)
        return sum(self._each(lambda s: s.count())[1])

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        # Every segment asked for every id, at once: an ingestion's ids are mostly new,
        # so each segment would be asked for nearly all of them in turn anyway.
        return set().union(*self._each(lambda segment: segment.existing_ids(ids))[1])

    def _lookup(self, ids: Sequence[str], fetch: Any) -> dict[str, Any]:
        """``fetch(segment, ids)`` over the segments: first each segment for the ids a
        search last found there, then every segment in turn for the rest."""
        return self._over_segments(lambda segments: self._lookup_in(segments, ids, fetch))

    def _lookup_in(self, segments: list[ChromaCollection], ids: Sequence[str],
                   fetch: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if len(segments) > 1:
            for segment in segments:
                known = [i for i in ids if self._found_in.get(i) == segment.name]
                if known:
                    out.update(fetch(segment, known))
        for segment in segments:
            rest = [i for i in ids if i not in out]
            if not rest:
                break
            out.update(fetch(segment, rest))
        return out

    def get(self, ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        return self._lookup(ids, lambda segment, some: segment.get(some))

    def vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        return self._lookup(ids, lambda segment, some: segment.vectors(some))

    def query(self, vectors: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        """Top-``k`` of every segment, merged by similarity (best first). A passage seen
        in two segments (a merge in flight) counts once."""
        # The segments are asked at the same time (Chroma's query leaves the GIL).
        segments, per_segment = self._over_segments(lambda segments: (segments, all_at_once(
            [partial(segment.query, vectors, k) for segment in segments])))
        if len(per_segment) == 1:
            return per_segment[0]
        names = [s.name for s in segments]
        if len(self._found_in) > 100_000:
            self._found_in.clear()
        out = []
        for lists in zip(*per_segment):
            best: dict[str, float] = {}
            home: dict[str, str] = {}
            for name, ranked in zip(names, lists):
                for doc_id, sim in ranked:
                    if sim > best.get(doc_id, -np.inf):
                        best[doc_id], home[doc_id] = sim, name
            top = sorted(best.items(), key=lambda item: -item[1])[:k]
            self._found_in.update((doc_id, home[doc_id]) for doc_id, _ in top)
            out.append(top)
        return out

    def all_ids(self) -> list[str]:
        return list(dict.fromkeys(i for s in self.segments for i in s.all_ids()))

    def iter_all(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        segments = self.segments
        seen: set[str] | None = set() if len(segments) > 1 else None
        for segment in segments:
            for row in segment.iter_all():
                if seen is not None:
                    if row[0] in seen:
                        continue
                    seen.add(row[0])
                yield row

    def metadata(self, *, fresh: bool = False) -> dict[str, Any]:
        return self.base.metadata(fresh=fresh)

    def set_metadata(self, values: dict[str, str | int | float | bool]) -> None:
        self.base.set_metadata(values)


def _gone(exc: Exception) -> bool:
    """Whether ``exc`` says a collection no longer exists (chromadb raises NotFoundError
    or a ValueError, by version and client kind): another client merged it away."""
    message = str(exc).lower()
    return "not exist" in message or "not found" in message


def _copy(source: ChromaCollection, into: ChromaCollection) -> int:
    """Copy every row of ``source`` that ``into`` lacks (so an interrupted copy resumes)."""
    copied = 0
    for ids, vectors, documents, metadatas in source.iter_rows():
        present = into.existing_ids(ids)
        keep = [j for j, i in enumerate(ids) if i not in present]
        if keep:
            into.add([ids[j] for j in keep], vectors[keep], [documents[j] for j in keep],
                     [metadatas[j] for j in keep])
            copied += len(keep)
    return copied
