"""The run configuration: the graphs' LangGraph context schema, as plain data.

LangGraph builds a :class:`RunConfig` from each run's ``context={...}`` (``{}`` when a
client sends none), so every field is JSON and every field has a default. Defaults
come from the environment, read when the configuration is built; precedence, as
everywhere in agentflow: explicit field > environment > built-in default.

========================  ===========================  ==============================
field                     environment                  default
========================  ===========================  ==============================
``llm``                   ``AGENTFLOW_LLM``            ``local``
``store``                 ``AGENTFLOW_STORE``          ``<AGENTFLOW_HOME>/store``
``chroma_url``            ``AGENTFLOW_CHROMA_URL``     none (the store's own Chroma)
``embedder``              ``AGENTFLOW_EMBEDDER``       the embedder the store was built with
``runs``                  ``AGENTFLOW_RUNS``           ``<AGENTFLOW_HOME>/runs``
========================  ===========================  ==============================

Live clients (LLM, store, tools) are resolved from it inside the process
(:func:`agentflow.agent.factory.components_for`), never carried in it.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from agentflow.agent.budget import Budget
from agentflow.agent.context import ResearchSettings
from agentflow.config import resolve_store_dir


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


class RunConfig(BaseModel):
    """How one run is wired: model, corpus, budgets and research settings."""

    model_config = ConfigDict(extra="forbid")

    llm: str = Field(default_factory=lambda: _env("AGENTFLOW_LLM") or "local",
                     description="model string: local, local:/path.gguf, openai:MODEL[@BASE_URL], "
                                 "scripted:MODULE:FUNCTION (tests)")
    store: str | None = Field(default_factory=lambda: _env("AGENTFLOW_STORE"),
                              description="corpus store folder (None: <AGENTFLOW_HOME>/store)")
    chroma_url: str | None = Field(default_factory=lambda: _env("AGENTFLOW_CHROMA_URL"),
                                   description="a Chroma server holding the store's vectors")
    embedder: str | None = Field(default_factory=lambda: _env("AGENTFLOW_EMBEDDER"),
                                 description="embedder spec (None: the one the store was built with)")
    sources: list[str] = Field(
        default_factory=lambda: (_env("AGENTFLOW_SOURCES") or "corpus").split(),
        description="search sources in order: corpus, searxng:URL, jsonapi:... (see README)")
    mode: Literal["hybrid", "dense", "bm25"] = Field("hybrid", description="corpus search mode")
    corpus_graph: bool = Field(True, description="entity-graph PPR on top of corpus search")
    budget: Budget = Field(default_factory=Budget)
    settings: ResearchSettings = Field(default_factory=ResearchSettings)
    runs: str | None = Field(default_factory=lambda: _env("AGENTFLOW_RUNS"),
                             description="where runs under LangGraph tooling write trajectories "
                                         "(None: <AGENTFLOW_HOME>/runs)")
    trajectory: bool = Field(True, description="write a trajectory for runs under LangGraph tooling")
    review_plan: bool = Field(False, description="stop after planning for a person's review of the plan "
                                                 "(LangGraph interrupt; resume with Command(resume=...), "
                                                 "see agentflow.agent.review)")

    # The live per-run contexts built from this configuration on a node's first call,
    # by thread and run (agentflow.agent.live). Private: never serialised, not in the schema.
    _live: dict[str, Any] = PrivateAttr(default_factory=dict)

    def client_key(self) -> tuple[Any, ...]:
        """What identifies the long-lived clients this configuration needs: two
        configurations with the same key share one LLM, store and tool set."""
        # The store as a resolved folder: "no store" means the default under the
        # current AGENTFLOW_HOME, which tests (and users) may change within a process.
        store = str(resolve_store_dir(self.store))
        return (self.llm, store, self.chroma_url, self.embedder, self.mode, self.corpus_graph,
                tuple(self.sources))
