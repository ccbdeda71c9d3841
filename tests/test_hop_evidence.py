"""The loop's hop-aware evidence and answers, LLM-free: the question's own head leads the
evidence and the hops' votes follow; on the last hop of a multi-hop question a span
naming what a shown passage is about is taken for the bridge, not the answer."""

from __future__ import annotations

from agentflow.agent.answer import evidence_order
from agentflow.agent.candidates import answer_candidates, passage_subject
from agentflow.agent.decompose import nests

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


def test_a_weak_readers_evidence_keeps_the_question_head_then_the_hop_votes() -> None:
    question_hits = ["q1", "q2", "q3", "q4", "q5"]
    votes = ["b1", "q1", "b2", "q4"]
    chain = ["wrong"]
    weak = evidence_order(question_hits, votes, chain, trusted=False)
    assert weak[:5] == ["q1", "q2", "q3", "b1", "b2"]
    assert weak.index("wrong") > weak.index("q4")
    strong = evidence_order(question_hits, votes, ["gold"], trusted=True)
    assert strong[:3] == ["q1", "q2", "gold"]
