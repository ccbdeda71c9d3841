"""The run's memory graph (typed nodes and edges, facts with provenance, dense + PPR
search, change log, JSON round trip) and its compact rendering for prompts."""

from __future__ import annotations

import json

import pytest

from agentflow.embed.hashing import HashingEmbedder
from agentflow.llm.tokens import estimate_tokens
from agentflow.memory.graph import EDGE_TYPES, NODE_TYPES, MemoryGraph
from agentflow.memory.render import render_memory
from agentflow.records import Passage, SearchHit

GUMP = Passage(
    id="wiki-1",
    title="Forrest Gump",
    text="Forrest Gump is a 1994 American film directed by Robert Zemeckis and starring Tom Hanks.",
)
ZEMECKIS = Passage(
    id="wiki-2",
    title="Robert Zemeckis",
    text="Robert Zemeckis is an American filmmaker. He was born in Chicago, Illinois.",
)
TOASTER = Passage(
    id="wiki-3", title="Toaster", text="A toaster browns slices of bread with radiant heat."
)


def _memory(embedder: HashingEmbedder | None = None) -> MemoryGraph:
    memory = MemoryGraph(embedder if embedder is not None else HashingEmbedder())
    memory.add_question("q1", "Where was the director of Forrest Gump born?")
    memory.add_subquestion("1", "Who directed Forrest Gump?", question_id="q1")
    memory.add_subquestion("2", "Where was #1 born?", question_id="q1", depends_on=["1"])
    memory.add_passage(GUMP, retrieved_for="1", score=0.8)
    memory.add_passage(ZEMECKIS, retrieved_for="2", score=0.7)
    memory.add_passage(TOASTER)
    return memory


def _edges(memory: MemoryGraph) -> set[tuple[str, str, str]]:
    return set(memory.nx_graph.edges(keys=True))


def test_nodes_and_edges_are_typed_and_prefixed() -> None:
    memory = _memory()
    fact = memory.add_fact(
        "Forrest Gump was directed by Robert Zemeckis.",
        source_passage_id="wiki-1",
        sub_question_id="1",
        answers=True,
    )
    graph = memory.nx_graph
    assert {t for _, t in graph.nodes(data="type")} == set(NODE_TYPES)
    assert {k for _, _, k in graph.edges(keys=True)} <= set(EDGE_TYPES)
    assert graph.nodes["q:q1"]["type"] == "question"
    assert graph.nodes["sq:2"]["type"] == "subquestion"
    assert graph.nodes["p:wiki-1"]["title"] == "Forrest Gump"
    assert graph.nodes["e:robert zemeckis"]["type"] == "entity"
    assert fact == "f:1" and graph.nodes[fact]["type"] == "fact"
    assert {
        ("q:q1", "sq:1", "decomposes"),
        ("sq:2", "sq:1", "depends_on"),
        ("p:wiki-1", "sq:1", "retrieved_for"),
        ("p:wiki-1", "f:1", "supports"),
        ("p:wiki-1", "e:forrest gump", "mentions"),
        ("f:1", "e:robert zemeckis", "mentions"),
        ("f:1", "sq:1", "answers"),
    } <= _edges(memory)
    stats = memory.stats()
    assert stats["nodes"]["passage"] == 3 and stats["nodes"]["fact"] == 1
    assert stats["edges"]["answers"] == 1 and stats["total_edges"] == graph.number_of_edges()


def test_add_passage_is_idempotent_and_keeps_the_best_score() -> None:
    memory = _memory()
    before = memory.stats()
    hit = SearchHit(id="wiki-1", title=GUMP.title, text=GUMP.text, score=0.95)
    assert memory.add_passage(hit, retrieved_for="1") is False
    assert memory.add_passage(GUMP, retrieved_for="1", score=0.1) is False
    assert memory.stats() == before
    assert memory.nx_graph.edges["p:wiki-1", "sq:1", "retrieved_for"]["score"] == 0.95
    assert memory.has_passage("wiki-1") and not memory.has_passage("nope")
    assert memory.passage("wiki-1") == GUMP
    assert memory.passage("nope") is None
    assert memory.passage_ids() == ["wiki-1", "wiki-2", "wiki-3"]
    # Found again for another sub-question: only the new retrieval edge is added.
    memory.add_passage(GUMP, retrieved_for="2")
    assert ("p:wiki-1", "sq:2", "retrieved_for") in _edges(memory)


