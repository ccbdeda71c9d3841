"""Keeping a store's side indexes (BM25, entity graph) in step with its Chroma collection.

One :class:`SideIndex` per index folder and process. Searches take :meth:`SideIndex.current`:
the published index, reloaded when another process published a newer one (one ``stat`` a
call), and brought up to date when it lags the collection (checked at most every
``COUNT_TTL`` seconds, because Chroma's ``count`` costs time proportional to the
collection). Ingestion calls :meth:`SideIndex.update` with the passages it added: under
the folder's lock it loads what is published (its segments left unread: an append does
not need them), appends only what is new, saves and publishes. A damaged index on disk is
logged, never used, and rebuilt from the collection: found when it is loaded, or when a
search first reads its segments.
Updates work on a copy, so searches in other threads keep a consistent index meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from agentflow.errors import StoreNotFoundError
from agentflow.records import Passage
from agentflow.store.index_files import IndexCorruptError, IndexFolder
from agentflow.store.string_table import StringTable

if TYPE_CHECKING:
    from agentflow.store.corpus import CorpusStore

log = logging.getLogger(__name__)

#: Seconds between checks of the store's passage count (Chroma's ``count`` is O(n)).
COUNT_TTL = 2.0


class Persistent(Protocol):
    """What a side index offers: its passage ids, a copy, and saving to a folder."""

    def __len__(self) -> int: ...

    def complete(self) -> None: ...

    def clone(self) -> Persistent: ...

    def save(self, folder: Path) -> None: ...


T = TypeVar("T", bound=Persistent)


class SideIndex(Generic[T]):
    """A side index of one store folder, shared by the threads of one process."""

    def __init__(self, folder: Path, *, kind: str, version: int, load: Callable[[Path], T],
                 new: Callable[[], T], extend: Callable[[T, Sequence[Passage]], int],
                 ids: Callable[[T], StringTable], count_ttl: float) -> None:
        self.folder = IndexFolder(folder, kind, version)
        self._load, self._new, self._extend, self._ids = load, new, extend, ids
        self._count_ttl = count_ttl
        self._index: T | None = None
        self._stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self._update_lock = threading.Lock()
        #: Passages fetched from the collection by the last update (they were missing).
        self.last_fetch = 0

    def _try_load(self) -> T | None:
        try:
            return self._load(self.folder.path)
        except (FileNotFoundError, StoreNotFoundError):
            return None
        except IndexCorruptError as exc:
            log.warning("%s: %s; rebuilding it from the collection", self.folder.path, exc)
            return None

    def _published(self) -> T | None:
        """The index as published now, reloaded if the manifest changed since, with all
        its segments read (``None`` when there is none, or it is damaged: then removed)."""
        damaged = None
        with self._lock:
            stamp = self.folder.stamp()
            if self._index is None or stamp != self._stamp:
                loaded = self._try_load() if stamp else None
                # A writer replaced files between our stat and our load: try once more.
                if loaded is None and stamp and self.folder.stamp() != stamp:
                    stamp = self.folder.stamp()
                    loaded = self._try_load()
                self._index, self._stamp = loaded, stamp
            if self._index is not None:
                try:
                    self._index.complete()
                except IndexCorruptError as exc:
                    log.warning("%s: %s; rebuilding it from the collection", self.folder.path, exc)
                    self._index, self._stamp, damaged = None, None, stamp
            index = self._index
        if damaged is not None:
            # Outside our lock: writers take the folder's lock first, then ours.
            with self.folder.lock():
                if self.folder.stamp() == damaged:  # not replaced meanwhile
                    self.folder.clear()
        return index

    def current(self, store: CorpusStore) -> T:
        """The index to search: published, and not behind the collection."""
        index = self._published()
        if index is None or len(index) < store.cached_count(self._count_ttl):
            index = self.update(store, [])
            index.complete()
        return index

    def update(self, store: CorpusStore, passages: Sequence[Passage]) -> T:
        """Append ``passages`` and any passage of the collection the index lacks, then
        save and publish; returns the index now published."""
        with self._update_lock, self.folder.lock():
            with self._lock:
                stamp = self.folder.stamp()
                cached = self._index if stamp is not None and stamp == self._stamp else None
            # Searches may hold the cached index: extend a copy of it. One loaded here
            # is ours alone (no copy needed).
            published = cached.clone() if cached is not None else (
                self._try_load() if stamp is not None else None)
            try:
                return self._append(store, passages, published)
            except IndexCorruptError as exc:  # a segment read to be merged was damaged
                log.warning("%s: %s; rebuilding it from the collection", self.folder.path, exc)
                self.folder.clear()
                return self._append(store, passages, None)

    def _append(self, store: CorpusStore, passages: Sequence[Passage], published: T | None) -> T:
        """The body of :meth:`update` (folder locked): extend, save, publish."""
        index = published if published is not None else self._new()
        # Which passages the index lacks, by looking their ids up in its id table
        # (no set of every id: that cost O(corpus) in each new process).
        unique = list(dict((p.id, p) for p in passages).values())
        found = self._ids(index).find([p.id for p in unique])
        new = [p for p, row in zip(unique, found.tolist()) if row < 0]
        changed = published is None or bool(new)
        if new:
            self._extend(index, new)
        self.last_fetch = 0
        if len(index) < store.cached_count(self._count_ttl):
            every = store.all_ids()
            found = self._ids(index).find(every)
            fetched = store.get([i for i, row in zip(every, found.tolist()) if row < 0])
            if fetched:
                self._extend(index, fetched)
                changed = True
            self.last_fetch = len(fetched)
        if changed:
            index.save(self.folder.path)
        with self._lock:
            self._index, self._stamp = index, self.folder.stamp()
        return index

    def compact(self, store: CorpusStore, merge: Callable[[T], bool]) -> bool:
        """Bring the index up to date, then ``merge`` its segments into one and publish
        it (what an index built at once looks like); False when it had one segment."""
        self.update(store, [])
        with self._update_lock, self.folder.lock():
            with self._lock:
                current = self._index
            if current is None:
                return False
            index = current.clone()
            if not merge(index):  # type: ignore[arg-type]
                return False
            index.save(self.folder.path)
            with self._lock:
                self._index, self._stamp = index, self.folder.stamp()
            return True
