"""Property-based fuzzing (hypothesis) of the server's other request model: the body of
``POST /v1/corpus/documents`` (``DocumentsIn``). Every body gets an answer below 500: a
malformed one is a 400 that names where it is wrong, a well-formed one an ingest report.
(The chat request model is fuzzed in ``tests/test_fuzz.py``.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import build_store
from tests.test_fuzz import hostile_text, json_values

document = st.fixed_dictionaries({}, optional={"title": json_values | hostile_text,
                                               "text": json_values | hostile_text,
                                               "id": json_values | hostile_text})
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({"documents": st.one_of(st.lists(document, max_size=3), json_values)}),
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from agentflow.agent.api import Agent
    from agentflow.llm.scripted import ScriptedLLM
    from agentflow.server.app import create_app

    home = tmp_path_factory.mktemp("fuzz-corpus")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AGENTFLOW_HOME", str(home))
        agent = Agent(build_store(Path(home)), llm=ScriptedLLM(responses=[]),
                      threads=f"sqlite:{home / 'threads.sqlite'}")
    app = create_app(agent, api_keys=["fuzz"], allow_ingest=True)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(bodies.map(lambda b: json.dumps(b).encode()), hostile_text.map(str.encode),
                      st.binary(max_size=100)))
def test_the_corpus_route_answers_every_body_below_500(client: Any, body: bytes) -> None:
    headers = {"Authorization": "Bearer fuzz", "Content-Type": "application/json"}
    response = client.post("/v1/corpus/documents", content=body, headers=headers)
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code == 400:
        assert response.json()["error"]["message"]