def test_facts_keep_provenance_and_are_deduplicated_per_passage() -> None:
    memory = _memory()
    first = memory.add_fact(
        "Robert Zemeckis directed Forrest Gump.",
        source_passage_id="wiki-1",
        sub_question_id="1",
        answers=True,
    )
    again = memory.add_fact("Robert Zemeckis  directed Forrest Gump.", source_passage_id="wiki-1")
    other = memory.add_fact(
        "Robert Zemeckis directed Forrest Gump.", source_passage_id="wiki-2", sub_question_id="1"
    )
    assert first == again and other != first
    facts = memory.facts_for("1")
    assert [f["id"] for f in facts] == [first, other]
    assert facts[0]["source"] == "wiki-1" and facts[0]["answers"] == ["1"]
    assert facts[1]["answers"] == []
    assert [f["id"] for f in memory.facts_from("wiki-2")] == [other]
    with pytest.raises(KeyError, match="add_passage"):
        memory.add_fact("Unfounded claim.", source_passage_id="never-retrieved")


def test_contradictions_and_synonyms() -> None:
    memory = _memory()
    a = memory.add_fact("Zemeckis was born in Chicago.", source_passage_id="wiki-2")
    b = memory.add_fact("Zemeckis was born in Boston.", source_passage_id="wiki-1")
    memory.mark_contradiction(a, b)
    assert {(a, b, "contradicts"), (b, a, "contradicts")} <= _edges(memory)
    with pytest.raises(KeyError):
        memory.mark_contradiction(a, "f:99")
    memory.add_passage(
        Passage(id="x", title="Federal Bureau of Investigation", text="The FBI is an agency.")
    )
    memory.add_passage(Passage(id="y", title="Zemeckis, Robert", text="A filmmaker."))
    assert memory.add_synonyms() == 2
    edges = _edges(memory)
    assert ("e:fbi", "e:federal bureau of investigation", "synonym") in edges
    assert ("e:federal bureau of investigation", "e:fbi", "synonym") in edges
    assert ("e:robert zemeckis", "e:zemeckis robert", "synonym") in edges
    assert ("e:robert zemeckis", "e:robert", "synonym") not in edges
    assert memory.add_synonyms() == 0  # idempotent


@pytest.mark.parametrize("embedder", [HashingEmbedder(), None], ids=["hashing", "word-overlap"])
def test_search_ranks_the_relevant_passage_first(embedder: HashingEmbedder | None) -> None:
    memory = _memory(embedder)
    ranked = memory.search("Where was Robert Zemeckis born, in which city?", k=3)
    assert ranked[0][0] == "wiki-2"
    assert [score for _, score in ranked] == sorted((score for _, score in ranked), reverse=True)
    assert len(memory.search("anything", k=2)) == 2
    assert MemoryGraph(embedder).search("anything") == []


def test_search_uses_the_graph_when_words_do_not_help() -> None:
    memory = MemoryGraph(HashingEmbedder())
    # Neither passage shares a word with the query; one mentions the query's entity.
    memory.add_passage(Passage(id="a", title="", text="Quux Corporation makes widgets."))
    memory.add_passage(Passage(id="b", title="", text="Zork Industries makes gadgets."))
    ranked = memory.search("who founded it?", query_entities=["Zork Industries"])
    assert ranked[0][0] == "b" and ranked[0][1] > ranked[1][1]


def test_ppr_scores_follow_writes() -> None:
    memory = _memory()
    scores = memory.ppr_scores({"e:robert zemeckis": 1.0, "e:unknown": 5.0})
    assert scores["e:robert zemeckis"] == max(scores.values())
    assert scores["p:wiki-2"] > scores.get("p:wiki-3", 0.0)
    assert sum(scores.values()) == pytest.approx(1.0)
    assert memory.ppr_scores({"e:unknown": 1.0}) == {}
    memory.add_passage(
        Passage(id="wiki-4", title="Back to the Future", text="Directed by Robert Zemeckis.")
    )
    assert memory.ppr_scores({"e:robert zemeckis": 1.0})["p:wiki-4"] > 0


