"""The one interface every LLM backend implements.

A backend implements a single method, :meth:`LLM._request`, that sends one chat
request and returns a :class:`~agentflow.records.Completion`. Everything else is
shared here: the async variants, and structured output (ask for a pydantic model,
parse tolerantly, re-ask with the validation error a bounded number of times, then
raise :class:`~agentflow.errors.StructuredOutputError` carrying the raw outputs).

Retries on transient failures (rate limits, timeouts, 5xx) belong to the backend
that talks to the network, not here: a parse failure is not a transient failure.
"""

from __future__ import annotations

import asyncio
import functools
import json
from abc import ABC, abstractmethod
from typing import Any, TypeVar

from pydantic import BaseModel

from agentflow.errors import StructuredOutputError
from agentflow.records import ChatMessage, Completion, StructuredCall

T = TypeVar("T", bound=BaseModel)

Messages = list[ChatMessage] | list[dict[str, str]]

REASK_TEMPLATE = (
    "Your previous answer could not be used: {error}\n"
    "Answer again with only a JSON object that matches this schema:\n{schema}"
)


def as_messages(messages: Messages) -> list[ChatMessage]:
    """Accept ChatMessage objects or plain ``{"role", "content"}`` dicts."""
    return [m if isinstance(m, ChatMessage) else ChatMessage.model_validate(m) for m in messages]


@functools.lru_cache(maxsize=256)
def schema_of(output_type: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema sent to backends that can constrain their output (cached per
    type; callers must not mutate it)."""
    return output_type.model_json_schema()


class LLM(ABC):
    """A chat model. Subclasses implement :meth:`_request`; use :meth:`complete`,
    :meth:`structured` and their async twins."""

    #: The model string this backend was built from, e.g. ``openai:gpt-4o-mini``.
    name: str = "llm"
    #: True for a very small model (the embedded 135M one): the research loop then lets a
    #: check in code overrule its picks (see ``ResearchSettings.trust_reader``).
    small: bool = False

    @abstractmethod
    def _request(
        self,
        messages: list[ChatMessage],
        *,
        json_schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
    ) -> Completion:
        """Send one request. ``json_schema`` asks for constrained JSON output where the
        backend supports it; backends that don't simply ignore it."""

    async def _arequest(
        self,
        messages: list[ChatMessage],
        *,
        json_schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
    ) -> Completion:
        """Async twin of :meth:`_request`; the default runs it in a worker thread."""
        return await asyncio.to_thread(
            self._request,
            messages,
            json_schema=json_schema,
            max_tokens=max_tokens,
            temperature=temperature,
        )

    # -- public API -------------------------------------------------------------

    def complete(
        self, messages: Messages, *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Completion:
        """Free-text completion of a chat."""
        return self._request(
            as_messages(messages), json_schema=None, max_tokens=max_tokens, temperature=temperature
        )

    async def acomplete(
        self, messages: Messages, *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Completion:
        """Async :meth:`complete`."""
        return await self._arequest(
            as_messages(messages), json_schema=None, max_tokens=max_tokens, temperature=temperature
        )

    def structured(
        self,
        messages: Messages,
        output_type: type[T],
        *,
        max_reasks: int = 2,
        max_tokens: int = 384,
        temperature: float = 0.0,
    ) -> tuple[T, StructuredCall]:
        """Ask for an ``output_type`` object; re-ask up to ``max_reasks`` times on a
        parse or validation failure, then raise :class:`StructuredOutputError`.

        Returns the parsed object and the record of the call (every attempt).
        """
        from agentflow.llm.parsing import OutputParseError, parse_output

        msgs = as_messages(messages)
        call = StructuredCall(messages=list(msgs))
        schema = schema_of(output_type)
        for _attempt in range(max_reasks + 1):
            completion = self._request(
                msgs, json_schema=schema, max_tokens=max_tokens, temperature=temperature
            )
            call.attempts.append(completion)
            try:
                value = parse_output(completion.text, output_type)
            except OutputParseError as exc:
                call.errors.append(str(exc))
                msgs = self._reask_messages(call.messages, completion.text, str(exc), schema)
                continue
            call.parsed = value.model_dump(mode="json")
            return value, call
        raise StructuredOutputError(
            f"{self.name} gave no valid {output_type.__name__} in {max_reasks + 1} attempts; "
            f"last error: {call.errors[-1]}",
            raw_outputs=[a.text for a in call.attempts],
            errors=call.errors,
            model=self.name,
        )

    async def astructured(
        self,
        messages: Messages,
        output_type: type[T],
        *,
        max_reasks: int = 2,
        max_tokens: int = 384,
        temperature: float = 0.0,
    ) -> tuple[T, StructuredCall]:
        """Async :meth:`structured`."""
        return await asyncio.to_thread(
            self.structured,
            messages,
            output_type,
            max_reasks=max_reasks,
            max_tokens=max_tokens,
            temperature=temperature,
        )

    @staticmethod
    def _reask_messages(
        original: list[ChatMessage], raw: str, error: str, schema: dict[str, Any]
    ) -> list[ChatMessage]:
        # The re-ask keeps the original prompt and shows the bad answer once, so the
        # prompt does not grow with every attempt.
        return [
            *original,
            ChatMessage(role="assistant", content=raw[:2000]),
            ChatMessage(
                role="user",
                content=REASK_TEMPLATE.format(error=error[:500], schema=json.dumps(schema)),
            ),
        ]

    def close(self) -> None:
        """Release resources (connections, model memory). Optional."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
