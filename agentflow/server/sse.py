"""Server-sent events in OpenAI's ``chat.completion.chunk`` format.

The stream is what OpenAI clients expect: a first chunk with the assistant role,
content deltas, a last chunk with ``finish_reason: "stop"``, an optional usage chunk,
then ``data: [DONE]``. Progress (the node running, the plan, sub-questions,
searches, verdicts) travels in chunks whose delta is empty and whose extra
``agentflow`` field carries the event: OpenAI clients read them as chunks with no
content (``delta.content is None``), and agentflow-aware clients (the chat page, or
``chunk.model_extra["agentflow"]`` in the ``openai`` package) show them. The last
chunk's ``agentflow`` field holds the status, citations, usage and ids; for a run that
stopped for a review of its plan (``review_plan: true``) it is a ``plan_review`` event
with the plan and what to send back, and the content is the plan as text. Idle
stretches (a slow model) get SSE comment lines, which every client skips.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from agentflow.server.errors import redact
from agentflow.server.schemas import extension, openai_usage

__all__ = ["DONE", "ChunkWriter", "answer_pieces", "comment"]

DONE = b"data: [DONE]\n\n"
#: Run events forwarded as progress (``final`` becomes the last chunk instead).
PROGRESS_TYPES = frozenset(
    {"turn", "step", "plan", "sub_question", "search", "read", "verify", "note", "answer"}
)
_PIECE = re.compile(r"\S+\s*|\s+")


def _data(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


def comment(text: str) -> bytes:
    """An SSE comment line (ignored by clients; keeps idle connections open)."""
    return f": {text}\n\n".encode()


def answer_pieces(text: str, words: int = 3) -> list[str]:
    """``text`` cut into deltas of a few words each (joined, they give ``text`` back)."""
    tokens = _PIECE.findall(text)
    return ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]


class ChunkWriter:
    """Builds the chunks of one streamed completion."""

    def __init__(self, *, run_id: str, thread_id: str, model: str) -> None:
        self.id = f"chatcmpl-{run_id}"
        self.run_id = run_id
        self.created = int(time.time())
        self.model = model
        self.thread_id = thread_id

    def _chunk(self, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        return _data(
            {
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                **extra,
            }
        )

    def role(self) -> bytes:
        """The first chunk: the assistant role, and the thread and run ids."""
        return self._chunk(
            {"role": "assistant", "content": ""},
            agentflow={"type": "start", "thread_id": self.thread_id, "run_id": self.run_id},
        )

    def progress(self, event: dict[str, Any]) -> bytes:
        """A progress event in an empty-delta chunk."""
        return self._chunk({}, agentflow={k: v for k, v in event.items() if k != "run_id"})

    def content(self, text: str) -> bytes:
        """A piece of the answer."""
        return self._chunk({"content": text})

    def finish(self, final: dict[str, Any], timing: dict[str, float] | None = None) -> bytes:
        """The last chunk: ``finish_reason`` and the run's status, citations and usage."""
        return self._chunk(
            {},
            "stop",
            agentflow={
                "type": "final",
                **extension(final, thread_id=self.thread_id, timing=timing),
            },
        )

    def plan_review(self, final: dict[str, Any], timing: dict[str, float] | None = None) -> bytes:
        """The last chunk of a run stopped for its plan's review: ``finish_reason`` and an
        ``agentflow`` event of type ``plan_review`` with the plan and what to send back."""
        return self._chunk(
            {},
            "stop",
            agentflow={
                "type": "plan_review",
                **extension(final, thread_id=self.thread_id, timing=timing),
            },
        )

    def usage(self, final: dict[str, Any]) -> bytes:
        """The usage chunk OpenAI sends when ``stream_options.include_usage`` is set."""
        return _data(
            {
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "choices": [],
                "usage": openai_usage(final.get("usage") or {}),
            }
        )

    def error(self, message: str, *, code: str = "run_failed") -> bytes:
        """An error event: OpenAI clients raise ``APIError`` with this message (URLs and
        paths removed: a client is not told where the backend lives)."""
        return _data(
            {"error": {"message": redact(message), "type": "server_error", "code": code, "param": None}}
        )
