"""The clause plan: sub-questions peeled from a question's nested phrases, in code."""

from __future__ import annotations

import pytest

from agentflow.agent.candidates import answer_candidates, asked_noun
from agentflow.agent.decompose import clause_plan
from agentflow.agent.gazetteer import is_country, is_region
from agentflow.agent.state import validate_plan


def _steps(question: str) -> list[tuple[str, list[int]]]:
    plan = clause_plan(question)
    assert plan is not None, question
    return [(s.question, s.depends_on) for s in plan.sub_questions]


def test_relative_clause_is_the_first_hop() -> None:
    assert _steps("What is the name of the lake in the country where the Vormel River is found?") == [
        ("Which country where the Vormel River is found?", []),
        ("What is the name of the lake in #1?", [1]),
    ]


def test_nested_phrases_peel_innermost_first() -> None:
    steps = _steps("Who was in charge of the country where the composer of Harbentide was a citizen?")
    assert steps == [
        ("Who is the composer of Harbentide?", []),
        ("Which country where #1 was a citizen?", [1]),
        ("Who was in charge of #2?", [2]),
    ]


def test_possessive_and_bare_relative() -> None:
    assert _steps("What kind of ship sank near Oda Lerrin's birthplace?")[0] == (
        "Which birthplace of Oda Lerrin?", [])
    assert _steps("What currency predated the crown in the country Telvane is from?") == [
        ("Which country that Telvane is from?", []),
        ("What currency predated the crown in #1?", [1]),
    ]


def test_a_clause_ends_at_a_comma_but_not_inside_a_name() -> None:
    steps = _steps("What county borders the county in which Pellow, West Varna is located?")
    assert steps[0][0] == "Which county in which Pellow, West Varna is located?"
    steps = _steps("Besides the continent of the river which the Ostra River turns into, where did Quen trade?")
    assert steps[0][0] == "Which river which the Ostra River turns into?"
    assert steps[-1][0] == "Besides #2, where did Quen trade?"


def test_a_subject_relative_keeps_the_setting_of_its_object() -> None:
    # "played Captain Orl in Vessen Dawn" is one role; the outer clause goes on after it.
    steps = _steps("Where was the character played by the actor who played Captain Orl in Vessen Dawn "
                   "born?")
    assert steps[0][0] == "Who is the actor who played Captain Orl in Vessen Dawn?"
    assert "Vessen Dawn" not in steps[1][0]
    # A phrase about the outer clause's own setting is not pulled in: it needs a name and
    # words after it ("the singer who wrote Ember in 1990" keeps "in 1990" outside).
    assert _steps("Where was the singer who wrote Ember in 1990 born?")[0][0] == "Who is the singer who wrote Ember?"


def test_a_predicate_noun_clause_ends_before_the_outer_verb() -> None:
    assert _steps("When did the country in which the performer of Velmora is a citizen become part of "
                  "the Union?") == [
        ("Who is the performer of Velmora?", []),
        ("Which country in which #1 is a citizen?", [1]),
        ("When did #2 become part of the Union?", [2]),
    ]


def test_the_same_thing_as_a_name_is_a_hop() -> None:
    assert _steps("What character comes from the same book as Oda Lerrin?") == [
        ("What is the book of Oda Lerrin?", []), ("What character comes from #1?", [1])]
    # Nested: the place a name is given in stays with it.
    assert [q for q, _ in _steps("In which country is Pelmar, in the same county as Ostra in the same "
                                 "state as KVXR-FM?")] == [
        "Which state of KVXR-FM?", "Which county of Ostra in #1?", "In which country is Pelmar, in #2?"]


def test_a_birthplace_without_its_article_is_a_hop() -> None:
    steps = _steps("What is the main airport in birth place of the director of Harbentide?")
    assert [q for q, _ in steps] == ["Who is the director of Harbentide?", "Which birthplace of #1?",
                                     "What is the main airport in #2?"]


@pytest.mark.parametrize("question", [
    "Who is the wife of Tomas Verrel?",  # one hop: nothing to peel
    "When was Harbentide written?",
    "Is Ostrelle larger than Melira?",
    "What is a term for the city of Ostrelle?",  # "city of X" names a place, it is not a hop
])
def test_one_hop_questions_have_no_clause_plan(question: str) -> None:
    assert clause_plan(question) is None


