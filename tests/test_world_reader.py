"""The scripted reader reads the generated world in the world's own wording, and the demo
world is a fixed slice of it: the one fictional world behind the server's demo mode, its
tests and benchmarks."""

from __future__ import annotations

import pytest

from agentflow.evals.world import generate_world
from agentflow.evals.world.demo import DemoChain, demo_chains, demo_questions, demo_world
from agentflow.evals.world.reader import follow_chain, hops, read_like_a_model, stated
from agentflow.records import ChatMessage


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    return generate_world(n_docs=300, n_questions=60, seed=5)


def test_every_answerable_chain_is_followed_through_its_gold_documents(world) -> None:  # type: ignore[no-untyped-def]
    docs = {p.id: p for p in world.corpus}
    everything = [(p.id, p.title, p.text) for p in world.corpus]
    chains = [q for q in world.questions if q.answerable and q.kind == "chain"]
    assert {q.hops for q in chains} == {1, 2, 3, 4}
    for q in chains:
        assert len(hops(q.question)) == q.hops, q.question
        gold = [(d, docs[d].title, docs[d].text) for d in q.supporting_ids]
        assert follow_chain(q.question, gold) == (q.answers[0], q.supporting_ids), q.question
        # No other document states a fact of the chain's subjects (names are unique).
        assert follow_chain(q.question, everything) == (q.answers[0], q.supporting_ids), q.question


def test_a_broken_chain_is_not_followed(world) -> None:  # type: ignore[no-untyped-def]
    everything = [(p.id, p.title, p.text) for p in world.corpus]
    broken = [q for q in world.questions if q.kind in ("missing_document", "missing_relation")]
    assert broken
    for q in broken:
        assert hops(q.question), q.question
        assert follow_chain(q.question, everything) is None, q.question


def test_a_fact_is_read_from_reordered_or_cut_sentences() -> None:
    # The read node shows a passage's sentences reordered and cut to fit.
    text = ("It has its main offices in Fort Rakru. It was established in 2014 by Drainddroun "
            "Soumaban. Trourper Trading Company is a manufacturer of precision instru…")
    company = "Trourper Trading Company"
    assert stated("founded_by", company, company, text)[0] == "Drainddroun Soumaban"  # type: ignore[index]
    assert stated("founded_year", company, company, text)[0] == "2014"  # type: ignore[index]
    assert stated("headquartered_in", company, company, text)[0] == "Fort Rakru"  # type: ignore[index]
    # A page's text may put the title on a line of its own.
    page = f"A page\n{company} was founded in 2014 by Drainddroun Soumaban."
    assert stated("founded_by", company, "A page", page)[0] == "Drainddroun Soumaban"  # type: ignore[index]
    assert stated("founded_by", company, company, "Its founder was Drainddroun Soumaban.") is None
    # "It ..." says nothing about a subject whose own document this is not.
    assert stated("founded_by", company, "Another Company", text) is None
    assert stated("born_in", "Drainddroun Soumaban", company, text) is None


def test_the_reader_plans_chain_questions_in_the_worlds_wording() -> None:
    def plan(question: str) -> list[tuple[str, list[int]]]:
        out = read_like_a_model([ChatMessage(role="user", content=f"Question: {question}")],
                                {"properties": {"sub_questions": {}}})
        return [(s["question"], s["depends_on"]) for s in out["sub_questions"]]

    assert plan("Which country is home to the city where the founder of Brouvai & Co. was born?") == [
        ("Who founded Brouvai & Co.?", []), ("In which city was #1 born?", [1]),
        ("In which country is #2?", [2])]
    assert plan("When was that company founded?") == [("When was that company founded?", [])]


def test_the_demo_world_is_a_fixed_slice_of_the_generated_world() -> None:
    chains = demo_chains(24)
    assert len(chains) == 24 and demo_chains() == chains[:4]
    assert demo_world(24)[:12] == demo_world()  # a larger demo world extends the default one
    ids = [i for c in chains for i in c.ids]
    assert len(ids) == len(set(ids))  # every chain's documents are its own
    corpus = [(d["id"], d["title"], d["text"]) for d in demo_world(24)]
    for chain, (question, follow_up, founded) in zip(chains, demo_questions(24)):
        assert isinstance(chain, DemoChain) and question == chain.question
        assert follow_chain(question, corpus) == (chain.city, [chain.company_id, chain.founder_id])
        assert follow_chain(f"When was {chain.company} founded?", corpus) == (founded, [chain.company_id])
        assert follow_up == "When was that company founded?"
        # The city's document names its country: three hops, still the chain's documents.
        assert follow_chain(chain.three_hop, corpus) == (chain.country, list(chain.ids))


def test_only_two_unit_test_files_keep_the_hand_written_corpus(repo_root) -> None:  # type: ignore[no-untyped-def]
    """One fictional world: every test reads the generated world (the demo slice or a
    generated one), except the two whose assertions name the hand-written corpus's facts."""
    users = {p.name for p in (repo_root / "tests").glob("*.py")
             if "research_fixtures" in p.read_text(encoding="utf-8")
             and p.name not in ("research_fixtures.py", "test_world_reader.py", "test_packaging.py")}
    assert users == {"test_research_graph.py", "test_loop_mechanisms.py"}
    shipped = [p for top in ("agentflow", "evals", "graphs", "tools")
               for p in (repo_root / top).rglob("*.py") if "research_fixtures" in p.read_text(encoding="utf-8")]
    assert shipped == []
