"""The research loop's LLM-free mechanisms: answer typing, typed candidates, bridge
entities, plan repair, the sufficiency rule, the oracle ceiling model, and a weak
model that breaks every narrow call while the run still finds and answers the
second hop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentflow import Agent
from agentflow.agent.answer_types import AnswerType, expected_type, fits
from agentflow.agent.bridges import bridge_entities
from agentflow.agent.candidates import answer_candidates, relation_words
from agentflow.agent.context import ResearchSettings
from agentflow.agent.schemas import Plan, PlannedStep
from agentflow.agent.state import repair_plan, validate_plan
from agentflow.agent.verify import AGAIN, ANSWERED_V, UNANSWERABLE_V, decide
from agentflow.evals.datasets import DecompositionStep, QAExample
from agentflow.evals.oracle import OracleLLM
from agentflow.llm import ScriptedLLM
from agentflow.records import SearchHit
from agentflow.trajectory import read_trajectory

from .helpers import weak_model
from .research_fixtures import CORPUS, TWO_HOP, build_store, node_of


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("mechanisms"))


@pytest.mark.parametrize(("question", "kind"), [
    ("When was the institute that owns The Collegian founded?", AnswerType.DATE),
    ("In what year did the author of Brand die?", AnswerType.DATE),
    ("How many Publix stores are in the state north of Florida?", AnswerType.NUMBER),
    ("What amount of TEUs did Ostrelle handle in 2010?", AnswerType.NUMBER),
    ("What is the usual average snowfall in Ostrelle?", AnswerType.NUMBER),
    ("What is the population ranking of the city where Ivo Tamsk was born?", AnswerType.NUMBER),
    ("In which country is the town where Melira Quandt was born?", AnswerType.PLACE),
    ("Where was the founder of Zorvath Industries born?", AnswerType.PLACE),
    ("Who founded the company that built the Quorlin Span?", AnswerType.PERSON),
    ("What kind of university did Judith Viorst attend?", AnswerType.ENTITY),
    ("Who was born earlier, Ada or Bea?", AnswerType.PERSON),
])
def test_expected_type_reads_the_outer_question(question: str, kind: AnswerType) -> None:
    assert expected_type(question) == kind


def test_span_types() -> None:
    assert fits("1911", AnswerType.DATE) and fits("12 March 1990", AnswerType.DATE)
    assert not fits("Pellack", AnswerType.DATE)
    assert fits("35", AnswerType.NUMBER) and not fits("1911 Pellack", AnswerType.NUMBER)
    assert fits("12th", AnswerType.NUMBER) and not fits("12th", AnswerType.PERSON)
    assert fits("Melira Quandt", AnswerType.PERSON) and not fits("1911", AnswerType.PLACE)


def _passages(*ids: str) -> list[dict[str, str]]:
    by_id = {r["id"]: r for r in CORPUS}
    return [by_id[i] for i in ids]


def test_candidates_are_typed_spans_of_the_passages_not_in_the_question() -> None:
    cands = answer_candidates(_passages("melira", "zorvath"), "Where was Melira Quandt born?")
    texts = [c.text for c in cands]
    assert texts[0] == "Ostrelle"  # the sentence echoes "born", and "in the town of" cues a place
    assert "Melira Quandt" not in texts  # the question names it
    assert all(any(c.text in p["text"] for p in CORPUS) for c in cands)
    assert cands[0].relation_hits > 0 and cands[0].passage_id == "melira"
    years = answer_candidates(_passages("zorvath"), "When was Zorvath Industries founded?")
    assert [c.text for c in years] == ["1911"]
    assert relation_words("When was Zorvath Industries founded?") == {"founded"}


def test_candidates_skip_earlier_answers() -> None:
    cands = answer_candidates(_passages("zorvath"), "Who founded the company?", exclude=["Melira Quandt"])
    assert "Melira Quandt" not in [c.text for c in cands]


def _hit(pid: str) -> SearchHit:
    r = {x["id"]: x for x in CORPUS}[pid]
    return SearchHit(id=pid, title=r["title"], text=r["text"], score=1.0)


def test_bridge_entities_are_what_the_top_passages_name_and_the_question_does_not() -> None:
    bridges = bridge_entities("Where was the founder of Zorvath Industries born?",
                              [_hit("zorvath"), _hit("ostrelle")], limit=2)
    assert bridges[0] == "Melira Quandt"
    assert "1911" not in bridges and "Zorvath Industries" not in bridges
    # a name common in the corpus bridges to everything, so to nothing
    common = bridge_entities("Where was the founder of Zorvath Industries born?", [_hit("zorvath")],
                             frequency=lambda key: 1000 if key == "melira quandt" else 1)
    assert common[0] != "Melira Quandt"


def test_repair_plan_drops_bad_dependencies_and_repeats() -> None:
    plan = Plan(sub_questions=[
        PlannedStep(question="Who founded Zorvath Industries?", depends_on=[1]),
        PlannedStep(question="Who founded Zorvath Industries?", depends_on=[]),
        PlannedStep(question="Where was #2 born?", depends_on=[2, 3]),
    ])
    fixed = repair_plan(plan)
    assert [s.question for s in fixed.sub_questions] == ["Who founded Zorvath Industries?", "Where was #1 born?"]
    assert [s.depends_on for s in fixed.sub_questions] == [[], [1]]
    assert validate_plan(fixed, TWO_HOP, 4) is None


def test_sufficiency_rule_never_lets_a_critic_refuse_a_supported_answer() -> None:
    supported = {"answer": "Ostrelle", "grounded": True, "supported": True, "source": "candidate"}
    assert decide(supported, can_search=True, critic="unanswerable") == ANSWERED_V
    assert decide(supported, can_search=True, critic=AGAIN) == AGAIN
    assert decide(supported, can_search=False, critic=AGAIN) == ANSWERED_V
    stray = {"answer": "Pellack", "grounded": True, "supported": False, "source": "candidate"}
    assert decide(stray, can_search=True, critic=None) == AGAIN
    assert decide(stray, can_search=False, critic=None) == UNANSWERABLE_V  # evidence is missing
    assert decide({"answer": ""}, can_search=False, critic=None) == UNANSWERABLE_V


@pytest.mark.parametrize("clause_plan", [True, False], ids=["clause-plan", "bridge-hops"])
def test_weak_model_with_invalid_plans_and_wrong_answers_still_answers_the_second_hop(
        store: Path, clause_plan: bool) -> None:
    """Every plan is invalid, every reader pick is a name from the prompt example or not
    in the passages, the critic says unanswerable: the plan read from the question's
    clauses (or, without it, the bridge hop) still finds the second passage and the
    typed floor answers from it."""

    llm = ScriptedLLM(fn=weak_model)
    result = Agent(store, llm=llm, embedder="hash",
                   settings=ResearchSettings(clause_plan=clause_plan)).ask(TWO_HOP)
    assert result.status == "answered"
    assert result.answer == "Ostrelle"
    # the chain: the hop that links the question to the answer's passage is cited first
    assert [c["id"] for c in result.citations][:2] == ["zorvath", "melira"]
    traj = read_trajectory(result.trajectory)
    notes = {n["kind"] for n in traj.of_type("note")}
    kinds = {c.get("kind") for c in traj.tool_calls if c["tool"] == "corpus"}
    if clause_plan:
        assert "clause_plan" in notes and "plan_fallback" not in notes
        plans = [e for e in traj.of_type("note") if e["kind"] == "clause_plan"]
        assert len(plans[0]["data"]["sub_questions"]) == 2
    else:
        assert "plan_fallback" in notes and "bridge" in kinds
    assert "melira" in {e["id"] for e in result.evidence[:5]}


def test_without_bridge_hops_the_run_records_no_bridge_search(store: Path) -> None:
    from agentflow.agent.context import ResearchSettings

    llm = ScriptedLLM(fn=lambda m, s: "not json")
    agent = Agent(store, llm=llm, embedder="hash", settings=ResearchSettings(bridge_searches=0))
    traj = read_trajectory(agent.ask(TWO_HOP).trajectory)
    assert not [c for c in traj.tool_calls if c.get("kind") == "bridge"]


def test_oracle_plays_the_gold_decomposition(store: Path) -> None:
    example = QAExample(
        id="q1", question=TWO_HOP, answers=["Ostrelle"], supporting_ids=["zorvath", "melira"],
        decomposition=[DecompositionStep(question="Who founded Zorvath Industries?", answer="Melira Quandt"),
                       DecompositionStep(question="Where was #1 born?", answer="Ostrelle")],
    )
    result = Agent(store, llm=OracleLLM([example]), embedder="hash").ask(TWO_HOP)
    assert result.status == "answered" and result.answer == "Ostrelle"
    assert [s["question"] for s in result.sub_questions] == [
        "Who founded Zorvath Industries?", "Where was Melira Quandt born?"]
    # it says it cannot when the gold answer is not in what it is shown
    missing = QAExample(
        id="q2", question="Who is the spouse of the founder of Zorvath Industries?", answers=["Nobody Here"],
        decomposition=[DecompositionStep(question="Who founded Zorvath Industries?", answer="Melira Quandt"),
                       DecompositionStep(question="Who is the spouse of #1?", answer="Nobody Here")],
    )
    refused = Agent(store, llm=OracleLLM([missing]), embedder="hash").ask(missing.question)
    assert refused.status == "refused"


def test_relation_families_and_the_outer_clause() -> None:
    from agentflow.agent.candidates import outer_relation_words
    from agentflow.agent.relations import relation_key

    assert relation_key("born") == relation_key("birth") == relation_key("native")
    assert relation_key("founder") == relation_key("established")
    assert outer_relation_words("When was the founder of Didryth Films born?") == {"born"}
    assert outer_relation_words(
        "Who was the first president of the association which published Journal X?") == {"first", "president"}
    assert outer_relation_words("Who founded Zorvath Industries?") == {"founded"}


def test_the_outer_relation_picks_the_far_hop_answer() -> None:
    """A date of founding and a year of birth both echo the question; the outer clause
    asks "born", and the span one hop beyond the question's entity wins."""
    passages = [
        {"id": "studio", "title": "Didryth Films",
         "text": "Didryth Films is a film studio. It was established in 1974 by Brurnha Staindmous."},
        {"id": "person", "title": "Brurnha Staindmous",
         "text": "Brurnha Staindmous was born in Port Nyse. Her year of birth was 1940."},
    ]
    cands = answer_candidates(passages, "When was the founder of Didryth Films born?")
    assert cands[0].text == "1940" and cands[0].passage_id == "person"


