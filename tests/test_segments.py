"""A store in segments (a base collection and delta collections) against real Chroma:
adds land in small deltas once the base is big, and every search, lookup and count sees
all segments as one corpus; merges and compaction lose nothing and change no result."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentflow.cli.main import app
from agentflow.evals.world import generate_world
from agentflow.records import Passage
from agentflow.store import CorpusStore
from agentflow.store import segments as seg
from agentflow.store.corpus import embedding_text
from agentflow.tools.corpus_search import CorpusSearch


@pytest.fixture(scope="module")
def world() -> tuple[list[Passage], list[str]]:
    w = generate_world(n_docs=160, n_questions=20, seed=5)
    return w.corpus, [q.question for q in w.questions]


@pytest.fixture
def small_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    """Thresholds scaled down so that a few dozen passages make several segments."""
    monkeypatch.setattr(seg, "DELTA_FROM", 40)
    monkeypatch.setattr(seg, "DELTA_CAP", 20)
    monkeypatch.setattr(seg, "MAX_DELTAS", 3)
    monkeypatch.setattr(seg, "MERGE_FACTOR", 2)


def _batches(passages: list[Passage], first: int, size: int) -> list[list[Passage]]:
    rest = passages[first:]
    return [passages[:first]] + [rest[i : i + size] for i in range(0, len(rest), size)]


def _top(hits: list, k: int = 5) -> tuple[list[float], set[str]]:
    """The top ``k`` scores, and the ids scored above the k-th: exact ties are ordered
    freely by HNSW, and which of two tied passages makes the cut is arbitrary."""
    scores = [round(h.score, 5) for h in hits[:k]]
    return scores, {h.id for h in hits[:k] if round(h.score, 5) > scores[-1]}


def _rankings(store: CorpusStore, questions: list[str]) -> list[tuple[list[float], set[str]]]:
    return [_top(store.search(q, k=5, mode=mode)) for q in questions
            for mode in ("dense", "bm25", "hybrid")]


def test_adds_to_a_big_base_go_to_deltas_and_search_sees_every_segment(
        world: tuple[list[Passage], list[str]], tmp_path: Path, small_segments: None) -> None:
    passages, questions = world
    once = CorpusStore(tmp_path / "once", embedder="hash")
    once.add(passages[:100])
    store = CorpusStore(tmp_path / "inc", embedder="hash")
    for batch in _batches(passages[:100], 50, 15):
        store.add(batch)
    sizes = store.segments()
    assert sizes[0] == ("agentflow_corpus", 50)  # the first ingestion went to the base
    assert [n for _, n in sizes[1:]] == [30, 20]  # 15 + 15 filled the first delta
    assert store.count() == 100 and set(store.all_ids()) == {p.id for p in passages[:100]}
    assert _rankings(store, questions) == _rankings(once, questions)
    late = passages[95]
    assert store.get([late.id])[0] == late and late.id in store.vectors([late.id])
    assert store.add(passages[:100]).model_dump() == {"added": 0, "skipped": 100}
    tool_once, tool_inc = CorpusSearch(once), CorpusSearch(store)
    for q in questions:
        assert _top(tool_inc.search(q, k=5)) == _top(tool_once.search(q, k=5))


def test_another_client_sees_new_deltas(world: tuple[list[Passage], list[str]],
                                        tmp_path: Path, small_segments: None,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    passages, _ = world
    writer = CorpusStore(tmp_path / "s", embedder="hash")
    writer.add(passages[:50])
    reader = CorpusStore(tmp_path / "s")
    monkeypatch.setattr(seg, "REGISTRY_TTL", 0.0)
    writer.add(passages[50:60])
    newcomer = passages[55]
    assert newcomer.id in [h.id for h in reader.search(newcomer.text, k=3, mode="dense")]
    assert reader.count() == 60


def test_too_many_deltas_merge_and_compact_folds_them_into_the_base(
        world: tuple[list[Passage], list[str]], tmp_path: Path, small_segments: None) -> None:
    passages, questions = world
    store = CorpusStore(tmp_path / "s", embedder="hash")
    for batch in _batches(passages[:150], 50, 20):
        store.add(batch)
    before = _rankings(store, questions)
    sizes = store.segments()
    # Five deltas of 20 were made; past three, the two smallest were merged each time.
    assert len(sizes) - 1 <= seg.MAX_DELTAS and sum(n for _, n in sizes) == 150
    assert any(n > seg.DELTA_CAP for _, n in sizes[1:])  # a merged delta
    # An interrupted merge's unregistered (here empty) copy is folded and dropped too.
    store._chroma.client.get_or_create_collection("agentflow_corpus.d0099")
    moved = store.compact()
    assert moved == 100 and store.segments() == [("agentflow_corpus", 150)]
    names = {c if isinstance(c, str) else c.name for c in store._chroma.client.list_collections()}
    assert names == {"agentflow_corpus"}
    assert _rankings(store, questions) == before and store.count() == 150
    reopened = CorpusStore(tmp_path / "s")
    assert reopened.segments() == [("agentflow_corpus", 150)]
    # The side indexes are merged too: one segment each, as if built at once.
    from agentflow.store.graph_index import corpus_graph_for

    assert len(reopened._bm25_index()._segments) == 1
    assert len(corpus_graph_for(reopened)._segments) == 1
    once = CorpusStore(tmp_path / "once", embedder="hash")
    once.add(passages[:150])
    tool_once, tool_compacted = CorpusSearch(once), CorpusSearch(reopened)
    for q in questions:
        assert _top(tool_compacted.search(q, k=5)) == _top(tool_once.search(q, k=5))


def test_a_search_survives_a_delta_merged_away_by_another_client(
        world: tuple[list[Passage], list[str]], tmp_path: Path, small_segments: None) -> None:
    passages, _ = world
    writer = CorpusStore(tmp_path / "s", embedder="hash")
    writer.add(passages[:50])
    writer.add(passages[50:65])
    reader = CorpusStore(tmp_path / "s")
    assert len(reader.segments()) == 2
    writer.compact()  # the reader still lists the delta it deleted
    hits = reader.search(passages[60].text, k=3, mode="dense")
    assert hits[0].id == passages[60].id
    # and a lookup alone (no search first) on a stale list
    writer.add(passages[65:80])
    stale = CorpusStore(tmp_path / "s")
    assert len(stale.segments()) == 2
    writer.compact()
    assert [p.id for p in stale.get([passages[70].id, passages[1].id])] == [passages[70].id, passages[1].id]


def test_compact_command(world: tuple[list[Passage], list[str]], tmp_path: Path,
                         small_segments: None) -> None:
    passages, _ = world
    store = CorpusStore(tmp_path / "s", embedder="hash")
    store.add(passages[:50])
    store.add(passages[50:70])
    result = CliRunner().invoke(app, ["compact", "--store", str(tmp_path / "s"), "--json"])
    assert result.exit_code == 0, result.output
    assert '"moved": 20' in result.output and '"deltas_before": 1' in result.output
    assert CorpusStore(tmp_path / "s").segments() == [("agentflow_corpus", 70)]


def test_a_delta_whose_registration_was_lost_is_folded_not_deleted(
        world: tuple[list[Passage], list[str]], tmp_path: Path, small_segments: None) -> None:
    """Two clients registering deltas at the same instant could overwrite each other's
    entry: compaction folds every delta collection it finds, so nothing ingested is lost."""
    import json

    passages, _ = world
    store = CorpusStore(tmp_path / "s", embedder="hash")
    store.add(passages[:50])
    store.add(passages[50:60])
    store._chroma.base.set_metadata({seg.REGISTRY_KEY: json.dumps([])})  # the lost entry
    reopened = CorpusStore(tmp_path / "s")
    assert reopened.count() == 50  # unregistered: not searched until compaction
    assert reopened.compact() == 10
    assert reopened.count() == 60 and reopened.segments() == [("agentflow_corpus", 60)]
    assert reopened.get([passages[55].id])[0].id == passages[55].id


def test_a_local_delta_has_a_database_of_its_own(world: tuple[list[Passage], list[str]],
                                                 tmp_path: Path, small_segments: None) -> None:
    """Chroma's add slows with the size of the database too: a local store's deltas are
    each in their own, and compaction removes them."""
    passages, _ = world
    store = CorpusStore(tmp_path / "s", embedder="hash")
    for batch in _batches(passages[:90], 50, 20):
        store.add(batch)
    deltas = [name for name, _ in store.segments()[1:]]
    folders = sorted(f.name for f in (tmp_path / "s" / seg.DELTA_DIR).iterdir())
    assert len(deltas) == 2 and folders == sorted(deltas)
    names = {c if isinstance(c, str) else c.name for c in store._chroma.client.list_collections()}
    assert names == {"agentflow_corpus"}  # the base's database holds the base alone
    reader = CorpusStore(tmp_path / "s")
    assert reader.count() == 90 and reader.get([passages[80].id])[0].id == passages[80].id
    assert store.compact() == 40
    assert list((tmp_path / "s" / seg.DELTA_DIR).iterdir()) == []
    assert reader.search(passages[80].text, k=1, mode="dense")[0].id == passages[80].id
    store.add(passages[90:100])  # a new delta after compaction gets a name never used
    assert store.segments()[1][0] not in deltas


def test_a_delta_beside_the_base_from_an_earlier_version_is_searched_and_folded(
        world: tuple[list[Passage], list[str]], tmp_path: Path, small_segments: None) -> None:
    import json

    from agentflow.store.chroma_store import ChromaCollection

    passages, questions = world
    store = CorpusStore(tmp_path / "s", embedder="hash")
    store.add(passages[:50])
    old = ChromaCollection("agentflow_corpus.d0001", client=store._chroma.client)
    late = passages[50:60]
    old.add([p.id for p in late], store.embedder.embed([embedding_text(p) for p in late]),
            [p.text for p in late], [{"title": p.title, "source": p.source, "chunk": p.chunk}
                                     for p in late])
    store._chroma.base.set_metadata({seg.REGISTRY_KEY: json.dumps([old.name])})
    reopened = CorpusStore(tmp_path / "s")
    assert reopened.count() == 60
    assert reopened.search(late[3].text, k=1, mode="dense")[0].id == late[3].id
    assert reopened.compact() == 10 and reopened.segments() == [("agentflow_corpus", 60)]
