"""The synthetic world: deterministic, hint-free, answerable from its own documents, and with
unanswerable questions whose chain is really broken in the corpus."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from agentflow.errors import UserError
from agentflow.evals.datasets import QAExample, load_dataset
from agentflow.evals.world import World, generate_world, write_world
from agentflow.evals.world.__main__ import main as world_cli
from agentflow.evals.world.questions import MIX, question_mix

# Words that state a fact in a person's document; a missing fact must leave none of them.
_RELATION_WORDS = {"married": ("married", "spouse"), "study": ("studied", "educated", "graduated")}


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(n_docs=600, n_questions=150, seed=11)


def _docs(world: World) -> dict[str, str]:
    return {p.id: p.text.casefold() for p in world.corpus}


def _broken_step(q: QAExample) -> int:
    return next(k for k, s in enumerate(q.decomposition) if not s.answer)


def test_same_seed_same_world_other_seed_other_world() -> None:
    a = generate_world(n_docs=300, n_questions=40, seed=3)
    b = generate_world(n_docs=300, n_questions=40, seed=3)
    c = generate_world(n_docs=300, n_questions=40, seed=4)
    assert a.corpus == b.corpus and a.questions == b.questions and a.omitted == b.omitted
    assert a.corpus != c.corpus


def test_corpus_has_exactly_the_documents_asked_for(world: World) -> None:
    assert len(world.corpus) == 600
    assert len(world.questions) == 150
    ids = [p.id for p in world.corpus]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"w\d{6}", i) for i in ids)
    assert not {p.id for p in world.omitted} & set(ids)
    titles = [p.title.casefold() for p in world.corpus + world.omitted]
    assert len(set(titles)) == len(titles)  # a question's named entity is never ambiguous
    for p in world.corpus:
        assert p.title and p.title in p.text
        sentences = re.findall(r"[.?!](?:\s|$)", p.text.replace("& Co.", "& Co"))
        assert 2 <= len(sentences) <= 6, p.text


def test_all_kinds_and_hop_counts_are_present(world: World) -> None:
    kinds = Counter((q.kind, q.hops) for q in world.questions)
    assert {h for (k, h) in kinds if k == "chain"} == {1, 2, 3, 4}
    assert {k for k, _ in kinds} == {"chain", "comparison", "missing_document",
                                      "missing_relation"}
    assert all(not q.answerable for q in world.questions if q.kind.startswith("missing"))


def test_answerable_questions_are_supported_step_by_step(world: World) -> None:
    docs = _docs(world)
    for q in (q for q in world.questions if q.answerable):
        assert q.answers and q.supporting_ids and q.decomposition
        assert any(q.answer.casefold() in docs[i] for i in q.supporting_ids), q
        assert q.decomposition[-1].answer == q.answer
        for step in q.decomposition:
            assert step.supporting_ids and set(step.supporting_ids) <= set(q.supporting_ids)
            assert any(step.answer.casefold() in docs[i] for i in step.supporting_ids), (q, step)
        for k, step in enumerate(q.decomposition[1:], start=1):  # later steps refer back
            assert f"#{k}" in step.question or q.kind == "comparison"


def test_questions_name_neither_answer_nor_bridges(world: World) -> None:
    for q in world.questions:
        text = q.question.casefold()
        assert all(a.casefold() not in text for a in q.answers), q
        # Every answered step but a chain's last names a bridge entity: documents only.
        bridges = [s.answer for s in q.decomposition if s.answer]
        if q.kind == "chain":
            bridges = bridges[:-1]
        assert all(b.casefold() not in text for b in bridges), q


def test_missing_document_questions_lose_their_last_document(world: World) -> None:
    titles = {p.title for p in world.corpus}
    omitted = {p.title: p for p in world.omitted}
    docs = _docs(world)
    missing = [q for q in world.questions if q.kind == "missing_document"]
    assert missing
    for q in missing:
        assert q.supporting_ids == [] and q.answers == []
        k = _broken_step(q)
        assert k == len(q.decomposition) - 1 and k >= 1
        subject = q.decomposition[k - 1].answer
        assert subject not in titles and subject in omitted
        # The bridge is still mentioned where the chain reaches it: only its page is gone.
        assert any(subject.casefold() in docs[i] for i in q.decomposition[k - 1].supporting_ids)


def test_missing_relation_questions_ask_a_fact_the_world_lacks(world: World) -> None:
    by_title = {p.title: p.text for p in world.corpus}
    missing = [q for q in world.questions if q.kind == "missing_relation"]
    assert missing
    for q in missing:
        assert q.supporting_ids == [] and q.answers == []
        k = _broken_step(q)
        assert k >= 1 and all(not s.answer for s in q.decomposition[k:])
        subject = q.decomposition[k - 1].answer
        asked = q.decomposition[k].question
        words = _RELATION_WORDS["married" if "married" in asked else "study"]
        assert subject in by_title
        assert not any(w in by_title[subject] for w in words), (q, by_title[subject])


def test_distractors_include_look_alike_names() -> None:
    titles = sorted({p.title for p in generate_world(n_docs=500, n_questions=0, seed=2).corpus})
    near = 0
    for i, a in enumerate(titles):
        for b in titles[i + 1:]:
            if len(a) == len(b) and sum(x != y for x, y in zip(a, b)) <= 2:
                near += 1
    assert near >= 5


def test_round_trips_through_jsonl(tmp_path: Path) -> None:
    world = generate_world(n_docs=400, n_questions=60, seed=5)
    files = write_world(tmp_path, 400, 60, 5)
    assert files.corpus == tmp_path / "corpus.jsonl" and files.n_questions == 60
    loaded = load_dataset(tmp_path / "questions.jsonl", format="jsonl",
                          corpus=tmp_path / "corpus.jsonl")
    assert loaded.errors == []
    assert loaded.corpus == world.corpus
    assert loaded.examples == world.questions
    assert load_dataset(tmp_path).examples == world.to_dataset().examples  # folder + auto


def test_small_world_is_fast() -> None:
    start = time.perf_counter()
    generate_world(n_docs=200, n_questions=50, seed=1)
    assert time.perf_counter() - start < 1.0


def test_question_mix_adds_up_and_covers_every_kind() -> None:
    for n in (7, 10, 33, 150, 1000):
        mix = question_mix(n)
        assert sum(mix.values()) == n
        assert all(mix[kind] >= 1 for kind, _ in MIX)
    assert sum(question_mix(3).values()) == 3 and sum(question_mix(0).values()) == 0


def test_bad_sizes_raise_user_errors() -> None:
    with pytest.raises(UserError, match="at least 50 documents"):
        generate_world(n_docs=10, n_questions=5)
    with pytest.raises(UserError, match="more documents or fewer questions"):
        generate_world(n_docs=50, n_questions=1000)


def test_cli_writes_a_world(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "w"
    assert world_cli(["--docs", "120", "--questions", "20", "--seed", "9", "--out", str(out)]) == 0
    assert "120 documents" in capsys.readouterr().out
    assert len((out / "corpus.jsonl").read_text().splitlines()) == 120
    assert world_cli(["--docs", "5", "--out", str(out)]) == 2
    assert "at least 50 documents" in capsys.readouterr().err