def test_a_small_models_unsupported_pick_yields_to_the_supported_floor(store: Path) -> None:
    """The embedded model's pick is checked: when its span's sentence says nothing about
    what is asked and another span's does, the supported span answers. A model that is
    not small keeps its pick."""

    def picky(messages, schema):  # type: ignore[no-untyped-def]
        node = node_of(messages)
        if node == "plan":
            return {"sub_questions": [{"question": "Where was Melira Quandt born?", "depends_on": []}]}
        if node == "read":
            return {"answer": "Velda College"}  # named in the passage, but not where she was born
        return {"verdict": "answered", "refined_query": ""}

    small = ScriptedLLM(fn=picky)
    small.small = True
    result = Agent(store, llm=small, embedder="hash", settings=ResearchSettings(reader_llm=True)
                   ).ask("Where was Melira Quandt born?")
    assert result.answer == "Ostrelle"
    assert any(n["kind"] == "reader_pick_unsupported" for n in read_trajectory(result.trajectory).of_type("note"))
    # With reader_llm=None a small model is not asked to pick; the floor stands instead.
    floor = Agent(store, llm=small, embedder="hash", settings=ResearchSettings(reader_llm=None)
                  ).ask("Where was Melira Quandt born?")
    assert floor.answer == "Ostrelle"
    calls = read_trajectory(floor.trajectory).of_type("llm_call")
    assert not [c for c in calls if c["node"] == "read"]
    strong = Agent(store, llm=ScriptedLLM(fn=picky), embedder="hash").ask("Where was Melira Quandt born?")
    assert strong.answer == "Velda College"


