"""One-hop steps of a chain answered about the entity they name, comparisons decided in
code, and the clause plan of the questions a chain is made of (LLM-free)."""

from __future__ import annotations

import pytest

from agentflow.agent.candidates import answer_candidates
from agentflow.agent.compare import comparison, decide
from agentflow.agent.decompose import clause_plan

NAMESAKES = [
    {"id": "a", "title": "Thador Grathvan",
     "text": "Thador Grathvan was born in Thernso Falls. His year of birth was 1782."},
    {"id": "b", "title": "Thador Destam",
     "text": "Born in Dungrernnin Falls in 1786, Thador Destam became a stage actor."},
]


def test_a_one_hop_answer_is_stated_about_the_entity_it_names() -> None:
    # The namesake's passage ranks first; the answer is in the passage about the entity.
    cands = answer_candidates(NAMESAKES, "When was Thador Destam born?")
    assert cands[0].text == "1786"
    assert cands[0].about_subject is True
    namesake = next(c for c in cands if c.text == "1782")
    assert namesake.about_subject is False
    off = answer_candidates(NAMESAKES, "When was Thador Destam born?", named_subjects=False)
    assert {c.text: c.score for c in off}["1786"] < cands[0].score


def test_a_nesting_question_does_not_favour_its_named_entitys_passage() -> None:
    cands = answer_candidates(NAMESAKES, "Which country is home to the birthplace of Thador Destam?")
    assert all(c.about_subject is None for c in cands)


def test_a_place_name_that_looks_like_a_demonym_is_kept_after_a_place_cue() -> None:
    passages = [{"id": "f", "title": "Fishys", "text": "Fishys lies in Rogenistan. It sits on a river delta."}]
    cands = answer_candidates(passages, "Which country is home to Fishys?")
    assert cands and cands[0].text == "Rogenistan" and cands[0].relation_hits > 0
    adjective = [{"id": "g", "title": "Mara Velt", "text": "Mara Velt is a Croatian singer born in Split."}]
    assert "Croatian" not in [c.text for c in answer_candidates(adjective, "Where was Mara Velt born?")]


@pytest.mark.parametrize(
    ("question", "options", "earliest", "verb"),
    [
        ("Who was born earlier, Dravou Stylnestaind or Bobair Sheanrea?",
         ["Dravou Stylnestaind", "Bobair Sheanrea"], True, "born"),
        ("Which person was born first: Gara Koursour or Tindla Leveven?",
         ["Gara Koursour", "Tindla Leveven"], True, "born"),
        ("Which magazine was started later, Arthur's Magazine or First for Women?",
         ["Arthur's Magazine", "First for Women"], False, "started"),
        ("Who is younger, Mara Velt or Orlo Brant?", ["Mara Velt", "Orlo Brant"], False, "born"),
    ],
)
def test_comparisons_are_read_from_the_wording(question: str, options: list[str], earliest: bool,
                                                verb: str) -> None:
    comp = comparison(question)
    assert comp is not None
    assert comp.options == options and comp.earliest is earliest and comp.verb == verb


@pytest.mark.parametrize("question", [
    "Who was born earlier, the founder of Vata Industries or the author of Henlyr?",  # hops left
    "Who founded Vata Industries?",
    "Is Fishys or Port Meady larger?",
])
def test_what_is_not_a_comparison_of_two_names(question: str) -> None:
    assert comparison(question) is None


def test_a_comparison_is_decided_by_the_dates_the_passages_state() -> None:
    passages = [
        {"id": "x", "title": "Gara Koursour", "text": "Gara Koursour (born 1841) was a painter."},
        {"id": "y", "title": "Tindla Leveven", "text": "Tindla Leveven was born in Fishys in 1822."},
        {"id": "z", "title": "Fishys", "text": "Fishys was founded in 1700."},
    ]
    comp = comparison("Which person was born first: Gara Koursour or Tindla Leveven?")
    assert comp is not None
    won = decide(comp, passages)
    assert won is not None and won.text == "Tindla Leveven" and won.passage_id == "y"
    later = comparison("Who was born later, Gara Koursour or Tindla Leveven?")
    assert later is not None and decide(later, passages).text == "Gara Koursour"  # type: ignore[union-attr]
    # A date that is missing leaves the decision to the reader.
    assert decide(comp, passages[:1]) is None


@pytest.mark.parametrize(
    ("question", "steps"),
    [
        ("When was the person married to Shyvend Lobrorbre born?",
         ["Who is the person married to Shyvend Lobrorbre?", "When was #1 born?"]),
        ("When was the university where Sharnern Rirno studied founded?",
         ["What is the university where Sharnern Rirno studied?", "When was #1 founded?"]),
        ("In which country is the city where the founder of the university Broutaith Samhernkre "
         "attended was born?",
         ["What is the university that Broutaith Samhernkre attended?", "Who is the founder of #1?",
          "Which city where #2 was born?", "In which country is #3?"]),
        ("Where was the person married to the artist who recorded Songs from Birgergas born?",
         ["Who is the artist who recorded Songs from Birgergas?", "Who is the person married to #1?",
          "Where was #2 born?"]),
        # A passive clause ends where the outer verb starts.
        ("When did the state where Pocahontas Mounds is located become part of the United States?",
         ["Which state where Pocahontas Mounds is located?", "When did #1 become part of the United States?"]),
        ("When did the country where the city where Steven Blankaart was born is located refuse "
         "to surrender Namibia?",
         ["Which city where Steven Blankaart was born?", "Which country where #1 is located?",
          "When did #2 refuse to surrender Namibia?"]),
        # A question opening with its nested phrase; a present participle; a relative
        # clause without its marker whose subject starts with "the"; "place of birth".
        ("The state where Henry Worrall died has how many congressional districts?",
         ["Which state where Henry Worrall died?", "#1 has how many congressional districts?"]),
        ("When did the country containing Nugegoda leave the British Empire?",
         ["Which country containing Nugegoda?", "When did #1 leave the British Empire?"]),
        ("Who are the candidates for governor in the state the Battle of Mine Creek was fought?",
         ["Which state that the Battle of Mine Creek was fought?", "Who are the candidates for governor in #1?"]),
        ("What district is LaHave of the place of birth of David Morse located?",
         ["Which birthplace of David Morse?", "What district is LaHave of #1 located?"]),
    ],
)
def test_clause_plans_of_chains(question: str, steps: list[str]) -> None:
    plan = clause_plan(question)
    assert plan is not None
    assert [s.question for s in plan.sub_questions] == steps
