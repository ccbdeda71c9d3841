"""Start-up: commands that need no dense embedding never import torch or
sentence-transformers; models load up front under a message that names them; third-party
progress bars stay quiet."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from agentflow.cli.loading import llm_label, preload_embedder, preload_llm
from agentflow.store.corpus import MANIFEST_FILE, CorpusStore
from agentflow.store.ingest import ingest
from tests.helpers import requires_minilm

HEAVY = ("torch", "sentence_transformers", "transformers")
PROBE = """
import json, sys
from agentflow.cli.main import app
try:
    app(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = [m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules]
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def _cli_modules(args: list[str], home: Path) -> dict:
    env = {**os.environ, "AGENTFLOW_HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True,
                          text=True, timeout=120)
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.fixture
def minilm_labelled_store(tmp_path: Path) -> Path:
    """A store whose manifest names MiniLM, built with a hashing embedder of the same
    dimension (so building it loads no model; BM25 search never embeds anyway)."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("Zorvath Industries was founded by Melira Quandt.")
    folder = tmp_path / "home" / "store"
    ingest([tmp_path / "docs"], CorpusStore(folder, embedder="hash:384"))
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest.update(embedder="minilm", embedder_spec="minilm", dim=384)
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    return tmp_path / "home"


@pytest.mark.slow
@requires_minilm
def test_bm25_search_never_imports_torch(minilm_labelled_store: Path) -> None:
    seen = _cli_modules(["search", "Zorvath", "--mode", "bm25", "--json"], minilm_labelled_store)
    assert seen == {"code": 0, "heavy": []}


@pytest.mark.slow
@requires_minilm
def test_hybrid_search_embeds_the_query_without_torch(minilm_labelled_store: Path) -> None:
    seen = _cli_modules(["search", "Zorvath", "--json"], minilm_labelled_store)
    assert seen == {"code": 0, "heavy": []}


@pytest.mark.slow
@requires_minilm
def test_numpy_minilm_matches_sentence_transformers() -> None:
    import numpy as np

    from agentflow.embed import minilm
    from agentflow.embed.minilm_numpy import load_numpy_minilm

    texts = ["who founded Zorvath Industries", "x", "In which town was the founder born? " * 40]
    fast = load_numpy_minilm().encode(texts)
    slow = minilm._load_model().encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert fast.shape == (3, 384) and fast.dtype == np.float32
    assert np.abs(fast - slow).max() < 1e-5  # the long text is cut at 256 tokens by both
    # Once torch is loaded anyway, small batches use it too: the same vectors either way.
    assert np.abs(minilm.MiniLMEmbedder().embed(texts[:1]) - fast[:1]).max() < 1e-5


@pytest.mark.slow
@pytest.mark.parametrize("args", [["--help"], ["search", "--help"], ["eval", "score", "--help"],
                                  ["show", "{trajectory}"]])
def test_light_commands_never_import_torch(args: list[str], tmp_path: Path) -> None:
    trajectory = tmp_path / "t.jsonl"
    trajectory.write_text(json.dumps({"v": 1, "type": "run_start", "run_id": "r", "seq": 0, "t": 0,
                                      "question": "q?"}) + "\n")
    seen = _cli_modules([a.replace("{trajectory}", str(trajectory)) for a in args], tmp_path)
    assert seen == {"code": 0, "heavy": []}


def test_scoring_imports_no_model_library() -> None:
    code = ("import sys, agentflow.scoring.scorer, agentflow.scoring.report, agentflow.cli.show; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stderr


class _SlowEmbedder:
    label = "MiniLM (all-MiniLM-L6-v2)"

    def __init__(self) -> None:
        self.loaded = 0

    def load(self) -> None:
        self.loaded += 1


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=100, force_terminal=False), buf


def test_preload_names_the_model_it_loads() -> None:
    console, buf = _console()
    embedder = _SlowEmbedder()
    preload_embedder(console, embedder)
    assert embedder.loaded == 1
    assert "loaded MiniLM (all-MiniLM-L6-v2) in" in buf.getvalue()


def test_preload_skips_what_has_nothing_to_load() -> None:
    from agentflow.embed import HashingEmbedder
    from agentflow.llm import ScriptedLLM

    console, buf = _console()
    preload_embedder(console, HashingEmbedder())
    preload_llm(console, ScriptedLLM(responses=[]))
    assert buf.getvalue() == ""


def test_llm_labels() -> None:
    class Local:
        name = "local"

    class File:
        name = "local:/m/qwen.gguf"
        model_path = Path("/m/qwen.gguf")

    class Remote:
        name = "openai:gpt-4o-mini"

    assert llm_label(Local()) == "SmolLM2-135M (llama.cpp)"
    assert llm_label(File()) == "qwen.gguf (llama.cpp)"
    assert llm_label(Remote()) is None


def test_third_party_progress_bars_are_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentflow.embed.minilm import quiet_third_party_progress

    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)
    quiet_third_party_progress()
    assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"


@pytest.mark.slow
@requires_minilm
def test_minilm_load_prints_no_progress_bar(tmp_path: Path) -> None:
    code = ("from agentflow.embed import minilm; minilm._load_model(); "  # the torch path
            "print(minilm.MiniLMEmbedder().embed(['x']).shape)")
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_DISABLE_PROGRESS_BARS",)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "(1, 384)" in done.stdout
    assert "Loading weights" not in done.stderr and "it/s" not in done.stderr, done.stderr
