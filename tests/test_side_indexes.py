"""The store's side indexes (BM25 segments, entity graph) on disk: appended by each ingestion,
equal to a build at once, damaged files detected and rebuilt, newer indexes reloaded, and no
per-search work that grows with the corpus (Chroma's count)."""

from __future__ import annotations

import json
from pathlib import Path

import bm25s
import pytest
import Stemmer

from agentflow.evals.world import generate_world
from agentflow.memory.corpus_graph import CorpusGraph
from agentflow.records import Passage
from agentflow.store import CorpusStore
from agentflow.store.bm25_index import MAX_SEGMENTS, BM25Index
from agentflow.store.corpus import embedding_text
from agentflow.store.index_files import IndexCorruptError, decode_strings, encode_strings
from agentflow.tools.corpus_search import CorpusSearch


@pytest.fixture(scope="module")
def world() -> tuple[list[Passage], list[str]]:
    w = generate_world(n_docs=1200, n_questions=40, seed=11)
    return w.corpus, [q.question for q in w.questions]


def test_strings_round_trip_with_escapes() -> None:
    values = ["a", "", "back\\slash", "new\nline", "ünïcode"]
    assert decode_strings(encode_strings(values)) == values
    assert decode_strings(encode_strings([])) == []


def test_bm25_scores_match_bm25s(world: tuple[list[Passage], list[str]]) -> None:
    passages, questions = world
    texts = [embedding_text(p) for p in passages]
    ours = BM25Index.build([p.id for p in passages], texts)
    stemmer = Stemmer.Stemmer("english")
    ref = bm25s.BM25()
    ref.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
              show_progress=False)
    for q in questions:
        docs, scores = ref.retrieve(bm25s.tokenize([q], stopwords="en", stemmer=stemmer,
                                                   return_ids=False, show_progress=False),
                                    k=10, show_progress=False)
        expected = sorted(float(s) for s in scores[0] if s > 0)
        assert sorted(s for _, s in ours.search(q, 10)) == pytest.approx(expected, rel=1e-5)


def test_bm25_in_segments_ranks_like_one_build(world: tuple[list[Passage], list[str]],
                                               tmp_path: Path) -> None:
    passages, questions = world
    ids, texts = [p.id for p in passages], [embedding_text(p) for p in passages]
    whole = BM25Index.build(ids, texts)
    folder = tmp_path / "bm25"
    BM25Index.build(ids[:200], texts[:200]).save(folder)
    for start in range(200, len(ids), 100):  # more batches than MAX_SEGMENTS: merged on save
        index = BM25Index.load(folder)
        index.append(ids[start : start + 100], texts[start : start + 100])
        index.save(folder)
    loaded = BM25Index.load(folder)
    assert len(loaded) == len(ids) and len(loaded._segments) <= MAX_SEGMENTS + 1
    for q in questions:
        _same_ranking(loaded.search(q, 10), whole.search(q, 10))


def test_graph_in_segments_reranks_like_one_build(world: tuple[list[Passage], list[str]],
                                                  tmp_path: Path) -> None:
    passages, questions = world
    triples = [(p.id, p.title, p.text) for p in passages]
    whole = CorpusGraph.build(triples)
    folder = tmp_path / "graph"
    CorpusGraph.build(triples[:300]).save(folder)
    for start in range(300, len(triples), 90):
        graph = CorpusGraph.load(folder)
        graph.add(triples[start : start + 90])
        graph.save(folder)
    loaded = CorpusGraph.load(folder)
    assert loaded.passage_ids.tolist() == whole.passage_ids.tolist()
    assert loaded.entities.tolist() == whole.entities.tolist()
    assert not loaded._pdeg.flags.owndata and not loaded._pdeg.flags.writeable  # mapped
    fused = [(p.id, 1.0 - i / 60) for i, p in enumerate(passages[:50])]
    for q in questions:
        _same_ranking(loaded.rerank(q, fused), whole.rerank(q, fused))
    assert loaded.entity_frequency("no such entity") == 0
    key = whole.entities[0]
    assert loaded.entity_frequency(key) == whole.entity_frequency(key) > 0


def _same_ranking(got: list[tuple[str, float]], want: list[tuple[str, float]]) -> None:
    assert [i for i, _ in got] == [i for i, _ in want]
    assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-5)


def _store(tmp_path: Path, passages: list[Passage]) -> CorpusStore:
    store = CorpusStore(tmp_path / "store", embedder="hash")
    store.add(passages)
    return store


