"""The ``agentflow`` command line: the entry point and its sub-commands.

Each group of commands lives in its own module; this one only wires them up and
handles the global flags (``--version``, ``--debug``).
"""

from __future__ import annotations

import os

import typer

from agentflow import __version__
from agentflow.cli import corpus, report, research, serve
from agentflow.cli import eval as eval_cli
from agentflow.cli.help import HelpfulGroup
from agentflow.cli.output import set_debug

# Nothing agentflow runs may phone home or fetch models: everything is local.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# Third-party progress bars ("Loading weights: 100%") would land inside our own display.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

app = typer.Typer(
    name="agentflow",
    help="Research agents for hard multi-hop questions over your own documents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=HelpfulGroup,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"agentflow {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
) -> None:
    """agentflow: decompose, search, remember, verify, answer with citations or refuse."""
    set_debug(debug)


corpus.register(app)
research.register(app)
report.register(app)
serve.register(app)
app.add_typer(eval_cli.app, name="eval")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
