"""Request limits: body size (413), question length (400) and runs in progress per API
key (429) and in total (503), all answered in OpenAI's error shape."""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentflow.server.errors import APIError, error_body

__all__ = ["BodySizeLimit", "RunSlots", "ServerLimits"]


class ServerLimits(BaseModel):
    """What one request and one API key may use."""

    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="largest request body")
    max_question_chars: int = Field(
        default=4000, ge=1, description="longest question (last user message)"
    )
    max_runs_per_key: int = Field(default=4, ge=1, description="runs in progress per API key")
    max_runs: int = Field(
        default=32, ge=1, description="runs in progress in this process (worker threads)"
    )
    body_timeout_s: float = Field(
        default=10.0, gt=0, description="time a client has to send its request body (408 after)"
    )


class RunSlots:
    """Counts runs in progress per owner and in total. A slot is taken before a run
    starts and given back when its worker is free again (after a cancelled run has
    really stopped), so disconnecting and reconnecting cannot pile up work."""

    def __init__(self, limits: ServerLimits) -> None:
        self.limits = limits
        self._lock = threading.Lock()  # released from worker threads
        self._per_owner: Counter[str] = Counter()
        self._total = 0

    @property
    def total(self) -> int:
        """Runs in progress now."""
        return self._total

    def acquire(self, owner: str) -> None:
        """Take a slot for ``owner`` or raise 429 (this key is busy) / 503 (server is full)."""
        with self._lock:
            if self._per_owner[owner] >= self.limits.max_runs_per_key:
                raise APIError(
                    429,
                    f"too many runs in progress for this API key (limit {self.limits.max_runs_per_key}): "
                    "wait for one to finish, then retry",
                    code="rate_limit_exceeded",
                    headers={"Retry-After": "1"},
                )
            if self._total >= self.limits.max_runs:
                raise APIError(
                    503,
                    f"the server is running {self._total} runs, its limit: retry shortly",
                    code="server_busy",
                    headers={"Retry-After": "1"},
                )
            self._per_owner[owner] += 1
            self._total += 1

    def release(self, owner: str) -> None:
        """Give back a slot taken by :meth:`acquire` (safe from any thread)."""
        with self._lock:
            self._per_owner[owner] -= 1
            if self._per_owner[owner] <= 0:
                del self._per_owner[owner]
            self._total -= 1


class _BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """ASGI middleware answering 413 to bodies over ``max_bytes``: at once when
    ``Content-Length`` says so, else as soon as the streamed body passes the limit
    (nothing over the limit is ever buffered)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._reject(send)
                return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await self._reject(send)

    async def _reject(self, send: Send) -> None:
        body = json.dumps(
            error_body(
                f"request body too large: the limit is {self.max_bytes} bytes (send a shorter conversation; "
                "only the last user message is used)",
                type_="invalid_request_error",
                code="request_too_large",
            )
        ).encode()
        headers: list[Any] = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