def test_change_log_reports_additions_once() -> None:
    memory = MemoryGraph()
    memory.add_question("q1", "Who?")
    memory.add_passage(Passage(id="p1", title="Paris", text="Paris is in France."))
    changes = memory.drain_changes()
    nodes = {n["id"]: n for n in changes["nodes"]}
    assert nodes["q:q1"] == {"id": "q:q1", "type": "question", "text": "Who?"}
    assert nodes["p:p1"]["type"] == "passage" and "text" not in nodes["p:p1"]
    assert {"e:paris", "e:france"} <= set(nodes)
    assert ["p:p1", "e:france", "mentions"] in changes["edges"]
    assert memory.drain_changes() == {"nodes": [], "edges": []}
    memory.add_passage(Passage(id="p1", title="Paris", text="Paris is in France."))
    assert memory.drain_changes() == {"nodes": [], "edges": []}
    fact = memory.add_fact("Paris is in France.", source_passage_id="p1")
    changes = memory.drain_changes()
    assert changes["nodes"][0] == {
        "id": fact,
        "type": "fact",
        "text": "Paris is in France.",
        "source": "p1",
        "sub_question": None,
    }
    assert ["p:p1", fact, "supports"] in changes["edges"]


def test_json_round_trip() -> None:
    memory = _memory()
    fact = memory.add_fact(
        "Robert Zemeckis directed it.",
        source_passage_id="wiki-1",
        sub_question_id="1",
        answers=True,
    )
    memory.set_answer("1", "Robert Zemeckis")
    data = json.loads(json.dumps(memory.to_json()))
    restored = MemoryGraph.from_json(data, embedder=HashingEmbedder())
    assert restored.stats() == memory.stats()
    assert _edges(restored) == _edges(memory)
    assert dict(restored.nx_graph.nodes(data=True)) == dict(memory.nx_graph.nodes(data=True))
    assert restored.search("Where was Robert Zemeckis born?") == memory.search(
        "Where was Robert Zemeckis born?"
    )
    assert restored.subquestions()[0]["answer"] == "Robert Zemeckis"
    # Indexes come back too: same fact deduplicated, new facts numbered after the old ones.
    assert restored.add_fact("Robert Zemeckis directed it.", source_passage_id="wiki-1") == fact
    assert restored.add_fact("Another fact.", source_passage_id="wiki-1") == "f:2"
    assert restored.drain_changes()["nodes"][0]["id"] == "f:2"
    # A rebuild can reuse the embeddings already computed instead of embedding again.
    again = MemoryGraph.from_json(data, HashingEmbedder(), embedding_cache=restored.embedding_cache)
    assert again.embedding_cache is restored.embedding_cache
    assert set(again.embedding_cache) == {"wiki-1", "wiki-2", "wiki-3"}
    with pytest.raises(ValueError, match="to_json"):
        MemoryGraph.from_json({"nodes": [], "edges": []})


def test_render_shows_answers_facts_and_passages() -> None:
    memory = _memory()
    memory.set_answer("1", "Robert Zemeckis")
    memory.add_fact(
        "Robert Zemeckis was born in Chicago.",
        source_passage_id="wiki-2",
        sub_question_id="2",
        answers=True,
    )
    text = render_memory(
        memory, "Where was Robert Zemeckis born?", sub_question_id="2", k_passages=2
    )
    assert "- Who directed Forrest Gump? -> Robert Zemeckis" in text
    assert "- Robert Zemeckis was born in Chicago. [wiki-2]" in text
    assert "[wiki-2] Robert Zemeckis: Robert Zemeckis is an American filmmaker." in text
    assert text.index("Known answers:") < text.index("Facts:") < text.index("Passages:")
    assert "wiki-3" not in text  # only the top two passages
    assert "(2) Where was #1 born?" not in text  # the current sub-question is not "known"
    assert render_memory(MemoryGraph(), "anything") == ""


def test_render_stays_within_budget_however_large_memory_grows() -> None:
    memory = _memory()
    for i in range(500):
        pid = f"bulk-{i}"
        memory.add_passage(
            Passage(id=pid, title=f"Topic {i}", text=f"Robert Zemeckis fact number {i}. " * 20)
        )
        memory.add_fact(
            f"Robert Zemeckis fact number {i}.", source_passage_id=pid, sub_question_id="2"
        )
        if i % 50 == 0:
            memory.add_subquestion(f"extra-{i}", f"Extra question {i}?" * 5, question_id="q1")
            memory.set_answer(f"extra-{i}", "an answer " * 30)
    for budget in (40, 150, 600):
        text = render_memory(
            memory, "Where was Robert Zemeckis born?", budget_tokens=budget, sub_question_id="2"
        )
        assert 0 < estimate_tokens(text) <= budget
        assert "Passages:" in text or budget < 100
