"""The deep-research graph: plan -> review_plan -> (select -> search -> read -> verify)* -> answer.

``review_plan`` stops for a person's review of the plan when the run asks for one
(:mod:`agentflow.agent.review`) and does nothing otherwise.

``select`` picks the next sub-question whose dependencies are answered; ``verify``
either settles it or sends it back to ``search`` with a refined query; budgets
are checked in ``select`` (and before every LLM call and search), so a run always
ends in ``answer`` with a status. With ``concurrency`` above 1, ``select`` sends the
sub-questions that are ready together to parallel ``branch`` nodes (each runs
search -> read -> verify for its own), and ``join`` merges what they found before
``select`` goes on (:mod:`agentflow.agent.fanout`).

LangGraph tooling (``langgraph dev``, Studio) loads :data:`graph` through
``langgraph.json``; agentflow itself compiles :func:`build` with its own
checkpointer.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from agentflow.agent.answer import answer
from agentflow.agent.branch import branch
from agentflow.agent.fanout import join
from agentflow.agent.intake import intake
from agentflow.agent.plan import plan
from agentflow.agent.read import read
from agentflow.agent.review import review_plan
from agentflow.agent.routing import after_select, after_verify, select
from agentflow.agent.run_config import RunConfig
from agentflow.agent.run_input import ResearchInput
from agentflow.agent.search import search
from agentflow.agent.state import ResearchState
from agentflow.agent.verify import verify

NAME = "deep_research"


def build() -> StateGraph:
    """The uncompiled graph (compile it with a checkpointer of your choice)."""
    g = StateGraph(ResearchState, input_schema=ResearchInput, context_schema=RunConfig)
    g.add_node("plan", plan)
    g.add_node("review_plan", review_plan)
    g.add_node("select", select)
    g.add_node("search", search)
    g.add_node("read", read)
    g.add_node("verify", verify)
    g.add_node("answer", answer)
    g.add_node("intake", intake)
    g.add_node("branch", branch)
    g.add_node("join", join)
    g.add_edge(START, "intake")
    g.add_edge("intake", "plan")
    g.add_edge("plan", "review_plan")
    g.add_edge("review_plan", "select")
    # "branch" is reached by Send (one per fanned-out sub-question); named here for drawings.
    g.add_conditional_edges("select", after_select, {"search": "search", "answer": "answer", "branch": "branch"})
    g.add_edge("branch", "join")
    g.add_edge("join", "select")
    g.add_edge("search", "read")
    g.add_edge("read", "verify")
    g.add_conditional_edges("verify", after_verify, {"search": "search", "select": "select"})
    g.add_edge("answer", END)
    return g


#: Compiled without a checkpointer, for LangGraph's own tooling.
graph = build().compile()
