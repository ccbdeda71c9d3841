"""HTTP for web sources: one httpx client, the network guard on every hop, retries with
backoff (tenacity) on rate limits and transient failures, and size caps on what is read.

Why here and not in each source: every source and every page fetch must behave the same
way when the far side rate-limits, hangs or sends too much.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import httpx
from pydantic import BaseModel
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from agentflow.errors import NetworkBlockedError
from agentflow.llm.guard import check_request_allowed
from agentflow.tools.web.records import SourceError

USER_AGENT = "agentflow-research/0.1 (+https://pypi.org/project/agentflow/)"
#: Status codes worth another try: rate limits and the server's own transient failures.
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_JSON_BYTES = 4 * 1024 * 1024


class RetryPolicy(BaseModel):
    """How hard a source is tried: attempts per request, and the backoff between them
    (exponential from ``initial_wait_s``, at most ``max_wait_s``, a server's
    ``Retry-After`` honoured up to that cap)."""

    attempts: int = 3
    initial_wait_s: float = 0.5
    max_wait_s: float = 10.0
    timeout_s: float = 10.0  # connect and read, per request
    total_timeout_s: float = 30.0  # the whole body, so a server that drips cannot hold a run


def is_private_host(url: str) -> bool:
    """True for ``localhost`` and loopback, private, link-local or reserved IP literals:
    addresses a search result on the public web has no business sending us to (a cloud
    metadata endpoint, a service on the intranet)."""
    host = (urlparse(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_unspecified


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


class WebClient:
    """GETs with retries and caps; every failure becomes a :class:`SourceError`."""

    def __init__(self, policy: RetryPolicy | None = None, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._client = httpx.Client(
            timeout=httpx.Timeout(self.policy.timeout_s),
            follow_redirects=True,
            max_redirects=5,
            headers={"User-Agent": USER_AGENT},
            # Redirects are requests too: each hop passes the guard.
            event_hooks={"request": [lambda r: check_request_allowed(str(r.url))]},
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def _wait(self, state: RetryCallState) -> float:
        p = self.policy
        backoff = min(p.max_wait_s, p.initial_wait_s * 2 ** (state.attempt_number - 1))
        exc = state.outcome.exception() if state.outcome else None
        after = getattr(exc, "retry_after", None)
        return min(p.max_wait_s, max(backoff, after)) if after is not None else backoff

    def _retrying(self) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(max(1, self.policy.attempts)),
            wait=self._wait,
            retry=retry_if_exception(lambda e: isinstance(e, SourceError) and e.retryable),
            sleep=self._sleep,
            reraise=True,
        )

    def get_json(self, url: str, *, params: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> Any:
        """GET ``url`` and parse its JSON body (retried; ``malformed`` if it is not JSON)."""
        def once() -> Any:
            body, _, _ = self._get(url, params=params, headers=headers, max_bytes=MAX_JSON_BYTES,
                                   cut_ok=False)
            try:
                return json.loads(body.decode("utf-8", errors="replace"))
            except ValueError as exc:
                raise SourceError("malformed", f"{url} did not answer with JSON: {exc}") from None
        return self._retrying()(once)

    def get_page(self, url: str, *, max_bytes: int) -> tuple[bytes, str, bool]:
        """GET a page: ``(body up to max_bytes, content type, truncated)`` (retried)."""
        return self._retrying()(lambda: self._get(url, max_bytes=max_bytes, cut_ok=True))

    def _get(self, url: str, *, params: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None, max_bytes: int,
             cut_ok: bool) -> tuple[bytes, str, bool]:
        if not url.lower().startswith(("http://", "https://")):
            raise SourceError("unsupported", f"not an http(s) URL: {url!r}")
        started = time.monotonic()
        try:
            with self._client.stream("GET", url, params=params, headers=headers) as resp:
                if resp.status_code in RETRY_STATUS:
                    kind = "rate_limited" if resp.status_code == 429 else "http_error"
                    raise SourceError(kind, f"{url} answered HTTP {resp.status_code}", retryable=True,
                                      retry_after=_retry_after(resp.headers))
                if resp.status_code >= 400:
                    raise SourceError("http_error", f"{url} answered HTTP {resp.status_code}")
                chunks: list[bytes] = []
                size, cut = 0, False
                for chunk in resp.iter_bytes():
                    if time.monotonic() - started > self.policy.total_timeout_s:
                        raise SourceError("timeout", f"{url} took over {self.policy.total_timeout_s:g} s "
                                          "to send its body", retryable=True)
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > max_bytes:
                        cut = True
                        break
                if cut and not cut_ok:
                    raise SourceError("malformed", f"{url} sent more than {max_bytes} bytes")
                body = b"".join(chunks)[:max_bytes]
                return body, resp.headers.get("content-type", ""), cut
        except NetworkBlockedError as exc:
            raise SourceError("blocked", str(exc)) from None
        except httpx.TimeoutException:
            raise SourceError("timeout", f"{url} did not answer within {self.policy.timeout_s:g} s",
                              retryable=True) from None
        except httpx.TooManyRedirects:
            raise SourceError("http_error", f"{url} redirects too often") from None
        except httpx.TransportError as exc:
            raise SourceError("unreachable", f"{url} could not be reached: {exc}",
                              retryable=True) from None