@pytest.mark.parametrize("damage", ["truncate", "flip", "manifest", "missing"])
@pytest.mark.parametrize("index", ["bm25", "graph"])
def test_a_damaged_index_is_detected_and_rebuilt(world: tuple[list[Passage], list[str]],
                                                 tmp_path: Path, damage: str, index: str,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    passages, questions = world
    store = _store(tmp_path, passages[:300])
    expected = [h.id for h in CorpusSearch(store).search(questions[0], k=5)]
    folder = store.path / index
    manifest = json.loads((folder / "manifest.json").read_text())
    column = next(iter(c for name, c in manifest["columns"].items() if name.startswith("seg")))
    file = folder / column["file"]
    if damage == "truncate":
        file.write_bytes(file.read_bytes()[:-8])
    elif damage == "flip":
        data = bytearray(file.read_bytes())
        data[len(data) // 2] ^= 0xFF
        file.write_bytes(bytes(data))
    elif damage == "manifest":
        (folder / "manifest.json").write_text("{not json")
    else:
        file.unlink()
    loader = BM25Index.load if index == "bm25" else CorpusGraph.load
    with pytest.raises(IndexCorruptError):
        loader(folder)
    fresh = CorpusStore(store.path)
    assert [h.id for h in CorpusSearch(fresh).search(questions[0], k=5)] == expected
    assert "rebuilding it from the collection" in caplog.text
    assert len(loader(folder)) == 300  # rebuilt and published


def test_an_older_store_gets_its_indexes_built(world: tuple[list[Passage], list[str]],
                                               tmp_path: Path) -> None:
    passages, questions = world
    store = _store(tmp_path, passages[:200])
    for name in ("bm25", "graph"):  # as a store of an earlier version had them
        for f in (store.path / name).iterdir():
            f.unlink()
        (store.path / name / "corpus_graph.json").write_text("{}")
    fresh = CorpusStore(store.path)
    assert fresh.search(questions[0], mode="bm25")
    assert len(CorpusSearch(fresh)._graph) == 200


def test_ingest_appends_and_other_processes_reload(world: tuple[list[Passage], list[str]],
                                                   tmp_path: Path) -> None:
    passages, _ = world
    store = _store(tmp_path, passages[:200])
    reader = CorpusStore(store.path)
    tool = CorpusSearch(reader)
    assert len(tool._graph) == 200
    before = json.loads((store.path / "bm25" / "manifest.json").read_text())
    store.add(passages[200:260])
    after = json.loads((store.path / "bm25" / "manifest.json").read_text())
    # Appended: the first segment's files are the same files, a new segment came.
    first = f"seg{before['segments'][0]['sid']}.docs"
    assert after["columns"][first] == before["columns"][first]
    assert len(after["segments"]) == len(before["segments"]) + 1
    newcomer = passages[230]
    assert len(tool._graph) == 260  # the reader noticed the newer graph
    assert newcomer.id in [h.id for h in reader.search(newcomer.title, k=5, mode="bm25")]


def test_search_does_not_count_the_collection(world: tuple[list[Passage], list[str]],
                                              tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    passages, questions = world
    store = _store(tmp_path, passages[:200])
    tool = CorpusSearch(CorpusStore(store.path))
    calls = []
    chroma = tool.store._chroma
    real = chroma.count
    monkeypatch.setattr(chroma, "count", lambda: calls.append(1) or real())
    for q in questions[:20]:
        tool.search(q, k=5)
        tool.store.search(q, k=5, mode="hybrid")
    assert len(calls) <= 2  # at most once per COUNT_TTL, not once or twice per search


def _brute_force_top(index: BM25Index, query: str, k: int) -> list[tuple[str, float]]:
    """Every passage scored over every query term, then sorted: what max-score must equal."""
    import math

    import numpy as np

    from agentflow.store.bm25_index import _tokenize

    n = len(index)
    norm = index._length_norm()
    dense = np.zeros(n)
    term = {t: i for i, t in enumerate(index.vocab)}  # a plain dict, not the table's lookup
    for tok in _tokenize([query], index._stemmer)[0]:
        tid = term.get(tok)
        if tid is None:
            continue
        df = int(index._df[tid])
        idf = np.float32(math.log(1.0 + (n - df + 0.5) / (df + 0.5)))
        for rows, tf in index._postings(tid):
            dense[rows] += idf * (tf / (tf + norm[rows]))
    scores = dense.astype(np.float32)
    order = np.lexsort((np.arange(n), -scores))[:k]
    return [(index.ids[i], float(scores[i])) for i in order if scores[i] > 0]


@pytest.mark.parametrize("k", [1, 5, 50])
def test_bm25_max_score_equals_scoring_every_passage(world: tuple[list[Passage], list[str]],
                                                     k: int, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    passages, questions = world
    ids, texts = [p.id for p in passages], [embedding_text(p) for p in passages]
    folder = tmp_path / "bm25"
    BM25Index.build(ids[:700], texts[:700]).save(folder)
    index = BM25Index.load(folder)
    queries = [*questions, *(f"{p.title} {p.title} born city" for p in passages[:40])]
    for q in queries:  # bounds and common terms' parts cached for the first state...
        index.search(q, k)
    index.append(ids[700:], texts[700:])  # ...and dropped when passages come (two segments)
    pruned = []
    real = BM25Index._add_for
    monkeypatch.setattr(BM25Index, "_add_for",
                        lambda self, *a: pruned.append(1) or real(self, *a))
    for q in queries:
        _same_ranking(index.search(q, k), _brute_force_top(index, q, k))
    # The common terms were only looked up, at least for some queries (with k = 50 too,
    # more than the rare terms of this small world hold: the rarest common term then
    # sets the bar).
    assert pruned


def test_a_checked_column_altered_later_is_still_detected(
        world: tuple[list[Passage], list[str]], tmp_path: Path) -> None:
    import os
    import time

    passages, _ = world
    folder = tmp_path / "bm25"
    BM25Index.build([p.id for p in passages[:100]],
                    [embedding_text(p) for p in passages[:100]]).save(folder)
    past = time.time() - 60
    for f in folder.iterdir():
        os.utime(f, (past, past))  # old enough for its checksum to be remembered
    BM25Index.load(folder)
    BM25Index.load(folder)  # the second load reads no column whole again
    manifest = json.loads((folder / "manifest.json").read_text())
    file = folder / next(c["file"] for n, c in manifest["columns"].items() if n.endswith(".tf"))
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError):
        BM25Index.load(folder)


def test_a_failed_update_loses_no_passage(world: tuple[list[Passage], list[str]], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The id set an update keeps between ingestions is trusted again only once an update
    has published: a save that fails (disk full) leaves the next update to add the same
    passages, not to skip them as known."""
    passages, _ = world
    store = _store(tmp_path, passages[:100])
    store.search("warm up", k=1, mode="bm25")
    real_save = BM25Index.save
    calls = []

    def failing_save(self: BM25Index, folder: Path) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        real_save(self, folder)

    monkeypatch.setattr(BM25Index, "save", failing_save)
    with pytest.raises(OSError):
        store.add(passages[100:120])
    store.update_indexes(passages[100:120])
    index = store._bm25_index()
    assert len(index) == 120 and len(set(index.ids)) == 120
    assert passages[110].id in [h.id for h in store.search(passages[110].title, k=3, mode="bm25")]


def test_an_ingestion_reads_no_earlier_segment(world: tuple[list[Passage], list[str]],
                                               tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A new process that appends needs neither index's earlier segments (hundreds of
    megabytes at 10^6 passages); the first search reads them."""
    from agentflow.store.index_files import IndexFolder

    passages, questions = world
    _store(tmp_path, passages[:200])
    read: list[str] = []
    real = IndexFolder.column
    monkeypatch.setattr(IndexFolder, "column",
                        lambda self, manifest, name, **kw: read.append(name) or real(self, manifest, name, **kw))
    fresh = CorpusStore(tmp_path / "store")
    fresh.add(passages[200:260])
    assert not [name for name in read if name.startswith("seg")]
    assert fresh.search(questions[0], k=5, mode="bm25")
    assert [name for name in read if name.startswith("seg")]


@pytest.mark.parametrize("index", ["bm25", "graph"])
def test_a_damaged_segment_an_append_did_not_read_is_found_by_the_first_search(
        world: tuple[list[Passage], list[str]], tmp_path: Path, index: str,
        caplog: pytest.LogCaptureFixture) -> None:
    passages, questions = world
    once = _store(tmp_path / "once", passages[:260])
    expected = [h.id for h in CorpusSearch(once).search(questions[1], k=5)]
    store = _store(tmp_path, passages[:200])
    folder = store.path / index
    manifest = json.loads((folder / "manifest.json").read_text())
    column = next(c for name, c in manifest["columns"].items() if name.startswith("seg"))
    data = bytearray((folder / column["file"]).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / column["file"]).write_bytes(bytes(data))
    fresh = CorpusStore(store.path)
    fresh.add(passages[200:260])  # appended without reading the damaged segment
    assert [h.id for h in CorpusSearch(fresh).search(questions[1], k=5)] == expected
    assert "rebuilding it from the collection" in caplog.text


def test_merging_two_runs_of_passages_sums_the_shared_ones() -> None:
    import numpy as np

    from agentflow.store.bm25_index import _merge_runs

    rng = np.random.default_rng(3)
    for long_n, short_n in [(1000, 7), (50, 50), (0, 5), (9, 0), (300, 1)]:
        a = np.sort(rng.choice(2000, long_n, replace=False))
        b = np.sort(rng.choice(2000, short_n, replace=False))
        sa, sb = rng.random(long_n), rng.random(short_n)
        docs, scores = _merge_runs(a, sa, b, sb)
        want_docs, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
        want = np.bincount(inverse, weights=np.concatenate([sa, sb]))
        assert docs.tolist() == want_docs.tolist()
        assert scores.tolist() == want.tolist()  # the same sums, bit for bit
