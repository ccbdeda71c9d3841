"""Test-wide set-up: hermetic on-disk state and a network guard.

Every test gets its own ``AGENTFLOW_HOME`` (so nothing touches ``~/.agentflow``),
and real network backends refuse to send requests unless a test asks for the
``loopback`` fixture, which allows servers on this machine only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentflow.llm import guard

# Subprocesses started by tests inherit this: they may reach loopback servers only.
os.environ["AGENTFLOW_BLOCK_NETWORK"] = "loopback"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(autouse=True)
def _hermetic_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("agentflow-home")
    monkeypatch.setenv("AGENTFLOW_HOME", str(home))
    for var in ("AGENTFLOW_STORE", "AGENTFLOW_RUNS", "AGENTFLOW_LLM", "AGENTFLOW_EMBEDDER"):
        monkeypatch.delenv(var, raising=False)
    # No real OpenAI key may leak into a test.
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


@pytest.fixture(autouse=True)
def _block_network() -> Iterator[None]:
    with guard.block_network(allow_loopback=False):
        yield


@pytest.fixture
def loopback() -> Iterator[None]:
    """Allow real backends to reach servers on 127.0.0.1 / localhost during this test."""
    with guard.allow_loopback():
        yield


@pytest.fixture
def repo_root() -> Path:
    """The checkout's root folder."""
    return Path(__file__).resolve().parent.parent
