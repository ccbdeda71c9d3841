"""Property-based fuzzing (hypothesis): hostile model output, dataset files, documents and
HTTP bodies raise only agentflow's own typed errors, or none.

The parser may raise only ``OutputParseError``; the dataset adapters only
``AgentflowError`` subclasses (``UserError`` for a file that cannot be used); the ingest
loaders nothing (problems go to the report); the server answers every body below 500.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from agentflow.errors import AgentflowError
from agentflow.evals.datasets import FORMATS, load_dataset
from agentflow.llm.parsing import OutputParseError, parse_output
from agentflow.store.ingest import chunk_document, load_documents

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FRAGMENTS = ['{', '}', '[', ']', '"', "'", ':', ',', '\\', '<think>', '</think>', '<reasoning>',
             '```json\n', '```', '{"answer": ', '"x"', '1e999', 'null', 'NaN', '\x00', '\ufeff',
             '\n', ' ', '{"sub_questions": [', '{"verdict": "answered"}', '\ud800'.encode("utf-8", "surrogatepass").decode("utf-8", "replace")]
KEYS = ["question", "answer", "id", "_id", "title", "text", "body", "paragraphs", "paragraph_text",
        "is_supporting", "context", "supporting_facts", "question_decomposition", "answer_aliases",
        "evidence_list", "query", "sentences", "type", "idx", "paragraph_support_idx", "answerable"]

hostile_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(FRAGMENTS), max_size=80).map("".join),
    st.tuples(st.sampled_from(FRAGMENTS), st.integers(1, 3000)).map(lambda p: p[0] * p[1]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**12) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=6),
    max_leaves=25,
)


class Answer(BaseModel):
    answer: str
    citations: list[str] = Field(default_factory=list)


class Step(BaseModel):
    question: str
    depends_on: list[int] = Field(default_factory=list)


class Plan(BaseModel):
    sub_questions: list[Step]


class Verdict(BaseModel):
    verdict: Literal["answered", "insufficient"]


@FUZZ
@given(text=hostile_text, model=st.sampled_from([Answer, Plan, Verdict]))
def test_the_parser_raises_only_output_parse_errors(text: str, model: type[BaseModel]) -> None:
    try:
        value = parse_output(text, model)
    except OutputParseError:
        return
    assert isinstance(value, model)


@FUZZ
@given(records=st.lists(json_values, max_size=6), fmt=st.sampled_from([*FORMATS, "auto"]),
       raw=st.one_of(st.none(), st.binary(max_size=200)), as_json=st.booleans())
def test_dataset_adapters_raise_only_typed_errors(records: list[Any], fmt: str, raw: bytes | None,
                                                  as_json: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("questions.json" if as_json else "questions.jsonl")
        if raw is not None:
            path.write_bytes(raw)
        elif as_json:
            path.write_text(json.dumps(records))
        else:
            path.write_text("\n".join(json.dumps(r) for r in records))
        try:
            load_dataset(path, format=fmt)
        except AgentflowError:
            pass


@settings(max_examples=100, deadline=None)
@given(files=st.lists(st.tuples(st.sampled_from([".txt", ".md", ".json", ".jsonl"]),
                                st.one_of(st.binary(max_size=300), json_values.map(json.dumps),
                                          st.lists(json_values, max_size=5).map(
                                              lambda rs: "\n".join(json.dumps(r) for r in rs)),
                                          hostile_text)),
                      min_size=1, max_size=5))
def test_ingest_loaders_report_instead_of_raising(files: list[tuple[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for i, (suffix, content) in enumerate(files):
            path = Path(tmp) / f"f{i}{suffix}"
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8", errors="surrogatepass")
        errors: list[str] = []
        docs = load_documents([tmp], errors)
        for doc in docs:
            assert chunk_document(doc)
        assert all(isinstance(e, str) for e in errors)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from agentflow.evals.world.demo import demo_agent
    from agentflow.server.app import create_app

    home = tmp_path_factory.mktemp("fuzz-server")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AGENTFLOW_HOME", str(home))
        agent = demo_agent(threads=f"sqlite:{home / 'threads.sqlite'}")
    with TestClient(create_app(agent, api_keys=["fuzz"]), raise_server_exceptions=False) as client:
        yield client


message = st.fixed_dictionaries({"role": st.sampled_from(["user", "system", "assistant", 5, None])},
                                optional={"content": json_values | hostile_text})
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({"messages": st.lists(message, max_size=3)},
                          optional={"stream": json_values, "thread_id": json_values, "metadata": json_values,
                                    "stream_options": json_values, "model": json_values,
                                    "progress": json_values}),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(bodies.map(lambda b: json.dumps(b).encode()), hostile_text.map(str.encode),
                      st.binary(max_size=100)),
       thread=st.one_of(st.none(), st.text(max_size=40)))
def test_the_server_answers_every_body_below_500(server: Any, body: bytes, thread: str | None) -> None:
    headers = {"Authorization": "Bearer fuzz", "Content-Type": "application/json"}
    if thread is not None and thread.isprintable() and thread.isascii():
        headers["X-Thread-Id"] = thread
    response = server.post("/v1/chat/completions", content=body, headers=headers)
    assert response.status_code < 500, (response.status_code, response.text[:300])
