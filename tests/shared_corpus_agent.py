"""An agent factory for server processes in tests: the store folder named by
``$AGENTFLOW_SHARED_STORE`` (which records its Chroma server) and the scripted demo model."""

from __future__ import annotations

import os
from typing import Any

from agentflow.agent.api import Agent
from agentflow.evals.world.reader import read_like_a_model
from agentflow.llm.scripted import ScriptedLLM


def agent(**options: Any) -> Agent:
    """``agentflow serve --agent-factory tests.shared_corpus_agent:agent``."""
    llm = ScriptedLLM(fn=read_like_a_model, name="demo")
    return Agent(os.environ["AGENTFLOW_SHARED_STORE"], llm=llm, **options)
