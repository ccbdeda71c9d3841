"""What a run is given, as LangGraph users send it: ``{"question": ...}`` or
``{"messages": [...]}`` (OpenAI ``role``/``content`` dicts or LangChain message dicts
with ``type``). With messages, the last user message is the question and the earlier
turns are the conversation it may lean on ("when was *it* founded?")."""

from __future__ import annotations

from typing import Any, NotRequired

from typing_extensions import TypedDict

from agentflow.agent.followup import EarlierTurn
from agentflow.errors import UserError

_USER = {"user", "human"}
_ASSISTANT = {"assistant", "ai"}


class ResearchInput(TypedDict):
    """The input schema of every graph (``typing_extensions.TypedDict``, so that
    LangGraph's JSON schema lists the fields on Python 3.11 too)."""

    question: NotRequired[str]
    messages: NotRequired[list[dict[str, Any]]]
    #: Set by agentflow's runner; LangGraph server runs use the server's run id.
    run_id: NotRequired[str]
    #: Set by agentflow's runner: the memory graph the run starts from (a reference
    #: into the run's store, or node-link JSON).
    memory: NotRequired[dict[str, Any]]


def _role(message: Any) -> str:
    if isinstance(message, dict):
        return str(message.get("role") or message.get("type") or "").lower()
    return str(getattr(message, "type", "") or getattr(message, "role", "")).lower()


def _text(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else getattr(message, "content", "")
    if isinstance(content, list):  # content parts: keep the text ones
        content = " ".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return str(content or "").strip()


def question_of(state: dict[str, Any]) -> tuple[str, list[EarlierTurn]]:
    """The run's question and the earlier turns of its conversation (oldest first).

    ``messages`` win over ``question``: the thread's state keeps the previous run's
    question, while the intake node consumes the messages it reads (clears them), so
    messages in the state are always this run's."""
    messages = state.get("messages") or []
    if messages:
        if not isinstance(messages, list):
            raise UserError("`messages` must be a list of {role, content} messages")
        users = [i for i, m in enumerate(messages) if _role(m) in _USER and _text(m)]
        if not users:
            raise UserError("`messages` holds no user message with text: send "
                            '[{"role": "user", "content": "your question"}]')
        last = users[-1]
        turns: list[EarlierTurn] = []
        for m in messages[:last]:
            if _role(m) in _USER:
                turns.append(EarlierTurn(question=_text(m)))
            elif _role(m) in _ASSISTANT and turns:
                turns[-1] = EarlierTurn(question=turns[-1].question, answer=_text(m))
        return _text(messages[last]), turns
    question = state.get("question")
    if not isinstance(question, str) or not question.strip():
        raise UserError('the run has no question: send {"question": "..."} or '
                        '{"messages": [{"role": "user", "content": "..."}]}')
    return question.strip(), []
