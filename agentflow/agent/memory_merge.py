"""Merging what parallel branches wrote into one memory graph, the same way whatever
order they finished in.

Each branch started from the same graph (``base``) and reports what it changed as a
delta (:func:`agentflow.agent.memory_store.graph_delta`). Deltas are applied in plan
order, with the rules the graph's own writers follow one after another:

- a node or edge new to the merged graph is added;
- one an earlier branch added already keeps its values and gains only what it lacked
  (as :meth:`MemoryGraph._add_node` fills in a placeholder);
- a change a branch made to something ``base`` had (a sub-question's answer, a fact's
  sub-question) is taken, a later branch's over an earlier one's;
- a retrieval score keeps the highest (as ``add_passage`` does).

Fact ids (``f:<n>``) are counters, so two branches may name different facts alike:
a fact is matched by what it is (its passage and normalised text, the graph's own dedup
key) and gets the merged graph's next free number when it is new.
"""

from __future__ import annotations

import copy
from typing import Any

_EMPTY = {"directed": True, "multigraph": True, "graph": {}, "nodes": [], "edges": []}


def _edge_key(edge: dict[str, Any]) -> tuple[str, str, str]:
    return str(edge["source"]), str(edge["target"]), str(edge.get("key", ""))


def _fact_key(node: dict[str, Any]) -> tuple[str, str]:
    return str(node.get("source", "")), " ".join(str(node.get("text", "")).split()).casefold()


def _fact_number(node_id: str) -> int:
    try:
        return int(node_id.split(":", 1)[1])
    except (IndexError, ValueError):
        return 0


def _merge_record(merged: dict[str, Any], new: dict[str, Any], base: dict[str, Any] | None) -> None:
    """Fold ``new`` (a branch's version of a record) into ``merged`` in place."""
    for name, value in new.items():
        if name == "score" and isinstance(value, int | float) and isinstance(merged.get(name), int | float):
            merged[name] = max(merged[name], value)
        elif base is not None and value != base.get(name):
            merged[name] = value  # the branch changed what the fan-out started from
        elif value not in (None, "") and merged.get(name) in (None, ""):
            merged[name] = value


def merge_memory(base: dict[str, Any] | None, deltas: list[dict[str, Any]]) -> dict[str, Any]:
    """``base`` (node-link JSON, None: empty) with every branch's delta applied, in the
    order given (plan order), by the rules in the module docstring."""
    data = copy.deepcopy(base) if base else copy.deepcopy(_EMPTY)
    base_nodes = {n["id"]: n for n in (base or _EMPTY)["nodes"]}
    base_edges = {_edge_key(e): e for e in (base or _EMPTY)["edges"]}
    nodes = {n["id"]: n for n in data["nodes"]}
    edges = {_edge_key(e): e for e in data["edges"]}
    facts = {_fact_key(n): n["id"] for n in nodes.values() if n.get("type") == "fact"}
    next_fact = max((_fact_number(i) for i in facts.values()), default=0) + 1
    for delta in deltas:
        renamed: dict[str, str] = {}
        for node in delta.get("nodes", []):
            node = copy.deepcopy(node)
            if node.get("type") == "fact":
                key = _fact_key(node)
                if key not in facts:
                    facts[key] = f"f:{next_fact}"
                    next_fact += 1
                renamed[node["id"]] = node["id"] = facts[key]
            if node["id"] in nodes:
                _merge_record(nodes[node["id"]], node, base_nodes.get(node["id"]))
            else:
                nodes[node["id"]] = node
        for edge in delta.get("edges", []):
            edge = copy.deepcopy(edge)
            edge["source"] = renamed.get(edge["source"], edge["source"])
            edge["target"] = renamed.get(edge["target"], edge["target"])
            key = _edge_key(edge)
            if key in edges:
                _merge_record(edges[key], edge, base_edges.get(key))
            else:
                edges[key] = edge
        for node_id in delta.get("removed_nodes", []):
            nodes.pop(node_id, None)
        for key in delta.get("removed_edges", []):
            edges.pop(tuple(key), None)
        if delta.get("graph"):
            data["graph"] = delta["graph"]
    data["nodes"], data["edges"] = list(nodes.values()), list(edges.values())
    return data
