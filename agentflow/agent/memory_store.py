"""Where a run's memory graph lives: outside the checkpoints, in a LangGraph ``BaseStore``.

The graph state carries only a :class:`MemoryRef` (namespace, run, base and revision);
the graph itself is written as one snapshot when a run starts from earlier memory (a
thread's next turn, a seeded run) plus one small delta per step that changed it.
Checkpoint bytes per step therefore stay flat however large a thread's memory grows.

Layout in the store (labels never contain ``.``, which LangGraph namespaces forbid)::

    ("agentflow", "memory", <thread>)          "snapshot-<base>"  {"graph": node-link JSON}
    ("agentflow", "memory", <thread>, <run>)   "delta-<rev>"      {"nodes": [...], "edges": [...],
                                                                  "removed_nodes": [...], "removed_edges": [...]}

Retention: when a thread's next turn has written its snapshot, the previous turn's
snapshot and deltas are deleted (so a thread holds one snapshot plus the current run's
deltas, and an old checkpoint of an earlier turn can no longer be replayed with its
memory); agentflow's runner deletes a finished run's memory (its result carries the
graph to the thread store).

Without a store (a graph compiled by hand with no ``store=``) the state carries the
node-link JSON itself, as before: :func:`is_ref` tells the two apart.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict

from langgraph.store.base import BaseStore

from agentflow.errors import AgentflowError

ROOT = ("agentflow", "memory")


class MemoryRef(TypedDict):
    """Where a run's memory graph is: ``snapshot-<base>`` plus the run's deltas up to ``rev``."""

    namespace: list[str]
    run: str
    base: int
    rev: int


class MemoryMissingError(AgentflowError):
    """The store lacks a snapshot or delta a memory reference points at."""


def label(text: str) -> str:
    """``text`` as a namespace label (LangGraph forbids ``.`` in labels)."""
    return (text or "default").replace(".", "_")


def is_ref(value: Any) -> bool:
    """Whether a state's ``memory`` is a :class:`MemoryRef` (else node-link JSON or None)."""
    return isinstance(value, dict) and "namespace" in value and "rev" in value


def _edge_key(edge: dict[str, Any]) -> tuple[str, str, str]:
    return (str(edge["source"]), str(edge["target"]), str(edge.get("key", "")))


#: Per-record digests of a node-link graph: ``(nodes by id, edges by (source, target, key))``.
Fingerprint = tuple[dict[str, str], dict[tuple[str, str, str], str]]


def _digest(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)


def fingerprint(data: dict[str, Any] | None) -> Fingerprint:
    """Digests of every node and edge of ``data``, taken now: the live graph may later
    change the very lists the node-link data shares with it, so deltas compare digests,
    never the old records themselves."""
    data = data or {}
    return ({str(n["id"]): _digest(n) for n in data.get("nodes", [])},
            {_edge_key(e): _digest(e) for e in data.get("edges", [])})


def graph_delta(before: Fingerprint, after: dict[str, Any]) -> tuple[dict[str, Any], Fingerprint]:
    """What changed since ``before`` (added or changed nodes and edges as whole records,
    so a delta replays without the graph's own change log, and the ids of removed ones),
    and the fingerprint of ``after``."""
    now = fingerprint(after)
    old_nodes, old_edges = before
    new_nodes, new_edges = now
    delta = {
        "nodes": [n for n in after.get("nodes", []) if old_nodes.get(str(n["id"])) != new_nodes[str(n["id"])]],
        "edges": [e for e in after.get("edges", []) if old_edges.get(_edge_key(e)) != new_edges[_edge_key(e)]],
        "removed_nodes": [i for i in old_nodes if i not in new_nodes],
        "removed_edges": [list(k) for k in old_edges if k not in new_edges],
        "graph": after.get("graph"),
    }
    return delta, now


def apply_delta(data: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    """``data`` with ``delta`` applied (a new dict; ``data`` is not changed)."""
    nodes = {n["id"]: n for n in data.get("nodes", [])}
    edges = {_edge_key(e): e for e in data.get("edges", [])}
    for i in delta.get("removed_nodes", []):
        nodes.pop(i, None)
    for k in delta.get("removed_edges", []):
        edges.pop(tuple(k), None)
    nodes.update({n["id"]: n for n in delta.get("nodes", [])})
    edges.update({_edge_key(e): e for e in delta.get("edges", [])})
    return {**data, "graph": delta.get("graph") or data.get("graph"),
            "nodes": list(nodes.values()), "edges": list(edges.values())}


class StoreMemory:
    """Memory graphs in a LangGraph ``BaseStore`` (SQLite, PostgreSQL, the LangGraph
    server's own), namespaced by thread and run."""

    def __init__(self, store: BaseStore) -> None:
        self.store = store

    def start(self, thread: str, run: str, data: dict[str, Any] | None, rev: int) -> MemoryRef:
        """A reference for a new run of ``thread`` starting from ``data`` at ``rev``
        (written as the turn's snapshot; None: an empty graph)."""
        ns = [*ROOT, label(thread)]
        if data is not None:
            self.store.put(tuple(ns), f"snapshot-{rev:08d}", {"graph": data}, index=False)
        return {"namespace": ns, "run": label(run), "base": rev, "rev": rev}

    def graph_json(self, ref: MemoryRef) -> dict[str, Any] | None:
        """The node-link JSON ``ref`` points at (None: the run started from nothing and
        nothing was written yet)."""
        ns = tuple(ref["namespace"])
        item = self.store.get(ns, f"snapshot-{ref['base']:08d}")
        data = item.value["graph"] if item is not None else None
        run_ns = (*ns, ref["run"])
        for rev in range(ref["base"] + 1, ref["rev"] + 1):
            step = self.store.get(run_ns, f"delta-{rev:08d}")
            if step is None:
                raise MemoryMissingError(
                    f"memory delta {rev} of run {ref['run']} is missing from the store: the run's "
                    "memory store was moved or cleared; start the question again")
            data = apply_delta(data or {"directed": True, "multigraph": True, "nodes": [], "edges": []},
                               step.value)
        return data

    def commit(self, ref: MemoryRef, before: Fingerprint, after: dict[str, Any]) -> tuple[MemoryRef, Fingerprint]:
        """Write the step's delta (``before`` -> ``after``); the next reference and the
        fingerprint of ``after``."""
        rev = ref["rev"] + 1
        delta, now = graph_delta(before, after)
        self.store.put((*ref["namespace"], ref["run"]), f"delta-{rev:08d}", delta, index=False)
        return {**ref, "rev": rev}, now

    def forget(self, ref: MemoryRef, *, snapshot: bool = True) -> None:
        """Delete the run's deltas (and, with ``snapshot``, the snapshot it started from):
        once a later snapshot or the caller holds the graph, they are dead weight."""
        run_ns = (*ref["namespace"], ref["run"])
        for rev in range(ref["base"] + 1, ref["rev"] + 1):
            self.store.delete(run_ns, f"delta-{rev:08d}")
        if snapshot:
            self.store.delete(tuple(ref["namespace"]), f"snapshot-{ref['base']:08d}")
