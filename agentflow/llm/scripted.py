"""A deterministic LLM for tests and benchmarks: queued or computed responses.

``ScriptedLLM`` returns the responses it was given in order (strings, dicts or
pydantic models, or raises an exception placed in the script), then falls back to
``fn`` if one was given. It records every call, fails loudly when called more
often than scripted, and can check that its whole script was used.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, TypeAlias

from pydantic import BaseModel

from agentflow.errors import ScriptExhaustedError
from agentflow.llm.base import LLM
from agentflow.llm.tokens import count_message_tokens, estimate_tokens
from agentflow.records import ChatMessage, Completion, Usage

#: One scripted answer: text, a JSON-able dict/list, a pydantic model (dumped as
#: JSON), or an exception (instance or class) to raise instead of answering.
ScriptedResponse: TypeAlias = (
    str | dict[str, Any] | list[Any] | BaseModel | BaseException | type[BaseException]
)
#: Computes an answer from the messages and the JSON schema asked for (None for free text).
ResponseFn: TypeAlias = Callable[[list[ChatMessage], dict[str, Any] | None], Any]


class ScriptedLLM(LLM):
    """A test double: answers from ``responses`` in order, then from ``fn``.

    ``latency_s`` makes each call take that long (``time.sleep`` on the sync path,
    ``asyncio.sleep`` on the async one), which server benchmarks use to stand in for
    a real model. ``calls`` holds ``(messages, json_schema)`` for every call.
    """

    def __init__(
        self,
        responses: Iterable[ScriptedResponse] | None = None,
        *,
        fn: ResponseFn | None = None,
        latency_s: float = 0.0,
        name: str = "scripted",
    ) -> None:
        self.name = name
        self.latency_s = latency_s
        self.calls: list[tuple[list[ChatMessage], dict[str, Any] | None]] = []
        self._queue: deque[ScriptedResponse] = deque(responses or [])
        self._scripted = len(self._queue)
        self._fn = fn
        # Server tests call one instance from several threads; the queue must not be
        # popped twice for the same answer.
        self._lock = threading.Lock()

    @property
    def remaining(self) -> int:
        """Queued responses not used yet."""
        return len(self._queue)

    def assert_exhausted(self) -> None:
        """Raise ``AssertionError`` unless every queued response has been used."""
        if self._queue:
            raise AssertionError(
                f"{self.name}: {len(self._queue)} of {self._scripted} scripted responses were "
                f"never used ({len(self.calls)} calls made); next unused: {self._queue[0]!r:.200}"
            )

    def _request(
        self,
        messages: list[ChatMessage],
        *,
        json_schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
    ) -> Completion:
        if self.latency_s > 0:
            time.sleep(self.latency_s)
        return self._answer(messages, json_schema)

    async def _arequest(
        self,
        messages: list[ChatMessage],
        *,
        json_schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
    ) -> Completion:
        if self.latency_s > 0:
            await asyncio.sleep(self.latency_s)
        return self._answer(messages, json_schema)

    def _answer(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None
    ) -> Completion:
        with self._lock:
            self.calls.append((list(messages), json_schema))
            call_number = len(self.calls)
            response = self._queue.popleft() if self._queue else None
        if response is None:
            if self._fn is None:
                raise ScriptExhaustedError(
                    f"{self.name} was called {call_number} times but scripted for only "
                    f"{self._scripted} responses; add responses or pass fn=. "
                    f"Last prompt: {_last_content(messages)!r:.200}"
                )
            response = self._fn(list(messages), json_schema)
        if isinstance(response, BaseException) or (
            isinstance(response, type) and issubclass(response, BaseException)
        ):
            raise response
        text = _as_text(response)
        return Completion(
            text=text,
            usage=Usage(
                prompt_tokens=count_message_tokens(messages),
                completion_tokens=estimate_tokens(text),
                latency_s=self.latency_s,
                model="scripted",
            ),
            finish_reason="stop",
        )


def _as_text(response: Any) -> str:
    if isinstance(response, str):
        return response
    if isinstance(response, BaseModel):
        return response.model_dump_json()
    if isinstance(response, dict | list):
        return json.dumps(response)
    raise TypeError(
        f"a scripted response must be str, dict, list, a pydantic model or an exception, "
        f"not {type(response).__name__}"
    )


def _last_content(messages: list[ChatMessage]) -> str:
    return messages[-1].content if messages else ""
