"""``--llm-timeout`` and ``--llm-attempts``: the per-request flags of ``ask``, ``serve``
and ``eval run``.

Precedence, as everywhere: these flags > ``$AGENTFLOW_LLM_TIMEOUT_S`` /
``$AGENTFLOW_LLM_MAX_ATTEMPTS`` > the defaults (120 s, 4 tries). They bound requests to a
server (``openai:MODEL[@URL]``); a run's ``--max-seconds`` shortens a request further when
the run has less time left. The embedded model sends no requests, so giving them with
``--llm local`` is an error rather than a flag that silently does nothing.
"""

from __future__ import annotations

from typing import Any

import typer

__all__ = ["llm_attempts_option", "llm_options", "llm_timeout_option"]


def llm_timeout_option() -> Any:
    """The ``--llm-timeout SECONDS`` option (None when not given)."""
    return typer.Option(
        None, "--llm-timeout", metavar="SECONDS", min=0.001,
        help="Seconds one request to an openai: backend may take (default: $AGENTFLOW_LLM_TIMEOUT_S or 120).",
    )


def llm_attempts_option() -> Any:
    """The ``--llm-attempts N`` option (None when not given)."""
    return typer.Option(
        None, "--llm-attempts", metavar="N", min=1,
        help="Tries per request to an openai: backend on transient failures (default: $AGENTFLOW_LLM_MAX_ATTEMPTS or 4).",
    )


def llm_options(timeout_s: float | None, max_attempts: int | None) -> dict[str, Any]:
    """The backend options the two flags give (only those given: the rest falls to the
    environment, then the defaults, inside the backend)."""
    given = {"timeout_s": timeout_s, "max_attempts": max_attempts}
    return {k: v for k, v in given.items() if v is not None}