def test_clause_plans_pass_the_plan_checks() -> None:
    question = "In what county is the city where Dara Voss was born?"
    plan = clause_plan(question)
    assert plan is not None and validate_plan(plan, question, 4) is None


def test_gazetteer_knows_countries_and_states() -> None:
    assert is_country("Zimbabwe") and is_country("the United States") and is_country("South Korea")
    assert not is_country("Matabeleland South") and is_region("Tennessee")


def test_candidates_prefer_the_kind_asked_for() -> None:
    assert asked_noun("Which county in which Pellow is located?") == "county"
    assert asked_noun("What is the name of the lake in Vormel?") == "lake"
    assert asked_noun("Who founded Vormel?") is None
    passages = [{"id": "p1", "title": "Vormel River", "text": (
        "The Vormel River flows through Kaldra District and Matabel Province of Zimbabwe. "
        "It was mapped by Croatian surveyors.")}]
    best = answer_candidates(passages, "Which country where the Vormel River is found?")
    assert best[0].text == "Zimbabwe"
    assert all(c.text != "Croatian" for c in best)  # a demonym is not a name
    passages = [{"id": "p2", "title": "Pellow", "text": "Pellow is a town in Arden and in Marrow County."}]
    assert answer_candidates(passages, "Which county in which Pellow is located?")[0].text == "Marrow County"


def test_a_possessed_noun_group_and_a_title_with_an_abbreviation_stay_whole() -> None:
    # The possessed noun keeps its modifiers and stops before the outer verb.
    assert _steps("Who is the spouse of Wide Eye's main director?")[0] == (
        "Who is the main director of Wide Eye?", [])
    assert _steps("Which region is Corin Tayle's city of birth located?") == [
        ("Which birth city of Corin Tayle?", []),
        ("Which region is #1 located?", [1]),
    ]
    assert _steps("When did the country of Izgal's performer invade Mardia?")[0] == (
        "Who is the performer of Izgal?", [])
    # "The Oddities of Mr. Cool" is one title: its dot ends no name.
    assert _steps("Which river runs through the birthplace of the person who made The Oddities "
                  "of Mr. Cool?")[0] == ("Who made The Oddities of Mr. Cool?", [])
    # "und" joins a title's words like "and".
    assert _steps("What piece by the composer of Bastel und Bastella is famous?")[0] == (
        "Who is the composer of Bastel und Bastella?", [])


def test_a_clause_ending_in_part_of_ends_before_the_outer_verb() -> None:
    assert _steps("Where is the district that Vell Knot is part of located in Ostria?") == [
        ("Which district that Vell Knot is part of?", []),
        ("Where is #1 located in Ostria?", [1]),
    ]


def test_a_name_before_a_person_noun_is_whose_it_is() -> None:
    assert _steps("Who played the It'll Be Zarn singer in Walk the Vell?") == [
        ("Who is the singer of It'll Be Zarn?", []),
        ("Who played #1 in Walk the Vell?", [1]),
    ]
    assert _steps("When was the Vell Rovers manager born?")[0] == ("Who is the manager of Vell Rovers?", [])
    # A people's adjective or a noun whose clause names its owner is no such hop.
    assert clause_plan("Who is the Ostrian singer?") is None
    plan = clause_plan("When was the Vell singer who recorded Zarn Song born?")
    assert plan is None or "singer of Vell" not in plan.sub_questions[0].question


@pytest.mark.parametrize(("question", "noun"), [
    ("What is the political party that Sergio Tolan belongs to?", "party"),
    ("What is the main international airport in Ostrelle?", "airport"),
    ("What movie stars Tomas Verrel?", "movie"),  # "stars" is the verb
    ("What county shares a border with Vell County?", "county"),
    ("What is the name of the waterfall in Ostrelle?", "waterfall"),
    ("Who is the wife of Tomas Verrel?", None),
])
def test_the_asked_noun_is_the_head_of_its_noun_group(question: str, noun: str | None) -> None:
    assert asked_noun(question) == noun
