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
#: How many bracket positions the strict scan may try that do not decode: bounds the
#: work on adversarial text such as ``"[" * 70_000`` (each failed try can cost O(n)).
MAX_FAILED_STARTS = 32
#: Longest output (after ``<think>`` removal) the parser looks at; calls ask for a few
#: hundred tokens, so anything longer is a misbehaving server, not an answer.
MAX_PARSE_CHARS = 100_000
SNIPPET_CHARS = 200

_THINK_TAG = re.compile(r"<(/?)(think|thinking|reasoning)>", re.IGNORECASE)
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)(?:```|$)", re.DOTALL)


class OutputParseError(ValueError):
    """Model output that holds no JSON value matching the requested type."""


def parse_output(text: str, output_type: type[T]) -> T:
    """Parse a model's raw ``text`` into ``output_type``, tolerating the usual noise.

    Raises :class:`OutputParseError` saying what was wrong, with a snippet of the text,
    and nothing else: hostile output (deep nesting, huge replies) is a parse error too,
    so the caller's re-ask handles it.
    """
    try:
        return _parse(text, output_type)
    except OutputParseError:
        raise
    except (RecursionError, MemoryError, ValueError, TypeError, AttributeError) as exc:
        raise OutputParseError(
            f"output could not be parsed ({type(exc).__name__}), expected a JSON "
            f"{output_type.__name__}{_snippet(text)}"
        ) from None


def _parse(text: str, output_type: type[T]) -> T:
    if not isinstance(text, str):
        raise OutputParseError(f"output is not text, expected a JSON {output_type.__name__}")
    cleaned = strip_reasoning(text)
    if len(cleaned) > MAX_PARSE_CHARS:
        raise OutputParseError(
            f"output is {len(cleaned)} characters long, over the parser's limit of "
            f"{MAX_PARSE_CHARS}: answer with only the JSON object{_snippet(text)}"
        )
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
    in the prompt template) and an unterminated ``<think>`` prefix.

    One pass over the tags (linear in the text): a block runs from an opening tag to
    the next closing tag of the same name; tags inside a block are part of it.
    """
    tags = list(_THINK_TAG.finditer(text))
    if not tags:
        return text
    last_close: dict[str, int] = {}
    for tag in tags:
        if tag.group(1):
            last_close[tag.group(2).lower()] = tag.start()
    kept: list[str] = []
    pos = 0
    inside: str | None = None
    for tag in tags:
        name = tag.group(2).lower()
        if inside is not None:
            if tag.group(1) and name == inside:
                inside, pos = None, tag.end()
            continue
        if tag.group(1):
            # A dangling close: its opening tag was in the prompt, so all before it is reasoning.
            kept, pos = [], tag.end()
            continue
        kept.append(text[pos : tag.start()])
        if last_close.get(name, -1) > tag.start():
            inside = name
        else:
            # An unterminated block: the answer, if any, is JSON somewhere inside it,
            # which the candidate scan finds; only the tag itself is in the way.
            pos = tag.end()
    if inside is None:
        kept.append(text[pos:])
    return "".join(kept)


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
    failed = 0
    while failed < MAX_FAILED_STARTS:
        starts = [i for i in (text.find("{", pos), text.find("[", pos)) if i >= 0]
        if not starts:
            return
        start = min(starts)
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            pos, failed = start + 1, failed + 1
            continue
        except RecursionError:
            # Nested deeper than any answer: skip the run of brackets, count it as a miss.
            pos, failed = start + 1, failed + 1
            while pos < len(text) and text[pos] == text[start]:
                pos += 1
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
    if _max_depth(chunk) > MAX_REPAIR_DEPTH:
        return None  # json_repair recurses per level: refuse instead of hitting the stack
    try:
        return json_repair.loads(chunk)
    except Exception:  # json_repair is best effort; a crash there just means "no candidate"
        return None


#: Deepest bracket nesting handed to json_repair (answers nest a few levels).
MAX_REPAIR_DEPTH = 64


def _max_depth(text: str) -> int:
    """Bracket nesting depth of ``text``, ignoring strings' contents (a linear scan)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_REPAIR_DEPTH:
                    return deepest
        elif ch in "]}" and depth:
            depth -= 1
    return deepest


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
