"""Run budgets and usage accounting, enforced in code.

Usage lives in the graph state as a plain dict (so it survives checkpoints and
resume); wall time is the sum of the nodes' own durations, so time spent while a
killed run was down does not count against it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Budget(BaseModel):
    """Upper limits for one run. When one is reached the run answers or refuses with
    what it has and its status is ``budget_exhausted`` if that cut it short."""

    max_llm_calls: int = Field(default=30, ge=1)
    max_searches: int = Field(default=20, ge=1)
    max_tokens: int = Field(default=80_000, ge=1)
    max_seconds: float = Field(default=600.0, gt=0)


class RunUsage(BaseModel):
    """What one run has spent. The state keeps it as this record's dict (nodes add to
    it in place); it counts one run only: a thread's next run starts from zero."""

    model_config = ConfigDict(extra="allow")

    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    searches: int = 0
    seconds: float = 0.0  # the nodes' own wall time (not time spent while a run was down)
    max_prompt_tokens: int = 0  # the largest first-attempt prompt of any LLM call


def new_usage() -> dict[str, Any]:
    """An empty usage record (:class:`RunUsage` as a dict)."""
    return RunUsage().model_dump()


def exhausted(usage: dict[str, Any], budget: Budget) -> str | None:
    """The name of the first budget that is used up, or None."""
    if usage.get("llm_calls", 0) >= budget.max_llm_calls:
        return "llm_calls"
    if usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0) >= budget.max_tokens:
        return "tokens"
    if usage.get("searches", 0) >= budget.max_searches:
        return "searches"
    if usage.get("seconds", 0.0) >= budget.max_seconds:
        return "seconds"
    return None


def llm_budget_left(usage: dict[str, Any], budget: Budget) -> bool:
    """True while another LLM call is allowed."""
    return (
        usage.get("llm_calls", 0) < budget.max_llm_calls
        and usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0) < budget.max_tokens
        and usage.get("seconds", 0.0) < budget.max_seconds
    )


def search_budget_left(usage: dict[str, Any], budget: Budget) -> bool:
    """True while another search is allowed."""
    return usage.get("searches", 0) < budget.max_searches and usage.get("seconds", 0.0) < budget.max_seconds


def _shares(total: int, n: int) -> list[int]:
    """``total`` split into ``n`` whole shares that differ by at most one (larger first)."""
    total = max(total, 0)
    return [total // n + (1 if i < total % n else 0) for i in range(n)]


def split_left(usage: dict[str, Any], budget: Budget, n: int) -> list[dict[str, int]]:
    """What is left of the run's LLM calls, searches and tokens, split into ``n`` shares
    (one per parallel branch). The shares add up to what is left, so branches together
    never spend more than the run may, in whatever order they run; a branch that spends
    less leaves the rest to the steps after it. Time is not split: branches run side by
    side, each within the run's remaining wall time."""
    tokens = budget.max_tokens - usage.get("prompt_tokens", 0) - usage.get("completion_tokens", 0)
    calls = _shares(budget.max_llm_calls - usage.get("llm_calls", 0), n)
    searches = _shares(budget.max_searches - usage.get("searches", 0), n)
    token_shares = _shares(tokens, n)
    return [{"llm_calls": c, "searches": s, "tokens": t}
            for c, s, t in zip(calls, searches, token_shares, strict=True)]


def share_budget(budget: Budget, start: dict[str, Any], share: dict[str, int]) -> Budget:
    """The budget a branch enforces on its own usage (which starts at ``start``): the
    run's limits cut to ``start`` plus its ``share``. Not validated: a share may be zero
    (that branch then reads without the LLM, as a run whose LLM budget is spent)."""
    used_tokens = start.get("prompt_tokens", 0) + start.get("completion_tokens", 0)
    return budget.model_copy(update={
        "max_llm_calls": start.get("llm_calls", 0) + share["llm_calls"],
        "max_searches": start.get("searches", 0) + share["searches"],
        "max_tokens": used_tokens + share["tokens"],
    })
