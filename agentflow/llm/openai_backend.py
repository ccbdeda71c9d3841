"""The OpenAI backend: the OpenAI API and any OpenAI-compatible server.

This is the only module that imports ``openai``. It works against api.openai.com,
vLLM, Ollama, LM Studio and llama.cpp's server. Servers differ in which
``response_format`` they accept, so the backend learns it per endpoint: it tries
OpenAI's ``json_schema`` first and steps down (``json_object`` with a schema, plain
``json_object``, nothing) when the server rejects a format, remembering what worked.
Transient failures (rate limits, timeouts, connection errors, 5xx) are retried here
and only here, chosen by exception type, with bounded jittered backoff.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import re
import threading
import time
import weakref
from typing import Any, ClassVar

import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
)

import agentflow.llm.guard as guard
from agentflow.errors import BackendResponseError, DeadlineExceededError, LLMError, UserError
from agentflow.llm.base import LLM
from agentflow.llm.deadline import cap_timeout, remaining
from agentflow.llm.tokens import count_message_tokens, estimate_tokens
from agentflow.records import ChatMessage, Completion, Usage

DEFAULT_BASE_URL = "https://api.openai.com/v1"
#: Environment variables for the per-request timeout and the tries per request
#: (precedence: constructor arguments > these > the defaults below).
TIMEOUT_ENV = "AGENTFLOW_LLM_TIMEOUT_S"
ATTEMPTS_ENV = "AGENTFLOW_LLM_MAX_ATTEMPTS"
DEFAULT_TIMEOUT_S = 120.0
DEFAULT_MAX_ATTEMPTS = 4
#: Sent when a local server needs no key (the client library insists on one).
PLACEHOLDER_KEY = "not-needed"

#: ``response_format`` styles, most to least constraining.
FORMAT_LADDER = ("json_schema", "json_object_schema", "json_object", "none")

_TRANSIENT = (
    openai.RateLimitError,
    openai.APITimeoutError,
    openai.APIConnectionError,
    openai.InternalServerError,
)
# How a server says it does not understand the response_format it was sent.
# llama.cpp's server answers OpenAI's json_schema with HTTP 500 and a validation error.
_FORMAT_WORDS = re.compile(r"response_format|json_schema|json_object|validation", re.IGNORECASE)
# OpenAI's reasoning models take max_completion_tokens and only the default temperature.
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)")


class _BadResponseError(Exception):
    """A 200 answer that is not a usable completion (transient: worth another try)."""


class _FormatRejectedError(Exception):
    """The server refused the response_format of this request (not a transient failure)."""

    def __init__(self, cause: openai.APIStatusError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class OpenAIChat(LLM):
    """Chat completions from the OpenAI API or an OpenAI-compatible server.

    Precedence: arguments > ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` > defaults. A
    non-OpenAI base URL needs no key. ``max_attempts`` bounds the tries per request
    (transient failures only); waits grow from ``backoff_initial_s`` up to
    ``backoff_max_s`` with full jitter, or follow the server's ``Retry-After``.
    ``timeout_s`` and ``max_attempts`` default to ``$AGENTFLOW_LLM_TIMEOUT_S`` and
    ``$AGENTFLOW_LLM_MAX_ATTEMPTS``; a run's time budget
    (:func:`agentflow.llm.deadline.call_deadline`) shortens both when it has less left.
    """

    # What each (base_url, model) accepted last; shared by every instance in the process.
    _format_cache: ClassVar[dict[tuple[str, str], str]] = {}
    _format_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        model: str = "gpt-4o-mini",
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float | None = None,
        max_attempts: int | None = None,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 20.0,
        seed: int | None = None,
    ) -> None:
        timeout_s = _env_number(TIMEOUT_ENV, float, DEFAULT_TIMEOUT_S) if timeout_s is None else timeout_s
        max_attempts = (
            _env_number(ATTEMPTS_ENV, int, DEFAULT_MAX_ATTEMPTS) if max_attempts is None else max_attempts
        )
        if max_attempts < 1:
            raise UserError(f"max_attempts must be at least 1, got {max_attempts}")
        if not (timeout_s > 0 and math.isfinite(timeout_s)):
            raise UserError(f"timeout_s must be a positive number of seconds, got {timeout_s}")
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip(
            "/"
        )
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            if _is_openai_host(self.base_url):
                raise UserError(
                    f"no OpenAI API key for {model!r}: set OPENAI_API_KEY, or use a local "
                    "model (`local`, or `openai:MODEL@http://127.0.0.1:8080/v1` for a local server)"
                )
            key = PLACEHOLDER_KEY
        self._api_key = key
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.seed = seed
        self.name = (
            f"openai:{model}"
            if _is_openai_host(self.base_url)
            else f"openai:{model}@{self.base_url}"
        )
        self._client: openai.OpenAI | None = None
        self._aclient: openai.AsyncOpenAI | None = None
        self._aclient_loop: weakref.ref[asyncio.AbstractEventLoop] | None = None

    # -- clients ------------------------------------------------------------------

    @property
    def client(self) -> openai.OpenAI:
        """The sync client, created on first use; its own retries are off (they live here)."""
        if self._client is None:
            self._client = openai.OpenAI(
                api_key=self._api_key, base_url=self.base_url, timeout=self.timeout_s, max_retries=0
            )
        return self._client

    @property
    def aclient(self) -> openai.AsyncOpenAI:
        """The async client for the running event loop, created on first use there."""
        loop = asyncio.get_running_loop()
        # Connections belong to the loop that opened them; a later asyncio.run() gets its own.
        if self._aclient is None or self._aclient_loop is None or self._aclient_loop() is not loop:
            self._aclient = openai.AsyncOpenAI(
                api_key=self._api_key, base_url=self.base_url, timeout=self.timeout_s, max_retries=0
            )
            self._aclient_loop = weakref.ref(loop)
        return self._aclient

    def close(self) -> None:
        """Close the sync client's connections."""
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        """Close the async client's connections (call from the loop that used it)."""
        if self._aclient is not None:
            await self._aclient.close()
            self._aclient = None

    def models(self) -> list[str]:
        """Ids of the models the endpoint serves."""
        guard.check_request_allowed(self.base_url)
        try:
            return [m.id for m in self.client.models.list()]
        except openai.OpenAIError as exc:
            raise LLMError(
                f"{self.name}: listing models failed: {exc}", model=self.name, cause=exc
            ) from exc

    # -- structured-output format per endpoint ------------------------------------

    @property
    def structured_format(self) -> str:
        """The ``response_format`` style this endpoint accepted (``json_schema`` until learned)."""
        return self._format_cache.get((self.base_url, self.model), FORMAT_LADDER[0])

    @classmethod
    def forget_formats(cls) -> None:
        """Forget what every endpoint accepted (tests, or after a server upgrade)."""
        with cls._format_lock:
            cls._format_cache.clear()

    def _remember_format(self, style: str) -> None:
        with self._format_lock:
            self._format_cache[(self.base_url, self.model)] = style

    def _formats_to_try(self, json_schema: dict[str, Any] | None) -> list[str | None]:
        if json_schema is None:
            return [None]
        start = FORMAT_LADDER.index(self.structured_format)
        return list(FORMAT_LADDER[start:])

    # -- requests -----------------------------------------------------------------

    def _request(
        self,
        messages: list[ChatMessage],
        *,
        json_schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
    ) -> Completion:
        rejected: _FormatRejectedError | None = None
        for style in self._formats_to_try(json_schema):
            params = self._params(messages, style, json_schema, max_tokens, temperature)
            try:
                completion = self._send(params)
            except _FormatRejectedError as exc:
                rejected = exc
                continue
            if style is not None:
                self._remember_format(style)
            return completion
        raise self._rejection_error(rejected)

    async def _arequest(
        self,
        messages: list[ChatMessage],
        *,
        json_schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
    ) -> Completion:
        rejected: _FormatRejectedError | None = None
        for style in self._formats_to_try(json_schema):
            params = self._params(messages, style, json_schema, max_tokens, temperature)
            try:
                completion = await self._asend(params)
            except _FormatRejectedError as exc:
                rejected = exc
                continue
            if style is not None:
                self._remember_format(style)
            return completion
        raise self._rejection_error(rejected)

    def _send(self, params: dict[str, Any]) -> Completion:
        started = time.perf_counter()
        try:
            for attempt in Retrying(**self._retry_policy()):
                with attempt:
                    guard.check_request_allowed(self.base_url)
                    try:
                        response = self.client.chat.completions.create(
                            **params, timeout=cap_timeout(self.timeout_s)
                        )
                    except ValueError as exc:  # an empty or non-JSON 200 body
                        raise _BadResponseError(f"the body is not JSON ({exc})") from exc
                    completion = self._completion(response, params, time.perf_counter() - started)
        except (openai.OpenAIError, _BadResponseError) as exc:
            raise self._failure(exc, params) from exc
        return completion

    async def _asend(self, params: dict[str, Any]) -> Completion:
        started = time.perf_counter()
        try:
            async for attempt in AsyncRetrying(**self._retry_policy()):
                with attempt:
                    guard.check_request_allowed(self.base_url)
                    try:
                        response = await self.aclient.chat.completions.create(
                            **params, timeout=cap_timeout(self.timeout_s)
                        )
                    except ValueError as exc:
                        raise _BadResponseError(f"the body is not JSON ({exc})") from exc
                    completion = self._completion(response, params, time.perf_counter() - started)
        except (openai.OpenAIError, _BadResponseError) as exc:
            raise self._failure(exc, params) from exc
        return completion

    def _retry_policy(self) -> dict[str, Any]:
        return {
            "stop": stop_after_attempt(self.max_attempts) | _deadline_spent,
            "retry": retry_if_exception(_is_transient),
            "wait": self._wait,
            "reraise": True,
        }

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = _retry_after_s(exc)
        if hinted is not None:
            wait = min(hinted, self.backoff_max_s)
        else:
            # Full jitter: concurrent callers that failed together do not retry together.
            ceiling = min(
                self.backoff_max_s, self.backoff_initial_s * 2 ** (state.attempt_number - 1)
            )
            wait = random.uniform(0, ceiling)
        left = remaining()
        return wait if left is None else max(0.0, min(wait, left))

    def _params(
        self,
        messages: list[ChatMessage],
        style: str | None,
        json_schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
        }
        if _is_openai_host(self.base_url) and _REASONING_MODEL.match(self.model):
            params["max_completion_tokens"] = max_tokens
        else:
            params["max_tokens"] = max_tokens
            params["temperature"] = temperature
        if self.seed is not None:
            params["seed"] = self.seed
        response_format = _response_format(style, json_schema)
        if response_format is not None:
            params["response_format"] = response_format
        return params

    def _failure(self, exc: Exception, params: dict[str, Any]) -> Exception:
        if "response_format" in params and _is_format_rejection(exc):
            return _FormatRejectedError(exc)  # type: ignore[arg-type]
        left = remaining()
        if left is not None and left <= 0 and _is_transient(exc):
            return DeadlineExceededError(
                f"{self.name}: the run's time budget ran out during the request "
                f"({type(exc).__name__}): raise --max-seconds or use a faster model",
                model=self.name,
                cause=exc,
            )
        if isinstance(exc, _BadResponseError | openai.APIResponseValidationError):
            return BackendResponseError(
                f"{self.name}: the server answered without a usable completion "
                f"{self.max_attempts} times: {_short(str(exc))}; check that the base URL is an "
                "OpenAI-compatible /v1 endpoint",
                model=self.name,
                cause=exc,
            )
        status = getattr(exc, "status_code", None)
        what = f"HTTP {status}" if status else type(exc).__name__
        tries = f" after {self.max_attempts} attempts" if _is_transient(exc) else ""
        return LLMError(
            f"{self.name}: request failed{tries} ({what}): {_short(str(exc))}",
            model=self.name,
            cause=exc,
        )

    def _rejection_error(self, rejected: _FormatRejectedError | None) -> LLMError:
        cause = rejected.cause if rejected else None
        return LLMError(
            f"{self.name}: the server rejected every response_format: {_short(str(cause))}",
            model=self.name,
            cause=cause,
        )

    def _completion(self, response: Any, params: dict[str, Any], latency_s: float) -> Completion:
        # Compatible servers are not validated by the client library: check the shape here
        # so a wrong one is a retryable error, not an AttributeError that ends the run.
        choices = _field(response, "choices")
        if not isinstance(choices, list) or not choices:
            raise _BadResponseError(f"no `choices` list in the answer ({type(choices).__name__})")
        choice = choices[0]
        message = _field(choice, "message")
        text = _field(message, "content") if message is not None else None
        if text is not None and not isinstance(text, str):
            raise _BadResponseError(f"`message.content` is a {type(text).__name__}, not text")
        text = text or ""
        finish = _field(choice, "finish_reason")
        usage = _field(response, "usage")
        prompt_tokens = _count(_field(usage, "prompt_tokens"))
        completion_tokens = _count(_field(usage, "completion_tokens"))
        model = _field(response, "model")
        return Completion(
            text=text,
            usage=Usage(
                # Some compatible servers omit usage; budgets still need a number.
                prompt_tokens=prompt_tokens
                if prompt_tokens is not None
                else count_message_tokens(params["messages"]),
                completion_tokens=completion_tokens
                if completion_tokens is not None
                else estimate_tokens(text),
                latency_s=latency_s,
                model=model if isinstance(model, str) and model else self.model,
            ),
            finish_reason=finish if isinstance(finish, str) else None,
        )


