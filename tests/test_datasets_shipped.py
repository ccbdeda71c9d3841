"""Corpus files as the datasets ship them: HotpotQA/HippoRAG's ``{title: [sentences]}`` and
``{title: text}`` objects give one passage per title, for every question format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentflow.evals.datasets import load_dataset
from agentflow.store.ingest import passage_id

PARIS = ["Paris is the capital of France.", " It lies on the Seine."]
LYON = ["Lyon is a city in France on the Rhone."]
SEINE = ["The Seine flows through Paris."]
PARIS_TEXT = "Paris is the capital of France. It lies on the Seine."


def _write(path: Path, data: Any, *, indent: int | None = 2) -> Path:
    path.write_text(json.dumps(data, indent=indent), encoding="utf-8")
    return path


def _hotpot(rid: str, context: list[list[Any]], support: list[str]) -> dict[str, Any]:
    return {"_id": rid, "question": "Which river is Paris on?", "answer": "the Seine",
            "type": "bridge", "context": context,
            "supporting_facts": [[t, 0] for t in support]}


@pytest.mark.parametrize("indent", [2, None])  # pretty-printed, and on one line
def test_hotpotqa_sentence_dict_corpus(tmp_path: Path, indent: int | None) -> None:
    corpus = _write(tmp_path / "corpus.json", {"Paris": PARIS, "Lyon": LYON, "Seine": SEINE},
                    indent=indent)
    questions = _write(tmp_path / "dev.json", [
        _hotpot("h1", [["Paris", PARIS], ["Lyon", LYON]], ["Paris"]),
        _hotpot("h2", [["Seine", SEINE]], ["Seine", "Paris"]),  # Paris only in the corpus
    ])
    ds = load_dataset(questions, corpus=corpus)
    assert ds.errors == []
    assert ds.corpus is not None and [p.title for p in ds.corpus] == ["Paris", "Lyon", "Seine"]
    assert ds.corpus[0].text == PARIS_TEXT  # sentences joined with single spaces
    assert ds.examples[0].supporting_ids == [passage_id("Paris", PARIS_TEXT)]
    assert ds.examples[1].supporting_ids == [passage_id("Seine", SEINE[0]),
                                             passage_id("Paris", PARIS_TEXT)]


def test_title_to_text_corpus_resolves_gold_by_title(tmp_path: Path) -> None:
    # The shipped text joins sentences without a space: the question's context differs, so
    # the gold passage is the corpus file's passage of that title.
    shipped = "".join(PARIS)
    corpus = _write(tmp_path / "corpus.json", {"Paris": shipped, "Lyon": LYON[0]})
    questions = _write(tmp_path / "dev.json", [_hotpot("h1", [["Paris", PARIS]], ["Paris"])])
    ds = load_dataset(questions, format="hotpotqa", corpus=corpus)
    assert ds.errors == []
    assert ds.examples[0].supporting_ids == [passage_id("Paris", shipped)]
    assert ds.corpus is not None and len(ds.corpus) == 2


def test_bad_titles_are_reported_and_skipped(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "corpus.json", {"Paris": PARIS, "Empty": [], "Odd": 3})
    questions = _write(tmp_path / "dev.json", [_hotpot("h1", [["Paris", PARIS]], ["Paris"])])
    ds = load_dataset(questions, corpus=corpus)
    assert ds.corpus is not None and [p.title for p in ds.corpus] == ["Paris"]
    assert len(ds.errors) == 2 and all("skipped" in e for e in ds.errors)
    assert any("'Empty'" in e and "no text" in e for e in ds.errors)


def test_title_dict_corpus_for_every_format(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "corpus.json", {"Paris": PARIS, "Seine": SEINE})
    paris, seine = passage_id("Paris", PARIS_TEXT), passage_id("Seine", SEINE[0])
    wiki = {"_id": "w1", "type": "compositional", "question": "Q?", "answer": "Seine",
            "context": [["Paris", PARIS]], "supporting_facts": [["Paris", 0]],
            "evidences": [["Paris", "river", "Seine"]]}
    rag = {"query": "Q?", "answer": "Seine", "question_type": "inference_query",
           "evidence_list": [{"title": "Seine", "fact": "..."}]}
    generic = {"id": "g1", "question": "Q?", "answers": ["Seine"], "supporting_ids": [paris]}
    for fmt, record, gold in (("2wiki", wiki, [paris]), ("multihoprag", rag, [seine]),
                              ("jsonl", generic, [paris])):
        ds = load_dataset(_write(tmp_path / f"{fmt}.json", [record]), format=fmt, corpus=corpus)
        assert ds.errors == [], fmt
        assert ds.examples[0].supporting_ids == gold, fmt
        assert ds.corpus is not None and len(ds.corpus) == 2, fmt


def test_jsonl_lines_of_title_objects(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"Paris": PARIS}) + "\n" + json.dumps({"Lyon": LYON[0]}) + "\n")
    questions = _write(tmp_path / "q.json", [{"id": "a", "question": "Q?", "answers": ["x"]}])
    ds = load_dataset(questions, corpus=corpus)
    assert ds.errors == [] and ds.corpus is not None
    assert [p.id for p in ds.corpus] == [passage_id("Paris", PARIS_TEXT),
                                         passage_id("Lyon", LYON[0])]


def test_a_record_missing_its_text_is_still_an_error(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "corpus.json", [{"title": "Paris", "id": "p1"}])
    questions = _write(tmp_path / "q.json", [{"id": "a", "question": "Q?", "answers": ["x"]}])
    ds = load_dataset(questions, corpus=corpus)
    assert ds.corpus == [] and any("missing field 'text'" in e for e in ds.errors)
