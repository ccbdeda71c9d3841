"""The Python API: :class:`Agent`.

    from agentflow import Agent
    agent = Agent(store="./store", llm="local")
    result = agent.ask("Who founded the company that published X?")
    print(result.answer, result.status, [c["id"] for c in result.citations])

    async for event in agent.astream("..."):   # progress events, then {"type": "final", ...}
        print(event)
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentflow.agent.budget import Budget
from agentflow.agent.context import ResearchSettings
from agentflow.agent.factory import Components
from agentflow.agent.runner import EventSink, Runner, RunResult

if TYPE_CHECKING:
    from agentflow.embed.base import Embedder
    from agentflow.llm.base import LLM
    from agentflow.store.corpus import CorpusStore
    from agentflow.tools.base import SearchTool

__all__ = ["Agent", "RunResult"]


class Agent:
    """A research agent over a local corpus store.

    ``llm`` is a model string (``local``, ``local:/path.gguf``,
    ``openai:gpt-4o-mini``, ``openai:MODEL@http://host:port/v1``) or an
    :class:`~agentflow.llm.base.LLM`; ``graph`` is ``deep_research`` (default),
    ``rag`` or ``react``. Models and the store load once and are reused by every
    call.
    """

    def __init__(
        self,
        store: str | os.PathLike[str] | CorpusStore | None = None,
        *,
        llm: str | LLM | None = None,
        embedder: str | Embedder | None = None,
        graph: str = "deep_research",
        budget: Budget | None = None,
        settings: ResearchSettings | None = None,
        tools: list[SearchTool] | None = None,
        chroma_url: str | None = None,
        mode: str = "hybrid",
        use_corpus_graph: bool = True,
        runs_dir: str | Path | None = None,
        checkpoint_db: str | Path | None = None,
    ) -> None:
        self.components = Components(llm=llm, store=store, embedder=embedder, chroma_url=chroma_url,
                                     tools=tools, mode=mode, use_corpus_graph=use_corpus_graph)
        self.runner = Runner(self.components, graph=graph, budget=budget, settings=settings,
                             checkpoint_db=checkpoint_db, runs=runs_dir)

    @property
    def llm(self) -> LLM:
        """The LLM backend this agent uses."""
        return self.components.llm

    def ask(self, question: str, *, run_id: str | None = None, trajectory: str | Path | None = None,
            on_event: EventSink | None = None) -> RunResult:
        """Research ``question`` and return the answer with citations, or a refusal."""
        return self.runner.run(question, run_id=run_id, trajectory=trajectory, on_event=on_event)

    def resume(self, run_id: str, *, on_event: EventSink | None = None) -> RunResult:
        """Finish an interrupted run from its last completed step."""
        return self.runner.resume(run_id, on_event=on_event)

    async def aask(self, question: str, **kwargs: Any) -> RunResult:
        """Async :meth:`ask` (the run happens in a worker thread)."""
        return await asyncio.to_thread(self.ask, question, **kwargs)

    async def astream(self, question: str, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        """Progress events of a run as they happen, ending with ``{"type": "final", ...}``."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

        def sink(event: dict[str, Any]) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, event)

        task = asyncio.create_task(asyncio.to_thread(self.ask, question, on_event=sink, **kwargs))
        task.add_done_callback(lambda _: loop.call_soon_threadsafe(queue.put_nowait, None))
        while (event := await queue.get()) is not None:
            yield event
        await task  # re-raise a failure of the run itself
