"""The time a run has left, as seen by the backend sending a request.

:func:`call_deadline` sets, for the calls made inside it (in this thread or task, and
in worker threads started with ``asyncio.to_thread``), how many seconds they may take
in all. Backends cap each request's timeout with :func:`remaining` and stop retrying
once it is spent, so a hanging server cannot hold a run past its time budget.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["call_deadline", "cap_timeout", "remaining"]

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "agentflow_call_deadline", default=None
)


@contextmanager
def call_deadline(seconds: float | None) -> Iterator[None]:
    """Calls inside this block must finish within ``seconds`` (None: no limit)."""
    if seconds is None:
        yield
        return
    when = time.monotonic() + max(0.0, seconds)
    outer = _deadline.get()
    token = _deadline.set(when if outer is None else min(when, outer))
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left before the current deadline (may be <= 0), or None without one."""
    when = _deadline.get()
    return None if when is None else when - time.monotonic()


def cap_timeout(timeout_s: float) -> float:
    """``timeout_s``, or the time left before the deadline if that is shorter (at least
    a few milliseconds, so a request is never sent with a zero timeout)."""
    left = remaining()
    return timeout_s if left is None else max(0.01, min(timeout_s, left))
