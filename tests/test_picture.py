"""The evidence picture's data: answer path, refusals, removed citations, collapsing of
large graphs, and a page that stays one self-contained file whatever the passages say."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentflow import Agent
from agentflow.evals.bench_picture import synthetic_trajectory
from agentflow.evals.world.demo import demo_chains, demo_store
from agentflow.evals.world.reader import read_like_a_model, stated
from agentflow.picture import evidence_picture, picture_page
from agentflow.trajectory import read_trajectory
from tests.helpers import with_overrides

#: A three-hop chain of the demo world whose every hop is read once and verified.
CHAIN = demo_chains()[1]
THREE_HOP = CHAIN.three_hop
#: A founder the demo world gives no spouse: the second hop cannot be answered.
NO_SPOUSE = demo_chains()[3]


def oracle(overrides: dict[str, Any] | None = None) -> Any:
    """The demo world's scripted reader, with ``overrides[node]`` in place of its answer."""
    return with_overrides(read_like_a_model, overrides)


def states_birthplace(text: str) -> bool:
    """The text says the chain's founder was born in the chain's city."""
    found = stated("born_in", CHAIN.founder, CHAIN.founder, text)
    return found is not None and found[0] == CHAIN.city


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_store(folder=tmp_path_factory.mktemp("picture") / "store").path


def test_three_hop_answer_path_runs_through_sub_answers_to_cited_passages(store: Path) -> None:
    result = Agent(store, llm=oracle(), embedder="hash").ask(THREE_HOP)
    pic = evidence_picture(read_trajectory(result.trajectory))
    nodes = {n.id: n for n in pic.nodes}
    assert pic.answer == CHAIN.country and not pic.collapsed
    path = {n.id for n in pic.nodes if n.on_path}
    assert {"answer", *(f"p:{i}" for i in CHAIN.ids)} <= path
    subs = [n for n in pic.nodes if n.kind == "subquestion"]
    assert len(subs) == 3 and all(n.on_path and n.status == "answered" for n in subs)
    assert all(n.verdicts == ["answered"] for n in subs)
    facts = [n for n in pic.nodes if n.kind == "fact" and n.on_path]
    assert any(states_birthplace(f.text) for f in facts)
    founder = nodes[f"p:{CHAIN.founder_id}"]
    assert states_birthplace(founder.text)  # click shows the passage
    born = stated("born_year", CHAIN.founder, CHAIN.founder, founder.text)
    assert born and not nodes[f"e:{born[0]}"].on_path  # an entity beside the path is not highlighted
    kinds = {n.kind for n in pic.nodes}
    assert kinds == {"answer", "question", "subquestion", "fact", "passage", "entity"}
    on_edges = [e for e in pic.edges if e.on_path]
    assert {e.kind for e in on_edges} >= {"answers", "supports", "cites"}


def test_refused_sub_questions_and_removed_citations_are_visible(store: Path) -> None:
    unanswerable = f"Who is the spouse of the founder of {NO_SPOUSE.company}?"
    plan = {"sub_questions": [{"question": f"Who founded {NO_SPOUSE.company}?", "depends_on": []},
                              {"question": "Who is the spouse of #1?", "depends_on": [1]}]}
    llm = oracle({"plan": plan,
                  "verify": {"verdict": "search_again", "refined_query": f"{NO_SPOUSE.founder} spouse"}})
    refused = evidence_picture(read_trajectory(Agent(store, llm=llm, embedder="hash").ask(unanswerable).trajectory))
    by_status = {n.label: n for n in refused.nodes if n.kind == "subquestion"}
    spouse = next(n for label, n in by_status.items() if "spouse" in label)
    assert spouse.refused and spouse.status == "unanswerable" and not spouse.on_path
    assert "status: unanswerable" in spouse.text  # hover and click say why it is marked
    answer = next(n for n in refused.nodes if n.kind == "answer")
    assert answer.refused and answer.status == "refused"

    def fabricated(messages: object) -> dict[str, object]:
        return {"answer": CHAIN.country, "citations": ["made-up-id", CHAIN.city_id]}

    plan = {"sub_questions": [{"question": f"In which country is {CHAIN.city}?", "depends_on": []},
                              {"question": f"Who founded {CHAIN.company}?", "depends_on": []}]}
    result = Agent(store, llm=oracle({"plan": plan, "answer": fabricated}), embedder="hash").ask(THREE_HOP)
    assert "made-up-id" in result.removed_citations
    pic = evidence_picture(read_trajectory(result.trajectory))
    removed = next(n for n in pic.nodes if n.id == "p:made-up-id")
    assert removed.removed and "removed by the citation check" in removed.text
    assert any(e.kind == "removed_citation" and e.target == "p:made-up-id" for e in pic.edges)


