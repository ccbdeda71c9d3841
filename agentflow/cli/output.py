"""Terminal output shared by the CLI commands: one rich console for humans on
stderr, plain JSON on stdout for machines, and one-line errors."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from agentflow.errors import AgentflowError, UserError

#: Human-facing output (progress, tables, errors) goes to stderr so stdout stays
#: clean for --json consumers and pipes.
console = Console(stderr=True, highlight=False)
out = Console(highlight=False, soft_wrap=True)

_state = {"debug": False}

F = TypeVar("F", bound=Callable[..., Any])


def set_debug(flag: bool) -> None:
    """Show full tracebacks on errors (``--debug``)."""
    _state["debug"] = flag


def print_json(obj: Any) -> None:
    """Write one JSON document to stdout."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def cli_errors(fn: F) -> F:
    """Turn agentflow errors into one red line and exit code 1 (2 for usage mistakes);
    with ``--debug`` the traceback is shown too."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the CLI boundary
            if _state["debug"]:
                console.print_exception()
            kind = "error" if isinstance(exc, AgentflowError) else f"error ({type(exc).__name__})"
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            console.print(f"[bold red]{kind}:[/] {msg}", soft_wrap=True)
            if not _state["debug"] and not isinstance(exc, UserError):
                console.print("[dim]run again with --debug for the traceback[/]")
            raise typer.Exit(2 if isinstance(exc, UserError) else 1) from None

    return wrapper  # type: ignore[return-value]
