"""Citations written into the answer's content, for clients that only read ``content``.

LangChain's ``ChatOpenAI`` and most chat UIs pass on nothing but the message text, so
the answer carries numbered markers and a sources list::

    Melira Quandt [1][2]

    Sources:
    [1] Zorvath Industries: Zorvath Industries is a company founded in 1890 by Melira Quandt.
    [2] ...

The structured ``agentflow`` field keeps the citations as data either way; a request
with ``"sources": false`` gets the bare answer. Earlier assistant messages a client
sends back are stripped of these additions again (:func:`bare_answer`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from agentflow.agent.followup import EarlierTurn
from agentflow.snippets import snippet

__all__ = ["SOURCES_HEADING", "bare_answer", "cited_answer", "earlier_turns", "sources_block"]

SOURCES_HEADING = "Sources:"
SNIPPET_CHARS = 160
_MARKERS = re.compile(r"(?:\s*\[\d{1,3}\])+\s*$")


def cited_answer(answer: str, citations: Sequence[dict[str, Any]]) -> str:
    """The answer with one marker per citation (``[1][2]``); unchanged without citations."""
    if not citations:
        return answer
    return f"{answer.rstrip()} " + "".join(f"[{i}]" for i in range(1, len(citations) + 1))


def sources_block(citations: Sequence[dict[str, Any]]) -> str:
    """``\\n\\nSources:\\n[1] title: snippet`` for the citations (empty without any)."""
    if not citations:
        return ""
    lines = []
    for i, c in enumerate(citations, 1):
        title = str(c.get("title") or c.get("id") or "")
        text = snippet(str(c.get("text") or ""), SNIPPET_CHARS, title=title)
        lines.append(f"[{i}] {title}: {text}" if text else f"[{i}] {title}")
    return f"\n\n{SOURCES_HEADING}\n" + "\n".join(lines)


def bare_answer(content: str) -> str:
    """An assistant message as this server wrote it, without its markers and sources."""
    head = content.split(f"\n\n{SOURCES_HEADING}\n", 1)[0]
    return _MARKERS.sub("", head).strip()


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return str(content or "")


def earlier_turns(messages: Sequence[Any]) -> list[EarlierTurn]:
    """The question/answer pairs before the last user message of a request's ``messages``
    (objects with ``role`` and ``content``), oldest first."""
    last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=-1)
    turns: list[EarlierTurn] = []
    for m in messages[:max(last_user, 0)]:
        text = _text(m.content).strip()
        if m.role == "user" and text:
            turns.append(EarlierTurn(question=text))
        elif m.role == "assistant" and turns and not turns[-1].answer:
            turns[-1] = EarlierTurn(question=turns[-1].question, answer=bare_answer(text))
    return turns