def test_a_final_step_needs_a_sentence_that_states_what_is_asked() -> None:
    """The question's own answer is never a stray span, even the reader's pick: a bridge
    step may settle for one, a final step refuses (the evidence is missing)."""
    stray_pick = {"answer": "Pellack", "grounded": True, "supported": False, "source": "reader"}
    assert decide(stray_pick, can_search=False, critic=None) == ANSWERED_V
    assert decide(stray_pick, can_search=False, critic=None, final=True) == UNANSWERABLE_V
    supported = {**stray_pick, "supported": True}
    assert decide(supported, can_search=False, critic=None, final=True) == ANSWERED_V


def test_a_bridge_step_carries_the_chain_on_its_best_grounded_span() -> None:
    floor = {"answer": "Pellack", "grounded": True, "supported": False, "source": "candidate"}
    assert decide(floor, can_search=False, critic=None) == UNANSWERABLE_V
    assert decide(floor, can_search=False, critic=None, bridge=True) == ANSWERED_V
    assert decide({"answer": ""}, can_search=False, critic=None, bridge=True) == UNANSWERABLE_V


def _retry_ctx(retries: int = 2, trusted: bool = False) -> Any:
    from types import SimpleNamespace

    from agentflow.agent.budget import Budget

    notes: list[str] = []
    return SimpleNamespace(settings=ResearchSettings(bridge_retries=retries), budget=Budget(),
                           trusts_reader=lambda: trusted, note=lambda *a, **k: notes.append(a[1]), notes=notes)


