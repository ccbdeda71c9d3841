"""Single-shot RAG baseline: retrieve the question's top passages once, answer."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from agentflow.agent.baselines import rag_answer, rag_retrieve
from agentflow.agent.intake import intake
from agentflow.agent.run_config import RunConfig
from agentflow.agent.run_input import ResearchInput
from agentflow.agent.state import ResearchState

NAME = "rag"


def build() -> StateGraph:
    """The uncompiled graph."""
    g = StateGraph(ResearchState, input_schema=ResearchInput, context_schema=RunConfig)
    g.add_node("retrieve", rag_retrieve)
    g.add_node("answer", rag_answer)
    g.add_node("intake", intake)
    g.add_edge(START, "intake")
    g.add_edge("intake", "retrieve")
    g.add_edge("retrieve", "answer")
    g.add_edge("answer", END)
    return g


graph = build().compile()
