"""Building a :class:`RunContext` from user-level options (model strings, a store
path), so the CLI, the Python API, the server and LangGraph's tooling all wire
runs the same way."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentflow.agent.budget import Budget
from agentflow.agent.context import ResearchSettings, RunContext
from agentflow.agent.run_config import RunConfig
from agentflow.config import default_llm_spec
from agentflow.trajectory import TrajectoryRecorder

if TYPE_CHECKING:
    from agentflow.embed.base import Embedder
    from agentflow.llm.base import LLM
    from agentflow.store.corpus import CorpusStore
    from agentflow.tools.base import SearchTool


class Components:
    """The long-lived parts of an agent (LLM, store, tools), built once and reused
    across runs: models load once per process."""

    def __init__(
        self,
        *,
        llm: str | LLM | None = None,
        store: str | os.PathLike[str] | CorpusStore | None = None,
        embedder: str | Embedder | None = None,
        chroma_url: str | None = None,
        tools: list[SearchTool] | None = None,
        mode: str = "hybrid",
        use_corpus_graph: bool = True,
        sources: list[str] | None = None,
        llm_options: dict[str, Any] | None = None,
    ) -> None:
        from agentflow.llm import resolve_llm

        # ``llm_options`` go to the backend (e.g. ``timeout_s``, ``max_attempts``).
        self.llm: LLM = resolve_llm(llm if llm is not None else default_llm_spec(), **(llm_options or {}))
        self._store_arg = store
        self._embedder_arg = embedder
        self._chroma_url = chroma_url
        self._extra_tools = list(tools or [])
        self._mode = mode
        self._use_graph = use_corpus_graph
        #: Source specs (``corpus``, ``searxng:URL``, ``json:...``): which tools a run searches.
        self.sources = _checked_sources(sources)
        self._embedder: Embedder | None = None
        self._store: CorpusStore | None = None
        self._tools: list[SearchTool] | None = None

    @property
    def store(self) -> CorpusStore:
        """The corpus store (opened on first use; a missing store is a clear error)."""
        if self._store is None:
            from agentflow.store.corpus import CorpusStore

            if isinstance(self._store_arg, CorpusStore):
                self._store = self._store_arg
            else:
                self._store = CorpusStore.open_existing(
                    self._store_arg, embedder=self._embedder_arg, chroma_url=self._chroma_url
                )
        return self._store

    @property
    def tools(self) -> list[SearchTool]:
        """The source tools (the local corpus, web sources, in ``sources`` order) plus any
        user tools."""
        if self._tools is None:
            from agentflow.tools.corpus_search import CorpusSearch
            from agentflow.tools.web import build_source

            built: list[SearchTool] = []
            for spec in self.sources:
                if spec == "corpus":
                    built.append(CorpusSearch(self.store, mode=self._mode, use_graph=self._use_graph))
                else:
                    built.append(build_source(spec, embedder=self.embedder))
            self._tools = [*built, *self._extra_tools]
        return self._tools

    @property
    def embedder(self) -> Embedder:
        """The store's embedder, shared with the memory graph (without the corpus among
        the sources: the one asked for, else the default)."""
        if "corpus" in self.sources:
            return self.store.embedder
        if self._embedder is None:
            from agentflow.embed import resolve_embedder

            self._embedder = resolve_embedder(self._embedder_arg)
        return self._embedder

    def describe(self) -> dict[str, Any]:
        """What goes into a trajectory's ``run_start.config``."""
        return {
            "llm": self.llm.name,
            "store": str(getattr(self.store, "path", "")) if "corpus" in self.sources else "",
            "sources": list(self.sources),
            "embedder": getattr(self.embedder, "name", ""),
            "mode": self._mode,
            "corpus_graph": self._use_graph,
            "tools": [t.name for t in self.tools],
        }

    def context(
        self,
        *,
        budget: Budget | None = None,
        settings: ResearchSettings | None = None,
        recorder: TrajectoryRecorder | None = None,
        emit: Any = None,
    ) -> RunContext:
        """A fresh run context over these components."""
        return RunContext(
            llm=self.llm,
            tools=self.tools,
            embedder=self.embedder,
            budget=budget or Budget(),
            settings=settings or ResearchSettings(),
            recorder=recorder or TrajectoryRecorder(None, "adhoc"),
            emit=emit or (lambda event: None),
        )


def _checked_sources(sources: list[str] | None) -> list[str]:
    """The source specs, defaulting to the corpus alone; a bad spec is a one-line error
    at construction, not halfway through the first run."""
    from agentflow.errors import ConfigError
    from agentflow.tools.web.sources import engine_for

    specs = [s.strip() for s in (sources or ["corpus"]) if s and s.strip()]
    if not specs:
        raise ConfigError("no sources: give at least one, e.g. --source corpus")
    for spec in specs:
        if spec != "corpus":
            engine_for(spec)
    return list(dict.fromkeys(specs))


_components: dict[tuple[Any, ...], Components] = {}
_components_lock = threading.Lock()


def components_for(config: RunConfig) -> Components:
    """The process's :class:`Components` for ``config``: built on first use and shared by
    every run with the same :meth:`RunConfig.client_key` (models load once per process;
    runs with different stores or models never share clients)."""
    key = config.client_key()
    with _components_lock:
        found = _components.get(key)
        if found is None:
            found = Components(llm=config.llm, store=Path(key[1]),
                               embedder=config.embedder, chroma_url=config.chroma_url,
                               mode=config.mode, use_corpus_graph=config.corpus_graph,
                               sources=list(config.sources))
            _components[key] = found
        return found
