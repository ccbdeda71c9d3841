"""A real ``chroma run`` server on loopback: ingest from one store folder, then search,
ask, serve and ``eval run`` from a second folder attached to the same collection; the
folder records the URL; a flag that contradicts the folder is an error; BM25 fetches only
new passages."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from agentflow.agent.api import Agent
from agentflow.errors import StoreMismatchError, StoreNotFoundError
from agentflow.evals.datasets import load_dataset
from agentflow.evals.serving import serve_in_thread
from agentflow.evals.world import write_world
from agentflow.evals.world.demo import demo_chains, demo_questions, demo_world
from agentflow.evals.world.reader import read_like_a_model
from agentflow.llm.scripted import ScriptedLLM
from agentflow.scoring.manifest import read_manifest
from agentflow.server.app import create_app
from agentflow.server.sources import bare_answer
from agentflow.store.corpus import MANIFEST_FILE, CorpusStore

CHROMA = shutil.which("chroma", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
QUESTION, _, _ = demo_questions()[0]
FIRST = demo_chains()[0]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMA is None, reason="needs the `chroma` command (chromadb's CLI)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen([str(CHROMA), "run", "--path", str(folder / "data"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(url + "/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"chroma run did not start: {(folder / 'server.log').read_text()[-2000:]}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENTFLOW_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "agentflow.cli.main", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_two_store_folders_share_one_remote_collection(chroma_url: str, tmp_path: Path,
                                                       loopback: None) -> None:
    docs = tmp_path / "world.jsonl"
    docs.write_text("".join(json.dumps(r) + "\n" for r in demo_world()))
    first, second = tmp_path / "first", tmp_path / "second"

    built = cli("ingest", str(docs), "--store", str(first), "--chroma-url", chroma_url,
                "--embedder", "hash", "--json", home=tmp_path)
    assert built.returncode == 0, built.stderr
    assert json.loads((first / MANIFEST_FILE).read_text())["chroma_url"] == chroma_url
    assert not (first / "chroma").exists()  # the vectors live on the server

    # A second folder attaches without ingesting anything; the collection says which embedder.
    found = cli("search", FIRST.company, "--store", str(second), "--chroma-url", chroma_url,
                "--mode", "bm25", "--json", home=tmp_path)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["id"] == FIRST.company_id
    manifest = json.loads((second / MANIFEST_FILE).read_text())
    assert (manifest["chroma_url"], manifest["embedder"]) == (chroma_url, "hash-384")
    # and how text files are titled, so both folders give a file the same passage id
    assert manifest["title_rule"] == json.loads((first / MANIFEST_FILE).read_text())["title_rule"] == "derived"

    # Later commands need no flag: the folder records where the corpus lives.
    hybrid = cli("search", f"who founded {FIRST.company}", "--store", str(second), "--json",
                 home=tmp_path)
    assert hybrid.returncode == 0, hybrid.stderr
    assert json.loads(hybrid.stdout)[0]["id"] == FIRST.company_id

    # ask and serve from the second folder.
    agent = Agent(second, llm=ScriptedLLM(fn=read_like_a_model),
                  threads=f"sqlite:{tmp_path / 'threads.sqlite'}", runs_dir=tmp_path / "runs")
    assert agent.ask(QUESTION).answer == FIRST.city
    with serve_in_thread(create_app(agent)) as url:
        reply = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0).chat.completions.create(
            model="agentflow", messages=[{"role": "user", "content": QUESTION}])
    assert bare_answer(reply.choices[0].message.content) == FIRST.city

    # Another client adds a passage: the second folder's BM25 fetches only that one.
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"id": "extra-1", "title": "Quillon Harbour",
                                 "text": "Quillon Harbour is a port on the river Lune."}) + "\n")
    assert cli("ingest", str(extra), "--store", str(first), home=tmp_path).returncode == 0
    store = CorpusStore.open_existing(second)
    hits = store.search("Quillon Harbour", k=1, mode="bm25")
    assert hits[0].id == "extra-1" and store.last_bm25_fetch == 1


def test_a_flag_the_folder_contradicts_is_an_error(chroma_url: str, tmp_path: Path,
                                                   loopback: None) -> None:
    docs = tmp_path / "d.jsonl"
    docs.write_text(json.dumps({"title": "A", "text": "Alpha is a letter."}) + "\n")
    local = tmp_path / "local"
    assert cli("ingest", str(docs), "--store", str(local), "--embedder", "hash", home=tmp_path).returncode == 0
    mixed = cli("search", "alpha", "--store", str(local), "--chroma-url", chroma_url, home=tmp_path)
    assert mixed.returncode == 2
    assert "describes a local corpus" in mixed.stderr and "--store" in mixed.stderr
    with pytest.raises(StoreMismatchError, match="describes a local corpus"):
        CorpusStore(local, chroma_url=chroma_url)


def test_attaching_to_an_empty_collection_says_what_to_do(chroma_url: str, tmp_path: Path,
                                                          loopback: None) -> None:
    with pytest.raises(StoreNotFoundError, match="holds no passages: run `agentflow ingest"):
        CorpusStore.open_existing(tmp_path / "new", chroma_url=chroma_url, collection="empty_one")
    assert not (tmp_path / "new" / MANIFEST_FILE).exists()


def test_eval_run_on_a_second_folder_attached_to_the_collection(chroma_url: str, tmp_path: Path,
                                                                  loopback: None) -> None:
    """A dataset's corpus ingested from one folder; ``eval run --store SECOND --chroma-url``
    scores the questions from another folder, builds no cached store, and a resume without
    flags uses the same collection."""
    world = tmp_path / "world"
    write_world(world, n_docs=50, n_questions=4, seed=5)
    questions = load_dataset(world).examples
    first, second, out = tmp_path / "first", tmp_path / "second", tmp_path / "eval"
    built = cli("ingest", str(world / "corpus.jsonl"), "--store", str(first), "--chroma-url", chroma_url,
                "--embedder", "hash", "--json", home=tmp_path)
    assert built.returncode == 0, built.stderr

    args = ("eval", "run", "--dataset", str(world), "--out", str(out), "--json")
    ran = cli(*args, "--store", str(second), "--chroma-url", chroma_url, "--llm", "oracle", home=tmp_path)
    assert ran.returncode == 0, ran.stderr
    summary = json.loads(ran.stdout)
    assert (summary["store_kind"], summary["chroma_url"], summary["store_built"]) == ("given", chroma_url, False)
    assert (summary["ran"], summary["errors"]) == (len(questions), 0)
    # Other tests of this module share the collection: their passages are counted, not hidden.
    assert summary["store_extra"] >= 0
    assert not (tmp_path / "stores").exists() and not (second / "chroma").exists()
    manifest = read_manifest(out)
    assert (manifest.store, manifest.chroma_url, manifest.embedder) == (str(second.resolve()), chroma_url, "hash-384")
    assert json.loads((second / MANIFEST_FILE).read_text())["chroma_url"] == chroma_url

    scored = cli("eval", "score", str(out), "--json", "--resamples", "200", home=tmp_path)
    assert scored.returncode == 0, scored.stderr
    metrics = json.loads(scored.stdout)["aggregate"]["metrics"]
    assert metrics["em"]["mean"] >= 0.5 and metrics["recall@5"]["mean"] > 0

    again = cli(*args, home=tmp_path)  # no flags: the eval folder and the store folder say where
    assert again.returncode == 0, again.stderr
    assert (json.loads(again.stdout)["already_done"], json.loads(again.stdout)["chroma_url"]) == (len(questions), chroma_url)


def test_delta_segments_on_a_chroma_server(chroma_url: str, tmp_path: Path, loopback: None,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Deltas on a shared collection: a second folder's searches see the passages a first
    folder added to a delta, and still after that folder compacts them into the base."""
    from agentflow.evals.world import generate_world
    from agentflow.store import segments as seg

    monkeypatch.setattr(seg, "DELTA_FROM", 30)
    monkeypatch.setattr(seg, "REGISTRY_TTL", 0.0)
    passages = generate_world(n_docs=60, n_questions=1, seed=3).corpus[:50]
    writer = CorpusStore(tmp_path / "w", embedder="hash", chroma_url=chroma_url,
                         collection="segmented")
    writer.add(passages[:40])
    reader = CorpusStore.open_existing(tmp_path / "r", chroma_url=chroma_url,
                                       collection="segmented")
    writer.add(passages[40:])
    assert [n for _, n in writer.segments()] == [40, 10]
    late = passages[45]
    for store in (reader, writer):
        assert store.search(late.text, k=1, mode="dense")[0].id == late.id
    assert writer.compact() == 10
    assert reader.segments() == [("segmented", 50)]
    assert reader.search(late.text, k=1, mode="hybrid")[0].id == late.id
