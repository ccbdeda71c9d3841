"""Loading models before the work starts, saying so: ``loading MiniLM…``, ``loading SmolLM2…``.

A cold start spends most of its time importing and loading models (torch and
sentence-transformers alone take seconds). Doing it up front, under a spinner that
names the model, keeps that time out of the run's own clock and tells the person why
nothing has happened yet.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console

__all__ = ["llm_label", "preload_embedder", "preload_llm"]


def llm_label(llm: Any) -> str | None:
    """What to call an in-process model while it loads; None for remote ones (nothing to load)."""
    name = str(getattr(llm, "name", ""))
    if name == "local":
        return "SmolLM2-135M (llama.cpp)"
    if name.startswith("local:"):
        path = getattr(llm, "model_path", None)
        return f"{getattr(path, 'name', name[6:])} (llama.cpp)"
    return None


def _timed(console: Console, label: str, load: Any) -> None:
    started = time.perf_counter()
    with console.status(f"loading {label}…", spinner="dots"):
        load()
    console.print(f"[dim]loaded {label} in {time.perf_counter() - started:.1f}s[/]")


def preload_embedder(console: Console, embedder: Any) -> None:
    """Load the embedder's model now (only embedders with one, such as MiniLM, take time)."""
    label = getattr(embedder, "label", "")
    load = getattr(embedder, "load", None)
    if label and load is not None:
        _timed(console, label, load)


def preload_llm(console: Console, llm: Any) -> None:
    """Load an in-process LLM now; remote backends have nothing to load."""
    label = llm_label(llm)
    # LocalLlama loads on its first request; ``_model`` is that loader (kept by the backend).
    load = getattr(llm, "load", None) or getattr(llm, "_model", None)
    if label and load is not None:
        _timed(console, label, load)
