"""The report graph's state: the research state plus what the report nodes write."""

from __future__ import annotations

from typing import Any, NotRequired

from agentflow.agent.run_input import ResearchInput
from agentflow.agent.state import ResearchState

#: Words a report aims at when nobody says (``--words``, the input's ``words``).
DEFAULT_WORDS = 1000
MIN_WORDS, MAX_WORDS = 50, 20_000


class ReportInput(ResearchInput):
    """What a report run is given: the research input plus the length wanted."""

    words: NotRequired[int]


class ReportState(ResearchState, total=False):
    """The research loop's state plus the report's outline, passages and sections."""

    words: int
    #: {"words": N, "sections": [{"heading", "passage_ids", "query"}]} once outlined.
    report_plan: dict[str, Any]
    #: Every passage the report may cite: id -> {"title", "text"} (all retrieved in this run).
    report_passages: dict[str, dict[str, str]]
    #: The sections written so far (``ReportSection`` dicts), in order.
    report_sections: list[dict[str, Any]]
    #: The finished :class:`~agentflow.report.records.Report` as a dict.
    report: dict[str, Any]


def words_wanted(state: dict[str, Any], default: int = DEFAULT_WORDS) -> int:
    """The report length asked for (the input's ``words``, else ``default``), checked."""
    raw = state.get("words") or default
    try:
        words = int(raw)
    except (TypeError, ValueError):
        from agentflow.errors import UserError

        raise UserError(f"`words` must be a whole number of words, got {raw!r}") from None
    if not MIN_WORDS <= words <= MAX_WORDS:
        from agentflow.errors import UserError

        raise UserError(f"`words` must be between {MIN_WORDS} and {MAX_WORDS}, got {words}")
    return words
