"""The loop's hop-aware evidence and answers, LLM-free: the question's own head leads the
evidence and the hops' votes follow; on the last hop of a multi-hop question a span
naming what a shown passage is about is taken for the bridge, not the answer."""

from __future__ import annotations

from pathlib import Path

from agentflow.agent.answer import evidence_order
from agentflow.agent.candidates import answer_candidates, passage_subject
from agentflow.agent.decompose import nests
from agentflow.embed.hashing import HashingEmbedder
from agentflow.memory.graph import MemoryGraph
from agentflow.records import Passage, SearchHit

QUESTION = "Who was the first president of the association which published the Journal of Ferns?"
PASSAGES = [
    {"id": "p1", "title": "Journal of Ferns",
     "text": "The Journal of Ferns is published by the Orlund Botanical Association."},
    {"id": "p2", "title": "Orlund Botanical Association",
     "text": "The Orlund Botanical Association was founded in 1890. Its first president was "
             "Mara Velt, a botanist."},
]


def test_a_passage_subject_drops_its_disambiguation() -> None:
    assert passage_subject("Brand (play)") == passage_subject("Brand")
    assert passage_subject("") == ""


def test_the_last_hop_prefers_a_span_beyond_the_passages_subjects() -> None:
    plain = answer_candidates(PASSAGES, QUESTION, limit=6)
    beyond = answer_candidates(PASSAGES, QUESTION, limit=6, beyond_subjects=True)
    subject = passage_subject("Orlund Botanical Association")
    # The association is the bridge: with the rule it ranks below the person it leads to.
    texts = [c.text for c in beyond]
    assert "Mara Velt" in texts
    bridge = next(i for i, c in enumerate(beyond) if passage_subject(c.text) == subject)
    assert texts.index("Mara Velt") < bridge
    before = {c.text: c.score for c in plain}
    after = {c.text: c.score for c in beyond}
    assert after["Mara Velt"] == before["Mara Velt"]  # spans that name no subject keep their score


def test_multi_hop_wording_is_told_from_one_hop() -> None:
    assert nests(QUESTION)
    assert not nests("Who founded Bresgyl & Co.?")


def test_a_weak_readers_evidence_keeps_the_question_head_then_the_step_heads_then_the_votes() -> None:
    question_hits = ["q1", "q2", "q3", "q4", "q5"]
    votes = ["b1", "q1", "b2", "q4"]
    chain = ["wrong"]
    weak = evidence_order(question_hits, votes, chain, trusted=False)
    assert weak[:4] == ["q1", "b1", "b2", "q4"]
    assert weak.index("wrong") > weak.index("q4")
    # Each plan step's own top passage comes before the votes (the hop's page, which the
    # whole question's ranking buries).
    stepped = evidence_order(question_hits, votes, chain, trusted=False, step_heads=["s1", "q1", "s2"])
    assert stepped[:5] == ["q1", "s1", "s2", "b1", "b2"]
    strong = evidence_order(question_hits, votes, ["gold"], trusted=True)
    assert strong[:3] == ["q1", "q2", "gold"]


def test_a_stated_link_follows_the_step_heads() -> None:
    from types import SimpleNamespace

    from agentflow.agent.answer import stated_links
    from agentflow.agent.context import ResearchSettings

    lookup = {pid: {"title": pid, "text": ""} for pid in ("a1", "a2", "a3")}
    steps = [
        {"status": "answered", "supported": True, "answer_passage": "a1"},
        {"status": "answered", "supported": False, "answer_passage": "a2"},  # a stray span
        {"status": "answered", "supported": True, "answer_passage": "gone"},  # not retrieved
        {"status": "pending", "supported": True, "answer_passage": "a3"},
    ]
    ctx = SimpleNamespace(settings=ResearchSettings())
    assert stated_links(steps, lookup, ctx) == ["a1"]  # type: ignore[arg-type]
    heads = ["s1", *stated_links(steps, lookup, ctx)]  # type: ignore[arg-type]
    order = evidence_order(["q1"], ["b1", "a1", "b2"], ["a2"], trusted=False, step_heads=heads)
    assert order[:4] == ["q1", "s1", "a1", "b1"]
    off = SimpleNamespace(settings=ResearchSettings(stated_links=False))
    assert stated_links(steps, lookup, off) == []  # type: ignore[arg-type]


class _CountingEmbedder(HashingEmbedder):
    """Counts the passage texts it is asked to embed."""

    def __init__(self) -> None:
        super().__init__(dim=64)
        self.embedded = 0

    def embed(self, texts):  # type: ignore[no-untyped-def]
        self.embedded += len(texts)
        return super().embed(texts)


