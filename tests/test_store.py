"""The corpus store against a real Chroma database in a temp dir, with the hashing embedder."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentflow.errors import (
    ConfigError,
    NetworkBlockedError,
    StoreMismatchError,
    StoreNotFoundError,
)
from agentflow.records import Passage
from agentflow.store import CorpusStore

PASSAGES = [
    Passage(
        id="curie",
        title="Marie Curie",
        text="Marie Curie was born in Warsaw and studied radioactivity in Paris.",
    ),
    Passage(
        id="eiffel",
        title="Eiffel Tower",
        text="The Eiffel Tower is a wrought-iron lattice tower in Paris.",
    ),
    Passage(
        id="warsaw", title="Warsaw", text="Warsaw is the capital of Poland, on the Vistula river."
    ),
    Passage(
        id="nile",
        title="Nile",
        text="The Nile flows north through Egypt into the Mediterranean Sea.",
    ),
    Passage(id="tokyo", title="Tokyo", text="Tokyo is the capital of Japan and its largest city."),
    Passage(
        id="penguin",
        title="Emperor penguin",
        text="Emperor penguins breed in the Antarctic winter.",
    ),
]


@pytest.fixture
def store(tmp_path: Path) -> CorpusStore:
    s = CorpusStore(tmp_path / "store", embedder="hash")
    s.add(PASSAGES)
    return s


def test_add_then_readd_skips_existing(tmp_path: Path) -> None:
    s = CorpusStore(tmp_path / "store", embedder="hash")
    assert s.add(PASSAGES[:4]).model_dump() == {"added": 4, "skipped": 0}
    assert s.add(PASSAGES).model_dump() == {"added": 2, "skipped": 4}
    assert s.add(PASSAGES).model_dump() == {"added": 0, "skipped": 6}
    assert s.add([PASSAGES[0], PASSAGES[0]]).added == 0
    assert s.count() == 6


def test_duplicate_ids_in_one_add_are_added_once(tmp_path: Path) -> None:
    s = CorpusStore(tmp_path / "store", embedder="hash")
    assert s.add([PASSAGES[0], PASSAGES[0], PASSAGES[1]]).model_dump() == {"added": 2, "skipped": 1}


def test_adds_in_batches_no_larger_than_chroma_allows(tmp_path: Path) -> None:
    s = CorpusStore(tmp_path / "store", embedder="hash")
    s._chroma.max_batch = 4
    assert s.add(PASSAGES).added == 6
    assert s.count() == 6 and len(s.get([p.id for p in PASSAGES])) == 6


def test_get_keeps_order_and_metadata(tmp_path: Path) -> None:
    s = CorpusStore(tmp_path / "store", embedder="hash")
    s.add(
        [Passage(id="x", title="X", text="text of x", source="docs/x.md", chunk=2), *PASSAGES[:2]]
    )
    got = s.get(["eiffel", "missing", "x"])
    assert [p.id for p in got] == ["eiffel", "x"]
    assert got[1] == Passage(id="x", title="X", text="text of x", source="docs/x.md", chunk=2)


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_search_modes_find_the_right_passage(store: CorpusStore, mode: str) -> None:
    hits = store.search("Which river flows through Egypt?", k=3, mode=mode)
    assert hits[0].id == "nile" and hits[0].title == "Nile"
    assert len(hits) <= 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_hybrid_scores_are_fused_and_rrf_is_available(store: CorpusStore) -> None:
    hybrid = store.search("capital of Poland Warsaw", k=6)
    assert hybrid[0].id == "warsaw" and hybrid[0].score == pytest.approx(1.0)
    assert all(0.0 <= h.score <= 1.0 for h in hybrid)
    rrf = store.search("capital of Poland Warsaw", k=6, fusion="rrf")
    assert rrf[0].id == "warsaw" and rrf[0].score == pytest.approx(2 / 61)


def test_search_many_matches_search(store: CorpusStore) -> None:
    queries = ["penguins in Antarctica", "largest city of Japan"]
    many = store.search_many(queries, k=2)
    assert [[h.id for h in row] for row in many] == [
        [h.id for h in store.search(q, k=2)] for q in queries
    ]
    assert store.search_many([], k=2) == []


def test_bm25_leaves_out_passages_sharing_no_term(store: CorpusStore) -> None:
    assert store.search("zyzzyva quokka", mode="bm25") == []


def test_bad_mode_or_fusion_is_a_config_error(store: CorpusStore) -> None:
    with pytest.raises(ConfigError, match="hybrid"):
        store.search("x", mode="sparse")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="rrf"):
        store.search("x", fusion="max")  # type: ignore[arg-type]


def test_reopen_uses_the_manifest(store: CorpusStore) -> None:
    manifest = json.loads((store.path / "store.json").read_text())
    assert manifest["embedder"] == "hash-384" and manifest["dim"] == 384
    assert manifest["passages"] == 6 and manifest["fusion"] == "weighted"
    assert manifest["dense_weight"] == 0.8 and manifest["created"]
    again = CorpusStore.open_existing(store.path)  # embedder taken from the manifest
    assert again.embedder.name == "hash-384" and again.count() == 6
    assert again.search("Eiffel Tower Paris", k=1)[0].id == "eiffel"


def test_embedder_mismatch_names_the_store_embedder(store: CorpusStore) -> None:
    with pytest.raises(StoreMismatchError, match="hash-384") as err:
        CorpusStore(store.path, embedder="hash:128")
    assert "--embedder hash:384" in str(err.value)


def test_environment_embedder_counts_as_asked_for(
    store: CorpusStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTFLOW_EMBEDDER", "hash:64")
    with pytest.raises(StoreMismatchError):
        CorpusStore.open_existing(store.path)


def test_missing_or_empty_store_says_to_ingest(tmp_path: Path) -> None:
    for path in (tmp_path / "nowhere", tmp_path):
        with pytest.raises(StoreNotFoundError, match="agentflow ingest") as err:
            CorpusStore.open_existing(path)
        assert str(path) in str(err.value)
    empty = CorpusStore(tmp_path / "empty", embedder="hash")
    empty.add([])
    assert (empty.path / "store.json").is_file()
    with pytest.raises(StoreNotFoundError):
        CorpusStore.open_existing(empty.path)


def test_default_path_comes_from_agentflow_home(tmp_path: Path) -> None:
    s = CorpusStore(embedder="hash")
    assert s.path == Path(os.environ["AGENTFLOW_HOME"]) / "store"


def test_bm25_is_rebuilt_after_each_add_and_when_missing(store: CorpusStore) -> None:
    store.add([Passage(id="okapi", title="Okapi", text="The okapi lives in the Ituri rainforest.")])
    assert store.search("okapi rainforest", mode="bm25")[0].id == "okapi"
    shutil.rmtree(store.path / "bm25")
    fresh = CorpusStore(store.path)
    assert fresh.search("okapi rainforest", mode="bm25")[0].id == "okapi"
    assert (store.path / "bm25" / "manifest.json").is_file()


def test_bm25_reloads_after_another_instance_ingests(store: CorpusStore) -> None:
    assert store.search("okapi", mode="bm25") == []
    other = CorpusStore(store.path)
    other.add([Passage(id="okapi", title="Okapi", text="The okapi lives in the Ituri rainforest.")])
    time.sleep(0.01)
    assert store.search("okapi", mode="bm25")[0].id == "okapi"


def test_chroma_url_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="http://HOST:PORT"):
        CorpusStore(tmp_path / "s", embedder="hash", chroma_url="localhost:8000")
    with pytest.raises(NetworkBlockedError):
        CorpusStore(tmp_path / "s", embedder="hash", chroma_url="http://10.255.255.1:8000")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if exe is None:
        pytest.skip("the chroma server executable is not installed")
    port = _free_port()
    proc = subprocess.Popen(
        [
            exe,
            "run",
            "--path",
            str(tmp_path / "server-data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("chroma server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.slow
def test_store_on_a_chroma_server(tmp_path: Path, chroma_server: str, loopback: None) -> None:
    s = CorpusStore(tmp_path / "local", embedder="hash", chroma_url=chroma_server)
    assert s.add(PASSAGES).added == 6
    assert not (tmp_path / "local" / "chroma").exists()
    reopened = CorpusStore.open_existing(tmp_path / "local", chroma_url=chroma_server)
    assert reopened.search("Which river flows through Egypt?", k=1)[0].id == "nile"


def test_collection_name_is_checked_and_search_is_near_exact(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="collection name"):
        CorpusStore(tmp_path / "s", embedder="hash", collection="a b")
    s = CorpusStore(tmp_path / "t", embedder="hash", collection="my_corpus")
    assert s._chroma.base.collection.configuration["hnsw"]["space"] == "cosine"
    assert s._chroma.base.collection.configuration["hnsw"]["ef_search"] >= 500


def test_opening_with_another_collection_name_is_a_mismatch(store: CorpusStore) -> None:
    with pytest.raises(StoreMismatchError, match="agentflow_corpus"):
        CorpusStore(store.path, collection="other_corpus")
