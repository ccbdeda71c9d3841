"""Moving the memory graph between where it lives and a live
:class:`~agentflow.memory.graph.MemoryGraph`, recording each node's changes.

With a store (:class:`~agentflow.agent.memory_store.StoreMemory`, the usual case) the
state's ``memory`` is a reference and each save writes one delta; without one it is
the node-link JSON itself. The live graph is cached on the run's own context, by
revision, so consecutive nodes do not rebuild it; the cache is never shared between
runs, so two threads at the same revision cannot read each other's graph.
"""

from __future__ import annotations

from typing import Any

from agentflow.agent.context import RunContext
from agentflow.agent.memory_store import fingerprint, is_ref
from agentflow.memory.graph import MemoryGraph


def memory_json(state: dict[str, Any], ctx: RunContext) -> dict[str, Any] | None:
    """The node-link JSON of the state's memory graph (None: no memory yet)."""
    data = state.get("memory")
    if is_ref(data):
        if ctx.memory_store is None:
            raise RuntimeError("the state's memory lives in a store, but this graph runs without "
                               "one: compile it with the store it was run with")
        return ctx.memory_store.graph_json(data)
    return data or None


def load_memory(state: dict[str, Any], ctx: RunContext) -> MemoryGraph:
    """The run's memory graph: the cached live graph when it matches the state's
    revision, else rebuilt from where it lives (after a resume, or in another process)."""
    rev = int(state.get("memory_rev", 0))
    if ctx._memory is not None and ctx._memory[0] == rev:
        return ctx._memory[1]
    data = memory_json(state, ctx)
    # Passage embeddings survive across revisions (same embedder, same passage ids).
    cache = ctx._memory[1].embedding_cache if ctx._memory is not None else None
    graph = (MemoryGraph.from_json(data, embedder=ctx.embedder, embedding_cache=cache)
             if data else MemoryGraph(embedder=ctx.embedder))
    graph.drain_changes()  # what was loaded is not a change
    ctx._memory = (rev, graph, fingerprint(data) if is_ref(state.get("memory")) else None)
    return graph


def save_memory(graph: MemoryGraph, state: dict[str, Any], ctx: RunContext, *, node: str,
                sub_question: str | None = None) -> dict[str, Any]:
    """The state update that stores ``graph``; its changes go to the trajectory."""
    changes = graph.drain_changes()
    if changes.get("nodes") or changes.get("edges"):
        ctx.recorder.record("memory_delta", node=node, sub_question=sub_question, **changes)
    rev = int(state.get("memory_rev", 0)) + 1
    after = graph.to_json()
    ref = state.get("memory")
    if not (is_ref(ref) and ctx.memory_store is not None):
        ctx._memory = (rev, graph, None)
        return {"memory": after, "memory_rev": rev}
    cached = ctx._memory
    before = cached[2] if cached is not None and cached[0] == rev - 1 and cached[2] is not None \
        else fingerprint(memory_json(state, ctx))
    ref, now = ctx.memory_store.commit({**ref, "rev": rev - 1}, before, after)
    ctx._memory = (rev, graph, now)
    return {"memory": ref, "memory_rev": rev}


def run_passages(graph: MemoryGraph) -> dict[str, dict[str, Any]]:
    """Every passage the run has retrieved (from its memory graph), by id, as the
    ``{"id", "title", "text"}`` dicts the reader and the answer node work with."""
    out = {}
    for pid in graph.passage_ids():
        p = graph.passage(pid)
        if p is not None:
            out[pid] = {"id": pid, "title": p.title, "text": p.text}
    return out
