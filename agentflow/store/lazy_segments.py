"""The segments of a side index, read from its folder only when something needs them.

Why: an ingestion in a new process appends one segment to the BM25 index and the entity
graph; it needs neither index's earlier segments (hundreds of megabytes at 10^6 passages,
each read whole to check its checksum). So a :class:`LazySegments` starts with the
manifest's entries and a loader, reads them on the first :meth:`LazySegments.all`, and
meanwhile takes appended segments and describes every segment for the next manifest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

S = TypeVar("S")


class LazySegments(Generic[S]):
    """Saved segments (read on first use) followed by the segments appended since."""

    def __init__(self, saved: Sequence[dict[str, Any]] = (),
                 load: Callable[[dict[str, Any]], S] | None = None) -> None:
        self._saved = list(saved)
        self._load = load
        self._loaded: list[S] | None = None if self._saved else []
        self._appended: list[S] = []
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the saved segments have been read."""
        return self._loaded is not None

    def all(self) -> list[S]:
        """Every segment, oldest first (reading the saved ones the first time; a damaged
        file raises :class:`~agentflow.store.index_files.IndexCorruptError`)."""
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    assert self._load is not None
                    self._loaded = [self._load(entry) for entry in self._saved]
        return [*self._loaded, *self._appended]

    def in_memory(self) -> list[S]:
        """The segments read or appended so far (those not read are saved already)."""
        return [*(self._loaded or []), *self._appended]

    def __len__(self) -> int:
        return len(self._saved) + len(self._appended) if self._loaded is None else (
            len(self._loaded) + len(self._appended))

    def append(self, segment: S) -> None:
        """Add a segment after the others (reads nothing)."""
        self._appended.append(segment)

    def replace(self, segments: list[S]) -> None:
        """Make ``segments`` (read or built) the whole list, as after a merge."""
        self._saved, self._loaded, self._appended = [], list(segments), []

    def entries(self, describe: Callable[[S], dict[str, Any]]) -> list[dict[str, Any]]:
        """Manifest entries of every segment (unread ones as they were saved)."""
        head = self._saved if self._loaded is None else [describe(s) for s in self._loaded]
        return [*head, *(describe(s) for s in self._appended)]

    def copy(self) -> LazySegments[S]:
        """A copy whose appends the original does not see (segments are shared)."""
        other = LazySegments[S].__new__(LazySegments)
        other._saved, other._load = self._saved, self._load
        other._loaded = self._loaded if self._loaded is None else list(self._loaded)
        other._appended = list(self._appended)
        other._lock = threading.Lock()
        return other
