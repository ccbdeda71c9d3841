"""A tiny hand-written corpus and a scripted "oracle" LLM for research-graph unit tests.

The oracle reads the rendered prompt (which node's template it is, which passages
it shows) and answers like a competent model would, so tests exercise the real
graph, memory, citation checks and trajectories without a real model.

Every other test uses the demo world (``agentflow.evals.world.demo``: a slice of the
generated world, read by ``agentflow.evals.world.reader``; ``tests.helpers.build_store``
builds its store). This corpus stays only for ``test_research_graph.py`` and
``test_loop_mechanisms.py``, whose assertions name its facts; do not use it in new tests.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from agentflow.llm import ScriptedLLM
from agentflow.records import ChatMessage
from tests.helpers import node_of as node_of  # re-exported: tests import it from here

CORPUS = [
    {"id": "zorvath", "title": "Zorvath Industries",
     "text": "Zorvath Industries is a shipping company founded in 1911 by Melira Quandt in the harbour of Pellack."},
    {"id": "melira", "title": "Melira Quandt",
     "text": "Melira Quandt was born in the town of Ostrelle. She studied engineering at Velda College."},
    {"id": "ostrelle", "title": "Ostrelle",
     "text": "Ostrelle is a small town in the country of Parvania, on the river Lune."},
    {"id": "kestrin", "title": "Kestrin Works",
     "text": "Kestrin Works is a brewery founded in 1930 by Dario Feln in the city of Amberlo."},
    {"id": "dario", "title": "Dario Feln",
     "text": "Dario Feln was born in Ostrella, a village often confused with Ostrelle."},
    {"id": "velda", "title": "Velda College",
     "text": "Velda College is a technical college in Pellack, founded in 1850."},
]

TWO_HOP = "In which town was the founder of Zorvath Industries born?"
THREE_HOP = "In which country is the town where the founder of Zorvath Industries was born?"
UNANSWERABLE = "Who is the spouse of the founder of Kestrin Works?"

PLANS = {
    TWO_HOP: [("Who founded Zorvath Industries?", []), ("Where was #1 born?", [1])],
    THREE_HOP: [("Who founded Zorvath Industries?", []), ("In which town was #1 born?", [1]),
                ("In which country is #2?", [2])],
    UNANSWERABLE: [("Who founded Kestrin Works?", []), ("Who is the spouse of #1?", [1])],
}

# What a good reader answers for each (resolved) sub-question.
READS = {
    "Who founded Zorvath Industries?": ("Melira Quandt", "Zorvath Industries was founded by Melira Quandt."),
    "Where was Melira Quandt born?": ("Ostrelle", "Melira Quandt was born in Ostrelle."),
    "In which town was Melira Quandt born?": ("Ostrelle", "Melira Quandt was born in Ostrelle."),
    "In which country is Ostrelle?": ("Parvania", "Ostrelle is in Parvania."),
    "Who founded Kestrin Works?": ("Dario Feln", "Kestrin Works was founded by Dario Feln."),
}


def write_corpus(folder: Path) -> Path:
    """Write the corpus as JSONL and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in CORPUS) + "\n", encoding="utf-8")
    return path


def build_store(folder: Path) -> Path:
    """Ingest the corpus into a real Chroma store (hashing embedder) and return its path."""
    from agentflow.store.corpus import CorpusStore
    from agentflow.store.ingest import ingest

    store_dir = folder / "store"
    ingest([write_corpus(folder)], CorpusStore(store_dir, embedder="hash"), progress=False)
    return store_dir


def _question_line(messages: list[ChatMessage]) -> str:
    m = re.findall(r"^Question: (.*)$", messages[-1].content, flags=re.M)
    return m[-1].strip() if m else ""


def _passages(messages: list[ChatMessage]) -> list[str]:
    return re.findall(r"^\[(\d+)\] (.*)$", messages[-1].content, flags=re.M)


def oracle(overrides: dict[str, Any] | None = None) -> ScriptedLLM:
    """A scripted LLM answering each node sensibly; ``overrides[node]`` replaces a
    node's answer (a value, or a callable of the messages)."""
    overrides = overrides or {}

    def fn(messages: list[ChatMessage], schema: Any) -> Any:
        node = node_of(messages)
        if node in overrides:
            o = overrides[node]
            return o(messages) if callable(o) else o
        q = _question_line(messages)
        shown = _passages(messages)
        if node == "plan":
            steps = PLANS.get(q, [(q, [])])
            return {"sub_questions": [{"question": s, "depends_on": d} for s, d in steps]}
        if node == "read":
            answer, _claim = READS.get(q, ("", ""))
            return {"answer": answer or "none of these"}
        if node == "verify":
            return {"verdict": "answered", "refined_query": ""}
        if node == "answer":
            last = re.findall(r"-> (.*)$", messages[-1].content, flags=re.M)
            answer = last[-1].strip() if last else ""
            cites = [i for i, text in shown if answer and answer in text] or ["1"]
            return {"answer": answer, "citations": cites}
        if node == "rag":
            return {"answer": "Ostrelle", "citations": ["1"]}
        return {"action": "answer", "answer": "Ostrelle", "citations": ["1"]}

    return ScriptedLLM(fn=fn)


def calls_by_node(llm: ScriptedLLM) -> list[str]:
    """The node of every call the scripted LLM received, in order."""
    return [node_of(messages) for messages, _ in llm.calls]
