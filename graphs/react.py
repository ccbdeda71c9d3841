"""ReAct-style baseline: the model sees the whole growing transcript each step and
chooses to search again or answer."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from agentflow.agent.baselines import after_react, react_finish, react_step
from agentflow.agent.intake import intake
from agentflow.agent.run_config import RunConfig
from agentflow.agent.run_input import ResearchInput
from agentflow.agent.state import ResearchState

NAME = "react"


def build() -> StateGraph:
    """The uncompiled graph."""
    g = StateGraph(ResearchState, input_schema=ResearchInput, context_schema=RunConfig)
    g.add_node("react", react_step)
    g.add_node("finish", react_finish)
    g.add_node("intake", intake)
    g.add_edge(START, "intake")
    g.add_edge("intake", "react")
    g.add_conditional_edges("react", after_react, {"react": "react", "finish": "finish"})
    g.add_edge("finish", END)
    return g


graph = build().compile()
