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
    ) -> None:
        from agentflow.llm import resolve_llm

        self.llm: LLM = resolve_llm(llm if llm is not None else default_llm_spec())
        self._store_arg = store
        self._embedder_arg = embedder
        self._chroma_url = chroma_url
        self._extra_tools = list(tools or [])
        self._mode = mode
        self._use_graph = use_corpus_graph
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
        """The source tools: the local corpus plus any user tools."""
        if self._tools is None:
            from agentflow.tools.corpus_search import CorpusSearch

            self._tools = [CorpusSearch(self.store, mode=self._mode, use_graph=self._use_graph), *self._extra_tools]
        return self._tools

    @property
    def embedder(self) -> Embedder:
        """The store's embedder, shared with the memory graph."""
        return self.store.embedder

    def describe(self) -> dict[str, Any]:
        """What goes into a trajectory's ``run_start.config``."""
        return {
            "llm": self.llm.name,
            "store": str(getattr(self.store, "path", "")),
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
                               mode=config.mode, use_corpus_graph=config.corpus_graph)
            _components[key] = found
        return found
