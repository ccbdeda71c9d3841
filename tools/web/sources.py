"""``--source`` strings to tools: ``corpus`` (the local store, built by the agent's
components), ``searxng:URL`` and ``json:CONFIG.json`` / ``json:URL`` (a JSON search API
with the default field names)."""

from __future__ import annotations

import difflib
import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

from agentflow.errors import ConfigError, DependencyMissingError
from agentflow.tools.web.cache import WebCache, default_cache_dir
from agentflow.tools.web.engine import SearchEngine
from agentflow.tools.web.json_api import JsonApiConfig, JsonApiEngine
from agentflow.tools.web.searxng import SearxngEngine
from agentflow.tools.web.tool import WebSearch, WebSettings

if TYPE_CHECKING:
    from agentflow.embed.base import Embedder

#: The source forms, for help texts and error messages.
SOURCE_SPECS = ("corpus", "searxng:URL", "json:CONFIG.json", "json:URL")
WEB_KINDS = ("searxng", "json")


def is_web_source(spec: str) -> bool:
    """True for a web source spec (``searxng:...``, ``json:...``)."""
    return spec.partition(":")[0].strip().lower() in WEB_KINDS


def _http_url(url: str, spec: str) -> str:
    if not url.lower().startswith(("http://", "https://")):
        raise ConfigError(f"bad source {spec!r}: expected an http(s) URL after the colon, "
                          "e.g. searxng:http://127.0.0.1:8888")
    return url


def engine_for(spec: str) -> SearchEngine:
    """The search engine a web source spec names (a one-line error for a bad one)."""
    kind, _, arg = spec.strip().partition(":")
    kind = kind.lower()
    if kind == "searxng" and arg:
        return SearxngEngine(_http_url(arg, spec))
    if kind == "json" and arg:
        if arg.lower().startswith(("http://", "https://")):
            return JsonApiEngine(JsonApiConfig(endpoint=arg))
        return JsonApiEngine(JsonApiConfig.load(Path(arg).expanduser()))
    close = difflib.get_close_matches(kind, ["corpus", *WEB_KINDS], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close and close[0] != kind else ""
    raise ConfigError(f"unknown source {spec!r}{hint}: use {', '.join(SOURCE_SPECS)}")


def build_source(spec: str, *, embedder: Embedder | None = None,
                 cache: str | os.PathLike[str] | bool | None = None,
                 settings: WebSettings | None = None) -> WebSearch:
    """A web source tool for ``spec``. ``cache``: None or True caches under
    ``<AGENTFLOW_HOME>/web-cache/<configuration hash>``, a path caches there, False not
    at all."""
    engine = engine_for(spec)
    if (settings is None or settings.fetch_pages) and importlib.util.find_spec("trafilatura") is None:
        raise DependencyMissingError("trafilatura", "web", "reading the pages of web search results")
    if cache is False:
        store = None
    elif cache is None or cache is True:
        store = WebCache(default_cache_dir(engine.config_key))
    else:
        store = WebCache(Path(cache) / default_cache_dir(engine.config_key).name)
    return WebSearch(engine, embedder=embedder, cache=store, settings=settings)
