"""Every ``--help`` page reads as written: brackets kept, flags without a value type,
arguments as ``QUERY`` / ``[QUERY]`` / ``PATHS...``, every option's help text shown."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from agentflow.cli.main import app


def _commands(cmd: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = [(path, cmd)]
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        found += _commands(sub, (*path, name))
    return found


ROOT = typer.main.get_command(app)
PAGES = _commands(ROOT)


def _help(path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", "400")  # one line per option: no wrapping to undo
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_has_a_help_page() -> None:
    names = {" ".join(p) for p, _ in PAGES}
    assert {"", "ingest", "search", "ask", "show", "serve", "eval", "eval run", "eval score",
            "eval report"} <= names


@pytest.mark.parametrize("path", [p for p, _ in PAGES], ids=lambda p: " ".join(p) or "agentflow")
def test_help_page_reads_as_documented(path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    text = _help(path, monkeypatch)
    cmd = dict(PAGES)[path]
    assert "<bool>" not in text, text
    assert not re.search(r"\{[a-z_]+\}", text), text
    for param in cmd.params:
        if getattr(param, "hidden", False) or not param.help:
            continue
        written = param.help.replace("\\[", "[")  # as the source wrote it
        assert written in text, f"{param.name}: {written!r} missing from\n{text}"
        if param.param_type_name == "argument":
            assert param.name.upper() in text


def test_documented_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    pages = {" ".join(p): _help(p, monkeypatch) for p, _ in PAGES}
    for name in ("ask", "serve", "eval run"):
        assert "openai:MODEL[@BASE_URL]" in pages[name], name
    for name in ("ingest", "search", "eval run"):
        assert "openai:MODEL[@URL]" in pages[name] and "hash[:DIM]" in pages[name], name
    assert "Usage: agentflow ingest [OPTIONS] PATHS..." in pages["ingest"]
    assert "Usage: agentflow search [OPTIONS] [QUERY]" in pages["search"]
    assert "Usage: agentflow show [OPTIONS] TRAJECTORY" in pages["show"]
    assert "Usage: agentflow eval score [OPTIONS] FOLDERS..." in pages["eval score"]
    assert re.search(r"--store\s+PATH\s", pages["search"])
    assert re.search(r"--json\s+Print", pages["search"])  # a flag: no value shown
    assert re.search(r"--llm\s+SPEC\s", pages["ask"])
