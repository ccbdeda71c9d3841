"""Help pages that read the way people expect from a command line.

Typer's rich help treats ``[...]`` in help texts as markup (``openai:MODEL[@BASE_URL]``
loses its brackets), shows flags with a value type (``--json <bool>``) and required
arguments in braces (``{paths}...``). :class:`HelpfulCommand` fixes all three once, for
every command: help texts are escaped, flags show no value, options with a value show a
conventional placeholder (``PATH``, ``N``, ``TEXT`` or the ``metavar`` given), and
arguments read ``QUERY``, ``[QUERY]`` or ``PATHS...``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

__all__ = ["HelpfulCommand", "HelpfulGroup", "placeholder"]


def _annotation(param: Any) -> Any:
    descriptor = getattr(param, "type_descriptor", None)  # typer >= 0.20 (its own click)
    if descriptor is not None:
        return descriptor.annotation
    return getattr(getattr(param, "type", None), "name", None)  # click's ParamType


def placeholder(param: Any) -> str:
    """The placeholder for an option's value, from its declared type."""
    kind = _annotation(param)
    if kind in (Path, "path") or (isinstance(kind, type) and issubclass(kind, Path)):
        return "PATH"
    if kind in (int, "integer", "integer range"):
        return "N"
    if kind in (float, "float", "float range"):
        return "NUMBER"
    return "TEXT"


def _argument_name(param: Any) -> str:
    name = (param.metavar or param.name or "arg").upper()
    return name if param.nargs == 1 or name.endswith("...") else f"{name}..."


def _no_type(ctx: Any) -> None:
    return None


def tidy_params(params: list[Any]) -> None:
    """Escape help texts and set the placeholders described in the module docstring."""
    for param in params:
        help_text = getattr(param, "help", None)
        if help_text:
            param.help = escape(help_text)
        if param.param_type_name == "option":
            if getattr(param, "is_flag", False) or getattr(param, "count", False):
                param.metavar = ""
            elif param.metavar is None:
                param.metavar = placeholder(param)
        elif param.param_type_name == "argument":
            param.metavar = _argument_name(param)
            # The name already says what goes there; typer would add ``<list[Path]>``.
            param.display_type_rich = _no_type


def _usage(params: list[Any], ctx: Any, options_metavar: str | None) -> list[str]:
    pieces = [options_metavar] if options_metavar else []
    for param in params:
        if param.param_type_name == "argument":
            name = param.metavar or _argument_name(param)
            pieces.append(name if param.required else f"[{name}]")
        elif param.param_type_name != "option":
            pieces.extend(param.get_usage_pieces(ctx))
    return pieces


class HelpfulCommand(TyperCommand):
    """A typer command whose help page shows placeholders and brackets as written."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.help:
            self.help = escape(self.help)
        tidy_params(self.params)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """``[OPTIONS] QUERY`` rather than ``[OPTIONS] {query}``."""
        return _usage(self.get_params(ctx), ctx, self.options_metavar)

    def get_params(self, ctx: Any) -> list[Any]:
        """The parameters, with ``--help`` (made per call) tidied too."""
        params = super().get_params(ctx)
        tidy_params(params[-1:])
        return params


class HelpfulGroup(TyperGroup):
    """A typer group with the same help conventions as :class:`HelpfulCommand`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.help:
            self.help = escape(self.help)
        tidy_params(self.params)

    def get_params(self, ctx: Any) -> list[Any]:
        """The parameters, with ``--help`` (made per call) tidied too."""
        params = super().get_params(ctx)
        tidy_params(params[-1:])
        return params

