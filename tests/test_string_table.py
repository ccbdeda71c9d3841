"""String tables: strings numbered in order, found by value through hash runs (exact even
when hashes collide), saved by appending, merged past MAX_RUNS, damage detected on load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import agentflow.store.string_table as string_table
from agentflow.store.index_files import IndexCorruptError, IndexFolder
from agentflow.store.string_table import MAX_RUNS, StringTable

ODD = ["a", "", "back\\slash", "new\nline", "ünïcode", "tab\tin", "\\n"]


def _save(table: StringTable, folder: IndexFolder, manifest: dict | None, gen: int) -> dict:
    columns = dict(manifest["columns"]) if manifest else {}
    saved = manifest["tables"]["t"] if manifest else None
    entry = table.save(folder, columns, "t", saved, gen)
    return {"columns": columns, "tables": {"t": entry}}


def test_numbers_in_order_and_finds_exactly() -> None:
    values = ODD + [f"id-{i}" for i in range(500)]
    table = StringTable.of(values[:100])
    table.extend(values[100:])
    assert len(table) == len(values) and table.tolist() == values
    assert table[3] == "new\nline" and table[-1] == values[-1] and table[1:3] == values[1:3]
    assert table.find(values).tolist() == list(range(len(values)))
    assert table.find(["id-", "id-5000", "A", "new"]).tolist() == [-1, -1, -1, -1]
    assert "back\\slash" in table and "nope" not in table
    assert StringTable().find(["a"]).tolist() == [-1]


def test_colliding_hashes_still_match_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    real = string_table._hash
    # Every string hashes to one of two values: lookups must compare the bytes.
    monkeypatch.setattr(string_table, "_hash", lambda data, starts: real(data, starts) % np.uint64(2))
    values = [f"v{i}" for i in range(40)]
    table = StringTable.of(values[:25])
    table.extend(values[25:])
    assert table.find(values[::-1]).tolist() == list(range(39, -1, -1))
    assert table.find(["v40", "w1"]).tolist() == [-1, -1]


def test_saved_by_appending_and_loaded_back(tmp_path: Path) -> None:
    folder = IndexFolder(tmp_path, "test", 1)
    table = StringTable.of(ODD)
    manifest = _save(table, folder, None, 1)
    first_hash_file = manifest["columns"]["t.hash"]["file"]
    for step in range(3):
        loaded = StringTable.load(folder, manifest, "t")
        loaded.extend([f"s{step}-{i}" for i in range(5)])
        manifest = _save(loaded, folder, manifest, 2 + step)
    # Appended: the same files grew, none was rewritten.
    assert manifest["columns"]["t.hash"]["file"] == first_hash_file
    assert manifest["tables"]["t"]["runs"] == [len(ODD), 5, 5, 5]
    back = StringTable.load(folder, manifest, "t")
    assert back.tolist() == ODD + [f"s{s}-{i}" for s in range(3) for i in range(5)]
    assert back.find(back.tolist()).tolist() == list(range(len(back)))


def test_runs_are_merged_past_max_runs_and_by_compact(tmp_path: Path) -> None:
    folder = IndexFolder(tmp_path, "test", 1)
    table = StringTable.of(["base"])
    manifest = _save(table, folder, None, 1)
    for i in range(MAX_RUNS + 2):
        table = StringTable.load(folder, manifest, "t")
        table.extend([f"x{i}", f"y{i}"])
        manifest = _save(table, folder, manifest, 2 + i)
        assert len(manifest["tables"]["t"]["runs"]) <= MAX_RUNS
    assert manifest["tables"]["t"]["runs"][0] == 1  # the first run is never re-sorted
    table = StringTable.load(folder, manifest, "t")
    table.compact()
    manifest = _save(table, folder, manifest, 99)
    assert manifest["tables"]["t"]["runs"] == [len(table)]
    back = StringTable.load(folder, manifest, "t")
    assert back.find(back.tolist()).tolist() == list(range(len(back)))


def test_a_damaged_table_is_detected(tmp_path: Path) -> None:
    folder = IndexFolder(tmp_path, "test", 1)
    manifest = _save(StringTable.of(ODD), folder, None, 1)
    with pytest.raises(IndexCorruptError):
        StringTable.load(folder, {**manifest, "tables": {}}, "t")
    wrong = json.loads(json.dumps(manifest))
    wrong["tables"]["t"]["count"] += 1
    with pytest.raises(IndexCorruptError):
        StringTable.load(folder, wrong, "t")
    file = tmp_path / manifest["columns"]["t.hash"]["file"]
    data = bytearray(file.read_bytes())
    data[3] ^= 0xFF
    file.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError):
        StringTable.load(folder, manifest, "t")


def test_a_clone_grows_alone() -> None:
    table = StringTable.of(["a", "b"])
    other = table.clone()
    other.extend(["c"])
    assert table.tolist() == ["a", "b"] and table.find(["c"]).tolist() == [-1]
    assert other.find(["c"]).tolist() == [2]


def test_take_gives_the_strings_at_many_rows_at_once(tmp_path: Path) -> None:
    values = ODD + [f"id-{i}" for i in range(300)]
    folder = IndexFolder(tmp_path / "t", "test", 1)
    folder.path.mkdir(parents=True)
    manifest = _save(StringTable.of(values), folder, None, 1)
    for table in (StringTable.of(values), StringTable.load(folder, manifest, "t")):
        rows = [3, 0, 6, 299, 1, 3, 2, 5, 4]
        assert table.take(rows) == [values[r] for r in rows]
        assert table.take(np.array([], np.int64)) == []
        with pytest.raises(IndexError):
            table.take([len(values)])
