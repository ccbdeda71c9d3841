"""Model strings resolve to backends; mistakes say what to write instead."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agentflow.errors import ConfigError, DependencyMissingError, UserError
from agentflow.llm import LLM, ScriptedLLM, resolve_llm
from tests.helpers import has_module


def test_openai_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    llm = resolve_llm("openai:gpt-4o-mini")
    assert type(llm).__name__ == "OpenAIChat"
    assert llm.name == "openai:gpt-4o-mini"
    assert llm.model == "gpt-4o-mini"  # type: ignore[attr-defined]
    assert llm.base_url == "https://api.openai.com/v1"  # type: ignore[attr-defined]


def test_openai_compatible_base_url_needs_no_key() -> None:
    llm = resolve_llm("openai:qwen2.5:7b@http://127.0.0.1:11434/v1", max_attempts=2)
    assert llm.model == "qwen2.5:7b"  # type: ignore[attr-defined]
    assert llm.base_url == "http://127.0.0.1:11434/v1"  # type: ignore[attr-defined]
    assert llm.max_attempts == 2  # type: ignore[attr-defined]
    assert llm.name == "openai:qwen2.5:7b@http://127.0.0.1:11434/v1"


def test_openai_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1/")
    llm = resolve_llm("openai:my-model")
    assert llm.base_url == "http://127.0.0.1:8000/v1"  # type: ignore[attr-defined]


def test_openai_without_key_says_what_to_set() -> None:
    with pytest.raises(UserError, match="set OPENAI_API_KEY"):
        resolve_llm("openai:gpt-4o-mini")


@pytest.mark.parametrize(
    ("spec", "needle"),
    [("openai:", "no model"), ("openai:m@127.0.0.1:8080/v1", "bad base URL")],
)
def test_openai_spec_mistakes(spec: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        resolve_llm(spec)


def test_scripted_with_options() -> None:
    llm = resolve_llm("scripted", responses=["hi"])
    assert isinstance(llm, ScriptedLLM)
    assert llm.complete([{"role": "user", "content": "?"}]).text == "hi"


def test_instance_passes_through() -> None:
    llm = ScriptedLLM(["x"])
    assert resolve_llm(llm) is llm


def test_none_uses_configured_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTFLOW_LLM", "scripted")
    assert isinstance(resolve_llm(None), ScriptedLLM)


def test_local_bad_path_is_a_user_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    expected = UserError if has_module("llama_cpp") else DependencyMissingError
    with pytest.raises(expected) as info:
        resolve_llm(f"local:{missing}")
    if expected is UserError:
        assert "no GGUF model file" in str(info.value)
    else:
        assert "pip install 'agentflow[local]'" in str(info.value)


@pytest.mark.skipif(not has_module("llama_cpp"), reason="needs llama-cpp-python")
def test_local_default_and_path(tmp_path: Path) -> None:
    from agentflow.llm.local_backend import LocalLlama, default_gguf_path

    path = default_gguf_path()
    assert path.suffix == ".gguf" and path.is_file()
    default = resolve_llm("local")
    assert isinstance(default, LocalLlama) and default.name == "local"
    explicit = resolve_llm(f"local:{path}", n_ctx=1024)
    assert isinstance(explicit, LocalLlama) and explicit.n_ctx == 1024
    assert explicit.model_path == path.resolve()


@pytest.mark.parametrize(
    ("spec", "suggestion"),
    [
        ("opnai:gpt-4o-mini", "Did you mean 'openai:gpt-4o-mini'?"),
        ("locl", "Did you mean 'local'?"),
        ("scriptd", "Did you mean 'scripted'?"),
        ("ollama:llama3", "openai:MODEL@http://127.0.0.1:11434/v1"),
    ],
)
def test_unknown_prefix_suggests(spec: str, suggestion: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_llm(spec)
    message = str(info.value)
    assert suggestion in message
    assert "openai:MODEL" in message and "local:/path/model.gguf" in message


def test_unknown_prefix_without_close_match() -> None:
    with pytest.raises(ConfigError, match="valid forms are") as info:
        resolve_llm("banana")
    assert "Did you mean" not in str(info.value)


def test_import_is_lazy() -> None:
    code = (
        "import sys, agentflow.llm as m; "
        "assert issubclass(m.ScriptedLLM, m.LLM); "
        "print('openai' in sys.modules, 'llama_cpp' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_lazy_attributes() -> None:
    import agentflow.llm as llm_pkg

    assert issubclass(llm_pkg.OpenAIChat, LLM)
    with pytest.raises(AttributeError):
        llm_pkg.NoSuchBackend  # noqa: B018
