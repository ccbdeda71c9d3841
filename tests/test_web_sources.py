"""Web search sources against a fake SearXNG and page server on loopback: answers cited
by URL, retries and skipping, hangs, garbage, oversized pages, the on-disk cache."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentflow import Agent
from agentflow.errors import ConfigError
from agentflow.evals.world.demo import demo_chains, demo_world
from agentflow.evals.world.reader import read_like_a_model, stated
from agentflow.tools.web import JsonApiConfig, JsonApiEngine, WebSearch, build_source
from agentflow.tools.web.http import RetryPolicy
from agentflow.tools.web.tool import WebSettings
from agentflow.trajectory import read_trajectory
from tests.fake_web import FakeWeb
from tests.helpers import build_store, has_module, with_overrides

pytestmark = pytest.mark.skipif(not has_module("trafilatura"),
                                reason="needs the [web] extra (trafilatura)")

PAGES = {r["id"]: (r["title"], r["text"]) for r in demo_world()}
FIRST = demo_chains()[0]
TWO_HOP = FIRST.question
WHO = f"Who founded {FIRST.company}?"
NAME = FIRST.company.split()[0]  # a word of the company's name, alone
UNRELATED = [
    {"id": "tides", "title": "Tides", "text": "Tides are the rise and fall of sea levels caused by the Moon."},
    {"id": "basalt", "title": "Basalt", "text": "Basalt is a fine-grained volcanic rock rich in iron."},
]
FAST = WebSettings(retry=RetryPolicy(attempts=3, initial_wait_s=0.01, max_wait_s=0.05, timeout_s=0.5,
                                     total_timeout_s=2.0))


@pytest.fixture
def web(loopback: None) -> Iterator[FakeWeb]:
    with FakeWeb(PAGES, big_bytes=2_000_000) as w:
        yield w


@pytest.fixture(scope="module")
def unrelated_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from agentflow.store.corpus import CorpusStore
    from agentflow.store.ingest import ingest

    folder = tmp_path_factory.mktemp("unrelated")
    path = folder / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in UNRELATED) + "\n")
    ingest([path], CorpusStore(folder / "store", embedder="hash"), progress=False)
    return folder / "store"


def oracle() -> Any:
    """The demo world's scripted reader."""
    return with_overrides(read_like_a_model)


def tool(web: FakeWeb, tmp_path: Path, settings: WebSettings = FAST, cache: bool = True) -> WebSearch:
    return build_source(f"searxng:{web.url}", cache=tmp_path / "cache" if cache else False,
                        settings=settings)


def notes_of(traj_path: str | Path) -> list[dict[str, Any]]:
    return [e for e in read_trajectory(traj_path).events if e["type"] == "note"]


# -- the command line, end to end ---------------------------------------------------------