def _chain() -> list[dict[str, Any]]:
    bridge = {"id": "1", "text": "Which country premiered Glimmer Tales?", "depends_on": [], "answer": "Vostria",
              "answer_passage": "p1", "supported": True, "about_subject": True, "subject_page": False,
              "alternates": ["Tessel", "Larkia", "Norvane"], "stated_alternates": {"Larkia": "p2", "Norvane": "p3"}}
    final = {"id": "2", "text": "When did #1 join the Union?", "depends_on": ["1"], "resolved":
             "When did Vostria join the Union?", "rounds": 2, "head_ids": ["h"]}
    return [bridge, final]


def test_an_unanswerable_step_is_tried_again_under_its_bridges_stated_runner_ups() -> None:
    from agentflow.agent.verify import _retry_bridge

    ctx, (bridge, final) = _retry_ctx(), _chain()
    usage = {"searches": 0, "llm_calls": 0}
    assert _retry_bridge(final, [bridge, final], ctx, usage)
    # Only a runner-up whose own sentence stated the relation is tried ("Tessel" is not).
    assert bridge["answer"] == "Larkia" and bridge["answer_passage"] == "p2" and bridge["supported"] is False
    assert final["resolved"] == "When did Larkia join the Union?" and final["next_query"] == final["resolved"]
    assert final["rounds"] == ctx.settings.max_rounds - 1 and final["retrying"]
    assert _retry_bridge(final, [bridge, final], ctx, usage) and bridge["answer"] == "Norvane"
    # No runner-up left (at most ``bridge_retries``): the first bridge comes back.
    assert not _retry_bridge(final, [bridge, final], ctx, usage)
    assert bridge["answer"] == "Vostria" and bridge["supported"] is True and bridge["answer_passage"] == "p1"
    assert final["resolved"] == "When did Vostria join the Union?" and final["head_ids"] == ["h"]
    assert ctx.notes == ["bridge_retry", "bridge_retry"]


def test_a_trusted_reader_or_a_step_without_a_bridge_is_not_retried() -> None:
    from agentflow.agent.verify import _retry_bridge

    bridge, final = _chain()
    assert not _retry_bridge(final, [bridge, final], _retry_ctx(trusted=True), {"searches": 0})
    assert not _retry_bridge(final, [bridge, final], _retry_ctx(retries=0), {"searches": 0})
    assert not _retry_bridge(bridge, [bridge, final], _retry_ctx(), {"searches": 0})
    assert bridge["answer"] == "Vostria"


FOUNDERS = [
    {"id": "mill", "title": "Zarn Mill",
     "text": "Zarn Mill is a flour mill on the river Lune. Zarn Mill was founded by Olla Brest and Ivo Tamsk."},
    {"id": "olla", "title": "Olla Brest", "text": "Olla Brest was a miller and a painter of river scenes."},
    {"id": "ivo", "title": "Ivo Tamsk", "text": "Ivo Tamsk was born in 1841 in Ostrelle. He ran the mill for forty years."},
    {"id": "velda", "title": "Velda College", "text": "Velda College is a technical college in Pellack, founded in 1850."},
]


