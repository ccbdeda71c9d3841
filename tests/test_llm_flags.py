"""``--llm-timeout`` and ``--llm-attempts`` on ``ask``, ``serve`` and ``eval run``, in the one
precedence order: flags > ``$AGENTFLOW_LLM_TIMEOUT_S`` / ``$AGENTFLOW_LLM_MAX_ATTEMPTS`` >
defaults. Driven against a misbehaving loopback server that counts the requests."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentflow.cli.main import app
from agentflow.errors import ConfigError
from agentflow.evals.fault_server import FaultServer
from agentflow.evals.world.demo import demo_chains
from agentflow.llm import resolve_llm
from agentflow.llm.openai_backend import DEFAULT_MAX_ATTEMPTS, DEFAULT_TIMEOUT_S, OpenAIChat
from tests.helpers import build_store
from tests.test_eval_batch import make_world

TWO_HOP = demo_chains()[0].question


@pytest.fixture(autouse=True)
def _fresh_formats() -> Iterator[None]:
    OpenAIChat.forget_formats()
    yield
    OpenAIChat.forget_formats()


def _always(fault: str, **options: Any) -> FaultServer:
    return FaultServer(lambda n, req: fault, lambda req: "", **options)


def test_precedence_flags_over_environment_over_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = "openai:m@http://127.0.0.1:9/v1"
    llm = resolve_llm(spec, timeout_s=None, max_attempts=None)
    assert (llm.timeout_s, llm.max_attempts) == (DEFAULT_TIMEOUT_S, DEFAULT_MAX_ATTEMPTS)  # type: ignore[attr-defined]
    monkeypatch.setenv("AGENTFLOW_LLM_TIMEOUT_S", "9")
    monkeypatch.setenv("AGENTFLOW_LLM_MAX_ATTEMPTS", "3")
    llm = resolve_llm(spec, timeout_s=None, max_attempts=None)
    assert (llm.timeout_s, llm.max_attempts) == (9.0, 3)  # type: ignore[attr-defined]
    llm = resolve_llm(spec, timeout_s=2.5, max_attempts=1)
    assert (llm.timeout_s, llm.max_attempts) == (2.5, 1)  # type: ignore[attr-defined]


def test_request_flags_on_an_in_process_model_are_an_error_not_ignored() -> None:
    with pytest.raises(ConfigError, match="--llm-timeout"):
        resolve_llm("local", timeout_s=5.0)
    with pytest.raises(ConfigError, match="runs in this process"):
        resolve_llm("scripted", max_attempts=2)
    assert resolve_llm("scripted", timeout_s=None).name == "scripted"


def test_ask_attempts_flag_beats_the_environment(loopback: None, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    store = build_store(tmp_path)
    monkeypatch.setenv("AGENTFLOW_LLM_MAX_ATTEMPTS", "3")
    args = ["ask", TWO_HOP, "--store", str(store), "--json"]
    with _always("http_500") as server:
        result = CliRunner().invoke(app, [*args, "--llm", f"openai:fault-model@{server.base_url}",
                                          "--llm-attempts", "2"])
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["status"] == "error"
    assert len(server.requests) == 2  # the flag's 2, not the environment's 3
    with _always("http_500") as server:
        CliRunner().invoke(app, [*args, "--llm", f"openai:fault-model@{server.base_url}"])
    assert len(server.requests) == 3  # without the flag, the environment decides


def test_ask_timeout_flag_cuts_a_hanging_server(loopback: None, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    store = build_store(tmp_path)
    monkeypatch.setenv("AGENTFLOW_LLM_TIMEOUT_S", "60")
    with _always("hang", hang_s=30) as server:
        started = time.monotonic()
        result = CliRunner().invoke(app, ["ask", TWO_HOP, "--store", str(store), "--json",
                                          "--llm", f"openai:fault-model@{server.base_url}",
                                          "--llm-timeout", "0.5", "--llm-attempts", "1"])
        elapsed = time.monotonic() - started
    assert json.loads(result.stdout)["status"] == "error"
    assert len(server.requests) == 1 and elapsed < 15  # not the environment's 60 s


def test_eval_run_attempts_flag(loopback: None, tmp_path: Path) -> None:
    world = make_world(tmp_path / "world")
    with _always("http_500") as server:
        result = CliRunner().invoke(app, [
            "eval", "run", "--dataset", str(world), "--out", str(tmp_path / "out"), "--graph", "rag",
            "--llm", f"openai:fault-model@{server.base_url}", "--embedder", "hash", "--limit", "1",
            "--llm-attempts", "1", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["errors"] == 1
    assert len(server.requests) == 1


def test_serve_passes_the_flags_to_the_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    import agentflow.server.app as server_app

    seen: dict[str, Any] = {}

    def fake_create_app(agent: Any, **kwargs: Any) -> object:
        seen["llm"] = agent.llm
        return object()

    monkeypatch.setattr(server_app, "create_app", fake_create_app)
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    monkeypatch.setattr(gc, "freeze", lambda: None)  # serve freezes the heap for a long life
    store = build_store(tmp_path)
    result = CliRunner().invoke(app, ["serve", "--store", str(store), "--llm", "openai:m@http://127.0.0.1:9/v1",
                                      "--llm-timeout", "7", "--llm-attempts", "2",
                                      "--checkpointer", f"sqlite:{tmp_path / 'cp.sqlite'}"])
    assert result.exit_code == 0, result.output
    assert (seen["llm"].timeout_s, seen["llm"].max_attempts) == (7.0, 2)
