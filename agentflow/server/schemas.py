"""The request and response bodies of ``/v1/chat/completions`` (OpenAI's shapes plus
an ``agentflow`` extension field that OpenAI clients ignore)."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agentflow.server.errors import APIError

__all__ = ["ChatCompletionRequest", "completion_body", "extension", "openai_usage"]


class ChatMessageIn(BaseModel):
    """One message of the conversation a client sends."""

    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None


class StreamOptions(BaseModel):
    """OpenAI's ``stream_options``."""

    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """A chat completion request. Only the last user message is used: the thread, not
    the client's copy of the history, is the conversation's memory. Sampling options
    (temperature, max_tokens, ...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: str | None = None
    messages: list[ChatMessageIn] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    #: agentflow extensions: the conversation to continue, and whether to stream progress.
    thread_id: str | None = None
    metadata: dict[str, Any] | None = None
    progress: bool = True
    #: Stop after planning for a review of the plan (the response carries ``plan_review``).
    review_plan: bool = False
    #: The answer to a plan review of this thread: ``{"action": "approve" | "edit" |
    #: "replace", ...}`` (:class:`agentflow.agent.review.PlanReview`), with ``run_id``
    #: optional (default: the thread's run waiting for one). The run then goes on.
    plan_review: dict[str, Any] | None = None

    def question(self, max_chars: int) -> str:
        """The text of the last user message (400 if there is none or it is too long)."""
        last = next((m for m in reversed(self.messages) if m.role == "user"), None)
        if last is None:
            raise APIError(
                400,
                "no user message: the last message with role `user` is the question",
                code="invalid_request",
                param="messages",
            )
        if isinstance(last.content, list):
            text = "\n".join(
                str(p.get("text", "")) for p in last.content if p.get("type") == "text"
            )
        else:
            text = last.content or ""
        text = text.strip()
        if not text:
            raise APIError(
                400,
                "the question (last user message) is empty",
                code="invalid_request",
                param="messages",
            )
        if len(text) > max_chars:
            raise APIError(
                400,
                f"the question is {len(text)} characters long, over the limit of {max_chars}: "
                "ask a shorter question",
                code="question_too_long",
                param="messages",
            )
        return text

    def requested_thread_id(self, header: str | None) -> str | None:
        """The thread to continue: header ``X-Thread-Id``, else the body's ``thread_id``,
        else ``metadata.thread_id``; None starts a new thread."""
        meta = (self.metadata or {}).get("thread_id")
        for value in (header, self.thread_id, meta):
            if value is not None and str(value).strip():
                return str(value).strip()
        return None


def openai_usage(usage: dict[str, Any]) -> dict[str, int]:
    """A run's usage in OpenAI's ``usage`` shape (tokens over all its LLM calls)."""
    prompt, completion = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def extension(
    final: dict[str, Any], *, thread_id: str, timing: dict[str, float] | None = None
) -> dict[str, Any]:
    """The ``agentflow`` field: status, citations (with passage text), usage, ids."""
    out = {
        "status": final.get("status"),
        "citations": final.get("citations") or [],
        "sub_questions": final.get("sub_questions") or [],
        "usage": final.get("usage") or {},
        "run_id": final.get("run_id"),
        "thread_id": thread_id,
        "trajectory_url": f"/v1/runs/{final.get('run_id')}/trajectory",
    }
    if timing:
        out["timing"] = timing
    if final.get("plan_review") is not None:  # a run waiting for its plan's review
        out["plan_review"] = final["plan_review"]
        out["resume"] = resume_hint(str(final.get("run_id")), thread_id)
    return out


def resume_hint(run_id: str, thread_id: str) -> dict[str, Any]:
    """What a client sends back to go on with a run waiting for its plan's review."""
    from agentflow.agent.review import HOW_TO_ANSWER

    return {
        "method": "POST",
        "path": "/v1/chat/completions",
        "headers": {"X-Thread-Id": thread_id},
        "body": {
            "thread_id": thread_id,
            "messages": [{"role": "user", "content": "approve"}],
            "plan_review": {"run_id": run_id, "action": "approve"},
        },
        "plan_review": HOW_TO_ANSWER,
    }


def completion_body(
    final: dict[str, Any], *, model: str, thread_id: str, timing: dict[str, float] | None = None
) -> dict[str, Any]:
    """A non-streaming ``chat.completion`` for a finished run."""
    return {
        "id": f"chatcmpl-{final.get('run_id')}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": final.get("answer", "")},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": openai_usage(final.get("usage") or {}),
        "agentflow": extension(final, thread_id=thread_id, timing=timing),
    }
