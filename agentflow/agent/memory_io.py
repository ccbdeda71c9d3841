"""Moving the memory graph between the graph state (node-link JSON) and a live
:class:`~agentflow.memory.graph.MemoryGraph`, recording each node's changes."""

from __future__ import annotations

from typing import Any

from agentflow.agent.context import RunContext
from agentflow.memory.graph import MemoryGraph


def load_memory(state: dict[str, Any], ctx: RunContext) -> MemoryGraph:
    """The run's memory graph: the cached live graph when it matches the state's
    revision, else rebuilt from the state (after a resume, or in another process)."""
    rev = int(state.get("memory_rev", 0))
    if ctx._memory is not None and ctx._memory[0] == rev:
        return ctx._memory[1]
    data = state.get("memory")
    # Passage embeddings survive across revisions (same embedder, same passage ids).
    cache = ctx._memory[1].embedding_cache if ctx._memory is not None else None
    graph = (MemoryGraph.from_json(data, embedder=ctx.embedder, embedding_cache=cache)
             if data else MemoryGraph(embedder=ctx.embedder))
    graph.drain_changes()  # what was loaded is not a change
    ctx._memory = (rev, graph)
    return graph


def save_memory(graph: MemoryGraph, state: dict[str, Any], ctx: RunContext, *, node: str,
                sub_question: str | None = None) -> dict[str, Any]:
    """The state update that stores ``graph``; its changes go to the trajectory."""
    changes = graph.drain_changes()
    if changes.get("nodes") or changes.get("edges"):
        ctx.recorder.record("memory_delta", node=node, sub_question=sub_question, **changes)
    rev = int(state.get("memory_rev", 0)) + 1
    ctx._memory = (rev, graph)
    return {"memory": graph.to_json(), "memory_rev": rev}