def _response_format(style: str | None, schema: dict[str, Any] | None) -> dict[str, Any] | None:
    if style is None or style == "none" or schema is None:
        return None
    if style == "json_schema":
        name = re.sub(r"[^a-zA-Z0-9_-]", "_", str(schema.get("title", "output")))[:64] or "output"
        return {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": False},
        }
    if style == "json_object_schema":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_object"}


def _field(obj: Any, name: str) -> Any:
    """Attribute or key ``name`` of a client object or a plain dict (None if absent)."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _env_number(name: str, kind: type[float] | type[int], default: float) -> Any:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return kind(default)
    try:
        return kind(raw)
    except ValueError:
        raise UserError(f"${name} must be a number, got {raw!r}") from None


def _deadline_spent(state: RetryCallState) -> bool:
    left = remaining()
    return left is not None and left <= 0


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, _BadResponseError | openai.APIResponseValidationError):
        return True
    return isinstance(exc, _TRANSIENT) and not (
        isinstance(exc, openai.InternalServerError) and _is_format_rejection(exc)
    )


def _is_format_rejection(exc: BaseException) -> bool:
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 422, 500):
        return False
    return bool(_FORMAT_WORDS.search(f"{exc.message} {exc.body}"))


def _retry_after_s(exc: BaseException | None) -> float | None:
    response = getattr(exc, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    try:
        return max(0.0, float(header)) if header is not None else None
    except ValueError:
        return None  # an HTTP date; rare enough to fall back to our own backoff


def _is_openai_host(base_url: str) -> bool:
    return "api.openai.com" in base_url


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
