"""Packaging: every package folder ships in the wheel, and the installed wheel works
from another directory (graphs/, prompts/ and tools/ included)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
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


@pytest.mark.slow
def test_wheel_works_outside_the_checkout(repo_root: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist), str(repo_root)], check=True, timeout=300)
    wheel = next(dist.glob("agentflow-*.whl"))
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
