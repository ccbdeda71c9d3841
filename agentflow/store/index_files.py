"""Side-index folders (BM25, entity graph): binary columns that grow by appending, and one
JSON manifest that says how much of each column is valid.

Why this shape: an ingestion appends the new passages' rows to the columns and then
replaces the manifest in one rename, so a reader (another server process, on shared
storage) sees either the old index or the new one, never half of one; nothing already
written is rewritten, so adding to a large store costs what the new rows cost. Columns are
loaded memory-mapped. Each column's length and CRC-32 are in the manifest and checked on
load: a truncated or altered file raises :class:`IndexCorruptError` and the owner rebuilds
the index instead of searching a broken one.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from agentflow.errors import AgentflowError
from agentflow.store.overlap import all_at_once

MANIFEST = "manifest.json"
_LOCK = ".lock"
_CHUNK = 1 << 24


class IndexCorruptError(AgentflowError):
    """An index file on disk is missing, truncated or altered: rebuild the index."""


def _crc(path: Path, nbytes: int) -> int:
    crc = 0
    with open(path, "rb") as f:
        left = nbytes
        while left > 0:
            block = f.read(min(_CHUNK, left))
            if not block:
                break
            crc = zlib.crc32(block, crc)
            left -= len(block)
    return crc


# Files whose checksum matched, by identity: (path, device, inode, size, mtime, bytes
# checked, CRC). A process that reloads an index (another process published a newer one,
# an ingestion appended to it) reads again only the columns that changed; the big segment
# columns are written once and never change.
_VERIFIED: set[tuple[str, int, int, int, int, int, int]] = set()
_VERIFIED_LOCK = threading.Lock()
_RACY_NS = 2_000_000_000


def _check_crc(path: Path, nbytes: int, crc: int) -> None:
    """Raise :class:`IndexCorruptError` unless the first ``nbytes`` of ``path`` have CRC-32
    ``crc`` (checked once per version of the file in this process)."""
    st = path.stat()
    key = (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, nbytes, crc)
    with _VERIFIED_LOCK:
        if key in _VERIFIED:
            return
    if _crc(path, nbytes) != crc:
        raise IndexCorruptError(f"{path} does not match its checksum: it was altered")
    if time.time_ns() - st.st_mtime_ns < _RACY_NS:
        # Modified so recently that a change within the clock's granularity would keep
        # the same mtime (git's "racy" files): checked again next time.
        return
    with _VERIFIED_LOCK:
        if len(_VERIFIED) > 4096:
            _VERIFIED.clear()
        _VERIFIED.add(key)


def encode_strings(values: Sequence[str]) -> bytes:
    """Strings as newline-terminated UTF-8 lines (a backslash or newline inside is escaped)."""
    if not values:
        return b""
    text = "\n".join(values) + "\n"
    if any("\\" in v or "\n" in v for v in values):
        text = "".join(v.replace("\\", "\\\\").replace("\n", "\\n") + "\n" for v in values)
    return text.encode("utf-8")


def decode_strings(data: bytes) -> list[str]:
    """The inverse of :func:`encode_strings`."""
    if not data:
        return []
    lines = data.decode("utf-8").split("\n")[:-1]
    if b"\\" in data:
        lines = [_unescape(v) if "\\" in v else v for v in lines]
    return lines


def _unescape(value: str) -> str:
    out, chars = [], iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append("\n" if nxt == "n" else nxt)
        else:
            out.append(ch)
    return "".join(out)


class IndexFolder:
    """One side-index folder: its manifest, its columns, and a lock for writers."""

    def __init__(self, folder: str | os.PathLike[str], kind: str, version: int) -> None:
        self.path = Path(folder)
        self.kind = kind
        self.version = version
        # Files written since the last commit, made durable by it (all at once).
        self._unsynced: set[Path] = set()

    # ---- reading -------------------------------------------------------------------

    def stamp(self) -> tuple[int, int] | None:
        """A cheap change marker (manifest inode and mtime), ``None`` when there is no index."""
        try:
            st = (self.path / MANIFEST).stat()
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns

    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest, ``None`` when the folder holds no index; one of another kind or
        a newer version, or unreadable JSON, is :class:`IndexCorruptError`."""
        file = self.path / MANIFEST
        try:
            raw = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            manifest = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise IndexCorruptError(f"{file} is not valid JSON ({exc.msg})") from None
        if not isinstance(manifest, dict) or manifest.get("kind") != self.kind:
            raise IndexCorruptError(f"{file} is not a {self.kind} index")
        if manifest.get("version") != self.version:
            raise IndexCorruptError(
                f"{file} is a {self.kind} index of version {manifest.get('version')}, "
                f"this agentflow reads version {self.version}")
        return manifest

    def column(self, manifest: dict[str, Any], name: str, *, mmap: bool = True) -> np.ndarray:
        """Column ``name`` of ``manifest``, checked against its recorded length and CRC."""
        entry = manifest.get("columns", {}).get(name)
        if entry is None:
            raise IndexCorruptError(f"{self.path / MANIFEST} names no column {name!r}")
        path = self.path / entry["file"]
        dtype = np.dtype(entry["dtype"])
        nbytes = int(entry["length"]) * dtype.itemsize
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise IndexCorruptError(f"{path} is missing") from None
        if size < nbytes:
            raise IndexCorruptError(f"{path} holds {size} bytes, the manifest expects {nbytes}")
        _check_crc(path, nbytes, int(entry["crc"]))
        if nbytes == 0:
            return np.zeros(0, dtype=dtype)
        if mmap:
            # A plain read-only view of the mapping: np.memmap's own slicing costs a
            # Python call per slice, which per-query code does thousands of times.
            return np.asarray(np.memmap(path, dtype=dtype, mode="r", shape=(int(entry["length"]),)))
        return np.fromfile(path, dtype=dtype, count=int(entry["length"]))

    def strings(self, manifest: dict[str, Any], name: str) -> list[str]:
        """A string column (see :func:`encode_strings`)."""
        data = self.column(manifest, name, mmap=False).tobytes()
        try:
            return decode_strings(data)
        except UnicodeDecodeError:
            raise IndexCorruptError(f"{self.path / name} is not UTF-8") from None

    # ---- writing (hold :meth:`lock`) ------------------------------------------------

    @contextmanager
    def lock(self) -> Iterator[None]:
        """An exclusive lock on the folder, so that two writers never interleave appends."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / _LOCK, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def append(self, columns: dict[str, Any], name: str, data: np.ndarray | bytes,
               *, dtype: str = "u1") -> None:
        """Append ``data`` to column ``name`` (created when absent), updating its entry in
        ``columns``. Bytes past the recorded length (a torn earlier write) are cut first."""
        array = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else np.ascontiguousarray(data)
        entry = columns.get(name) or {"file": name, "dtype": np.dtype(dtype if isinstance(data, bytes) else array.dtype).str,
                                      "length": 0, "crc": 0}
        dt = np.dtype(entry["dtype"])
        if array.dtype != dt:
            array = array.astype(dt)
        path = self.path / entry["file"]
        offset = int(entry["length"]) * dt.itemsize
        with open(path, "r+b" if path.exists() else "w+b") as f:
            f.truncate(offset)
            f.seek(offset)
            raw = array.tobytes()
            f.write(raw)
        self._unsynced.add(path)
        columns[name] = {**entry, "length": int(entry["length"]) + len(array),
                         "crc": zlib.crc32(raw, int(entry["crc"]))}

    def write(self, columns: dict[str, Any], name: str, array: np.ndarray, generation: int) -> None:
        """Write column ``name`` whole, to a new file (readers of the old manifest keep theirs)."""
        array = np.ascontiguousarray(array)
        file = f"{name}.{generation}"
        raw = array.tobytes()
        with open(self.path / file, "wb") as f:
            f.write(raw)
        self._unsynced.add(self.path / file)
        columns[name] = {"file": file, "dtype": array.dtype.str, "length": len(array),
                         "crc": zlib.crc32(raw)}

    def commit(self, manifest: dict[str, Any], *, previous: dict[str, Any] | None) -> None:
        """Publish ``manifest`` in one rename, then remove files only the previous one used."""
        manifest = {**manifest, "kind": self.kind, "version": self.version}
        self._sync()
        tmp = self.path / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest), encoding="utf-8")
        tmp.replace(self.path / MANIFEST)
        if previous:
            keep = {c["file"] for c in manifest["columns"].values()}
            for entry in previous.get("columns", {}).values():
                if entry["file"] not in keep:
                    (self.path / entry["file"]).unlink(missing_ok=True)

    def _sync(self) -> None:
        """Make every file written since the last commit durable before the manifest that
        names them is published. The calls overlap: one fsync after another cost ~11 ms
        each on the development machine (23 a save), while fsyncs issued together share
        the file system's journal commits."""
        paths, self._unsynced = sorted(self._unsynced), set()

        def sync(path: Path) -> None:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

        all_at_once([lambda path=path: sync(path) for path in paths])

    def clear(self) -> None:
        """Remove the index (manifest first, so that no reader trusts what is left)."""
        (self.path / MANIFEST).unlink(missing_ok=True)
        self._unsynced.clear()
        if self.path.is_dir():
            for file in self.path.iterdir():
                if file.name != _LOCK and file.is_file():
                    file.unlink(missing_ok=True)
