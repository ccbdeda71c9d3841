"""Multi-hop QA datasets in one shape: MuSiQue, HotpotQA, 2WikiMultihopQA, MultiHop-RAG and
a generic JSON Lines form, read into :class:`Dataset` records with gold passage ids.

A corpus file is a JSON array or JSON Lines of ``{"id"?, "title", "text"|"body"}`` records,
or a JSON object mapping each title to its text or its list of sentences, the form HotpotQA
and HippoRAG ship (sentences joined with single spaces: one passage per title).

Passage ids are ``passage_id(title, text)`` unless the source gives one, the same ids corpus
ingestion assigns, so gold supporting ids match what the store returns. A malformed record is
reported in ``Dataset.errors`` (with its line or index) and skipped; a missing file raises.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from agentflow.errors import ConfigError, UserError
from agentflow.evals.dataset_files import SkippedRecord, read_records
from agentflow.records import Passage
from agentflow.store.ingest import passage_id

FORMATS = ("musique", "hotpotqa", "2wiki", "multihoprag", "jsonl")
_ALIASES = {"hotpot": "hotpotqa", "2wikimultihopqa": "2wiki", "2wikimultihop": "2wiki",
            "multihoprag": "multihoprag", "generic": "jsonl"}
_QUESTION_FILES = ("questions.jsonl", "questions.json")
_CORPUS_FILES = ("corpus.jsonl", "corpus.json")
_NULL_ANSWERS = {"insufficient information", "insufficient information."}
_TEXT_KEYS = ("text", "body", "paragraph_text", "contents", "content")
#: Keys that make a JSON object one corpus record rather than a title -> text mapping.
_RECORD_KEYS = frozenset({"id", "title", "source", "url", *_TEXT_KEYS})


class DecompositionStep(BaseModel):
    """One sub-question of a gold decomposition; ``#k`` in it refers to step k's answer."""

    question: str
    answer: str
    supporting_ids: list[str] = Field(default_factory=list)


class QAExample(BaseModel):
    """One question with its gold answers (gold first, then aliases) and supporting passages.

    Unanswerable examples (``answerable=False``) may carry no answers and no supporting ids.
    """

    id: str
    question: str
    answers: list[str]
    answerable: bool = True
    supporting_ids: list[str] = Field(default_factory=list)
    decomposition: list[DecompositionStep] = Field(default_factory=list)
    hops: int | None = None
    kind: str | None = None

    @property
    def answer(self) -> str:
        """The gold answer ('' when there is none)."""
        return self.answers[0] if self.answers else ""


class Dataset(BaseModel):
    """Examples plus the corpus they are answered from (None when the source gives none).

    ``errors`` lists what loading skipped or could not resolve, each with its line or index;
    ``skipped`` holds the skipped records of the questions and corpus files as typed records
    (each is also in ``errors``), so ``eval run`` can report every one.
    """

    name: str
    examples: list[QAExample]
    corpus: list[Passage] | None = None
    errors: list[str] = Field(default_factory=list)
    skipped: list[SkippedRecord] = Field(default_factory=list)


class _Malformed(ValueError):
    """A record that does not have the shape its format needs."""


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
    return str(exc) or type(exc).__name__


