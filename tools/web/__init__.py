"""Web search sources as agent tools: SearXNG and a generic JSON search API.

A source turns a query into search results, fetches each result's page, turns the
page into text passages (chunked like the corpus, id = the page's URL) and ranks them
for the query. Requests are retried with backoff; a source that keeps failing is
skipped and the run says so; pages and search answers are cached on disk so a
re-run makes no requests. Build one from a ``--source`` string with
:func:`~agentflow.tools.web.sources.build_source`.
"""

from agentflow.tools.web.json_api import JsonApiConfig, JsonApiEngine
from agentflow.tools.web.searxng import SearxngEngine
from agentflow.tools.web.sources import build_source, is_web_source
from agentflow.tools.web.tool import WebSearch

__all__ = ["JsonApiConfig", "JsonApiEngine", "SearxngEngine", "WebSearch", "build_source", "is_web_source"]
