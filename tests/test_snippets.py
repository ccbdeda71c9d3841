"""Display text for citations and passages: clean, joined, cut at word boundaries; titles
of .txt and .md files derived the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentflow.snippets import ELLIPSIS, cut_words, display_text, snippet
from agentflow.store.titles import document_title, title_from_stem

MD = """# Elda Morrow

Elda Morrow was a **cartographer** born in
the town of *Brevik*, on the [river Esk](http://x).

- She mapped the `northern` coast.
- She founded the Morrow Society.
"""


def test_display_text_removes_marks_and_joins_hard_breaks() -> None:
    text = display_text(MD)
    assert text.startswith("Elda Morrow\n\nElda Morrow was a cartographer born in the town of Brevik, on the river Esk.")
    assert "#" not in text and "*" not in text and "](" not in text and "`" not in text
    assert "\n• She mapped the northern coast.\n• She founded the Morrow Society." in text


def test_display_text_drops_a_heading_that_repeats_the_title() -> None:
    assert display_text(MD, title="Elda Morrow").startswith("Elda Morrow was a cartographer")


def test_snippet_is_one_line_cut_at_a_word() -> None:
    s = snippet(MD, 60, title="Elda Morrow")
    assert "\n" not in s and len(s) <= 60 and s.endswith(ELLIPSIS)
    assert s == "Elda Morrow was a cartographer born in the town of Brevik" + ELLIPSIS
    assert snippet("short text") == "short text"


@pytest.mark.parametrize("text,limit,want", [
    ("alpha beta gamma", 100, "alpha beta gamma"),
    ("alpha beta gamma", 12, "alpha beta" + ELLIPSIS),
    ("supercalifragilistic", 8, "superca" + ELLIPSIS),
    ("one, two, three", 10, "one, two" + ELLIPSIS),
])
def test_cut_words(text: str, limit: int, want: str) -> None:
    assert cut_words(text, limit) == want
    assert len(cut_words(text, limit)) <= limit


def test_stored_text_is_untouched() -> None:
    original = MD
    display_text(original)
    snippet(original)
    assert original == MD


def test_titles_are_derived_the_same_way_for_txt_and_md(tmp_path: Path) -> None:
    body = "# Elda Morrow\n\nElda Morrow was a cartographer."
    assert document_title(tmp_path / "elda.md", body) == "Elda Morrow"
    assert document_title(tmp_path / "elda.txt", body) == "Elda Morrow"
    plain = "Mina Sorrel was a painter."
    assert document_title(tmp_path / "mina_sorrel.txt", plain) == "Mina Sorrel"
    assert document_title(tmp_path / "mina_sorrel.md", plain) == "Mina Sorrel"
    assert document_title(tmp_path / "x.txt", "Mina Sorrel\n===========\n\ntext") == "Mina Sorrel"


def test_title_from_stem_keeps_deliberate_capitals() -> None:
    assert title_from_stem("mina_sorrel") == "Mina Sorrel"
    assert title_from_stem("NASA-report") == "NASA report"
    assert title_from_stem("curie") == "Curie"


def test_cli_tables_show_clean_snippets() -> None:
    import io

    from rich.console import Console

    from agentflow.cli.progress import render_result
    from agentflow.cli.show import _render_final

    citation = {"id": "p1", "title": "Elda Morrow", "text": MD + " [note] " + "word " * 80}
    final = {"answer": "Brevik", "status": "answered", "citations": [citation], "usage": {}}

    class Result:
        status, answer, error, sub_questions, citations = "answered", "Brevik", None, [], [citation]
        usage, run_id, trajectory = {}, "r", "t.jsonl"

    for render in (lambda c: render_result(c, Result()), lambda c: _render_final(c, final)):
        buf = io.StringIO()
        render(Console(file=buf, width=300))
        out = buf.getvalue()
        assert "# Elda" not in out and "**" not in out
        assert "Elda Morrow was a cartographer born in the town of Brevik" in out
        assert ELLIPSIS in out
