"""Graph names users pass to ``--graph``, mapped to their builders."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable

from langgraph.graph import StateGraph

from agentflow.errors import ConfigError

GRAPHS: dict[str, str] = {
    "deep_research": "agentflow.graphs.deep_research",
    "rag": "agentflow.graphs.rag",
    "react": "agentflow.graphs.react",
    "report": "agentflow.graphs.report",
}


def graph_builder(name: str) -> Callable[[], StateGraph]:
    """The ``build`` function of graph ``name`` (``deep_research``, ``rag``, ``react``, ``report``)."""
    key = name.replace("-", "_")
    if key not in GRAPHS:
        close = difflib.get_close_matches(key, GRAPHS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown graph {name!r}: choose one of {', '.join(GRAPHS)}.{hint}")
    return importlib.import_module(GRAPHS[key]).build
