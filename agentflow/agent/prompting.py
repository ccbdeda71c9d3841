"""Prompt templates: one Jinja2 file per node in ``prompts/`` (installed as
``agentflow.prompts``), rendered into chat messages.

A template has a system part and a user part separated by a line ``---user---``.
Templates are loaded through importlib.resources, so they work from a wheel.

:func:`copied_example` tells when a model handed back a template's example (its example
JSON values, or values declared in a ``{# examples: ... #}`` block) instead of an answer of
its own; :meth:`agentflow.agent.context.RunContext.ask` treats such output as invalid.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import jinja2
from pydantic import BaseModel

from agentflow.errors import ConfigError
from agentflow.records import ChatMessage
from agentflow.scoring.metrics import normalize_answer

SEPARATOR = "---user---"


_DELIMITERS = re.compile(r"<\s*/?\s*passages?\s*>|<\|", re.I)


def as_data(value: Any) -> str:
    """Passage text as one line of quoted data (the ``data`` filter of the templates):
    whitespace collapsed, so a passage cannot start a line of its own ("Question: ...",
    "[2] ..."), and ``<passage>`` tags or chat-template tokens (``<|im_start|>``) inside it
    defused, so it cannot close its delimiters or open a role."""
    return _DELIMITERS.sub(lambda m: m.group(0).replace("<", "‹"), " ".join(str(value).split()))


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_source),
        undefined=jinja2.StrictUndefined,  # a missing variable is a bug, not an empty string
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
    )
    env.filters["data"] = as_data
    return env


def _load_source(name: str) -> str:
    try:
        return resources.files("agentflow.prompts").joinpath(f"{name}.j2").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"no prompt template named {name!r} in agentflow/prompts") from exc


def render(name: str, **variables: Any) -> list[ChatMessage]:
    """Render template ``name`` (``prompts/<name>.j2``) into system and user messages."""
    text = _environment().get_template(name).render(**variables)
    system, sep, user = text.partition(SEPARATOR)
    if not sep:
        return [ChatMessage(role="user", content=text.strip())]
    return [
        ChatMessage(role="system", content=system.strip()),
        ChatMessage(role="user", content=user.strip()),
    ]


def template_names() -> list[str]:
    """Names of every template shipped with the package."""
    root = resources.files("agentflow.prompts")
    return sorted(p.name[:-3] for p in root.iterdir() if p.name.endswith(".j2"))


# -- prompt examples: what a model must never hand back as its own output ----------------
#
# A template's example values are (1) every string inside the JSON objects written in its
# text (the example outputs, e.g. ``{"answer": "Wimble Jaxcott", "citations": ["1"]}``) and
# (2) the lines of an optional comment block that names what the JSON does not, such as the
# example passage's title::
#
#     {# examples:
#     Cogwheel Moon
#     Quexa
#     #}
#
# Jinja expressions are ignored, so only the template's fixed text counts as an example.

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_DECLARED = re.compile(r"\{#-?\s*examples:(.*?)-?#\}", re.S)
# Words that say nothing about where a value came from.
_STOPWORDS = frozenset(
    "a an the of in on at to for by from and or is was were are be been who what which when "
    "where how why whom whose did does do it its as with that this".split())


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON-like value or a pydantic model (dict values, not keys)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def _json_objects(text: str) -> Iterator[Any]:
    """Every JSON object written in ``text`` (outermost ones only)."""
    decoder = json.JSONDecoder()
    i = text.find("{")
    while i != -1:
        try:
            obj, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            end = i + 1
        else:
            if isinstance(obj, dict):
                yield obj
        i = text.find("{", max(end, i + 1))


@functools.lru_cache(maxsize=64)
def example_values(name: str) -> tuple[str, ...]:
    """The example values of template ``name``: strings of its fixed JSON objects plus the
    lines of its ``{# examples: ... #}`` block, normalised (SQuAD), with at least one letter."""
    source = _load_source(name)
    found = [line for block in _DECLARED.findall(source) for line in block.splitlines()]
    for obj in _json_objects(_JINJA.sub(" ", source)):
        found.extend(_strings(obj))
    values = (normalize_answer(v) for v in found)
    return tuple(dict.fromkeys(v for v in values if any(ch.isalpha() for ch in v)))


def _content_words(norm: str) -> set[str]:
    return {w for w in norm.split() if w not in _STOPWORDS and not w.isdigit()}


@functools.lru_cache(maxsize=64)
def _choices(output_type: type[BaseModel]) -> frozenset[str]:
    """Strings the output schema fixes (``Literal`` enums): choosing one copies nothing."""
    out: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, v in node.items():
                if key in ("enum", "const"):
                    out.update(str(x) for x in (v if isinstance(v, list) else [v]))
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(output_type.model_json_schema())
    return frozenset(out)


def copied_example(prompt_name: str, parsed: BaseModel, shown: Any = None) -> str | None:
    """The prompt example value that ``parsed`` copies, or None when it copies none.

    A string field of the output copies an example value when it equals it (after SQuAD
    normalisation), or contains it on word boundaries and the value has two words or more,
    unless the real content the prompt showed (``shown``: the template variables, i.e. the
    question and passages) holds every content word of the value: a real passage may name
    the same thing. Values fixed by the output schema (``Literal`` choices) never count.
    """
    examples = example_values(prompt_name)
    if not examples:
        return None
    fixed = _choices(type(parsed))
    outputs = [normalize_answer(s) for s in _strings(parsed) if s not in fixed]
    real: set[str] | None = None
    for out in outputs:
        if not out:
            continue
        padded = f" {out} "
        # The value it equals first, then the longest one it contains.
        hits = [v for v in examples if v == out] + sorted(
            (v for v in examples if v != out and " " in v and f" {v} " in padded),
            key=len, reverse=True)
        for value in hits:
            if real is None:
                real = set(normalize_answer(" ".join(_strings(shown))).split())
            words = _content_words(value)
            if words and not words <= real:
                return value
    return None
