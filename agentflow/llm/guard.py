"""A process-wide switch that stops real backends from sending requests.

Tests turn it on for the whole session (``tests/conftest.py``) so a forgotten
test double fails loudly instead of reaching the internet or hanging. A test that
talks to a real server on this machine allows loopback addresses explicitly.
Setting ``AGENTFLOW_BLOCK_NETWORK=1`` turns it on for a whole process (subprocess
tests use this); ``=loopback`` allows loopback addresses only.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

from agentflow.errors import NetworkBlockedError

_state: dict[str, bool] = {"blocked": False, "loopback": False}


def _env_mode() -> str:
    return os.environ.get("AGENTFLOW_BLOCK_NETWORK", "").strip().lower()


def is_loopback(url: str) -> bool:
    """True when ``url`` points at this machine (127.0.0.0/8, ::1, localhost)."""
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_request_allowed(url: str) -> None:
    """Raise :class:`NetworkBlockedError` if a request to ``url`` is not allowed now.

    Inside :func:`block_network` the in-process switch decides alone (so a test's
    ``loopback`` fixture means what it says); otherwise ``AGENTFLOW_BLOCK_NETWORK``
    does, which is how subprocesses started by tests inherit the guard.
    """
    if _state["blocked"]:
        blocked, loopback_ok = True, _state["loopback"]
    else:
        env = _env_mode()
        blocked, loopback_ok = env in {"1", "true", "yes", "loopback"}, env == "loopback"
    if not blocked or (loopback_ok and is_loopback(url)):
        return
    raise NetworkBlockedError(
        f"request to {url} refused: network requests are blocked (tests). "
        "Use the scripted LLM, or allow loopback for a test against a local server."
    )


@contextmanager
def block_network(*, allow_loopback: bool = False) -> Iterator[None]:
    """Within the block, real backends refuse to send requests (loopback optionally allowed)."""
    saved = dict(_state)
    _state.update(blocked=True, loopback=allow_loopback)
    try:
        yield
    finally:
        _state.update(saved)


@contextmanager
def allow_loopback() -> Iterator[None]:
    """Within a blocked region, allow requests to loopback addresses."""
    saved = dict(_state)
    _state["loopback"] = True
    try:
        yield
    finally:
        _state.update(saved)
