"""Request hardening in front of the API: cross-site and DNS-rebinding checks, JSON-only
bodies, slow-body timeouts and nesting limits, all answered in OpenAI's error shape.

- ``POST`` bodies must be ``application/json`` (415 otherwise), so a browser's
  "simple" cross-site form or ``text/plain`` POST is refused before it runs anything.
- Without API keys (loopback mode) the ``Host`` header must name this machine
  (``localhost``, ``127.0.0.1``, ``[::1]``) and an ``Origin``, when sent, must be a
  loopback origin: a page on another site, or one reached through a rebound DNS name,
  cannot drive the agent.
- A body must arrive within ``body_timeout_s`` (408 and the connection closed
  otherwise), so slow senders cannot hold connections open.
- A JSON body nested deeper than Python's parser can take is a 400, not a 500.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentflow.server.auth import is_loopback_host
from agentflow.server.errors import error_body

__all__ = ["RequestGuard"]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class RequestGuard:
    """ASGI middleware applying the checks above; ``loopback_only`` turns on the
    ``Host`` / ``Origin`` checks (the server runs without API keys)."""

    def __init__(self, app: ASGIApp, *, loopback_only: bool, body_timeout_s: float = 10.0) -> None:
        self.app = app
        self.loopback_only = loopback_only
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if self.loopback_only:
            refusal = _cross_site(headers)
            if refusal:
                await _reply(send, 403, refusal, "forbidden_host")
                return
        if scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        try:
            body, more = await asyncio.wait_for(_read_body(receive), self.body_timeout_s)
        except TimeoutError:
            await _reply(
                send, 408, f"the request body did not arrive within {self.body_timeout_s:g} s",
                "request_timeout", close=True,
            )
            return
        media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != "application/json":
            await _reply(
                send, 415, f"the body must be JSON: send `Content-Type: application/json` (got {media or 'none'!r})",
                "unsupported_media_type",
            )
            return
        if not more and _too_deep(body):
            await _reply(send, 400, "the body is JSON nested too deeply", "invalid_json")
            return
        await self.app(scope, _replay(body, more, receive), send)


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole body; ``more`` holds a non-body message seen meanwhile (a disconnect)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), [message]
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), []


def _replay(body: bytes, more: list[Message], receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if more:
            return more.pop(0)
        return await receive()  # later calls wait for the disconnect, as usual

    return replay


def _too_deep(body: bytes) -> bool:
    try:
        json.loads(body or b"null")
    except RecursionError:
        return True
    except ValueError:
        return False  # not JSON at all: the endpoint says so in its own words
    return False


def _cross_site(headers: dict[str, str]) -> str | None:
    host = _hostname(headers.get("host", ""))
    if not is_loopback_host(host):
        return (
            f"Host {headers.get('host', '')!r} is not this machine: a server without API keys "
            "answers loopback names only (use http://127.0.0.1:PORT, or start it with --api-key)"
        )
    origin = headers.get("origin")
    if origin is not None and not is_loopback_host(urlsplit(origin).hostname or ""):
        return (
            f"requests from the web origin {origin!r} are refused: a server without API keys "
            "serves pages of this machine only (start it with --api-key to allow other origins)"
        )
    return None


def _hostname(host: str) -> str:
    host = host.strip()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def _reply(send: Send, status: int, message: str, code: str, *, close: bool = False) -> None:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    body = json.dumps(error_body(message, type_=kind, code=code)).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
