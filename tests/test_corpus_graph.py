"""The corpus-wide entity graph: building, saving/loading, and PPR reranking that
finds a second-hop passage the question shares no words with."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agentflow.errors import StoreNotFoundError
from agentflow.memory.corpus_graph import CorpusGraph

QUESTION = "Where was the director of Lunar Harvest born?"
CORPUS = [
    ("p1", "Lunar Harvest", "Lunar Harvest is a 2003 drama film directed by Ingrid Vollmer."),
    # The answer passage: linked to p1 through "Ingrid Vollmer", sharing no word with the question.
    ("p2", "Ingrid Vollmer", "Ingrid Vollmer grew up in Tromsø, Norway, and studied in Oslo."),
    ("d1", "Harvest festival", "A harvest festival is held where the main crop was gathered."),
    ("d2", "Museum director", "The director of a museum was born to oversee its collections."),
    ("d3", "Lunar calendar", "A lunar calendar was born of the phases of the Moon."),
    ("d4", "Film director", "A film director was where the drama of the film was shaped."),
    ("d5", "Oslo", "Oslo is the capital of Norway."),
    ("d6", "Tromsø", "Tromsø is a city in Norway."),
]


def _word_overlap_ranking(question: str) -> list[tuple[str, float]]:
    """A stand-in for the store's fused ranking: shared lowercase words."""
    words = set(re.findall(r"\w+", question.lower())) - {"the", "of", "was"}
    scored = [
        (pid, len(words & set(re.findall(r"\w+", f"{title} {text}".lower()))) / len(words))
        for pid, title, text in CORPUS
    ]
    return sorted((s for s in scored if s[1] > 0), key=lambda s: s[1], reverse=True)


def test_build_links_passages_to_entities_and_titles() -> None:
    graph = CorpusGraph.build(CORPUS)
    assert len(graph) == len(CORPUS) and graph.passage_ids[0] == "p1"
    assert {"lunar harvest", "ingrid vollmer", "norway", "2003"} <= set(graph.entities)
    assert graph.query_entities(QUESTION) == ["lunar harvest"]
    assert graph.add([CORPUS[0], ("p9", "Extra", "Ingrid Vollmer again.")]) == 1
    assert len(graph) == len(CORPUS) + 1


def test_rerank_brings_in_the_second_hop_passage() -> None:
    graph = CorpusGraph.build(CORPUS)
    fused = _word_overlap_ranking(QUESTION)
    assert "p2" not in dict(fused)  # similarity alone cannot find it
    reranked = graph.rerank(QUESTION, fused, k=5, keep_top=3)
    ids = [pid for pid, _ in reranked]
    assert len(ids) == 5 == len(set(ids))
    assert ids[:3] == [pid for pid, _ in fused[:3]]
    assert ids[3] == "p2"
    scores = [score for _, score in reranked]
    assert scores == sorted(scores, reverse=True)


def test_rerank_edge_cases() -> None:
    graph = CorpusGraph.build(CORPUS)
    assert graph.rerank(QUESTION, [], k=0) == []
    # No fused list: question entities alone seed the walk.
    assert [pid for pid, _ in graph.rerank(QUESTION, [], k=2)] == ["p1", "p2"]
    # Nothing to seed from: the fused list comes back as it was.
    fused = [("unknown-1", 0.9), ("unknown-2", 0.5)]
    assert [pid for pid, _ in graph.rerank("no names here", fused, k=2, keep_top=0)] == [
        "unknown-1",
        "unknown-2",
    ]
    assert CorpusGraph().rerank(QUESTION, fused, k=3) == [
        ("unknown-1", 2.0),
        ("unknown-2", pytest.approx(1 + 0.5 / 0.9)),
    ]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    graph = CorpusGraph.build(CORPUS)
    graph.save(tmp_path / "graph")
    loaded = CorpusGraph.load(tmp_path / "graph")
    assert loaded.passage_ids.tolist() == graph.passage_ids.tolist()
    assert loaded.entities.tolist() == graph.entities.tolist()
    fused = _word_overlap_ranking(QUESTION)
    assert loaded.rerank(QUESTION, fused) == graph.rerank(QUESTION, fused)
    with pytest.raises(StoreNotFoundError, match="CorpusGraph.build"):
        CorpusGraph.load(tmp_path / "missing")


def test_build_scales_to_many_passages() -> None:
    passages = [
        (
            f"p{i}",
            f"Topic {i % 500}",
            f"Alpha Corp {i % 97} met Beta Group {i % 89} in {1900 + i % 100}.",
        )
        for i in range(5000)
    ]
    graph = CorpusGraph.build(passages)
    assert len(graph) == 5000
    fused = [(f"p{i}", 1.0 - i / 100) for i in range(50)]
    assert len(graph.rerank("Where did Alpha Corp 3 meet Beta Group 5?", fused, k=5)) == 5
