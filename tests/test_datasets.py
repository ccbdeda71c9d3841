"""Dataset adapters: each source format read into QAExample records whose supporting ids are
the passage ids corpus ingestion assigns; malformed records reported and skipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentflow.errors import ConfigError, UserError
from agentflow.evals.datasets import Dataset, detect_format, load_dataset, write_jsonl_dataset
from agentflow.store.ingest import passage_id

PARIS = ("Paris", "Paris is the capital of France. It lies on the Seine.")
SEINE = ("Seine", "The Seine flows through Paris into the English Channel.")
LYON = ("Lyon", "Lyon is a city in France on the Rhone.")


def _write(path: Path, data: Any, *, lines: bool = False) -> Path:
    if lines:
        path.write_text("".join(json.dumps(r) + "\n" for r in data))
    else:
        path.write_text(json.dumps(data))
    return path


def _musique_record(rid: str = "2hop__1_2", answerable: bool = True) -> dict[str, Any]:
    return {
        "id": rid,
        "question": "Which river flows through the capital of France?",
        "answer": "the Seine", "answer_aliases": ["Seine", "Seine River"],
        "answerable": answerable,
        "question_decomposition": [
            {"id": 1, "question": "What is the capital of France?", "answer": "Paris",
             "paragraph_support_idx": 2},
            {"id": 2, "question": "Which river flows through #1?", "answer": "the Seine",
             "paragraph_support_idx": 0},
        ],
        "paragraphs": [
            {"idx": 0, "title": SEINE[0], "paragraph_text": SEINE[1], "is_supporting": True},
            {"idx": 1, "title": LYON[0], "paragraph_text": LYON[1], "is_supporting": False},
            {"idx": 2, "title": PARIS[0], "paragraph_text": PARIS[1], "is_supporting": True},
        ],
    }


def test_musique_inline_paragraphs(tmp_path: Path) -> None:
    other = _musique_record("3hop1__5_6_7", answerable=False)
    ds = load_dataset(_write(tmp_path / "dev.json", [_musique_record(), other]))
    assert ds.errors == [] and ds.name == "dev"
    ex = ds.examples[0]
    assert ex.answers == ["the Seine", "Seine", "Seine River"] and ex.answerable
    # Hop order: Paris (step 1) before the Seine (step 2).
    assert ex.supporting_ids == [passage_id(*PARIS), passage_id(*SEINE)]
    assert [s.supporting_ids for s in ex.decomposition] == [[passage_id(*PARIS)],
                                                           [passage_id(*SEINE)]]
    assert ex.decomposition[1].question == "Which river flows through #1?"
    assert (ex.hops, ex.kind) == (2, "2hop")
    assert ds.examples[1].answerable is False and ds.examples[1].kind == "3hop1"
    # The corpus is the union of the questions' paragraphs, each once.
    assert ds.corpus is not None
    assert [p.id for p in ds.corpus] == [passage_id(*t) for t in (SEINE, LYON, PARIS)]


def test_musique_questions_plus_corpus_file(tmp_path: Path) -> None:
    questions = _write(tmp_path / "questions.json", [_musique_record()])
    corpus = _write(tmp_path / "corpus.json", [{"title": t, "text": x}
                                               for t, x in (PARIS, SEINE, LYON)])
    ds = load_dataset(questions, format="musique", corpus=corpus)
    assert ds.errors == []
    assert ds.corpus is not None and {p.id for p in ds.corpus} >= set(ds.examples[0].supporting_ids)
    assert ds.name == tmp_path.name
    # The folder form finds questions.json and corpus.json by themselves.
    assert load_dataset(tmp_path) == ds
    # A corpus that lacks a gold paragraph is reported (the example is kept).
    _write(corpus, [{"title": t, "text": x} for t, x in (SEINE, LYON)])
    ds = load_dataset(questions, corpus=corpus)
    assert len(ds.examples) == 1
    assert any("2hop__1_2" in e and "not in the corpus" in e for e in ds.errors)


def _hotpot_record(dict_form: bool) -> dict[str, Any]:
    context = [["Paris", ["Paris is the capital of France.", " It lies on the Seine."]],
               ["Lyon", ["Lyon is a city in France on the Rhone."]]]
    facts = [["Paris", 0], ["Paris", 1]]
    if dict_form:
        return {"id": "h1", "question": "Which river is Paris on?", "answer": "the Seine",
                "type": "bridge", "level": "easy",
                "context": {"title": [c[0] for c in context], "sentences": [c[1] for c in context]},
                "supporting_facts": {"title": [f[0] for f in facts],
                                     "sent_id": [f[1] for f in facts]}}
    return {"_id": "h1", "question": "Which river is Paris on?", "answer": "the Seine",
            "type": "bridge", "context": context, "supporting_facts": facts}


@pytest.mark.parametrize("dict_form", [False, True])
def test_hotpotqa_list_and_dict_forms(tmp_path: Path, dict_form: bool) -> None:
    ds = load_dataset(_write(tmp_path / "hotpot.json", [_hotpot_record(dict_form)]))
    assert ds.errors == []
    ex = ds.examples[0]
    assert (ex.id, ex.answers, ex.kind, ex.hops) == ("h1", ["the Seine"], "bridge", 1)
    assert ex.supporting_ids == [passage_id(*PARIS)]  # sentences joined with single spaces
    assert ds.corpus is not None and len(ds.corpus) == 2


def test_2wiki_evidences_become_a_decomposition(tmp_path: Path) -> None:
    record = {
        "_id": "w1", "type": "compositional",
        "question": "Where was the director of Film X born?", "answer": "Lyon",
        "context": [["Film X", ["Film X is a 1990 film directed by Ann Bell."]],
                    ["Ann Bell", ["Ann Bell was born in Lyon."]],
                    ["Lyon", [LYON[1]]]],
        "supporting_facts": [["Film X", 0], ["Ann Bell", 0]],
        "evidences": [["Film X", "director", "Ann Bell"], ["Ann Bell", "place of birth", "Lyon"]],
    }
    ds = load_dataset(_write(tmp_path / "2wiki.json", [record]))
    assert ds.errors == []
    ex = ds.examples[0]
    assert [s.question for s in ex.decomposition] == ["Film X >> director",
                                                      "#1 >> place of birth"]
    assert [s.answer for s in ex.decomposition] == ["Ann Bell", "Lyon"]
    film = passage_id("Film X", "Film X is a 1990 film directed by Ann Bell.")
    bell = passage_id("Ann Bell", "Ann Bell was born in Lyon.")
    assert ex.supporting_ids == [film, bell]
    assert [s.supporting_ids for s in ex.decomposition] == [[film], [bell]]
    assert (ex.kind, ex.hops) == ("compositional", 2)


def test_multihoprag_with_user_corpus(tmp_path: Path) -> None:
    queries = [
        {"query": "Which city did both articles report on?", "answer": "Paris",
         "question_type": "inference_query",
         "evidence_list": [{"title": "Paris floods", "fact": "...", "url": "u1"},
                           {"title": "Seine rises", "fact": "...", "url": "u2"}]},
        {"query": "Who won the 2031 cup?", "answer": "Insufficient information.",
         "question_type": "null_query", "evidence_list": []},
    ]
    articles = [{"title": "Paris floods", "body": "Water reached Paris.", "url": "u1"},
                {"title": "Seine rises", "body": "The Seine rose a metre.", "url": "u2"},
                {"title": "Other", "body": "Unrelated.", "url": "u3"}]
    ds = load_dataset(_write(tmp_path / "queries.json", queries),
                      corpus=_write(tmp_path / "corpus.json", articles))
    assert ds.errors == []
    first, null = ds.examples
    assert first.supporting_ids == [passage_id("Paris floods", "Water reached Paris."),
                                    passage_id("Seine rises", "The Seine rose a metre.")]
    assert (first.id, first.kind, first.hops) == ("multihoprag-0000", "inference_query", 2)
    assert null.answerable is False and null.answers == [] and null.supporting_ids == []
    assert ds.corpus is not None and len(ds.corpus) == 3 and ds.corpus[0].source == "u1"


def test_jsonl_questions_and_corpus(tmp_path: Path) -> None:
    questions = _write(tmp_path / "q.jsonl", [
        {"id": "a", "question": "Q1?", "answers": ["x", "y"], "supporting_ids": ["d1"],
         "decomposition": [{"question": "Q1?", "answer": "x", "supporting_ids": ["d1"]}],
         "hops": 1, "kind": "chain"},
        {"id": "b", "question": "Q2?", "answers": [], "answerable": False},
    ], lines=True)
    corpus = _write(tmp_path / "c.jsonl", [{"id": "d1", "title": "T", "text": "x is here"},
                                           {"title": "U", "text": "no id"}], lines=True)
    ds = load_dataset(questions, corpus=corpus)
    assert ds.errors == []
    assert [e.id for e in ds.examples] == ["a", "b"]
    assert ds.examples[0].decomposition[0].supporting_ids == ["d1"]
    assert ds.examples[1].answerable is False
    assert ds.corpus is not None and [p.id for p in ds.corpus] == ["d1", passage_id("U", "no id")]


def test_malformed_records_are_reported_and_skipped(tmp_path: Path) -> None:
    good = {"id": "a", "question": "Q?", "answers": ["x"]}
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join([json.dumps(good), "{not json", json.dumps({"id": "b"}),
                               json.dumps({**good, "id": "c", "answers": "x"}),
                               json.dumps(good)]) + "\n")
    ds = load_dataset(path, format="jsonl")
    assert [e.id for e in ds.examples] == ["a"]
    assert len(ds.errors) == 4
    for line, words in ((2, "not valid JSON"), (3, "question"), (4, "answers"), (5, "duplicate")):
        assert any(f"line {line}" in e and words in e for e in ds.errors), ds.errors
    path.write_text("{broken first line\n" + json.dumps(good) + "\n")  # still JSON Lines
    ds = load_dataset(path, format="jsonl")
    assert [e.id for e in ds.examples] == ["a"] and "line 1" in ds.errors[0]
    records = [_musique_record("ok"), {"id": "bad", "paragraphs": []}, "text"]
    ds = load_dataset(_write(tmp_path / "m.json", records), format="musique")
    assert [e.id for e in ds.examples] == ["ok"]
    assert any("index 1" in e and "question" in e for e in ds.errors)
    assert any("index 2" in e for e in ds.errors)


def test_missing_or_unusable_files_raise_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no dataset file"):
        load_dataset(tmp_path / "nope.json")
    with pytest.raises(UserError, match="questions.jsonl or questions.json"):
        load_dataset(tmp_path)
    good = _write(tmp_path / "q.jsonl", [{"id": "a", "question": "Q?", "answers": ["x"]}],
                  lines=True)
    with pytest.raises(UserError, match="no corpus file"):
        load_dataset(good, corpus=tmp_path / "missing.jsonl")
    (tmp_path / "broken.json").write_text('[{"id": 1,')
    with pytest.raises(UserError, match="not valid JSON"):
        load_dataset(tmp_path / "broken.json")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(UserError, match="no records"):
        load_dataset(tmp_path / "empty.jsonl")
    with pytest.raises(UserError, match="cannot tell the format"):
        load_dataset(_write(tmp_path / "odd.json", [{"foo": 1}]))
    with pytest.raises(ConfigError, match="did you mean 'hotpotqa'"):
        load_dataset(good, format="hotpotq")


def test_detect_format() -> None:
    assert detect_format(_musique_record()) == "musique"
    assert detect_format(_hotpot_record(False)) == "hotpotqa"
    assert detect_format({**_hotpot_record(False), "evidences": []}) == "2wiki"
    assert detect_format({"query": "q", "evidence_list": []}) == "multihoprag"
    assert detect_format({"question": "q", "answers": []}) == "jsonl"
    assert detect_format({"foo": 1}) is None and detect_format([1]) is None


def test_write_jsonl_dataset_round_trips(tmp_path: Path) -> None:
    ds = load_dataset(_write(tmp_path / "dev.json", [_musique_record()]))
    out = write_jsonl_dataset(ds, tmp_path / "out")
    back = load_dataset(out, format="jsonl")
    assert back.examples == ds.examples and back.corpus == ds.corpus and back.errors == []
    no_corpus = Dataset(name="x", examples=ds.examples)
    write_jsonl_dataset(no_corpus, tmp_path / "bare")
    assert not (tmp_path / "bare" / "corpus.jsonl").exists()
    assert load_dataset(tmp_path / "bare").corpus is None
