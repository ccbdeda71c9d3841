"""SearXNG, the self-hosted metasearch engine, through its JSON API (``format=json``)."""

from __future__ import annotations

from agentflow.tools.web.engine import SearchEngine, parse_results
from agentflow.tools.web.http import WebClient
from agentflow.tools.web.records import SourceError, WebResult


class SearxngEngine(SearchEngine):
    """``GET <base>/search?q=...&format=json``. The instance must allow the JSON format
    (``search.formats: [html, json]`` in its ``settings.yml``)."""

    name = "searxng"

    def __init__(self, base_url: str, *, categories: str = "", language: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        if self.base_url.endswith("/search"):
            self.base_url = self.base_url[: -len("/search")]
        self.endpoint = f"{self.base_url}/search"
        self.categories = categories
        self.language = language

    @property
    def config_key(self) -> str:
        return f"searxng {self.base_url} categories={self.categories} language={self.language}"

    def search(self, client: WebClient, query: str, *, count: int) -> list[WebResult]:
        params = {"q": query, "format": "json"}
        if self.categories:
            params["categories"] = self.categories
        if self.language:
            params["language"] = self.language
        url = f"{self.base_url}/search"
        try:
            data = client.get_json(url, params=params)
        except SourceError as exc:
            if "HTTP 403" in str(exc):  # SearXNG's answer when the JSON format is off
                raise SourceError(exc.kind, f"{exc} (is the JSON format enabled? add json to "
                                  "search.formats in the instance's settings.yml)") from None
            raise
        return parse_results(data, where=url, results_path="results", url_field="url",
                             title_field="title", snippet_field="content", count=count)
