"""The README runs as written: every ``bash`` and ``python`` block, in order, in one shell
session on a fresh home, the way a reader would paste them.

Where a model would be slow the session gets the hashing embedder
(``AGENTFLOW_EMBEDDER=hash``) and a scripted LLM for every model string (a
``sitecustomize`` on ``PYTHONPATH``); ``make`` targets are dry-run (``make -n``), and
``agentflow serve`` runs in the background on a free port until the session ends.
Blocks that are not run are marked ``text``: diagrams, and examples that need a service
the test cannot start (a SearXNG server, a web search API, ``langgraph dev``); the
commands and configuration in those are parsed instead (flags, source specs, JSON).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)

SITECUSTOMIZE = '''
import agentflow.llm as _llm

_real = _llm.resolve_llm


def _scripted(spec=None, **options):
    if spec is None or isinstance(spec, str):
        from agentflow.llm.scripted import ScriptedLLM
        from agentflow.evals.world.reader import read_like_a_model

        return ScriptedLLM(fn=read_like_a_model, name="readme-scripted")
    return _real(spec, **options)


_llm.resolve_llm = _scripted
'''

WAIT_FOR_SERVER = '''python - <<'PYEOF'
import time, httpx
for _ in range(300):
    try:
        if httpx.get("http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
            break
    except httpx.HTTPError:
        time.sleep(0.2)
else:
    raise SystemExit("the README's server did not start: see serve.log")
PYEOF'''


def readme_blocks() -> list[tuple[str, str]]:
    """``(language, code)`` of every fenced block in the README."""
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(README.read_text(encoding="utf-8"))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def session_script(port: int) -> str:
    """The README's blocks as one bash script."""
    lines = ["set -euo pipefail", "trap 'kill $SERVER 2>/dev/null || true' EXIT", "SERVER="]
    for lang, code in readme_blocks():
        code = code.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        if lang == "python":
            lines += ["python - <<'PYEOF'", code.rstrip("\n"), "PYEOF"]
            continue
        assert lang in ("bash", "text"), f"README block without a known language: {lang!r}"
        if lang == "text":
            continue
        for line in code.splitlines():
            command = line.split("  #", 1)[0].strip()
            if command.startswith("make "):
                lines.append(f"make -n {command[5:].split('#')[0].strip()} >/dev/null")
            elif command.startswith("agentflow serve"):
                lines += [f"{command} --port {port} --log-level warning > serve.log 2>&1 &",
                          "SERVER=$!", WAIT_FOR_SERVER.format(port=port)]
            else:
                lines.append(line)
    return "\n".join(lines) + "\n"


def test_every_block_has_a_language() -> None:
    blocks = readme_blocks()
    assert blocks and all(lang in ("bash", "python", "text") for lang, _ in blocks), blocks
    assert sum(lang == "python" for lang, _ in blocks) >= 2


def test_python_snippet_uses_the_store_ingest_wrote() -> None:
    code = "\n".join(c for lang, c in readme_blocks() if lang == "python")
    assert 'Agent("./store"' not in code


def test_examples_that_are_not_run_still_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``agentflow`` command in a ``text`` block names real flags and valid sources,
    and every JSON block loads (as a web search configuration when it is one)."""
    from agentflow.cli.main import app
    from agentflow.tools.web.json_api import JsonApiConfig
    from agentflow.tools.web.sources import engine_for

    monkeypatch.chdir(tmp_path)
    texts = [code for lang, code in readme_blocks() if lang == "text"]
    configs = [code for code in texts if code.lstrip().startswith("{")]
    for code in configs:
        config = json.loads(code)
        if "endpoint" in config:
            (tmp_path / f"{config['name']}.json").write_text(code)
            JsonApiConfig.load(tmp_path / f"{config['name']}.json")
            if config.get("key_env"):  # the reader exports their own key
                monkeypatch.setenv(config["key_env"], "a-key")
    commands = [line.split("  #")[0].strip() for code in texts for line in code.splitlines()
                if "agentflow " in line or "AGENTFLOW_" in line]
    assert commands, "the README's examples moved: update this test"
    sources: list[str] = []
    for command in commands:
        words = shlex.split(command)
        sources += [w.split("=", 1)[1] for w in words if w.startswith("AGENTFLOW_SOURCES=")]
        if words[0] != "agentflow":
            continue
        # --help after the arguments: click rejects an unknown flag before it shows help.
        result = CliRunner().invoke(app, [*words[1:], "--help"])
        assert result.exit_code == 0, f"{command}: {result.output}"
        sources += [words[i + 1] for i, w in enumerate(words) if w == "--source"]
    specs = [spec for value in sources for spec in value.split()]
    assert specs
    for spec in specs:
        if spec != "corpus":
            engine_for(spec)  # a bad spec or an unreadable configuration raises


@pytest.mark.slow
def test_readme_runs_as_written(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        (checkout / name).symlink_to(ROOT / name)
    # A stand-in for the .venv `make` creates: activating it puts this interpreter first.
    venv_bin = checkout / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "activate").write_text(f'export PATH="{Path(sys.executable).parent}:$PATH"\n')
    patch = tmp_path / "patch"
    patch.mkdir()
    (patch / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTFLOW_") or k == "AGENTFLOW_BLOCK_NETWORK"}
    env.update(HOME=str(tmp_path / "home"), AGENTFLOW_EMBEDDER="hash", PYTHONPATH=str(patch),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", COLUMNS="120")
    (tmp_path / "home").mkdir()
    script = session_script(_free_port())
    (tmp_path / "readme.sh").write_text(script)
    done = subprocess.run(["bash", str(tmp_path / "readme.sh")], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=600)
    log = (checkout / "serve.log").read_text() if (checkout / "serve.log").exists() else ""
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}\n{log[-2000:]}"
    assert (tmp_path / "home" / ".agentflow" / "store" / "store.json").is_file()
    assert (tmp_path / "home" / ".agentflow" / "runs" / "first-run" / "trajectory.jsonl").is_file()
    assert "Sources:" in done.stdout
