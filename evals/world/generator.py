"""The synthetic world's entry points: generate it in memory, or stream it to JSON Lines.

Both run the same seeded steps (entities, then questions, then documents in id order, each
step with its own ``random.Random``), so a seed always gives the same world, in memory or on
disk.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from agentflow.errors import UserError
from agentflow.records import Passage

from ..datasets import Dataset, QAExample
from .documents import render_document
from .entities import MIN_ENTITIES, EntityTable, build_entities
from .questions import make_questions, question_mix


@dataclass
class World:
    """A generated world: its corpus, its questions, and the documents left out of the
    corpus to break the chains of ``missing_document`` questions."""

    seed: int
    corpus: list[Passage]
    questions: list[QAExample]
    omitted: list[Passage] = field(default_factory=list)
    #: The entities and facts the documents were written from (None for a world read back
    #: from files).
    entities: EntityTable | None = field(default=None, repr=False, compare=False)

    def to_dataset(self) -> Dataset:
        """The world as a :class:`Dataset` (the form every benchmark reads)."""
        return Dataset(name=f"world-{self.seed}", examples=self.questions, corpus=self.corpus)


@dataclass(frozen=True)
class WorldFiles:
    """Where :func:`write_world` put a world, and how much it wrote."""

    corpus: Path
    questions: Path
    n_docs: int
    n_questions: int


def _rng(seed: int, step: str) -> random.Random:
    # random hashes a string seed with SHA-512: the same world on every run (unlike hash()).
    return random.Random(f"agentflow-world:{seed}:{step}")


def _plan(n_docs: int, n_questions: int, seed: int) -> tuple[EntityTable, list[QAExample],
                                                            set[int]]:
    if n_docs < MIN_ENTITIES:
        raise UserError(f"a world needs at least {MIN_ENTITIES} documents (asked for {n_docs}):"
                        f" ask for {MIN_ENTITIES} or more")
    if n_questions < 0:
        raise UserError(f"n_questions must be 0 or more (got {n_questions})")
    mix = question_mix(n_questions)
    # The documents that missing_document questions leave out come on top of n_docs.
    table = build_entities(n_docs + mix["missing_document"], _rng(seed, "entities"))
    questions, omitted = make_questions(table, mix, _rng(seed, "questions"))
    return table, questions, omitted


def _documents(table: EntityTable, seed: int) -> Iterator[tuple[int, str, str]]:
    """(entity, title, text) for every entity, in document-id order."""
    rng = _rng(seed, "documents")
    by_doc = [0] * len(table)
    for i, e in enumerate(table.entities):
        by_doc[e.doc] = i
    for i in by_doc:
        title, text = render_document(table, i, rng)
        yield i, title, text


def generate_world(*, n_docs: int, n_questions: int, seed: int = 0) -> World:
    """Generate a world of exactly ``n_docs`` corpus documents and ``n_questions`` questions."""
    table, questions, omitted = _plan(n_docs, n_questions, seed)
    corpus: list[Passage] = []
    left_out: list[Passage] = []
    for i, title, text in _documents(table, seed):
        # Fields are plain strings by construction: skip validation (a third of the time).
        passage = Passage.model_construct(id=table.doc_id(i), title=title, text=text, source="",
                                          chunk=0)
        (left_out if i in omitted else corpus).append(passage)
    return World(seed=seed, corpus=corpus, questions=questions, omitted=left_out, entities=table)


def write_world(out_dir: str | Path, n_docs: int, n_questions: int, seed: int = 0) -> WorldFiles:
    """Stream a world to ``out_dir/corpus.jsonl`` and ``out_dir/questions.jsonl``.

    Documents are written as they are rendered, so memory holds the entities, never the
    corpus text; the files are what ``load_dataset(out_dir, format="jsonl")`` reads.
    """
    table, questions, omitted = _plan(n_docs, n_questions, seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    corpus_path, questions_path = out / "corpus.jsonl", out / "questions.jsonl"
    with corpus_path.open("w", encoding="utf-8") as f:
        for i, title, text in _documents(table, seed):
            if i not in omitted:
                f.write(json.dumps({"id": table.doc_id(i), "title": title, "text": text},
                                   ensure_ascii=False) + "\n")
    with questions_path.open("w", encoding="utf-8") as f:
        for q in questions:
            f.write(json.dumps(q.model_dump(mode="json"), ensure_ascii=False) + "\n")
    return WorldFiles(corpus=corpus_path, questions=questions_path, n_docs=n_docs,
                      n_questions=len(questions))
