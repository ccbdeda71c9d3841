"""A misbehaving OpenAI-compatible server on loopback, for fault-injection tests and
``evals/bench_faults.py``.

:class:`FaultServer` answers ``POST /v1/chat/completions`` with whatever ``plan(n,
request)`` says for the n-th request: a fault kind from :data:`FAULT_KINDS` or
``"ok"``, in which case ``answer(request)`` gives the assistant's text. Every request
is logged (``requests``, and a JSON line in ``log_path`` when given) with the fault it
received, so callers count faults and repeated calls after the fact.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["FAULT_KINDS", "FaultServer", "chat_body", "request_key"]

#: What the server can do wrong, one name per kind.
FAULT_KINDS = (
    "http_500",  # a 5xx with an error body
    "http_503_retry_after",  # overloaded, with a Retry-After header
    "http_429",  # rate limited
    "empty_body",  # 200 with no body at all
    "non_json_body",  # 200 with an HTML page
    "truncated_json",  # 200 whose JSON stops half-way
    "choices_not_list",  # `choices` is a string
    "choices_empty",  # `choices` is []
    "content_not_text",  # `message.content` is an object
    "connection_reset",  # the socket closes without an answer
    "hang",  # no answer until the client gives up
    "garbage_output",  # a well-formed completion whose text is not JSON at all
    "deep_nesting",  # a completion whose text is "[" * 5000
    "think_flood",  # a completion that is 70 KB of unclosed <think> tags
)

Plan = Callable[[int, dict[str, Any]], str]
Answer = Callable[[dict[str, Any]], str]


def chat_body(content: Any, *, model: str = "fault-model") -> dict[str, Any]:
    """An OpenAI ``chat.completion`` body whose message content is ``content``."""
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def request_key(payload: dict[str, Any]) -> str:
    """What identifies a request's content (its messages and format), for repeat counting."""
    wanted = {k: payload.get(k) for k in ("messages", "response_format", "max_tokens")}
    return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()[:16]


class FaultServer:
    """The server; use it as a context manager. ``hang_s`` is how long a ``hang`` lasts
    (the client's timeout should be shorter); ``delay_s`` slows every good answer."""

    def __init__(
        self,
        plan: Plan,
        answer: Answer,
        *,
        hang_s: float = 30.0,
        delay_s: float = 0.0,
        log_path: str | Path | None = None,
    ) -> None:
        self.plan = plan
        self.answer = answer
        self.hang_s = hang_s
        self.delay_s = delay_s
        self.log_path = Path(log_path) if log_path else None
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    payload = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    payload = {}
                owner._serve(self, payload)

            def do_GET(self) -> None:  # noqa: N802
                owner._send(self, 200, {"object": "list", "data": [{"id": "fault-model"}]})

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # clients that vanish are the point
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def faults(self) -> list[str]:
        """The fault of every request so far, in order (``ok`` for good answers)."""
        with self._lock:
            return [r["fault"] for r in self.requests]

    # -- answering ----------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler, payload: dict[str, Any]) -> None:
        with self._lock:
            n = len(self.requests)
            fault = self.plan(n, payload)
            entry = {
                "n": n,
                "fault": fault,
                "key": request_key(payload),
                "messages": payload.get("messages", []),
                "at": time.time(),
            }
            self.requests.append(entry)
        if self.log_path is not None:
            with self._lock, self.log_path.open("a", encoding="utf-8") as log:
                log.write(json.dumps(entry) + "\n")
        if fault == "ok":
            if self.delay_s:
                self._stop.wait(self.delay_s)
            self._send(handler, 200, chat_body(self.answer(payload)))
        else:
            self._fault(handler, fault, payload)
        with self._lock:
            entry["done_at"] = time.time()  # the answer (or fault) has been written

    def _fault(self, h: BaseHTTPRequestHandler, fault: str, payload: dict[str, Any]) -> None:
        error = {"error": {"message": f"injected {fault}", "type": "server_error", "code": None}}
        if fault == "http_500":
            self._send(h, 500, error)
        elif fault == "http_503_retry_after":
            self._send(h, 503, error, headers={"Retry-After": "0.01"})
        elif fault == "http_429":
            self._send(h, 429, error, headers={"Retry-After": "0.01"})
        elif fault == "empty_body":
            self._raw(h, 200, b"", "application/json")
        elif fault == "non_json_body":
            self._raw(h, 200, b"<html><body>502 Bad Gateway</body></html>", "text/html")
        elif fault == "truncated_json":
            self._raw(h, 200, json.dumps(chat_body("x")).encode()[:40], "application/json")
        elif fault == "choices_not_list":
            self._send(h, 200, {**chat_body(""), "choices": "oops"})
        elif fault == "choices_empty":
            self._send(h, 200, {**chat_body(""), "choices": []})
        elif fault == "content_not_text":
            self._send(h, 200, chat_body({"answer": "not text"}))
        elif fault == "connection_reset":
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif fault == "hang":
            self._stop.wait(self.hang_s)
            h.close_connection = True
        elif fault == "garbage_output":
            self._send(h, 200, chat_body("I am not sure, sorry. Let me think about it."))
        elif fault == "deep_nesting":
            self._send(h, 200, chat_body("[" * 5000))
        elif fault == "think_flood":
            self._send(h, 200, chat_body("<think>" * 10_000 + self.answer(payload)))
        else:
            raise ValueError(f"unknown fault kind {fault!r}: use one of {', '.join(FAULT_KINDS)}")

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        FaultServer._raw(h, status, json.dumps(body).encode(), "application/json", headers)

    @staticmethod
    def _raw(
        h: BaseHTTPRequestHandler,
        status: int,
        data: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", content_type)
            h.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                h.send_header(name, value)
            h.end_headers()
            h.wfile.write(data)
        except OSError:
            pass  # the client gave up first