def _joined(value: Any) -> str | None:
    """A string as is, a list of sentences joined with single spaces, else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return " ".join(s.strip() for s in value if s.strip())
    return None


def _text(record: Any, *keys: str) -> str:
    """The text under the first of ``keys`` that holds one."""
    if not isinstance(record, dict):
        raise _Malformed("not a JSON object")
    for key in keys:
        text = _joined(record.get(key))
        if text is not None:
            return text
    raise KeyError(keys[0])


def _answers(answer: Any, aliases: Any = None) -> list[str]:
    out: list[str] = []
    for a in [answer, *(aliases or [])]:
        if a is not None and str(a) not in out:
            out.append(str(a))
    return out


class _Corpus:
    """Passages in first-seen order, deduplicated by id, with a title index."""

    def __init__(self) -> None:
        self.passages: dict[str, Passage] = {}
        self.by_title: dict[str, list[str]] = {}

    def add(self, passage: Passage) -> str:
        if passage.id not in self.passages:
            self.passages[passage.id] = passage
            self.by_title.setdefault(_norm(passage.title), []).append(passage.id)
        return passage.id

    def titled(self, title: str) -> list[str]:
        return self.by_title.get(_norm(title), [])


def _norm(title: str) -> str:
    return " ".join(title.split()).casefold()


class _Pools:
    """Where adapters put and look up passages: the ones the questions carry (``inline``)
    and the corpus file the caller gave (``given``), plus notes on what did not resolve."""

    def __init__(self, given: _Corpus | None, notes: list[str]) -> None:
        self.inline = _Corpus()
        self.given = given
        self.notes = notes

    def titled(self, title: str) -> list[str]:
        """Ids of corpus passages with this title (the given corpus when there is one)."""
        return (self.given or self.inline).titled(title)

    def text(self, pid: str) -> str:
        """The text of a passage held in either pool ('' when unknown)."""
        for pool in (self.inline, self.given):
            if pool is not None and pid in pool.passages:
                return pool.passages[pid].text
        return ""


def _title_map(record: Any) -> dict[str, Any] | None:
    """A ``{title: text | [sentences]}`` object (HotpotQA/HippoRAG corpus form), else None."""
    if not isinstance(record, dict) or not record or _RECORD_KEYS & record.keys():
        return None
    if not any(isinstance(v, (str, list)) for v in record.values()):
        return None
    return record


def _skip(errors: list[str], skipped: list[SkippedRecord], file: str, where: str, reason: str) -> None:
    record = SkippedRecord(file=file, where=where, reason=reason)
    skipped.append(record)
    errors.append(str(record))


def _read_corpus(path: Path, errors: list[str], skipped: list[SkippedRecord]) -> _Corpus:
    records, bad = read_records(path, "corpus file")
    skipped.extend(bad)
    errors.extend(str(b) for b in bad)
    corpus = _Corpus()
    for where, record in records:
        titled = _title_map(record)
        if titled is not None:
            for title, value in titled.items():
                text = _joined(value)
                if not text:
                    _skip(errors, skipped, path.name, f"{where} title {title!r}",
                          "no text" if text == "" else "not a text or a list of sentences")
                    continue
                corpus.add(Passage(id=passage_id(str(title), text), title=str(title), text=text))
            continue
        try:
            text = _text(record, *_TEXT_KEYS)
            title = str(record.get("title") or "")
            given = record.get("id")
            pid = str(given) if given not in (None, "") else passage_id(title, text)
            source = str(record.get("source") or record.get("url") or "")
            corpus.add(Passage(id=pid, title=title, text=text, source=source))
        except (_Malformed, KeyError, TypeError, ValueError) as exc:
            _skip(errors, skipped, path.name, where, _describe(exc))
    return corpus


# -- one adapter per format: record -> example, adding its passages to the corpus ---------

_Adapter = Callable[[Any, int, _Pools], QAExample]


def _musique(record: Any, index: int, pools: _Pools) -> QAExample:
    paragraphs = record.get("paragraphs") or []
    by_idx: dict[Any, str] = {}
    supporting: list[str] = []
    for pos, p in enumerate(paragraphs):
        title, text = str(p.get("title") or ""), _text(p, "paragraph_text", "text")
        pid = pools.inline.add(Passage(id=passage_id(title, text), title=title, text=text))
        by_idx[p.get("idx", pos)] = pid
        if p.get("is_supporting") and pid not in supporting:
            supporting.append(pid)
    steps = []
    for s in record.get("question_decomposition") or []:
        idx = s.get("paragraph_support_idx")
        steps.append(DecompositionStep(question=str(s["question"]), answer=str(s.get("answer", "")),
                                       supporting_ids=[by_idx[idx]] if idx in by_idx else []))
    # Hop order first (the decomposition's), then any other paragraph marked supporting.
    supporting = list(dict.fromkeys([*(i for s in steps for i in s.supporting_ids), *supporting]))
    rid = str(record["id"])
    return QAExample(
        id=rid, question=str(record["question"]),
        answers=_answers(record.get("answer"), record.get("answer_aliases")),
        answerable=bool(record.get("answerable", True)), supporting_ids=supporting,
        decomposition=steps, hops=len(steps) or None,
        kind=rid.split("__", 1)[0] if "__" in rid else None,
    )


def _context(record: Any) -> list[tuple[str, str]]:
    """HotpotQA/2Wiki context as (title, text): list of [title, sentences] or dict form."""
    ctx = record["context"]
    if isinstance(ctx, dict):
        sentences = ctx.get("sentences", ctx.get("content"))
        if sentences is None or len(sentences) != len(ctx["title"]):
            raise _Malformed("context needs as many `sentences` lists as titles")
        pairs = list(zip(ctx["title"], sentences))
    else:
        pairs = [(item[0], item[1]) for item in ctx]
    out = []
    for title, sentences in pairs:
        text = _joined(sentences)
        if text is None:
            raise _Malformed(f"context of {title!r} is not a list of sentences")
        out.append((str(title), text))
    return out


def _support_titles(record: Any) -> list[str]:
    facts = record.get("supporting_facts") or []
    titles = facts["title"] if isinstance(facts, dict) else [f[0] for f in facts]
    return list(dict.fromkeys(str(t) for t in titles))


def _gold_ids(title: str, local: dict[str, str], pools: _Pools) -> list[str]:
    """The passage a supporting title names: the record's own context passage, unless a
    corpus file lacks it (its text differs, e.g. sentences joined otherwise) and holds a
    passage of that title; else any corpus passage of that title."""
    pid = local.get(_norm(title))
    if pid is not None and (pools.given is None or pid in pools.given.passages):
        return [pid]
    return pools.titled(title)[:1] or ([pid] if pid is not None else [])


def _hotpot_like(record: Any, pools: _Pools) -> tuple[QAExample, dict[str, str]]:
    local: dict[str, str] = {}  # title -> id within this record's context
    for title, text in _context(record):
        local.setdefault(_norm(title), pools.inline.add(
            Passage(id=passage_id(title, text), title=title, text=text)))
    rid = str(record.get("_id", record.get("id", "")))
    if not rid:
        raise KeyError("_id")
    supporting: list[str] = []
    for title in _support_titles(record):
        ids = _gold_ids(title, local, pools)
        if not ids:
            pools.notes.append(f"example {rid}: supporting title {title!r} is in neither "
                               "its context nor the corpus")
        supporting.extend(i for i in ids if i not in supporting)
    example = QAExample(
        id=rid, question=str(record["question"]), answers=_answers(record.get("answer")),
        supporting_ids=supporting, hops=len(supporting) or None,
        kind=str(record["type"]) if record.get("type") else None)
    return example, local


def _hotpotqa(record: Any, index: int, pools: _Pools) -> QAExample:
    return _hotpot_like(record, pools)[0]


def _2wiki(record: Any, index: int, pools: _Pools) -> QAExample:
    example, local = _hotpot_like(record, pools)
    steps: list[DecompositionStep] = []
    answered: dict[str, int] = {}  # an earlier step's answer -> its number, for #k references
    evidences = record.get("evidences") or []
    if not all(isinstance(e, list) and len(e) == 3 for e in evidences):
        pools.notes.append(f"example {example.id}: evidences are not [subject, relation, "
                           "object] triples: no decomposition")
        evidences = []
    for subject, relation, obj in evidences:
        subject, obj = str(subject), str(obj)
        ref = f"#{answered[_norm(subject)]}" if _norm(subject) in answered else subject
        ids = _gold_ids(subject, local, pools) if _norm(subject) in local else [
            i for i in example.supporting_ids
            if obj.casefold() in pools.text(i).casefold()][:1]
        steps.append(DecompositionStep(question=f"{ref} >> {relation}", answer=obj,
                                       supporting_ids=ids))
        answered.setdefault(_norm(obj), len(steps))
    example.decomposition = steps
    if steps:
        example.hops = len(steps)
    return example


def _multihoprag(record: Any, index: int, pools: _Pools) -> QAExample:
    answer = str(record["answer"])
    answerable = answer.strip().casefold() not in _NULL_ANSWERS
    supporting: list[str] = []
    evidence = record.get("evidence_list") or []
    rid = str(record.get("id") or f"multihoprag-{index:04d}")
    for ev in evidence:
        title = str(ev["title"])
        ids = pools.titled(title)
        if not ids and pools.given is None and isinstance(ev.get("body"), str):
            # No corpus file: the evidence carries its article's text.
            ids = [pools.inline.add(Passage(id=passage_id(title, ev["body"]), title=title,
                                      text=ev["body"], source=str(ev.get("url", ""))))]
        if not ids:
            pools.notes.append(f"example {rid}: evidence title {title!r} is not in the corpus")
        supporting.extend(i for i in ids if i not in supporting)
    return QAExample(
        id=rid, question=str(record["query"]), answers=[answer] if answerable else [],
        answerable=answerable, supporting_ids=supporting if answerable else [],
        hops=len(evidence) or None, kind=record.get("question_type"))


def _jsonl(record: Any, index: int, pools: _Pools) -> QAExample:
    if not isinstance(record, dict):
        raise _Malformed("not a JSON object")
    if "answers" not in record and "answer" in record:  # a lone answer is common enough
        record = {**record, "answers": _answers(record["answer"])}
    return QAExample.model_validate(record)


_ADAPTERS: dict[str, _Adapter] = {"musique": _musique, "hotpotqa": _hotpotqa, "2wiki": _2wiki,
                                  "multihoprag": _multihoprag, "jsonl": _jsonl}


# -- public API -----------------------------------------------------------------------------


def detect_format(record: Any) -> str | None:
    """The dataset format one raw record looks like, or None when it matches none."""
    if not isinstance(record, dict):
        return None
    if "query" in record and "evidence_list" in record:
        return "multihoprag"
    if "evidences" in record or record.get("type") in ("compositional", "inference",
                                                         "bridge_comparison"):
        return "2wiki"
    if "question_decomposition" in record or "paragraphs" in record:
        return "musique"
    if "context" in record and "supporting_facts" in record:
        return "hotpotqa"
    if "question" in record and ("answers" in record or "supporting_ids" in record):
        return "jsonl"
    return None


def _resolve_format(format: str) -> str:
    key = format.lower().replace("-", "").replace("_", "")
    key = _ALIASES.get(key, key)
    if key in FORMATS or key == "auto":
        return key
    hint = difflib.get_close_matches(format, FORMATS, n=1)
    raise ConfigError(f"unknown dataset format {format!r}"
                      + (f": did you mean {hint[0]!r}?" if hint else "")
                      + f" (choose one of auto, {', '.join(FORMATS)})")


def _locate(path: Path, corpus: str | Path | None) -> tuple[Path, Path | None]:
    """A questions file and a corpus file; a folder holds questions.json(l) and corpus.json(l)."""
    if not path.is_dir():
        return path, Path(corpus) if corpus is not None else None
    questions = next((path / n for n in _QUESTION_FILES if (path / n).exists()), None)
    if questions is None:
        raise UserError(f"no {' or '.join(_QUESTION_FILES)} in {path}: pass the questions file")
    if corpus is None:
        corpus = next((path / n for n in _CORPUS_FILES if (path / n).exists()), None)
    return questions, Path(corpus) if corpus is not None else None


def load_dataset(path: str | Path, *, format: str = "auto",
                 corpus: str | Path | None = None) -> Dataset:
    """Read a QA dataset (a file, or a folder with questions.json(l) and corpus.json(l)).

    ``format`` is one of :data:`FORMATS` or "auto" (told from the records). ``corpus`` is a
    JSON/JSONL file of ``{"id"?, "title", "text"|"body"}`` records or a ``{title: text |
    [sentences]}`` object; without it the corpus is the union of the passages the questions
    carry (None when they carry none).
    """
    fmt = _resolve_format(format)
    questions_path, corpus_path = _locate(Path(path), corpus)
    records, skipped = read_records(questions_path, "dataset file")
    errors = [str(s) for s in skipped]
    if fmt == "auto" and not records:
        raise UserError(f"no records in {questions_path}"
                        + (f" ({errors[0]})" if errors else "") + ": check the file")
    if fmt == "auto":
        fmt = next((f for _, r in records[:20] if (f := detect_format(r))), "")
        if not fmt:
            raise UserError(f"cannot tell the format of {questions_path}: pass format= one of "
                            f"{', '.join(FORMATS)}")
    given = _read_corpus(corpus_path, errors, skipped) if corpus_path else None
    pools = _Pools(given, errors)
    adapter = _ADAPTERS[fmt]
    examples: list[QAExample] = []
    seen: set[str] = set()
    for index, (where, record) in enumerate(records):
        try:
            if not isinstance(record, dict):
                raise _Malformed("not a JSON object")
            example = adapter(record, index, pools)
        except (_Malformed, KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            _skip(errors, skipped, questions_path.name, where, _describe(exc))
            continue
        if example.id in seen:
            _skip(errors, skipped, questions_path.name, where, f"duplicate id {example.id!r}")
            continue
        seen.add(example.id)
        examples.append(example)
    if given is not None:
        errors.extend(_unresolved(examples, given))
    name = questions_path.stem if questions_path.stem not in ("questions", "queries") \
        else questions_path.parent.name
    if given is not None:
        corpus_passages: list[Passage] | None = list(given.passages.values())
    else:
        corpus_passages = list(pools.inline.passages.values()) or None
    return Dataset(name=name, examples=examples, corpus=corpus_passages, errors=errors,
                   skipped=skipped)


def _unresolved(examples: Iterable[QAExample], corpus: _Corpus) -> list[str]:
    notes = []
    for ex in examples:
        missing = [i for i in ex.supporting_ids if i not in corpus.passages]
        if missing:
            notes.append(f"example {ex.id}: {len(missing)} supporting passage(s) not in the "
                         f"corpus file ({', '.join(missing[:3])})")
    return notes


def passage_record(passage: Passage) -> dict[str, str]:
    """A passage as one generic corpus.jsonl record (``source`` only when set)."""
    record = {"id": passage.id, "title": passage.title, "text": passage.text}
    if passage.source:
        record["source"] = passage.source
    return record


def write_jsonl_dataset(dataset: Dataset, out_dir: str | Path) -> Path:
    """Write ``questions.jsonl`` (and ``corpus.jsonl`` when there is a corpus) into ``out_dir``.

    The files are the generic form ``load_dataset(out_dir, format="jsonl")`` reads back.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "questions.jsonl").open("w", encoding="utf-8") as f:
        for ex in dataset.examples:
            f.write(json.dumps(ex.model_dump(mode="json"), ensure_ascii=False) + "\n")
    if dataset.corpus is not None:
        with (out / "corpus.jsonl").open("w", encoding="utf-8") as f:
            for p in dataset.corpus:
                f.write(json.dumps(passage_record(p), ensure_ascii=False) + "\n")
    return out
