"""Several server processes on shared stores: two ``agentflow serve`` processes on one Chroma
server, one PostgreSQL and one store folder. Documents ingested through one are found by
the other (it notices the newer BM25 index and entity graph and reloads them), and a
thread started on one continues on the other."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import openai
import pytest

from agentflow.evals.serving import ServerProcess
from agentflow.evals.world.demo import demo_chains, demo_questions, demo_world
from agentflow.server.sources import bare_answer
from tests.test_remote_chroma import CHROMA, chroma_url, cli
from tests.test_server_postgres import dsn

__all__ = ["chroma_url", "dsn"]  # fixtures, used by name

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(CHROMA is None, reason="needs the `chroma` command (chromadb's CLI)"),
]
KEY = "shared-key"


def test_ingest_through_one_server_ask_through_the_other(
    chroma_url: str, dsn: str, tmp_path: Path, loopback: None  # noqa: F811 - fixtures
) -> None:
    world = demo_world(4)
    first, later = world[:6], world[6:]  # companies 0 and 1 now, 2 and 3 through server A
    seed = tmp_path / "first.jsonl"
    seed.write_text("".join(json.dumps(r) + "\n" for r in first))
    shared = tmp_path / "shared-store"
    built = cli("ingest", str(seed), "--store", str(shared), "--chroma-url", chroma_url,
                "--embedder", "hash", "--json", home=tmp_path)
    assert built.returncode == 0, built.stderr
    question, follow_up, founded = demo_questions(4)[2]
    town = demo_chains(4)[2].city
    assert {r["id"] for r in later} >= set(demo_chains(4)[2].ids)
    headers = {"Authorization": f"Bearer {KEY}", "X-Thread-Id": "shared-corpus"}

    def server(name: str) -> ServerProcess:
        return ServerProcess(
            ["--agent-factory", "tests.shared_corpus_agent:agent", "--checkpointer",
             f"postgres:{dsn}", "--api-key", KEY, "--allow-ingest", "--log-level", "warning"],
            env={"AGENTFLOW_HOME": str(tmp_path / name), "AGENTFLOW_SHARED_STORE": str(shared)},
            log_path=tmp_path / f"{name}.log",
        )

    def ask(base_url: str, content: str, thread: str) -> tuple[str, dict]:
        reply = openai.OpenAI(base_url=base_url + "/v1", api_key=KEY, max_retries=0).chat.completions.create(
            model="agentflow", messages=[{"role": "user", "content": content}],
            extra_headers={**headers, "X-Thread-Id": thread})
        return bare_answer(reply.choices[0].message.content), reply.model_extra["agentflow"]

    with server("a") as a, server("b") as b:
        before, _ = ask(b.base_url, question, "before-ingest")
        assert before != town  # B's corpus has no company 2 yet

        added = httpx.post(f"{a.base_url}/v1/corpus/documents", headers=headers,
                           json={"documents": later}, timeout=60)
        assert added.status_code == 200, added.text
        assert added.json()["added"] == len(later)
        bad = httpx.post(f"{a.base_url}/v1/corpus/documents", headers=headers,
                         json={"documents": [{"title": "x"}]}, timeout=10)
        assert bad.status_code == 400 and "documents.0.text" in bad.text
        refused = httpx.post(f"{b.base_url}/v1/corpus/documents", json={"documents": later},
                             timeout=10)
        assert refused.status_code == 401

        answer, meta = ask(b.base_url, question, "shared-corpus")
        assert (answer, meta["status"]) == (town, "answered")
        # The thread B started continues on A, from the memory B left in PostgreSQL.
        again, _ = ask(a.base_url, follow_up, "shared-corpus")
        assert again == founded
