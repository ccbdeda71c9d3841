"""Numbered strings (passage ids, BM25 terms, entity names) that are looked up by value
without building a dictionary of all of them.

Why: a side index of 10^6 passages holds ~10^6 ids and ~10^6 terms. Loading them as Python
lists and dicts cost a new process over a second before it could append one batch, and an
append only needs to know which of its few thousand strings are already there. So a
:class:`StringTable` keeps its strings as the raw newline-terminated bytes of
:func:`~agentflow.store.index_files.encode_strings` (memory-mapped) and finds them through
sorted runs of 64-bit hashes: a lookup is a binary search per run and a byte comparison
that confirms each hit (hashes may collide, matches are always exact). Each append adds a
run; past :data:`MAX_RUNS` the runs after the first are merged into one (size-tiered, so an
append never re-sorts the big first run), and :meth:`StringTable.compact` merges them all.

On disk a table named ``name`` is three columns of an
:class:`~agentflow.store.index_files.IndexFolder`: ``name`` (the bytes), ``name.hash`` and
``name.pos`` (the runs one after the other: hashes ascending within a run, and the number
of the string each belongs to), plus ``{"count", "runs"}`` in the index's manifest.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np

from agentflow.store.index_files import (
    IndexCorruptError,
    IndexFolder,
    decode_strings,
    encode_strings,
)

#: More runs than this and all but the first are merged into one.
MAX_RUNS = 8
_NEWLINE = 10
_PRIME = np.uint64(0x100000001B3)
#: Bytes hashed per step (the hash needs ~24 bytes of scratch per byte).
_CHUNK = 1 << 22


def _hash(data: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """64-bit hash of each string ``data[starts[i]:starts[i + 1]]`` (newline included, so
    none is empty): a polynomial over the bytes, then SplitMix64's finaliser."""
    out = np.empty(len(starts) - 1, np.uint64)
    first = 0
    while first < len(out):
        last = int(np.searchsorted(starts, starts[first] + _CHUNK, side="right")) - 1
        last = min(max(last, first + 1), len(out))
        lo, hi = int(starts[first]), int(starts[last])
        ends = starts[first + 1: last + 1]
        lengths = np.diff(starts[first: last + 1])
        # Distance of each byte from the end of its string selects its power of the prime.
        dist = np.repeat(ends - 1, lengths) - np.arange(lo, hi, dtype=np.int64)
        powers = np.cumprod(np.full(int(lengths.max()), _PRIME, np.uint64))
        terms = (data[lo:hi].astype(np.uint64) + np.uint64(1)) * powers[dist]
        h = np.add.reduceat(terms, starts[first:last] - lo)
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
        out[first:last] = h
        first = last
    return out