def test_large_graph_collapses_to_the_answer_path_and_top_passages(tmp_path: Path) -> None:
    pic = evidence_picture(read_trajectory(synthetic_trajectory(tmp_path / "big.jsonl", 650)))
    assert len(pic.nodes) > 2000 and pic.collapsed
    core = [n for n in pic.nodes if n.core]
    assert len(core) <= 40
    assert {"answer", "p:p0", "f:0"} <= {n.id for n in core}
    assert sum(1 for n in core if n.kind == "passage") == 20
    assert all(e.core == (e.source in {n.id for n in core} and e.target in {n.id for n in core}) for e in pic.edges)
    assert "showing the answer path" in pic.notes[0]


def test_hostile_text_cannot_break_out_of_the_page(tmp_path: Path) -> None:
    hostile = "</script><script>alert(1)</script>{{script}}<img src=http://evil/x>"
    page = picture_page(evidence_picture(read_trajectory(synthetic_trajectory(tmp_path / "h.jsonl", 3, hostile=hostile))))
    data = re.search(r'<script type="application/json" id="picture-data">(.*?)</script>', page, re.S)
    assert data is not None
    parsed = json.loads(data.group(1))
    assert parsed["answer"] == f"A0 {hostile}"
    assert "<img src=http://evil" not in page and "alert(1)</script>" not in page
    assert not re.search(r"""<[^>]*\b(src|href)=["']?https?:""", page)  # nothing to fetch from elsewhere


def test_show_html_writes_one_self_contained_page(store: Path, tmp_path: Path) -> None:
    from agentflow.cli.main import app

    result = Agent(store, llm=oracle(), embedder="hash").ask(THREE_HOP)
    out = tmp_path / "pic" / "run.html"
    cli = CliRunner().invoke(app, ["show", str(result.trajectory), "--html", str(out)])
    assert cli.exit_code == 0, cli.output
    page = out.read_text()
    assert page.startswith("<!doctype html>") and "AgentflowPicture" in page
    assert not re.search(r"<script[^>]+src=|<link[^>]+stylesheet", page)


def test_eval_report_links_each_question_to_its_picture(tmp_path: Path) -> None:
    from agentflow.scoring.batch import run_batch
    from agentflow.scoring.report import write_html_report
    from agentflow.scoring.scorer import score_folder
    from tests.test_eval_batch import make_oracle, make_world

    world = make_world(tmp_path / "world")
    run_batch(world, out=tmp_path / "dr", graph="deep_research", llm=make_oracle(world), embedder="hash",
              progress=False)
    score = score_folder(tmp_path / "dr", resamples=100)
    report = write_html_report([score], tmp_path / "out" / "report.html")
    links = re.findall(r'<a class=picture href="([^"]+)">', report.read_text())
    finished = [q for q in score.questions if q.status != "missing"]
    assert links and len(links) == len(finished)
    first = (report.parent / links[0]).read_text()
    assert '<script src="picture.js"></script>' in first and "picture-data" in first
    assert (report.parent / "report-pictures" / "picture.js").stat().st_size > 100_000
    assert len(first) < 50_000  # the drawing code is shared, not copied into every picture


def test_labels_are_cut_at_a_word() -> None:
    from agentflow.picture.evidence import _label

    label = _label("Who founded the   company that built the lighthouse on Quillon Harbour?", 30)
    assert label == "Who founded the company that…"
    assert _label("Short title", 30) == "Short title"
