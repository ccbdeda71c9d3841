"""What a finished run reports: :class:`RunResult`, the sub-question report, and the
package versions every trajectory and eval manifest records."""

from __future__ import annotations

import functools
import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pydantic import BaseModel, Field

from agentflow.agent.budget import RunUsage, new_usage
from agentflow.agent.citations import ERROR


class RunResult(BaseModel):
    """The outcome of one run, as ``agentflow ask --json`` prints it."""

    run_id: str
    question: str
    answer: str = ""
    status: str = ERROR
    citations: list[dict[str, Any]] = Field(default_factory=list)
    sub_questions: list[dict[str, Any]] = Field(default_factory=list)
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    usage: dict[str, Any] = Field(default_factory=new_usage)
    trajectory: str | None = None
    error: str | None = None
    removed_citations: list[str] = Field(default_factory=list)
    #: The run's memory graph (node-link JSON) at the end; threads carry it to the
    #: next turn. Not part of ``to_json()``.
    memory: dict[str, Any] | None = Field(default=None, repr=False)
    #: A run stopped for a review of its plan (status ``awaiting_review``): what the
    #: person reviews (:class:`agentflow.agent.review.PlanProposal` as JSON); else None.
    plan_review: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The documented ``--json`` shape."""
        u = RunUsage.model_validate(self.usage)
        return {
            "answer": self.answer,
            "status": self.status,
            "citations": self.citations,
            "sub_questions": self.sub_questions,
            "evidence": self.evidence,
            "usage": {
                "llm_calls": u.llm_calls,
                "prompt_tokens": u.prompt_tokens,
                "completion_tokens": u.completion_tokens,
                "searches": u.searches,
                "seconds": round(u.seconds, 3),
            },
            "trajectory": self.trajectory,
            "run_id": self.run_id,
            "error": self.error,
            # Only for a run waiting for a review, so the usual shape is unchanged.
            **({"plan_review": self.plan_review} if self.plan_review is not None else {}),
        }


def package_versions() -> dict[str, str]:
    """Versions recorded in every trajectory and eval manifest."""
    return dict(_package_versions())


@functools.lru_cache(maxsize=1)
def _package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("agentflow", "langgraph", "chromadb", "openai", "llama-cpp-python", "sentence-transformers"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def sub_question_report(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The sub-questions as ``RunResult.sub_questions`` and trajectories report them."""
    return [
        {
            "id": s["id"],
            "question": s.get("resolved") or s["text"],
            "answer": s.get("answer"),
            "status": s["status"],
            "evidence_ids": s.get("evidence_ids", []),
            "answer_source": s.get("answer_source"),
        }
        for s in state.get("sub_questions") or []
    ]