def _encoded(values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The bytes of ``values`` as stored, and where each string starts (plus the end)."""
    data = np.frombuffer(encode_strings(values), dtype=np.uint8)
    return data, _starts(data)


def _starts(data: np.ndarray) -> np.ndarray:
    # A newline inside a string is escaped: every raw newline ends a string.
    ends = np.flatnonzero(data == _NEWLINE) + 1
    return np.concatenate([np.zeros(1, np.int64), ends.astype(np.int64)])


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) ...])`` without a loop."""
    offsets = np.cumsum(lengths) - lengths
    return (np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(offsets, lengths)
            + np.repeat(starts, lengths))


class StringTable(Sequence[str]):
    """Distinct strings numbered 0, 1, ... in the order added; ``find`` maps strings to
    their numbers. Arrays are replaced, never written in place, so a :meth:`clone` can be
    extended while another thread reads the original."""

    def __init__(self) -> None:
        self._data = np.zeros(0, np.uint8)
        self._count = 0
        # Where each string starts (plus the end), found from the bytes when first needed:
        # appending new ids needs no string's bytes, so no pass over them.
        self._starts_cache: np.ndarray | None = np.zeros(1, np.int64)
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []
        # How many leading runs are the ones saved in the folder this table came from.
        self._runs_saved = 0

    # ---- reading ----------------------------------------------------------------------

    def __len__(self) -> int:
        return self._count

    @property
    def _starts(self) -> np.ndarray:
        starts = self._starts_cache
        if starts is None:
            starts = self._starts_cache = _starts(self._data)
        return starts

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"string {i} of a table of {n}")
        return decode_strings(self._data[self._starts[i]: self._starts[i + 1]].tobytes())[0]

    def __iter__(self) -> Iterator[str]:
        return iter(decode_strings(self._data.tobytes()))

    def take(self, rows: Sequence[int] | np.ndarray) -> list[str]:
        """The strings numbered ``rows``, in that order: their bytes gathered and decoded
        at once (indexing one by one costs a few microseconds a string)."""
        rows = np.asarray(rows, dtype=np.int64)
        if not rows.size:
            return []
        if int(rows.min()) < 0 or int(rows.max()) >= len(self):
            raise IndexError(f"strings {rows.min()}..{rows.max()} of a table of {len(self)}")
        starts = self._starts
        first = starts[rows]
        # Each string's bytes end with its newline: gathered, they decode as a list.
        data = np.asarray(self._data)[_ranges(first, starts[rows + 1] - first)]
        return decode_strings(data.tobytes())

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and bool(self.find([value])[0] >= 0)

    def tolist(self) -> list[str]:
        """Every string, in order (decodes them all: for tests and small tables)."""
        return list(self)

    def find(self, values: Sequence[str]) -> np.ndarray:
        """The number of each of ``values`` in the table, -1 for those it lacks."""
        out = np.full(len(values), -1, np.int64)
        if not values or not len(self):
            return out
        qdata, qstarts = _encoded(values)
        hashes = _hash(qdata, qstarts)
        for run_hashes, run_pos in self._runs:
            ask = np.flatnonzero(out < 0)
            if not ask.size:
                break
            at = np.searchsorted(run_hashes, hashes[ask])
            inside = at < len(run_hashes)
            ask, at = ask[inside], at[inside]
            hit = run_hashes[at] == hashes[ask]
            ask, at = ask[hit], at[hit]
            if not ask.size:
                continue
            same = self._equal(qdata, qstarts, ask, run_pos[at])
            out[ask[same]] = run_pos[at[same]]
            # Another string with the same hash may follow the first one in the run.
            for q, a in zip(ask[~same].tolist(), at[~same].tolist()):
                a += 1
                while a < len(run_hashes) and run_hashes[a] == hashes[q]:
                    if self._equal(qdata, qstarts, np.array([q]), run_pos[a: a + 1])[0]:
                        out[q] = run_pos[a]
                        break
                    a += 1
        return out

    def _equal(self, qdata: np.ndarray, qstarts: np.ndarray, asked: np.ndarray,
               pos: np.ndarray) -> np.ndarray:
        """Whether query string ``asked[i]`` has the same bytes as table string ``pos[i]``."""
        qs, ts = qstarts[asked], self._starts[pos]
        qlen, tlen = qstarts[asked + 1] - qs, self._starts[pos + 1] - ts
        same = qlen == tlen
        idx = np.flatnonzero(same)
        if idx.size:
            lengths = qlen[idx]
            equal = qdata[_ranges(qs[idx], lengths)] == self._data[_ranges(ts[idx], lengths)]
            same[idx] = np.logical_and.reduceat(equal, np.cumsum(lengths) - lengths)
        return same

    # ---- growing ----------------------------------------------------------------------

    def extend(self, values: Sequence[str]) -> None:
        """Number ``values`` after the strings already here (the caller makes sure they are
        distinct and new: :meth:`find` them first)."""
        if not values:
            return
        first = len(self)
        data, starts = _encoded(values)
        hashes = _hash(data, starts)
        order = np.argsort(hashes, kind="stable")
        if self._starts_cache is not None:
            self._starts_cache = np.concatenate([self._starts_cache, starts[1:] + len(self._data)])
        self._data = np.concatenate([self._data, data])
        self._count += len(values)
        self._runs = [*self._runs, (hashes[order], order.astype(np.int64) + first)]
        if len(self._runs) > MAX_RUNS:
            self._merge_runs(1)

    def intern(self, values: Sequence[str]) -> dict[str, int]:
        """The number of each distinct one of ``values``, adding those the table lacks in
        the order first seen (as one build over every value would number them)."""
        seen = list(dict.fromkeys(values))
        found = self.find(seen)
        new = [value for value, at in zip(seen, found.tolist()) if at < 0]
        found[found < 0] = np.arange(len(self), len(self) + len(new))
        self.extend(new)
        return dict(zip(seen, found.tolist()))

    def _merge_runs(self, first: int) -> None:
        tail = self._runs[first:]
        if len(tail) < 2:
            return
        hashes = np.concatenate([h for h, _ in tail])
        pos = np.concatenate([p for _, p in tail])
        order = np.argsort(hashes, kind="stable")
        self._runs = [*self._runs[:first], (hashes[order], pos[order])]
        self._runs_saved = min(self._runs_saved, first)

    def compact(self) -> None:
        """Merge every run into one (what a table built at once has)."""
        self._merge_runs(0)

    def clone(self) -> StringTable:
        """A copy to extend while the original is read (the arrays are shared)."""
        other = StringTable.__new__(StringTable)
        other.__dict__.update(self.__dict__)
        other._runs = list(self._runs)
        return other

    @classmethod
    def of(cls, values: Sequence[str]) -> StringTable:
        """A table of ``values`` (distinct) in one run."""
        table = cls()
        table.extend(values)
        return table

    # ---- persistence ------------------------------------------------------------------

    def save(self, folder: IndexFolder, columns: dict[str, Any], name: str,
             saved: dict[str, Any] | None, generation: int) -> dict[str, Any]:
        """Write the table as columns ``name*`` of ``folder`` and return its manifest entry.
        ``saved``: the entry of the same folder's published manifest that ``columns`` come
        from (only what is new is appended), or ``None`` when ``columns`` hold none of it."""
        # The columns hold the saved bytes: append what came after them.
        saved_bytes = int(columns[name]["length"]) if saved and name in columns else 0
        folder.append(columns, name, self._data[saved_bytes:])
        runs_on_disk = len(saved["runs"]) if saved else 0
        if saved and self._runs_saved == runs_on_disk:
            new = self._runs[runs_on_disk:]
            if new:
                folder.append(columns, f"{name}.hash", np.concatenate([h for h, _ in new]))
                folder.append(columns, f"{name}.pos", np.concatenate([p for _, p in new]))
        else:  # runs merged since (or a new folder): the run columns written whole
            hashes = [h for h, _ in self._runs] or [np.zeros(0, np.uint64)]
            pos = [p for _, p in self._runs] or [np.zeros(0, np.int64)]
            folder.write(columns, f"{name}.hash", np.concatenate(hashes), generation)
            folder.write(columns, f"{name}.pos", np.concatenate(pos), generation)
        self._runs_saved = len(self._runs)
        return {"count": len(self), "runs": [len(h) for h, _ in self._runs]}

    @classmethod
    def load(cls, folder: IndexFolder, manifest: dict[str, Any], name: str) -> StringTable:
        """The table ``name`` of ``manifest`` (columns memory-mapped and checked)."""
        entry = manifest.get("tables", {}).get(name)
        if not isinstance(entry, dict):
            raise IndexCorruptError(f"{folder.path}: the manifest has no table {name!r}")
        table = cls()
        table._data = folder.column(manifest, name)
        table._starts_cache = None
        hashes = folder.column(manifest, f"{name}.hash")
        pos = folder.column(manifest, f"{name}.pos")
        sizes = [int(n) for n in entry["runs"]]
        count = int(entry["count"])
        table._count = count
        ends_right = not len(table._data) or table._data[-1] == _NEWLINE
        if not (ends_right and count == sum(sizes) == len(hashes) == len(pos)):
            raise IndexCorruptError(f"{folder.path}: table {name!r} disagrees with the manifest")
        bounds = np.cumsum([0, *sizes])
        table._runs = [(hashes[a:b], pos[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
        table._runs_saved = len(table._runs)
        return table
