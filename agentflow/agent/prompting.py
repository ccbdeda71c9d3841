"""Prompt templates: one Jinja2 file per node in ``prompts/`` (installed as
``agentflow.prompts``), rendered into chat messages.

A template has a system part and a user part separated by a line ``---user---``.
Templates are loaded through importlib.resources, so they work from a wheel.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import jinja2

from agentflow.errors import ConfigError
from agentflow.records import ChatMessage

SEPARATOR = "---user---"


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_source),
        undefined=jinja2.StrictUndefined,  # a missing variable is a bug, not an empty string
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
    )


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
