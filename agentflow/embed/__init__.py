"""Embedders (texts to unit vectors) and ``resolve_embedder``, which turns a spec string into one.

Specs: ``auto`` (MiniLM when the ``[local]`` extra is installed, else hashing),
``minilm``, ``hash`` or ``hash:DIM``, ``openai:MODEL`` or ``openai:MODEL@BASE_URL``.
"""

from __future__ import annotations

import difflib
import logging

from agentflow.config import default_embedder_spec
from agentflow.embed.base import Embedder
from agentflow.embed.hashing import HashingEmbedder
from agentflow.embed.minilm import MiniLMEmbedder, minilm_available
from agentflow.embed.openai_embed import OpenAIEmbedder
from agentflow.errors import ConfigError

__all__ = [
    "EMBEDDER_SPECS",
    "Embedder",
    "HashingEmbedder",
    "MiniLMEmbedder",
    "OpenAIEmbedder",
    "embedder_spec",
    "resolve_embedder",
]

log = logging.getLogger(__name__)

#: The spec forms ``resolve_embedder`` accepts, for error messages and help texts.
EMBEDDER_SPECS = ("auto", "minilm", "hash", "hash:DIM", "openai:MODEL", "openai:MODEL@BASE_URL")


def resolve_embedder(spec: str | Embedder | None = None) -> Embedder:
    """Return an embedder for ``spec``; ``None`` means ``$AGENTFLOW_EMBEDDER`` or ``auto``.

    Raises ``ConfigError`` for an unknown spec and ``DependencyMissingError`` when
    ``minilm`` is asked for without the ``[local]`` extra.
    """
    if isinstance(spec, Embedder):
        return spec
    text = (spec if spec is not None else default_embedder_spec()).strip()
    kind, _, arg = text.partition(":")
    kind = kind.lower()
    if kind == "auto" and not arg:
        if minilm_available():
            return MiniLMEmbedder()
        log.warning(
            "sentence-transformers or the packaged MiniLM is not installed: using the hashing "
            "embedder, whose retrieval quality is low. Install `agentflow[local]` for MiniLM."
        )
        return HashingEmbedder()
    if kind == "minilm" and not arg:
        return MiniLMEmbedder()
    if kind == "hash":
        if not arg:
            return HashingEmbedder()
        if arg.isdigit() and int(arg) >= 8:
            return HashingEmbedder(int(arg))
        raise ConfigError(
            f"bad embedder {text!r}: the hashing dimension must be an integer >= 8, e.g. hash:384"
        )
    if kind == "openai" and arg:
        model, _, base_url = arg.partition("@")
        if model:
            return OpenAIEmbedder(model, base_url or None)
    close = difflib.get_close_matches(kind, ["auto", "minilm", "hash", "openai"], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close and close[0] != kind else ""
    raise ConfigError(f"unknown embedder {text!r}{hint}: use one of {', '.join(EMBEDDER_SPECS)}")


def embedder_spec(embedder: Embedder) -> str:
    """The spec string that resolves back to ``embedder`` (its name for embedders without one)."""
    return str(getattr(embedder, "spec", embedder.name))
