"""Packaging: every package folder ships in the wheel, no test fixture does, and the
installed wheel works from another directory (graphs/, prompts/ and tools/ included)."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

MAPPED = {"agentflow": "agentflow", "graphs": "agentflow.graphs", "prompts": "agentflow.prompts",
          "tools": "agentflow.tools", "evals": "agentflow.evals"}


def test_every_package_folder_is_listed(repo_root: Path) -> None:
    listed = set(tomllib.loads((repo_root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = set()
    for top, name in MAPPED.items():
        for init in (repo_root / top).rglob("__init__.py"):
            rel = init.parent.relative_to(repo_root / top)
            if "__pycache__" in rel.parts:
                continue
            found.add(".".join([name, *rel.parts]))
    assert found == listed, f"missing from pyproject: {found - listed}; listed but absent: {listed - found}"


#: A module whose name says it is a test fixture: test files, conftest, fixture and
#: testing helpers (the server's test helpers once shipped as ``agentflow/server/testing.py``).
FIXTURE_NAME = re.compile(r"(^|/)(tests?/|test_[^/]*\.py$|[^/]*_test\.py$|conftest\.py$"
                          r"|testing\.py$|[^/]*fixtures?[^/]*\.py$)")
#: What only tests import: a shipped module importing one of these is test code.
TEST_ONLY_IMPORTS = {"pytest", "hypothesis", "tests", "_pytest"}


def fixture_problems(files: dict[str, str]) -> list[str]:
    """Why each of ``files`` (path -> source) is test-only code, if it is."""
    problems = [f"{path}: named as a test fixture" for path in files if FIXTURE_NAME.search(path)]
    for path, source in files.items():
        if not path.endswith(".py"):
            continue
        for node in ast.walk(ast.parse(source)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                     else [])
            problems += [f"{path}: imports {n}" for n in names if n.split(".")[0] in TEST_ONLY_IMPORTS]
    return problems


def test_no_test_fixture_ships(repo_root: Path) -> None:
    shipped = {str(path.relative_to(repo_root)): path.read_text(encoding="utf-8")
               for top in MAPPED for path in (repo_root / top).rglob("*.py")
               if "__pycache__" not in path.parts}
    assert "evals/world/demo.py" in shipped  # the server's demo mode is a product feature
    assert fixture_problems(shipped) == []
    # The rule catches what it is for.
    assert fixture_problems({"agentflow/server/testing.py": "", "tests/helpers.py": "",
                             "evals/x.py": "import pytest\nfrom tests.research_fixtures import CORPUS"}) \
        == ["agentflow/server/testing.py: named as a test fixture", "tests/helpers.py: named as a test fixture",
            "evals/x.py: imports pytest", "evals/x.py: imports tests.research_fixtures"]


@pytest.mark.slow
def test_wheel_works_outside_the_checkout(repo_root: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist), str(repo_root)], check=True, timeout=300)
    wheel = next(dist.glob("agentflow-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        packed = {n: zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith(".py")}
    assert "agentflow/evals/world/demo.py" in packed and "agentflow/evals/world/reader.py" in packed
    assert fixture_problems(packed) == []
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, timeout=300)
    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "docs.jsonl").write_text(json.dumps({"title": "Ostrelle", "text": "Ostrelle is a town in Parvania."}) + "\n")
    # The installed copy must win over the checkout: run from another folder, wheel first on the path.
    env = {**os.environ, "PYTHONPATH": str(target), "AGENTFLOW_HOME": str(tmp_path / "home"),
           "AGENTFLOW_EMBEDDER": "hash"}
    code = (
        "import agentflow, agentflow.graphs.deep_research, agentflow.tools.corpus_search;"
        "from agentflow.agent.prompting import template_names;"
        f"assert agentflow.__file__.startswith({str(target)!r}), agentflow.__file__;"
        "assert {'plan','read','verify','answer'} <= set(template_names());"
        # The picture's bundled cytoscape.js and page template are package data.
        "import agentflow.tools.web; from agentflow.picture import picture_script, picture_page;"
        "assert 'Cytoscape Consortium' in picture_script()[:2000];"
        "from agentflow.cli.main import main; import sys; sys.argv=['agentflow']+sys.argv[1:]; main()"
    )
    run = lambda *args: subprocess.run([sys.executable, "-c", code, *args], cwd=work, env=env,  # noqa: E731
                                       capture_output=True, text=True, timeout=300)
    ingest = run("ingest", "docs.jsonl", "--json")
    assert ingest.returncode == 0, ingest.stderr
    assert json.loads(ingest.stdout)["added"] == 1
    search = run("search", "Parvania town", "--json")
    assert search.returncode == 0, search.stderr
    assert json.loads(search.stdout)[0]["title"] == "Ostrelle"
    # The server's demo mode runs from the wheel: its world and its scripted reader.
    demo = subprocess.run([sys.executable, "-c", (
        "from agentflow.evals.world.demo import demo_chains, demo_world;"
        "from agentflow.llm import resolve_llm;"
        "resolve_llm('scripted:agentflow.evals.world.reader:read_like_a_model');"
        "print(len(demo_chains()), len(demo_world()))")], cwd=work, env=env, capture_output=True,
        text=True, timeout=300)
    assert demo.returncode == 0 and demo.stdout.split() == ["4", "12"], demo.stderr
