"""A deterministic stand-in for a model that answers any structured request: the
smallest instance of the JSON schema it was sent (``evals/bench_resume.py`` and
``evals/bench_faults.py`` serve it from :class:`~agentflow.evals.fault_server.FaultServer`)."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["answer_request", "schema_instance"]


def schema_instance(schema: dict[str, Any], defs: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """A small value that validates against ``schema`` (pydantic's JSON schemas)."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if depth > 8:
        return None
    if "$ref" in schema:
        return schema_instance(defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), defs, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key, []) if o.get("type") != "null"]
        if options:
            return schema_instance(options[0], defs, depth + 1)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {k: schema_instance(props.get(k, {}), defs, depth + 1) for k in schema.get("required", props)}
    if kind == "array":
        item = schema_instance(schema.get("items", {}), defs, depth + 1)
        return [item] * int(schema.get("minItems", 0))
    if kind == "string":
        return "unknown".ljust(int(schema.get("minLength", 0)), "x")
    if kind == "integer":
        return int(schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1))
    if kind == "number":
        return float(schema.get("minimum", 0.0))
    if kind == "boolean":
        return False
    return None


def answer_request(request: dict[str, Any]) -> str:
    """The fake model's reply to an OpenAI chat request: an instance of its schema."""
    fmt = request.get("response_format") or {}
    schema = (fmt.get("json_schema") or {}).get("schema") or fmt.get("schema") or {}
    return json.dumps(schema_instance(schema)) if schema else "unknown"
