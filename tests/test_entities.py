"""The LLM-free entity extractor and entity-name normalisation."""

from __future__ import annotations

import time

import pytest

from agentflow.memory.entities import extract_entities, normalize_entity


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            (
                "The Journal of Mathematical Physics is published by the American Institute of "
                "Physics."
            ),
            ["Journal of Mathematical Physics", "American Institute of Physics"],
        ),
        (
            "In 1854 he lectured at the University of Göttingen.",
            ["1854", "University of Göttingen"],
        ),
        (
            "He met Simone de Beauvoir and Ludwig van Beethoven.",
            ["Simone de Beauvoir", "Ludwig van Beethoven"],
        ),
        ("The editor is George T. Solomon.", ["George T. Solomon"]),
        (
            "She was born on 12 March 1990 and died March 4, 2020.",
            ["12 March 1990", "March 4, 2020"],
        ),
        ("However, NASA and the U.S. Army disagreed.", ["NASA", "U.S.", "Army"]),
        (
            'A sister of "Adweek" and “The Hollywood Reporter”.',
            ["Adweek", "The Hollywood Reporter"],
        ),
        ("After World War II, New York grew.", ["World War II", "New York"]),
        ("Einstein's theory was new.", ["Einstein"]),
    ],
)
def test_extract_entities_examples(text: str, expected: list[str]) -> None:
    assert extract_entities(text) == expected


def test_sentence_initial_stopwords_and_lone_months_are_skipped() -> None:
    found = extract_entities("He left. They stayed. In March it rained. However, It was Paris.")
    assert found == ["Paris"]


def test_entities_are_deduplicated_in_order() -> None:
    text = "Paris is in France. The city of Paris is large; france is its country, France."
    assert extract_entities(text) == ["Paris", "France"]


def test_long_quotations_yield_the_names_inside() -> None:
    text = (
        '"We will meet again in Paris after the long war has finally ended for good," '
        "said Jean Monnet."
    )
    assert extract_entities(text) == ["Paris", "Jean Monnet"]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("The Beatles", "beatles"),
        ("U.S.", "us"),
        ("Jean-Paul  Sartre", "jean paul sartre"),
        ("Émile Zola", "emile zola"),
        ("O'Brien's", "obrien"),
        ("  the Hollywood Reporter ", "hollywood reporter"),
    ],
)
def test_normalize_entity(name: str, key: str) -> None:
    assert normalize_entity(name) == key


def test_extraction_has_no_pathological_slowdown_on_long_text() -> None:
    """Speed itself is measured by the ingest benchmark (evals/); this only guards against
    a regex that backtracks badly on long text, with a bound ~100x the normal cost so a
    loaded machine never trips it."""
    passage = (
        "The Journal of Mathematical Physics is a peer-reviewed journal published monthly by the "
        "American Institute of Physics. It was first published in January 1960 and edited by "
        "George T. Solomon of the University of Chicago in the United States. "
    ) * 40
    started = time.perf_counter()
    names = extract_entities(passage)
    assert "American Institute of Physics" in names
    assert time.perf_counter() - started < 2.0
