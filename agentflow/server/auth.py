"""API keys: bearer tokens from ``--api-key`` or ``$AGENTFLOW_API_KEY``.

Several keys may be given, comma-separated. Each key is its own principal: it owns
the threads it starts and has its own share of concurrent runs. Keys are compared in
constant time and never stored; threads record a short hash of the key instead.
Without any key the server is for this machine only: it refuses to listen on
anything but a loopback address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
from collections.abc import Sequence

from agentflow.errors import UserError
from agentflow.server.errors import APIError

__all__ = ["ApiKeys", "check_bind", "is_loopback_host", "key_owner"]

ENV_VAR = "AGENTFLOW_API_KEY"


def key_owner(key: str) -> str:
    """The owner id recorded for a key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class ApiKeys:
    """The accepted keys; :meth:`owner` turns an ``Authorization`` header into the owner
    id of its key, or raises a 401."""

    def __init__(self, keys: Sequence[str] = ()) -> None:
        self._keys = [k for k in (k.strip() for k in keys) if k]
        self._owners = [key_owner(k) for k in self._keys]

    @classmethod
    def from_option(cls, value: str | None) -> ApiKeys:
        """Keys from a ``--api-key`` value, else from ``$AGENTFLOW_API_KEY`` (comma-separated)."""
        raw = value if value is not None else os.environ.get(ENV_VAR, "")
        return cls(raw.split(","))

    @property
    def enabled(self) -> bool:
        """True when requests must carry a key."""
        return bool(self._keys)

    def owner(self, authorization: str | None) -> str:
        """The owner id of the request's key ("" when no keys are configured)."""
        if not self._keys:
            return ""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise APIError(
                401,
                "missing API key: send the header `Authorization: Bearer YOUR_KEY`",
                code="invalid_api_key",
                headers={"WWW-Authenticate": "Bearer"},
            )
        found = None
        for key, owner in zip(self._keys, self._owners, strict=True):
            # compare every key so the time taken does not say which one was close
            if hmac.compare_digest(key.encode(), token.encode()):
                found = owner
        if found is None:
            raise APIError(
                401,
                "invalid API key: check the key the server was started with "
                "(--api-key or AGENTFLOW_API_KEY)",
                code="invalid_api_key",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return found


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip("[]") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, keys: ApiKeys) -> None:
    """Refuse to listen beyond this machine without an API key."""
    if not keys.enabled and not is_loopback_host(host):
        raise UserError(
            f"refusing to listen on {host} without an API key: anyone who can reach it could "
            f"use the agent. Pass --api-key KEY (or set {ENV_VAR}), or listen on 127.0.0.1"
        )
