"""Long cited reports (``agentflow report``, the ``report`` graph) with the scripted model
and the hashing embedder: every sentence cites a passage retrieved in the run; a sentence
citing a passage it does not match is rewritten once or dropped, and the trajectory says
so; the extractive floor writes the report when the model writes nothing usable; the
budget holds; the independent checker (``evals/check_report.py``) agrees."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentflow import Agent
from agentflow.agent.budget import Budget
from agentflow.evals.check_report import check, retrieved_ids
from agentflow.evals.world.demo import demo_chains, demo_store
from agentflow.graphs.report import builder
from agentflow.llm import ScriptedLLM
from agentflow.records import ChatMessage
from agentflow.report.records import Report
from agentflow.report.scripted import shown_passages, write_like_a_model
from agentflow.report.support import split_sentences, support_problem, unsupported_citations
from agentflow.trajectory import read_trajectory

QUESTION = demo_chains()[0].question
#: A sentence that shares no content word with any passage of the demo world.
UNMATCHED = "Quorvil glassmakers painted seventeen turquoise lanterns beside ancient harbours."


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_store(companies=24, folder=tmp_path_factory.mktemp("long-report") / "store").path


def _report(result: Any) -> Report:
    return Report.model_validate(read_trajectory(result.trajectory).of_type("report")[-1]["report"])


def _notes(result: Any, kind: str) -> list[dict[str, Any]]:
    return [e for e in read_trajectory(result.trajectory).of_type("note") if e["kind"] == kind]


def _figures(result: Any) -> dict[str, Any]:
    return check(result.answer, retrieved_ids(Path(result.trajectory)))


def test_the_support_check_is_deterministic() -> None:
    passages = {"a": "Zorvath Industries. Zorvath Industries was founded by Melira Quandt in 1911.",
                "b": "Ostrelle. Ostrelle is a small town on the river Lune."}
    good = "Zorvath Industries was founded by Melira Quandt."
    assert support_problem(good, ["a"], passages) is None
    assert "shares no content word" in unsupported_citations(good, ["b"], {"a", "b"}, passages)["b"]
    assert unsupported_citations(good, ["c"], {"a", "b"}, passages) == {"c": "not retrieved in this run"}
    assert "names" in support_problem("Zorvath Industries was founded by Dario Feln.", ["a"], passages)
    assert split_sentences("One sentence here [1]. Another one [2][3]! 3 more?") == \
        ["One sentence here.", "Another one!", "3 more?"]


def test_report_cites_only_retrieved_passages_and_reaches_its_length(store: Path, tmp_path: Path) -> None:
    llm = ScriptedLLM(fn=write_like_a_model)
    result = Agent(store, llm=llm, embedder="hash", graph=builder(300), runs_dir=tmp_path).ask(QUESTION)
    assert result.status == "answered", result.error
    report = _report(result)
    retrieved = set(read_trajectory(result.trajectory).retrieved_ids())
    cited = {c for sec in report.sections for s in sec.sentences for c in s.citations}
    assert cited and cited <= retrieved
    assert 300 <= report.words() <= 360
    assert {s.origin for sec in report.sections for s in sec.sentences} >= {"model"}
    figures = _figures(result)
    assert figures["cited_share"] == 1.0 and figures["retrieved_share"] == 1.0
    assert figures["words"] == report.words() and figures["sentences"] == sum(len(s.sentences) for s in report.sections)
    assert result.answer.rstrip().splitlines()[-1].startswith(f"- [{len(report.sources)}] ")
    steps = [e["node"] for e in read_trajectory(result.trajectory).of_type("step_start")]
    assert steps[-1] == "finish" and steps.count("write") == len(report.sections) and "answer" in steps


def _bad_sections(messages: list[ChatMessage], schema: dict[str, Any] | None) -> Any:
    """Each section: one good sentence, then one citing a passage it does not match twice."""
    fields = set((schema or {}).get("properties", {}))
    if fields == {"sentences"}:
        shown = shown_passages(messages[-1].content)
        good = {"text": split_sentences(shown[0][1])[0], "citations": [1]}
        return {"sentences": [good, {"text": UNMATCHED, "citations": [2]},
                              {"text": UNMATCHED.replace("seventeen", "nineteen"), "citations": [1]}]}
    return write_like_a_model(messages, schema)


def test_a_sentence_citing_a_passage_it_does_not_match_is_rewritten_or_dropped(store: Path, tmp_path: Path) -> None:
    rewrites = iter([None, "Quorvil lanterns glow."])  # the first rewrite is good, the second is not

    def model(messages: list[ChatMessage], schema: dict[str, Any] | None) -> Any:
        if set((schema or {}).get("properties", {})) == {"text"}:
            bad = next(rewrites, "Quorvil lanterns glow.")
            return {"text": bad} if bad else write_like_a_model(messages, schema)
        return _bad_sections(messages, schema)

    result = Agent(store, llm=ScriptedLLM(fn=model), embedder="hash", graph=builder(200),
                   runs_dir=tmp_path).ask(QUESTION)
    assert result.status == "answered", result.error
    assert "Quorvil" not in result.answer and "lanterns" not in result.answer
    rewritten, dropped = _notes(result, "sentence_rewritten"), _notes(result, "sentence_dropped")
    assert rewritten and rewritten[0]["data"]["sentence"] == UNMATCHED
    assert "Quorvil" not in rewritten[0]["data"]["rewritten"]
    assert any("nineteen" in d["data"]["sentence"] for d in dropped)
    assert all("cites no passage" in d["data"]["reason"] or "shares no content word" in d["data"]["reason"]
               or "repeat" in d["data"]["reason"] for d in dropped)
    report = _report(result)
    assert "rewrite" in {s.origin for sec in report.sections for s in sec.sentences}
    figures = _figures(result)
    assert figures["cited_share"] == 1.0 and figures["retrieved_share"] == 1.0


def test_a_model_that_writes_nothing_usable_still_gets_a_report(store: Path, tmp_path: Path) -> None:
    def useless(messages: list[ChatMessage], schema: dict[str, Any] | None) -> Any:
        fields = set((schema or {}).get("properties", {}))
        if fields & {"headings", "sentences", "text"}:
            return "I cannot help with that."  # never valid JSON
        return write_like_a_model(messages, schema)

    result = Agent(store, llm=ScriptedLLM(fn=useless), embedder="hash", graph=builder(250),
                   runs_dir=tmp_path).ask(QUESTION)
    report = _report(result)
    assert result.status == "answered" and report.words() >= 250
    assert {s.origin for sec in report.sections for s in sec.sentences} == {"extract"}
    assert _notes(result, "outline_fallback")
    assert _figures(result)["cited_share"] == 1.0 and _figures(result)["retrieved_share"] == 1.0


def test_the_budget_holds_for_research_and_writing_together(store: Path, tmp_path: Path) -> None:
    budget = Budget(max_llm_calls=6, max_searches=6, max_tokens=50_000, max_seconds=60)
    llm = ScriptedLLM(fn=write_like_a_model)
    result = Agent(store, llm=llm, embedder="hash", graph=builder(400), budget=budget,
                   runs_dir=tmp_path).ask(QUESTION)
    assert result.status == "answered"
    assert result.usage["llm_calls"] <= 6  # asks (a re-asked invalid output counts once)
    assert result.usage["searches"] <= 6
    assert _report(result).words() > 0
    assert _notes(result, "budget")


def test_cli_writes_markdown_and_html_and_prints_the_trajectory(store: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from agentflow.cli.main import app

    monkeypatch.setenv("AGENTFLOW_RUNS", str(tmp_path / "runs"))
    runner = CliRunner()
    for name in ("r.md", "r.html"):
        out = tmp_path / name
        res = runner.invoke(app, ["report", QUESTION, "--out", str(out), "--words", "200", "--store", str(store),
                                  "--embedder", "hash", "--llm", "scripted:agentflow.report.scripted:write_like_a_model",
                                  "--json"])
        assert res.exit_code == 0, res.output
        summary = json.loads(res.stdout.strip().splitlines()[-1])
        assert Path(summary["trajectory"]).is_file() and summary["words"] >= 200
        assert summary["report"] == str(out)
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'class="cite"' in html and 'id="src-1"' in html and "Content-Security-Policy" in html
    assert not re.search(r"(src|href)=\"https?:", html)
    bad = runner.invoke(app, ["report", QUESTION, "--out", str(tmp_path / "r.pdf"), "--store", str(store)])
    assert bad.exit_code == 2 and ".md or .html" in bad.output


def test_a_report_run_that_died_mid_writing_resumes_without_researching_again(store: Path, tmp_path: Path) -> None:
    from agentflow.errors import LLMError

    sections = {"n": 0}

    def dies_at_the_second_section(messages: list[ChatMessage], schema: dict[str, Any] | None) -> Any:
        if set((schema or {}).get("properties", {})) == {"sentences"}:
            sections["n"] += 1
            if sections["n"] == 2:
                raise LLMError("the model server went away")
        return write_like_a_model(messages, schema)

    first = Agent(store, llm=ScriptedLLM(fn=dies_at_the_second_section), embedder="hash", graph=builder(400),
                  runs_dir=tmp_path).ask(QUESTION, run_id="dies")
    assert first.status == "error" and "went away" in (first.error or "")
    again = ScriptedLLM(fn=write_like_a_model)
    result = Agent(store, llm=again, embedder="hash", graph=builder(400), runs_dir=tmp_path).resume("dies")
    assert result.status == "answered"
    assert len(again.calls) == 1  # only the section that failed: research, outline, section 1 are kept
    steps = [e["node"] for e in read_trajectory(result.trajectory).of_type("step_start")]
    assert steps.count("plan") == 1 and steps.count("outline") == 1 and steps[-1] == "finish"
    assert _figures(result)["retrieved_share"] == 1.0 and _report(result).words() >= 400


def test_a_wrong_passage_number_is_corrected_in_code_when_another_passage_supports_it(
        store: Path, tmp_path: Path) -> None:
    def misnumbered(messages: list[ChatMessage], schema: dict[str, Any] | None) -> Any:
        if set((schema or {}).get("properties", {})) == {"sentences"}:
            shown = shown_passages(messages[-1].content)
            # The second passage's first sentence, with its title copied in front, cited as [1].
            title, text = shown[1]
            return {"sentences": [{"text": f"{title}: {split_sentences(text)[0]}", "citations": [1]}]}
        return write_like_a_model(messages, schema)

    llm = ScriptedLLM(fn=misnumbered)
    result = Agent(store, llm=llm, embedder="hash", graph=builder(150), runs_dir=tmp_path).ask(QUESTION)
    corrected = _notes(result, "citation_corrected")
    assert corrected and not _notes(result, "sentence_rewritten")
    first = _report(result).sections[0].sentences[0]
    assert first.origin == "model" and first.citations == corrected[0]["data"]["corrected"]
    assert ":" not in first.text.split()[0]  # the copied "Title:" is gone


def test_extracted_sentences_keep_their_passage_order(store: Path, tmp_path: Path) -> None:
    def second_sentence_only(messages: list[ChatMessage], schema: dict[str, Any] | None) -> Any:
        if set((schema or {}).get("properties", {})) == {"sentences"}:
            text = shown_passages(messages[-1].content)[0][1]
            return {"sentences": [{"text": split_sentences(text)[1], "citations": [1]}]}
        return write_like_a_model(messages, schema)

    result = Agent(store, llm=ScriptedLLM(fn=second_sentence_only), embedder="hash", graph=builder(150),
                   runs_dir=tmp_path).ask(QUESTION)
    first = _report(result).sections[0]
    source = next(s for s in _report(result).sources if s.id == first.sentences[0].citations[0])
    from_it = [s.text.rstrip(".") for s in first.sentences if s.citations == [source.id]]
    assert len(from_it) >= 2
    assert [source.text.find(t) for t in from_it] == sorted(source.text.find(t) for t in from_it)
    assert first.sentences[0].origin == "extract"  # the passage's first sentence leads
