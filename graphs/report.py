"""The report graph: research -> outline -> write* -> finish.

``research`` is the deep-research loop, unchanged, run as a subgraph; ``outline`` plans
sections from the question and the evidence and searches once per section; ``write``
writes one section per step, every sentence checked in code against the passages it
cites (rewritten once or dropped, with an extractive floor); ``finish`` numbers the
sources and records the report. Input: ``{"question": ..., "words": 1000}``.

LangGraph tooling (``langgraph dev``, Studio) loads :data:`graph` through
``langgraph.json``; agentflow compiles :func:`build` with its own checkpointer
(``agentflow report``).
"""

from __future__ import annotations

from collections.abc import Callable

from langgraph.graph import END, START, StateGraph

from agentflow.agent.run_config import RunConfig
from agentflow.report.finish import finish
from agentflow.report.outline import outline
from agentflow.report.research import research_node
from agentflow.report.state import DEFAULT_WORDS, ReportInput, ReportState
from agentflow.report.write import after_write, write

NAME = "report"


def build(words: int = DEFAULT_WORDS) -> StateGraph:
    """The uncompiled graph; ``words`` is the length when the input does not say."""
    from agentflow.graphs import deep_research

    g = StateGraph(ReportState, input_schema=ReportInput, context_schema=RunConfig)
    g.add_node("research", research_node(deep_research.build, words))
    g.add_node("outline", outline)
    g.add_node("write", write)
    g.add_node("finish", finish)
    g.add_edge(START, "research")
    g.add_edge("research", "outline")
    g.add_edge("outline", "write")
    g.add_conditional_edges("write", after_write, {"write": "write", "finish": "finish"})
    g.add_edge("finish", END)
    return g


graph = build().compile()


def builder(words: int) -> Callable[[], StateGraph]:
    """A builder of the graph with ``words`` as its default length (what ``agentflow
    report --words N`` runs; the runner names the graph ``report`` from this module)."""

    def build_report() -> StateGraph:
        return build(words)

    return build_report