def test_memory_search_reuses_the_stores_vectors_of_the_same_embedder() -> None:
    embedder = _CountingEmbedder()
    hits = [SearchHit(id=p["id"], title=p["title"], text=p["text"], score=1.0) for p in PASSAGES]
    graph = MemoryGraph(embedder=embedder)
    for h in hits:
        graph.add_passage(h)
    vectors = dict(zip([h.id for h in hits], HashingEmbedder(dim=64).embed(
        [f"{h.title}\n{h.text}" for h in hits]), strict=True))
    graph.add_embeddings(vectors, embedder_name="another-embedder")  # not comparable: ignored
    graph.add_embeddings(vectors, embedder_name=embedder.name)
    ranked = graph.search("first president of the Orlund Botanical Association", k=2)
    assert embedder.embedded == 1  # the query; no passage embedded again
    fresh = MemoryGraph(embedder=HashingEmbedder(dim=64))
    for h in hits:
        fresh.add_passage(h)
    assert ranked == fresh.search("first president of the Orlund Botanical Association", k=2)


def test_an_untrusted_model_is_not_asked_for_a_plan(tmp_path: Path) -> None:
    from agentflow import Agent
    from agentflow.agent.context import ResearchSettings
    from agentflow.llm import ScriptedLLM
    from agentflow.store.corpus import CorpusStore
    from agentflow.trajectory import read_trajectory

    store = CorpusStore(tmp_path / "store", embedder=HashingEmbedder(dim=64))
    store.add([Passage(id=p["id"], title=p["title"], text=p["text"]) for p in PASSAGES])

    def model(messages, schema):  # type: ignore[no-untyped-def]
        return {"answer": "none of these"} if "enum" in str(schema) else {"verdict": "answered",
                                                                         "refined_query": ""}

    for small, settings, asked in ((True, ResearchSettings(), False),
                                   (True, ResearchSettings(plan_llm=True), True),
                                   (False, ResearchSettings(), True)):
        llm = ScriptedLLM(fn=model)
        llm.small = small
        result = Agent(store, llm=llm, embedder=HashingEmbedder(dim=64), settings=settings).ask(QUESTION)
        nodes = [c["node"] for c in read_trajectory(result.trajectory).of_type("llm_call")]
        assert ("plan" in nodes) is asked, (small, settings.plan_llm, nodes)


def test_the_corpus_graph_orders_the_votes_by_the_entities_the_chain_reached(tmp_path: Path) -> None:
    """A passage about the bridge the chain reached (Ivo Tamsk) outranks a better-voted one
    that names nothing the chain reached; with the graph's weight at 0 the votes stand, and
    without a graph (no corpus tool) too."""
    from types import SimpleNamespace

    from agentflow.agent.answer import graph_order
    from agentflow.agent.context import ResearchSettings
    from agentflow.store.corpus import CorpusStore
    from tools.corpus_search import CorpusSearch

    store = CorpusStore(tmp_path / "store", embedder="hash")
    store.add([
        Passage(id="mill", title="Zarn Mill", text="Zarn Mill was founded by Ivo Tamsk on the river Lune."),
        Passage(id="ivo", title="Ivo Tamsk", text="Ivo Tamsk was born in 1841 in Ostrelle."),
        Passage(id="noise", title="Velda College", text="Velda College is a technical college in Pellack."),
    ])
    ranks = {"mill": 2.0, "noise": 1.0, "ivo": 0.6}
    steps = [{"id": "1", "text": "Who founded Zarn Mill?", "resolved": "Who founded Zarn Mill?"},
             {"id": "2", "text": "When was #1 born?", "resolved": "When was Ivo Tamsk born?"}]
    question = "When was the founder of Zarn Mill born?"

    def ctx(weight: float, tools: list[object]) -> SimpleNamespace:
        return SimpleNamespace(settings=ResearchSettings(evidence_graph=weight), tools=tools)

    tool = CorpusSearch(store)
    assert graph_order(ranks, question, steps, ctx(2.0, [tool])).index("ivo") < 2
    assert graph_order(ranks, question, steps, ctx(2.0, [tool]))[-1] == "noise"
    assert graph_order(ranks, question, steps, ctx(0.0, [tool])) == ["mill", "noise", "ivo"]
    assert graph_order(ranks, question, steps, ctx(2.0, [])) == ["mill", "noise", "ivo"]


def test_the_single_step_floor_never_answers_with_a_bridge_of_the_chain() -> None:
    """"The spouse of the director of Zarn Film" is not the director: the floor over the
    whole question's evidence skips the chain's bridges (``floor_skips_bridges``)."""
    from types import SimpleNamespace

    from agentflow.agent.answer import whole_question_floor
    from agentflow.agent.context import ResearchSettings

    ctx = SimpleNamespace(settings=ResearchSettings())
    lookup = {"f": {"id": "f", "title": "Zarn Film", "text": "Zarn Film is a 1990 drama directed by Ivo Tamsk."},
              "i": {"id": "i", "title": "Ivo Tamsk",
                    "text": "Ivo Tamsk is a director from Pellack. He is married to Olla Brest, a painter."}}
    question = "Who is the spouse of the director of Zarn Film?"
    floor = whole_question_floor(question, ["f", "i"], lookup, ctx)  # type: ignore[arg-type]
    assert floor is not None and floor.text == "Ivo Tamsk"
    floor = whole_question_floor(question, ["f", "i"], lookup, ctx, exclude=["Ivo Tamsk"])  # type: ignore[arg-type]
    assert floor is not None and floor.text == "Olla Brest"
