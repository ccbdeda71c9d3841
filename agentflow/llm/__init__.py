"""LLM backends behind one interface, and the model strings that choose them.

``resolve_llm("openai:gpt-4o-mini")``, ``resolve_llm("openai:MODEL@http://127.0.0.1:8080/v1")``,
``resolve_llm("local")``, ``resolve_llm("local:/path/model.gguf")`` or ``resolve_llm("scripted",
responses=[...])``. Backends are imported lazily, so ``import agentflow.llm`` pulls in
neither ``openai`` nor ``llama_cpp``.
"""

from __future__ import annotations

import difflib
from collections import deque
from typing import TYPE_CHECKING, Any

from agentflow.errors import ConfigError
from agentflow.llm.base import LLM
from agentflow.llm.parsing import OutputParseError, parse_output
from agentflow.llm.scripted import ScriptedLLM

if TYPE_CHECKING:
    from agentflow.llm.local_backend import LocalLlama
    from agentflow.llm.openai_backend import OpenAIChat

__all__ = [
    "LLM",
    "REQUEST_OPTIONS",
    "LocalLlama",
    "OpenAIChat",
    "OutputParseError",
    "ScriptedLLM",
    "parse_output",
    "resolve_llm",
]

#: Model-string prefixes and the forms each takes.
SPEC_FORMS = {
    "openai": "openai:MODEL or openai:MODEL@BASE_URL",
    "local": "local or local:/path/model.gguf",
    "scripted": "scripted (tests; pass responses=[...] or fn=...) or scripted:MODULE:FUNCTION",
}
#: Options of requests to a server (the OpenAI-compatible backend only): the timeout of
#: one request and the tries per request. ``None`` means "not given" (the environment,
#: then the default, decides).
REQUEST_OPTIONS = ("timeout_s", "max_attempts")
# Servers users name by product; all of them speak the OpenAI protocol.
_SERVER_HINTS = {
    "ollama": "openai:MODEL@http://127.0.0.1:11434/v1",
    "vllm": "openai:MODEL@http://127.0.0.1:8000/v1",
    "lmstudio": "openai:MODEL@http://127.0.0.1:1234/v1",
    "llamacpp": "openai:MODEL@http://127.0.0.1:8080/v1",
    "llama.cpp": "openai:MODEL@http://127.0.0.1:8080/v1",
}


def resolve_llm(spec: str | LLM | None = None, **options: Any) -> LLM:
    """Build the backend a model string names; an ``LLM`` instance is returned as is.

    ``None`` means the configured default (``$AGENTFLOW_LLM`` or ``local``). ``options``
    go to the backend's constructor (e.g. ``max_attempts=``, ``n_ctx=``, ``responses=``).
    ``scripted`` gives a :class:`ScriptedLLM`; without ``responses`` or ``fn`` it fails
    on its first call, so it is only useful with options. :data:`REQUEST_OPTIONS` set to
    ``None`` are dropped; set on a backend that sends no requests they are a
    :class:`ConfigError` (a flag that would do nothing is not ignored silently).
    """
    if isinstance(spec, LLM):
        return spec
    if spec is None:
        from agentflow.config import default_llm_spec

        spec = default_llm_spec()
    text = spec.strip()
    prefix, _, rest = text.partition(":")
    prefix = prefix.strip().lower()
    options = {k: v for k, v in options.items() if not (k in REQUEST_OPTIONS and v is None)}
    if prefix == "openai":
        return _openai(text, rest, options)
    given = [k for k in REQUEST_OPTIONS if k in options]
    if given and prefix in ("local", "scripted"):
        raise ConfigError(
            f"{' and '.join(given)} apply to requests to a server (openai:MODEL[@URL]); "
            f"{text!r} runs in this process, so there is no request to time out or retry: "
            "drop --llm-timeout / --llm-attempts, or bound the run with --max-seconds")
    if prefix == "local":
        from agentflow.llm.local_backend import LocalLlama

        return LocalLlama(rest.strip() or None, **options)
    if prefix == "scripted":
        if rest.strip() and "fn" not in options and "responses" not in options:
            llm = ScriptedLLM(fn=_response_fn(text, rest.strip()), **options)
            # Named by a string, it serves a whole server process: keep the latest calls only.
            llm.calls = deque(maxlen=64)  # type: ignore[assignment]
            return llm
        return ScriptedLLM(**options)
    raise ConfigError(_unknown_message(text, prefix))


def _openai(spec: str, rest: str, options: dict[str, Any]) -> LLM:
    model, _, base_url = rest.partition("@")
    model, base_url = model.strip(), base_url.strip()
    if not model:
        raise ConfigError(f"no model in {spec!r}: write openai:MODEL, e.g. openai:gpt-4o-mini")
    if base_url and not base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"bad base URL {base_url!r} in {spec!r}: write it in full, "
            "e.g. openai:MODEL@http://127.0.0.1:8080/v1"
        )
    from agentflow.llm.openai_backend import OpenAIChat

    if base_url:
        options = {**options, "base_url": base_url}
    return OpenAIChat(model, **options)


def _response_fn(spec: str, target: str) -> Any:
    """The function ``scripted:MODULE:FUNCTION`` names (a model string for tests and
    demos that must be plain data, e.g. a LangGraph run's context)."""
    import importlib

    module, _, name = target.partition(":")
    try:
        fn = getattr(importlib.import_module(module), name) if name else None
    except (ImportError, AttributeError):
        fn = None
    if not callable(fn):
        raise ConfigError(f"{spec!r} names no function: write scripted:MODULE:FUNCTION, "
                          "e.g. scripted:agentflow.evals.world.reader:read_like_a_model")
    return fn


def _unknown_message(spec: str, prefix: str) -> str:
    forms = "; ".join(SPEC_FORMS.values())
    message = f"unknown LLM {spec!r}: valid forms are {forms}."
    compact = prefix.replace("-", "").replace("_", "")
    if compact in _SERVER_HINTS:
        return f"{message} {prefix} speaks the OpenAI protocol: try {_SERVER_HINTS[compact]}"
    close = difflib.get_close_matches(prefix, list(SPEC_FORMS), n=1, cutoff=0.5)
    if close:
        suggestion = close[0] + (f":{spec.partition(':')[2]}" if ":" in spec else "")
        return f"{message} Did you mean {suggestion!r}?"
    return message


def __getattr__(name: str) -> Any:
    # Lazy attributes keep the heavy client libraries out of `import agentflow.llm`.
    if name == "OpenAIChat":
        from agentflow.llm.openai_backend import OpenAIChat

        return OpenAIChat
    if name == "LocalLlama":
        from agentflow.llm.local_backend import LocalLlama

        return LocalLlama
    raise AttributeError(f"module 'agentflow.llm' has no attribute {name!r}")
