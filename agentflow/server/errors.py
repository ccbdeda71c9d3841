"""Errors in OpenAI's JSON shape, so OpenAI clients raise their usual exceptions.

Every error the server answers looks like
``{"error": {"message": ..., "type": ..., "code": ..., "param": null}}``, whether it
comes from a check of ours (:class:`APIError`), from routing (404, 405), from request
validation (400) or from a bug (500).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from agentflow.errors import UserError
from agentflow.threads import ThreadNotFoundError

__all__ = ["APIError", "error_body", "install_error_handlers", "redact"]

log = logging.getLogger("agentflow.server")

# What OpenAI calls the error types of the status codes we answer with.
_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "requests",
    500: "server_error",
    503: "server_error",
}
_CODES = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}

# What a server error must not tell a client: where the backend lives, where files are.
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>)]+")
_PATH = re.compile(r"(?<![\w/.])/(?:home|root|tmp|var|usr|opt|srv|data|mnt|etc|Users|private)(?:/[^\s'\":,)]*)?")


def redact(message: str) -> str:
    """``message`` without URLs and file-system paths (for 5xx bodies and stream errors;
    the server log keeps the full text)."""
    return _PATH.sub("<path>", _URL.sub("<backend>", message))


class APIError(Exception):
    """An error answered with HTTP ``status`` and OpenAI's error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        type_: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.type = type_ or _TYPES.get(status, "invalid_request_error")
        self.param = param
        self.headers = headers or {}


def error_body(
    message: str, *, type_: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """The JSON body of an error, as OpenAI writes it."""
    return {"error": {"message": message, "type": type_, "code": code, "param": param}}


def _response(exc: APIError) -> JSONResponse:
    message = redact(exc.message) if exc.status >= 500 else exc.message
    if message != exc.message:
        log.warning("server error answered as: %s (in full: %s)", message, exc.message)
    return JSONResponse(
        error_body(message, type_=exc.type, code=exc.code, param=exc.param),
        status_code=exc.status,
        headers=exc.headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Make every error response of ``app`` use OpenAI's shape."""

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> JSONResponse:
        return _response(exc)

    @app.exception_handler(ThreadNotFoundError)
    async def _no_thread(request: Request, exc: ThreadNotFoundError) -> JSONResponse:
        return _response(APIError(404, str(exc), code="thread_not_found", param="thread_id"))

    @app.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError) -> JSONResponse:
        return _response(APIError(400, str(exc), code="invalid_request"))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no route {request.method} {request.url.path}: see GET /v1/models and POST /v1/chat/completions"
        return _response(
            APIError(
                exc.status_code,
                message,
                code=_CODES.get(exc.status_code),
                headers=dict(exc.headers or {}),
            )
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _response(
            APIError(
                400,
                f"invalid request: {where or 'body'}: {first.get('msg', 'invalid')}",
                code="invalid_request",
                param=where or None,
            )
        )

    @app.exception_handler(RecursionError)
    async def _too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        # Only a hostile body nests this deep; it is the client's mistake, not a bug.
        return _response(APIError(400, "the request is nested too deeply", code="invalid_request"))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _response(
            APIError(500, "internal error: see the server log", code="internal_error")
        )
