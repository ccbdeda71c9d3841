"""One configurable JSON search API shape that covers the common hosted search services:
an endpoint, the query parameter, an API key sent in a header or a parameter (read from
an environment variable, never written into trajectories or cache names) and where the
results and their fields sit in the answer.

    # Brave: {"endpoint": "https://api.search.brave.com/res/v1/web/search",
    #         "key_header": "X-Subscription-Token", "key_env": "BRAVE_API_KEY",
    #         "results_path": "web.results", "snippet_field": "description"}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from agentflow.errors import ConfigError
from agentflow.tools.web.engine import SearchEngine, parse_results
from agentflow.tools.web.http import WebClient
from agentflow.tools.web.records import WebResult


class JsonApiConfig(BaseModel):
    """How to call a JSON search API and read its answer (dotted paths for nesting)."""

    endpoint: str
    name: str = "web"
    query_param: str = "q"
    count_param: str | None = "count"
    params: dict[str, str] = Field(default_factory=dict)
    key_env: str | None = None  # environment variable holding the API key
    key_header: str | None = None  # e.g. X-Subscription-Token, Authorization
    key_prefix: str = ""  # e.g. "Bearer "
    key_param: str | None = None  # services that take the key as a URL parameter
    results_path: str = "results"
    url_field: str = "url"
    title_field: str = "title"
    snippet_field: str = "snippet"

    @classmethod
    def load(cls, path: str | Path) -> JsonApiConfig:
        """Read a configuration file (JSON); a bad one is a one-line error."""
        try:
            return cls.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
        except OSError as exc:
            raise ConfigError(f"cannot read the JSON search API configuration {path}: {exc}") from None
        except (ValueError, ValidationError) as exc:
            first = str(exc).splitlines()[0]
            raise ConfigError(f"bad JSON search API configuration {path}: {first}") from None


class JsonApiEngine(SearchEngine):
    """A hosted search API described by a :class:`JsonApiConfig`."""

    def __init__(self, config: JsonApiConfig) -> None:
        self.config = config
        self.name = config.name
        self.endpoint = config.endpoint
        if config.key_env and not (config.key_header or config.key_param):
            raise ConfigError("the JSON search API configuration names key_env but neither "
                              "key_header nor key_param: say where the key goes")
        self._key()  # a missing key is a mistake to report now, not halfway through a run

    @property
    def config_key(self) -> str:
        return "json " + self.config.model_dump_json()  # key_env is a name, not the key

    def _key(self) -> str | None:
        if not self.config.key_env:
            return None
        key = os.environ.get(self.config.key_env, "").strip()
        if not key:
            raise ConfigError(f"the {self.name} search API needs a key: set ${self.config.key_env}")
        return key

    def search(self, client: WebClient, query: str, *, count: int) -> list[WebResult]:
        c = self.config
        params: dict[str, Any] = {**c.params, c.query_param: query}
        if c.count_param:
            params[c.count_param] = count
        headers: dict[str, str] = {"Accept": "application/json"}
        key = self._key()
        if key is not None and c.key_header:
            headers[c.key_header] = c.key_prefix + key
        if key is not None and c.key_param:
            params[c.key_param] = key
        data = client.get_json(c.endpoint, params=params, headers=headers)
        return parse_results(data, where=c.endpoint, results_path=c.results_path,
                             url_field=c.url_field, title_field=c.title_field,
                             snippet_field=c.snippet_field, count=count)
