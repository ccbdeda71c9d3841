"""The exceptions agentflow raises, split by who can fix them.

``UserError`` and its subclasses are mistakes the caller can correct (a bad flag,
a missing store, an unknown model string); their message says what to do next.
The others are runtime failures (a backend that keeps failing, output that never
parses) and carry what is needed to debug them after the fact.
"""

from __future__ import annotations

from typing import Any


class AgentflowError(Exception):
    """Base class of every error agentflow raises on purpose."""


class UserError(AgentflowError):
    """A mistake by the developer or user: the message says how to fix it."""


class ConfigError(UserError):
    """Invalid configuration: an unknown model string, a bad option value."""


class StoreNotFoundError(UserError):
    """The corpus store is missing or empty: ingest documents first."""


class StoreMismatchError(UserError):
    """The store was built with another embedder than the one asked for."""


class DependencyMissingError(UserError):
    """An optional dependency (an extra) is not installed."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the `{package}` package: install it with "
            f"`pip install 'agentflow[{extra}]'`"
        )
        self.package = package
        self.extra = extra


class NetworkBlockedError(AgentflowError):
    """A real backend tried to reach the network while requests are blocked (tests)."""


class LLMError(AgentflowError):
    """An LLM backend failed after its retries; ``cause`` is the last exception.
    ``retryable`` says whether sending the request again later may succeed."""

    retryable: bool = False

    def __init__(self, message: str, *, model: str | None = None, cause: BaseException | None = None):
        super().__init__(message)
        self.model = model
        self.cause = cause


class BackendResponseError(LLMError):
    """The backend answered, but not with a usable completion (an empty or non-JSON body,
    ``choices`` of the wrong shape). Transient: the request is worth sending again."""

    retryable: bool = True


class DeadlineExceededError(LLMError):
    """A call was cut short because the run's time budget ran out while it was in flight
    (the run then continues on its deterministic fallbacks)."""


class StructuredOutputError(LLMError):
    """The model's output never parsed into the requested type, even after re-asking.

    ``raw_outputs`` holds every raw answer the model gave, ``errors`` the parse or
    validation error of each, so the failure can be inspected afterwards.
    """

    def __init__(
        self,
        message: str,
        *,
        raw_outputs: list[str],
        errors: list[str],
        model: str | None = None,
    ) -> None:
        super().__init__(message, model=model)
        self.raw_outputs = raw_outputs
        self.errors = errors

    @property
    def raw_output(self) -> str:
        """The last raw output the model produced."""
        return self.raw_outputs[-1] if self.raw_outputs else ""


class ScriptExhaustedError(AgentflowError):
    """A scripted LLM was called more often than it was scripted for."""


class RunError(AgentflowError):
    """A research run failed; ``partial`` holds what the run had produced so far."""

    def __init__(self, message: str, *, run_id: str | None = None, partial: Any = None) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.partial = partial


class RunCancelledError(AgentflowError):
    """The run was cancelled by its caller (``cancel`` set, or a stream closed early)."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id} was cancelled before it finished")
        self.run_id = run_id
