"""Ingestion: ids, chunking, loaders for folders / JSON / JSONL, bad files reported and skipped."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from agentflow.store import CorpusStore, IngestReport, ingest, passage_id
from agentflow.store.ingest import RECORD_MAX_WORDS, chunk_document, chunk_text, load_documents


def words(n: int, prefix: str = "w") -> str:
    return " ".join(f"{prefix}{i}" for i in range(n))


@pytest.fixture
def store(tmp_path: Path) -> CorpusStore:
    return CorpusStore(tmp_path / "store", embedder="hash")


def test_passage_id_is_sha1_of_title_newline_text() -> None:
    expected = hashlib.sha1(b"Warsaw\nWarsaw is the capital of Poland. ").hexdigest()[:16]
    assert passage_id("Warsaw", "Warsaw is the capital of Poland. ") == expected
    assert len(expected) == 16


def test_short_text_is_one_unchanged_chunk() -> None:
    text = "  A short   paragraph,\nwith odd spacing.  "
    assert chunk_text(text) == [text]


def test_long_text_is_chunked_with_overlap() -> None:
    chunks = chunk_text(words(25), words=10, overlap=4)
    assert [c.split()[0] for c in chunks] == ["w0", "w6", "w12", "w18"]
    assert chunks[0].split()[-4:] == chunks[1].split()[:4]
    assert chunks[-1].split()[-1] == "w24"
    assert all(len(c.split()) <= 10 for c in chunks)
    assert chunk_text(words(400)) != [words(400)]
    assert len(chunk_text(words(400), max_whole=400)) == 1
    with pytest.raises(ValueError):
        chunk_text("x", words=10, overlap=10)


def _write_corpus(root: Path) -> Path:
    docs = root / "docs"
    (docs / "nested").mkdir(parents=True)
    (docs / "curie.txt").write_text("Marie Curie was born in Warsaw.\n")
    (docs / "nested" / "tower.md").write_text("# The Eiffel Tower\n\nA lattice tower in Paris.\n")
    (docs / "picture.png").write_bytes(b"\x89PNG\x00\x00")  # not a text type: ignored in folders
    (docs / "junk.txt").write_bytes(b"\x00\x01\x02binary\xff")
    (docs / "bad.json").write_text('[{"title": "A", "text": "ok"')  # truncated
    (docs / "records.json").write_text(
        json.dumps(
            [
                {"title": "Nile", "text": "The Nile flows through Egypt. "},
                {"title": "No text"},
                {"id": "long-1", "title": "Long", "text": words(RECORD_MAX_WORDS + 100)},
            ]
        )
    )
    (docs / "lines.jsonl").write_text(
        json.dumps({"id": "tokyo", "title": "Tokyo", "text": "Tokyo is the capital of Japan."})
        + "\n"
        + "{not json}\n\n"
        + json.dumps({"title": "Emperor penguin", "text": "Emperor penguins breed in winter."})
        + "\n"
    )
    return docs


def test_ingest_folder_reports_bad_files_and_ingests_the_rest(
    tmp_path: Path, store: CorpusStore
) -> None:
    docs = _write_corpus(tmp_path)
    report = ingest([docs], store, progress=False)
    assert isinstance(report, IngestReport)
    # curie, tower, Nile, Long, tokyo, penguin
    assert report.documents == 6
    assert report.chunks == 5 + len(chunk_text(words(RECORD_MAX_WORDS + 100)))
    assert (report.added, report.skipped) == (report.chunks, 0)
    assert report.seconds > 0
    errors = "\n".join(report.errors)
    assert len(report.errors) == 4, errors
    assert "junk.txt" in errors and "bad.json" in errors and "picture.png" not in errors
    assert "records.json: record 1 has no `text`" in errors
    assert "lines.jsonl: line 2 is not valid JSON" in errors

    again = ingest([docs], store, progress=False)
    assert (again.added, again.skipped) == (0, report.chunks)


def test_ids_titles_and_metadata(tmp_path: Path, store: CorpusStore) -> None:
    docs = _write_corpus(tmp_path)
    ingest([docs], store, progress=False)
    nile_id = passage_id("Nile", "The Nile flows through Egypt. ")
    got = {p.id: p for p in store.get([nile_id, "tokyo", "long-1#0", "long-1#1", "long-1"])}
    assert set(got) == {nile_id, "tokyo", "long-1#0", "long-1#1"}
    assert got[nile_id].text == "The Nile flows through Egypt. "  # kept verbatim
    assert got[nile_id].source == str(docs / "records.json")
    assert (got["long-1#1"].title, got["long-1#1"].chunk) == ("Long", 1)
    tower = store.search("lattice tower Paris", k=1, mode="bm25")[0]
    assert tower.title == "The Eiffel Tower" and tower.source.endswith("tower.md")
    curie = store.search("Marie Curie Warsaw", k=1, mode="bm25")[0]
    assert curie.title == "Curie" and curie.id == passage_id(
        "Curie", "Marie Curie was born in Warsaw."
    )


def _as_written_before_title_rules(store: CorpusStore) -> None:
    """Make ``store`` what an older agentflow left: a manifest naming no title rule."""
    manifest = json.loads((store.path / "store.json").read_text())
    del manifest["title_rule"]
    (store.path / "store.json").write_text(json.dumps(manifest))


def test_a_new_store_titles_txt_and_md_files_alike(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "mina_sorrel.txt").write_text("Mina Sorrel was a painter.\n")
    (docs / "elda.txt").write_text("# Elda Morrow\n\nElda Morrow was a cartographer.\n")
    (docs / "elda.md").write_text("# Elda Morrow\n\nElda Morrow drew maps of the coast.\n")
    store = CorpusStore(tmp_path / "store", embedder="hash")
    first = ingest([docs], store, progress=False)
    assert json.loads((store.path / "store.json").read_text())["title_rule"] == "derived"
    titles = {Path(p.source).name: p.title for p in store.iter_passages()}
    assert titles == {"mina_sorrel.txt": "Mina Sorrel", "elda.txt": "Elda Morrow",
                      "elda.md": "Elda Morrow"}
    again = ingest([docs], CorpusStore(tmp_path / "store"), progress=False)
    assert (again.added, again.skipped, again.conflicts) == (0, first.chunks, 0)


def test_a_store_from_before_derived_titles_keeps_its_ids(tmp_path: Path) -> None:
    docs = _write_corpus(tmp_path)
    old = CorpusStore(tmp_path / "store", embedder="hash")
    old.title_rule = "legacy"  # what every store was built with before the rule existed
    first = ingest([docs], old, progress=False)
    _as_written_before_title_rules(old)
    count = old.count()

    reopened = CorpusStore(tmp_path / "store")
    assert reopened.title_rule == "legacy"
    again = ingest([docs], reopened, progress=False)
    assert (again.added, again.skipped, again.conflicts) == (0, first.chunks, 0)
    assert reopened.count() == count
    curie = reopened.search("Marie Curie Warsaw", k=1, mode="bm25")[0]
    assert (curie.title, curie.id) == ("curie", passage_id("curie", "Marie Curie was born in Warsaw."))
    # A file added later is titled like the rest of the store, and the rule stays recorded.
    (docs / "mina_sorrel.txt").write_text("Mina Sorrel was a painter.")
    assert ingest([docs / "mina_sorrel.txt"], reopened, progress=False).added == 1
    assert reopened.search("Mina Sorrel painter", k=1, mode="bm25")[0].title == "mina_sorrel"
    assert json.loads((reopened.path / "store.json").read_text())["title_rule"] == "legacy"


def test_paragraph_records_stay_whole_but_text_files_are_chunked(tmp_path: Path) -> None:
    text = words(300)
    (tmp_path / "para.json").write_text(json.dumps([{"title": "P", "text": text}]))
    (tmp_path / "doc.txt").write_text(text)
    errors: list[str] = []
    by_source = {Path(d.source).name: d for d in load_documents([tmp_path], errors)}
    assert not errors
    assert [p.id for p in chunk_document(by_source["para.json"])] == [passage_id("P", text)]
    assert len(chunk_document(by_source["doc.txt"])) == 2


def test_missing_unsupported_and_unreadable_paths_are_reported(
    tmp_path: Path, store: CorpusStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "table.csv").write_text("a,b\n")
    locked = tmp_path / "locked.txt"
    locked.write_text("secret")
    (tmp_path / "fine.txt").write_text("A fine document.")
    (tmp_path / "object.json").write_text('{"rows": 3}')
    import importlib

    ingest_module = importlib.import_module("agentflow.store.ingest")

    real_read_bytes = ingest_module._read_bytes

    def read_bytes(path: Path, limit: int | None = None) -> bytes:
        if path.name == "locked.txt":  # tests run as root, so chmod would not stop the read
            raise PermissionError(13, "Permission denied", str(path))
        return real_read_bytes(path, limit)

    monkeypatch.setattr(ingest_module, "_read_bytes", read_bytes)
    report = ingest(
        [
            tmp_path / "nope",
            tmp_path / "table.csv",
            locked,
            tmp_path / "fine.txt",
            tmp_path / "object.json",
        ],
        store,
        progress=False,
    )
    errors = "\n".join(report.errors)
    assert "nope: no such file or folder" in errors
    assert "table.csv: unsupported file type" in errors
    assert "locked.txt: Permission denied" in errors
    assert "object.json: record 0 has no `text`" in errors
    assert (report.documents, report.added) == (1, 1)


def test_progress_bar_does_not_break_ingestion(tmp_path: Path, store: CorpusStore) -> None:
    (tmp_path / "a.txt").write_text("Alpha document.")
    assert ingest(tmp_path / "a.txt", store, progress=True).added == 1
