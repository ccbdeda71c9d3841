"""A scripted writer for the report prompts, on top of the demo world's scripted reader:
the report graph runs end to end with no model (tests, ``langgraph dev`` demos)::

    AGENTFLOW_LLM=scripted:agentflow.report.scripted:write_like_a_model

Like the reader, it answers from what the prompt shows: headings are the shown passages'
titles, a section's sentences are the first sentences of its passages (each citing its
own passage), and a rewrite is the first sentence of the passage it is shown.
"""

from __future__ import annotations

import re
from typing import Any

from agentflow.evals.world.reader import read_like_a_model
from agentflow.records import ChatMessage
from agentflow.report.support import split_sentences

_PASSAGE = re.compile(r"^\[(\d+)\] <passage> (.*?): (.*) </passage>$", re.M)
_ONE_PASSAGE = re.compile(r"^<passage> (.*?): (.*) </passage>$", re.M)
_COUNT = re.compile(r"\b(?:Give|Write) (\d+) ")


def shown_passages(user: str) -> list[tuple[str, str]]:
    """The (title, text) of each numbered passage a prompt shows, in order."""
    return [(m.group(2), m.group(3)) for m in _PASSAGE.finditer(user)]


def _count(system: str, default: int) -> int:
    m = _COUNT.search(system)
    return int(m.group(1)) if m else default


def write_like_a_model(messages: list[ChatMessage], schema: dict[str, Any] | None) -> Any:
    """The scripted model for every prompt of the report graph (see the module docstring)."""
    fields = set((schema or {}).get("properties", {}))
    system, user = messages[0].content, messages[-1].content
    if fields == {"headings"}:
        titles = list(dict.fromkeys(t for t, _ in shown_passages(user)))
        return {"headings": titles[: _count(system, 3)]}
    if fields == {"sentences"}:
        out = []
        for i, (_, text) in enumerate(shown_passages(user), 1):
            first = split_sentences(text)[:1]
            if first:
                out.append({"text": first[0], "citations": [i]})
        return {"sentences": out[: _count(system, 4)]}
    if fields == {"text"}:
        m = _ONE_PASSAGE.search(user)
        first = split_sentences(m.group(2))[:1] if m else []
        return {"text": first[0] if first else ""}
    return read_like_a_model(messages, schema)