def _ask_llm_free(tmp_path: Path, corpus: list[dict[str, str]], question: str, **settings: Any) -> Any:
    """``question`` asked of a store of ``corpus`` by a small model that answers nothing:
    every step is the code's own (no model plan, no critic)."""
    import json

    from agentflow.store.corpus import CorpusStore
    from agentflow.store.ingest import ingest

    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps(r) for r in corpus) + "\n", encoding="utf-8")
    ingest([tmp_path / "c.jsonl"], CorpusStore(tmp_path / "store", embedder="hash"), progress=False)
    llm = ScriptedLLM(name="none")
    llm.small = True  # type: ignore[attr-defined]
    return Agent(tmp_path / "store", llm=llm, embedder="hash", settings=ResearchSettings(
        plan_llm=False, critic_llm=False, **settings)).ask(question)


@pytest.mark.parametrize("retries", [2, 0], ids=["retried", "not-retried"])
def test_a_bridge_whose_next_hop_finds_nothing_gives_way_to_a_stated_runner_up(
        tmp_path: Path, retries: int) -> None:
    """Two founders are stated; the floor picks the first, whose page says nothing of a
    birth. The runner-up's page does: with retries the run answers from it and cites the
    chain; without, it refuses (the evidence about its bridge is missing)."""
    result = _ask_llm_free(tmp_path, FOUNDERS, "When was the founder of Zarn Mill born?", bridge_retries=retries)
    notes = [n["kind"] for n in read_trajectory(result.trajectory).of_type("note")]
    if retries:
        assert (result.status, result.answer) == ("answered", "1841")
        assert [s.get("answer") for s in result.sub_questions] == ["Ivo Tamsk", "1841"]
        assert [c["id"] for c in result.citations][:2] == ["mill", "ivo"]
        assert "bridge_retry" in notes and "bridge_replaced" in notes
    else:
        assert result.status == "refused" and "bridge_retry" not in notes
        assert result.sub_questions[0]["answer"] == "Olla Brest"


MILL = [
    {"id": "mill", "title": "Zarn Mill",
     "text": "Zarn Mill is a flour mill, born of the great flood of 1790. For a century it was the mill "
             "of Ivo Tamsk and his sons."},
    {"id": "ivo", "title": "Ivo Tamsk", "text": "Ivo Tamsk was born in 1841 in Ostrelle. He ran the mill for forty years."},
    {"id": "olla", "title": "Olla Brest", "text": "Olla Brest, born in 1802 in Pellack, painted Zarn Mill in the flood of 1830."},
]


@pytest.mark.parametrize("stated", [True, False], ids=["stated", "unstated"])
@pytest.mark.parametrize("first", [True, False], ids=["chain-first", "floor"])
def test_an_unsupported_link_keeps_the_chains_answer_when_its_last_step_found_one(
        tmp_path: Path, first: bool, stated: bool) -> None:
    """"it was the mill of Ivo Tamsk" does not state a founder: the chain's first link is
    unsupported, yet the step after it, searched with it, reads a birth year (stated, or
    only in a life span, "(1841-1910)"). That reading stands (``chain_answer_first``);
    without it the single-step floor over the whole question's evidence answers."""
    corpus = MILL if stated else [
        {**r, "text": "Ivo Tamsk (1841-1910) ran the mill for forty years."} if r["id"] == "ivo" else r for r in MILL]
    result = _ask_llm_free(tmp_path, corpus, "When was the founder of Zarn Mill born?", chain_answer_first=first)
    notes = [n["kind"] for n in read_trajectory(result.trajectory).of_type("note")]
    assert [s.get("answer") for s in result.sub_questions] == ["Ivo Tamsk", "1841" if stated else None]
    assert (result.status, result.answer) == ("answered", "1841")
    assert [c["id"] for c in result.citations][:2] == ["mill", "ivo"]
    if first:
        assert "unsupported_link" in notes and "chain_fallback" not in notes
    else:
        assert "chain_fallback" in notes and "unsupported_link" not in notes
