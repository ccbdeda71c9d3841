"""The one tolerant parser every backend's output goes through.

Local and reasoning models wrap their JSON in ``<think>`` blocks, code fences and
prose, leave trailing commas or single quotes, or return the inner object where a
wrapper was asked for. :func:`parse_output` strips the noise, extracts the JSON,
repairs near-JSON and validates it with pydantic, or raises
:class:`OutputParseError` with a message fit to show the model in a re-ask.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, TypeVar, get_args, get_origin

import json_repair
from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

#: How many JSON values found in one output are tried before giving up.
MAX_CANDIDATES = 12
SNIPPET_CHARS = 200

_THINK_BLOCK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</(think|thinking|reasoning)>", re.IGNORECASE)
_THINK_OPEN = re.compile(r"<(think|thinking|reasoning)>", re.IGNORECASE)
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)(?:```|$)", re.DOTALL)


class OutputParseError(ValueError):
    """Model output that holds no JSON value matching the requested type."""


def parse_output(text: str, output_type: type[T]) -> T:
    """Parse a model's raw ``text`` into ``output_type``, tolerating the usual noise.

    Raises :class:`OutputParseError` saying what was wrong, with a snippet of the text.
    """
    cleaned = strip_reasoning(text)
    if not cleaned.strip():
        raise OutputParseError(
            f"empty output, expected a JSON {output_type.__name__}{_snippet(text)}"
        )
    first_error: str | None = None
    for value in _json_candidates(cleaned):
        try:
            return _validate(value, output_type)
        except ValidationError as exc:
            first_error = first_error or _summarise(exc)
    if first_error is None:
        raise OutputParseError(
            f"no JSON object found, expected a {output_type.__name__}{_snippet(text)}"
        )
    raise OutputParseError(
        f"JSON did not match {output_type.__name__}: {first_error}{_snippet(text)}"
    )


def strip_reasoning(text: str) -> str:
    """Drop ``<think>`` blocks: closed ones, a dangling ``</think>`` (the opening tag was
    in the prompt template) and an unterminated ``<think>`` prefix."""
    text = _THINK_BLOCK.sub("", text)
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:
        text = text[closes[-1].end() :]
    # An unterminated block: the answer, if any, is JSON somewhere inside it, which the
    # candidate scan finds; only the tag itself is in the way.
    return _THINK_OPEN.sub("", text)


def _json_candidates(text: str) -> Iterator[Any]:
    """JSON objects/arrays in ``text``, strictly decoded ones first, then repaired ones."""
    for seen, value in enumerate(_strict_values(text)):
        if seen >= MAX_CANDIDATES:
            return
        yield value
    for chunk in _repair_sources(text):
        value = _repair(chunk)
        if isinstance(value, dict | list) and value:
            yield value


def _strict_values(text: str) -> Iterator[Any]:
    decoder = json.JSONDecoder()
    pos = 0
    while True:
        starts = [i for i in (text.find("{", pos), text.find("[", pos)) if i >= 0]
        if not starts:
            return
        start = min(starts)
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            pos = start + 1
            continue
        if isinstance(value, dict | list):
            yield value
        pos = end


def _repair_sources(text: str) -> Iterator[str]:
    # Fenced blocks first: when a model fences its answer, the fence is the answer.
    for match in _FENCE.finditer(text):
        body = match.group(1)
        start = _first_bracket(body)
        if start is not None:
            yield body[start:]
    start = _first_bracket(text)
    if start is not None:
        yield text[start:]


def _first_bracket(text: str) -> int | None:
    hits = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    return min(hits) if hits else None


def _repair(chunk: str) -> Any:
    try:
        return json_repair.loads(chunk)
    except Exception:  # json_repair is best effort; a crash there just means "no candidate"
        return None


def _validate(value: Any, output_type: type[T]) -> T:
    """Validate ``value``, also accepting a bare object or list for a single-field wrapper
    and a one-key wrapper (``{"Answer": {...}}``) around the expected object."""
    try:
        return output_type.model_validate(value)
    except ValidationError as first:
        for alternative in _alternatives(value, output_type):
            try:
                return output_type.model_validate(alternative)
            except ValidationError:
                continue
        raise first


def _alternatives(value: Any, output_type: type[BaseModel]) -> Iterator[Any]:
    fields = output_type.model_fields
    if isinstance(value, dict):
        renamed = _match_key_case(value, fields)
        if renamed is not None:
            yield renamed
    if len(fields) == 1:
        ((name, field),) = fields.items()
        wants_list = get_origin(field.annotation) in (list, tuple, set) or field.annotation in (
            list,
            tuple,
            set,
        )
        if isinstance(value, list) and wants_list:
            yield {name: value}
        elif isinstance(value, dict) and name not in value and field.alias not in value:
            # The bare inner object, or one item where a list of items was expected.
            yield {name: [value]} if _is_model_list(field.annotation) else {name: value}
    if isinstance(value, dict) and len(value) == 1:
        inner = next(iter(value.values()))
        if isinstance(inner, dict):
            yield inner
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        yield value[0]


def _match_key_case(value: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any] | None:
    # Small models often capitalise keys ("Answer"); map them onto the declared names.
    by_lower = {name.lower(): name for name in fields}
    renamed = {by_lower.get(str(k).lower(), k): v for k, v in value.items()}
    return renamed if renamed != value else None


def _is_model_list(annotation: Any) -> bool:
    args = get_args(annotation)
    return bool(args) and isinstance(args[0], type) and issubclass(args[0], BaseModel)


def _summarise(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:4]:
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{loc}: {err['msg']}")
    more = len(exc.errors()) - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) > SNIPPET_CHARS:
        flat = flat[:SNIPPET_CHARS] + "..."
    return f"; output was: {flat!r}"