def ask_cli(args: list[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    import agentflow.llm as llm_module
    from agentflow.cli.main import app

    real = llm_module.resolve_llm
    monkeypatch.setattr(llm_module, "resolve_llm", lambda spec: oracle() if spec == "scripted" else real(spec))
    result = CliRunner().invoke(app, ["ask", TWO_HOP, "--llm", "scripted", "--embedder", "hash", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_cli_answers_from_the_web_citing_urls_and_the_rerun_is_served_from_cache(
        web: FakeWeb, unrelated_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The corpus knows nothing about the question; the web does. The answer cites page
    URLs that a tool returned in this run; the same run again makes no requests."""
    args = ["--store", str(unrelated_store), "--source", "corpus", "--source", f"searxng:{web.url}"]
    first = ask_cli([*args, "--trajectory", str(tmp_path / "one.jsonl")], monkeypatch)
    assert first["status"] == "answered" and first["answer"] == FIRST.city
    cited = [c["id"] for c in first["citations"]]
    assert cited and all(c.startswith(web.url + "/pages/") for c in cited)
    assert web.page_url(FIRST.founder_id) in cited
    traj = read_trajectory(tmp_path / "one.jsonl")
    assert set(cited) <= set(traj.retrieved_ids())  # the in-code citation check held
    assert traj.start["config"]["sources"] == ["corpus", f"searxng:{web.url}"]
    tools = {e["tool"] for e in traj.events if e["type"] == "tool_call"}
    assert {"corpus", "searxng", "memory"} <= tools
    assert web.searches() >= 1 and any(r.startswith("/pages/") for r in web.requests)

    before = len(web.requests)
    second = ask_cli([*args, "--trajectory", str(tmp_path / "two.jsonl")], monkeypatch)
    assert len(web.requests) == before, web.requests[before:]  # 0 requests: all from the cache
    assert second["answer"] == first["answer"] and second["citations"] == first["citations"]


def test_web_only_run_needs_no_corpus(web: FakeWeb, tmp_path: Path) -> None:
    agent = Agent(llm=oracle(), embedder="hash", sources=[f"searxng:{web.url}"])
    result = agent.ask(TWO_HOP, trajectory=tmp_path / "t.jsonl")
    assert result.status == "answered" and result.answer == FIRST.city
    assert all(c["id"].startswith(web.url) for c in result.citations)


# -- failures: retried, then skipped with a note --------------------------------------------

def test_rate_limited_source_is_retried_then_skipped_with_a_note(
        web: FakeWeb, tmp_path: Path) -> None:
    """A source that answers 429 every time: each search is tried 3 times, the run notes
    the failure in the trajectory and the progress stream, stops asking it after two
    failures, and answers from the corpus."""
    web.behaviour.search = "rate_limited"
    store = build_store(tmp_path / "corpus")
    events: list[dict[str, Any]] = []
    agent = Agent(store, llm=oracle(), embedder="hash",
                  tools=[tool(web, tmp_path, WebSettings(**{**FAST.model_dump(), "failures_to_skip": 2}))])
    result = agent.ask(TWO_HOP, trajectory=tmp_path / "t.jsonl", on_event=events.append)
    assert result.status == "answered" and result.answer == FIRST.city
    assert web.searches() == 2 * 3  # two searches, three attempts each, then no more requests
    notes = notes_of(tmp_path / "t.jsonl")
    failed = [n for n in notes if n["kind"] == "source_failed"]
    skipped = [n for n in notes if n["kind"] == "source_skipped"]
    assert len(failed) == 2 and failed[0]["data"]["error"] == "rate_limited"
    assert failed[0]["data"]["attempts"] == 3 and failed[-1]["data"]["skipped"] is True
    assert "other sources" in failed[0]["message"]
    assert skipped, "later searches say the source is skipped"
    assert any(e.get("type") == "note" and e.get("kind") == "source_failed" for e in events)


def test_rate_limit_that_clears_is_retried_to_success(web: FakeWeb, tmp_path: Path) -> None:
    web.behaviour.rate_limit_first = 2
    hits, notes = tool(web, tmp_path).search_with_notes(WHO)
    assert web.searches() == 3 and not notes
    assert hits[0].id == web.page_url(FIRST.company_id)
    assert stated("founded_by", FIRST.company, FIRST.company, hits[0].text)[0] == FIRST.founder  # type: ignore[index]


def test_retry_after_is_honoured_up_to_the_cap(web: FakeWeb, tmp_path: Path) -> None:
    web.behaviour.rate_limit_first, web.behaviour.retry_after = 1, "30"
    slept: list[float] = []
    t = tool(web, tmp_path)
    t.client._sleep = slept.append  # type: ignore[attr-defined]
    hits, _ = t.search_with_notes(FIRST.company)
    assert hits and slept == [FAST.retry.max_wait_s]


def test_hanging_source_times_out_and_the_search_goes_on(web: FakeWeb, tmp_path: Path) -> None:
    web.behaviour.search = "hang"
    started = time.monotonic()
    settings = WebSettings(retry=RetryPolicy(attempts=2, initial_wait_s=0.01, timeout_s=0.3))
    hits, notes = tool(web, tmp_path, settings).search_with_notes(NAME)
    assert hits == [] and notes[0].kind == "source_failed" and notes[0].data["error"] == "timeout"
    assert time.monotonic() - started < 3.0
    assert web.searches() == 2


@pytest.mark.parametrize("behaviour", ["malformed", "no_results_list", "html"])
def test_malformed_answer_is_a_clear_note_and_not_retried(web: FakeWeb, tmp_path: Path, behaviour: str) -> None:
    web.behaviour.search = behaviour
    hits, notes = tool(web, tmp_path).search_with_notes(NAME)
    assert hits == [] and [n.data["error"] for n in notes] == ["malformed"]
    assert web.url in notes[0].message
    assert web.searches() == 1  # garbage is not worth asking for again


def test_page_too_large_is_read_up_to_the_cap_with_a_note(web: FakeWeb, tmp_path: Path) -> None:
    fact = f"{FIRST.city} lies in {FIRST.country}."
    web.pages["big"] = ("Big page", fact)  # found by the search; served large
    settings = WebSettings(**{**FAST.model_dump(), "max_page_bytes": 50_000})
    hits, notes = tool(web, tmp_path, settings).search_with_notes(f"{FIRST.city} {FIRST.country}")
    big = [h for h in hits if h.id.startswith(web.page_url("big"))]
    assert big and fact in big[0].text
    cut = [n for n in notes if n.kind == "page_truncated"]
    assert cut and cut[0].data["bytes_read"] <= 50_000


def test_unreadable_pages_fall_back_to_the_snippet(web: FakeWeb, tmp_path: Path) -> None:
    web.extra["/pages/report.pdf"] = ("application/pdf", b"%PDF-1.7 \x00\x01\x02")
    web.extra["/pages/garbage"] = ("text/html", b"\xff\xfe<\x00h\x00<<<>>><script>" * 500)
    web.pages["report.pdf"] = (f"{NAME} annual report", f"{FIRST.company} annual report")
    web.pages["garbage"] = (f"{NAME} garbage", f"{FIRST.company} garbage")
    hits, notes = tool(web, tmp_path).search_with_notes(FIRST.company)
    ids = {h.id for h in hits}
    assert web.page_url("report.pdf") in ids  # the snippet stands in for the PDF
    assert any(n.kind == "page_failed" and n.data["error"] == "unsupported" for n in notes)
    assert web.page_url(FIRST.company_id) in ids


def test_cache_serves_a_rerun_and_survives_a_corrupt_entry(web: FakeWeb, tmp_path: Path) -> None:
    first = tool(web, tmp_path).search(f"{FIRST.founder} born")
    n = len(web.requests)
    again = tool(web, tmp_path).search(f"{FIRST.founder} born")  # a new tool: the disk cache
    assert len(web.requests) == n and [h.id for h in again] == [h.id for h in first]
    for f in (tmp_path / "cache").rglob("*.json"):
        f.write_text("{not json")
    tool(web, tmp_path).search(f"{FIRST.founder} born")
    assert len(web.requests) > n  # corrupt entries are misses, fetched again


def test_generic_json_api_with_key_header_and_nested_fields(
        web: FakeWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    web.behaviour.shape, web.behaviour.require_header = "nested", ("X-Api-Key", "s3cret")
    monkeypatch.setenv("FAKE_SEARCH_KEY", "s3cret")
    config = {"endpoint": web.url + "/search", "name": "hosted", "key_env": "FAKE_SEARCH_KEY",
              "key_header": "X-Api-Key", "results_path": "data.items", "url_field": "link",
              "title_field": "name", "snippet_field": "summary"}
    path = tmp_path / "hosted.json"
    path.write_text(json.dumps(config))
    t = build_source(f"json:{path}", cache=False, settings=FAST)
    assert t.name == "hosted"
    hits, notes = t.search_with_notes(WHO)
    assert not notes and hits[0].id == web.page_url(FIRST.company_id)
    assert "s3cret" not in t.engine.config_key  # never in cache names or trajectories
    monkeypatch.delenv("FAKE_SEARCH_KEY")
    with pytest.raises(ConfigError, match=r"\$FAKE_SEARCH_KEY"):
        JsonApiEngine(JsonApiConfig(**config))


def test_bad_source_specs_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean 'searxng'"):
        build_source("serxng:http://127.0.0.1:1")
    with pytest.raises(ConfigError, match="http"):
        build_source("searxng:127.0.0.1:8888")
    bad = tmp_path / "bad.json"
    bad.write_text('{"endpoint": 3')
    with pytest.raises(ConfigError, match="bad JSON search API configuration"):
        build_source(f"json:{bad}")
    with pytest.raises(ConfigError, match="unknown source"):
        Agent(llm=oracle(), embedder="hash", sources=["gooogle:x"])


def test_web_requests_obey_the_network_guard(tmp_path: Path) -> None:
    """Without the loopback fixture the guard refuses, and the run is told why."""
    t = build_source("searxng:http://127.0.0.1:9", cache=False, settings=FAST)
    hits, notes = t.search_with_notes("anything")
    assert hits == [] and notes[0].data["error"] == "blocked"


def test_cli_rate_limited_source_is_skipped_and_the_corpus_answers(
        web: FakeWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same through ``agentflow ask`` with the default retry policy."""
    web.behaviour.search = "rate_limited"
    store = build_store(tmp_path / "corpus")
    traj = tmp_path / "t.jsonl"
    out = ask_cli(["--store", str(store), "--source", "corpus", "--source", f"searxng:{web.url}",
                   "--trajectory", str(traj)], monkeypatch)
    assert out["status"] == "answered" and out["answer"] == FIRST.city
    kinds = [n["kind"] for n in notes_of(traj)]
    assert kinds.count("source_failed") == 2 and "source_skipped" in kinds
    assert web.searches() == 6  # 3 attempts x 2 searches, then the source is left alone


def test_a_public_engine_cannot_send_the_agent_to_private_addresses(web: FakeWeb) -> None:
    """Results of a public engine that point at loopback, intranet or cloud-metadata
    addresses are not fetched (the snippet stands in, with a note)."""
    from agentflow.tools.web.engine import SearchEngine
    from agentflow.tools.web.records import WebResult

    class PublicEngine(SearchEngine):
        name, endpoint = "public", "https://search.example.org/api"
        config_key = "public"

        def search(self, client: object, query: str, *, count: int) -> list[WebResult]:
            return [WebResult(url=web.page_url(FIRST.company_id), title=NAME, snippet=f"{NAME} snippet"),
                    WebResult(url="http://169.254.169.254/latest/meta-data", title="metadata", snippet="x")]

    hits, notes = WebSearch(PublicEngine(), settings=FAST).search_with_notes(NAME)
    assert not any(r.startswith("/pages/") for r in web.requests)
    assert {n.data["error"] for n in notes} == {"private_address"} and len(notes) == 2
    assert {h.text for h in hits} == {f"{NAME} snippet", "x"}


@pytest.mark.parametrize("graph", ["rag", "react"])
def test_baselines_search_the_web_and_record_its_notes(web: FakeWeb, tmp_path: Path, graph: str) -> None:
    web.behaviour.rate_limit_first = 100  # every search fails
    agent = Agent(llm=oracle(), embedder="hash", graph=graph, sources=[f"searxng:{web.url}"])
    agent.components.tools[0].client.policy = FAST.retry  # type: ignore[attr-defined]
    result = agent.ask(TWO_HOP, trajectory=tmp_path / "t.jsonl")
    assert result.status != "answered"
    assert any(n["kind"] == "source_failed" for n in notes_of(tmp_path / "t.jsonl"))
