"""Where agentflow keeps things and how settings are resolved.

Precedence, everywhere: explicit arguments > environment (``AGENTFLOW_*``) >
defaults. ``AGENTFLOW_HOME`` moves all on-disk state at once (stores, runs,
checkpoints), which is what keeps tests hermetic.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_LLM = "local"
DEFAULT_EMBEDDER = "auto"


def home_dir() -> Path:
    """The root of agentflow's on-disk state: ``$AGENTFLOW_HOME`` or ``~/.agentflow``."""
    env = os.environ.get("AGENTFLOW_HOME")
    return Path(env).expanduser() if env else Path.home() / ".agentflow"


def default_store_dir() -> Path:
    """The corpus store used when none is given: ``$AGENTFLOW_STORE`` or ``<home>/store``."""
    env = os.environ.get("AGENTFLOW_STORE")
    return Path(env).expanduser() if env else home_dir() / "store"


def resolve_store_dir(store: str | os.PathLike[str] | None) -> Path:
    """The store directory from an explicit argument, else the environment, else the default."""
    return Path(store).expanduser() if store else default_store_dir()


def runs_dir() -> Path:
    """Where trajectories and the run checkpointer live: ``$AGENTFLOW_RUNS`` or ``<home>/runs``."""
    env = os.environ.get("AGENTFLOW_RUNS")
    return Path(env).expanduser() if env else home_dir() / "runs"


def default_llm_spec() -> str:
    """The LLM model string used when none is given: ``$AGENTFLOW_LLM`` or ``local``."""
    return os.environ.get("AGENTFLOW_LLM", DEFAULT_LLM)


def default_embedder_spec() -> str:
    """The embedder used when none is given: ``$AGENTFLOW_EMBEDDER`` or ``auto``.

    ``auto`` means MiniLM when sentence-transformers is installed, else the
    hashing embedder (with a warning, since its retrieval quality is low).
    """
    return os.environ.get("AGENTFLOW_EMBEDDER", DEFAULT_EMBEDDER)
