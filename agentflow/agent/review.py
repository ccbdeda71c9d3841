"""A plan a person can review: the ``review_plan`` node and the plan-edit records.

With review on (``RunConfig.review_plan``: ``--review-plan``, ``review_plan: true`` in a
server request or a LangGraph context, ``Agent.ask(..., review_plan=True)``) the run stops
after planning with LangGraph's ``interrupt()``. The interrupt's value is a
:class:`PlanProposal` (the sub-questions and their dependencies); the run resumes with
``Command(resume=...)`` carrying a :class:`PlanReview`: approve the plan, edit it (reword,
remove or add steps) or replace it. An edited plan goes through the same
:func:`~agentflow.agent.state.repair_plan` and :func:`~agentflow.agent.state.validate_plan`
as a generated one; an unusable edit is refused with the reason and the person is asked
again (the next proposal carries the error), the plan as it was is kept. The trajectory
records the request (``plan_review_requested``) and the outcome (``plan_review``: the
action, the edits, the plan before and after, the answers refused).

With review off the node does nothing.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from langgraph.errors import GraphInterrupt
from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import BaseModel, Field, ValidationError, field_validator

from agentflow.agent.live import context_of, trajectory_path
from agentflow.agent.memory_io import load_memory, save_memory
from agentflow.agent.schemas import Plan, PlannedStep
from agentflow.agent.state import (
    REF,
    ResearchState,
    content_words,
    repair_plan,
    sub_questions_from_plan,
    validate_plan,
)
from agentflow.errors import UserError
from agentflow.trajectory import TrajectoryRecorder

__all__ = [
    "AWAITING_REVIEW",
    "PlanEditError",
    "PlanProposal",
    "PlanReview",
    "ProposedStep",
    "StepEdit",
    "apply_edit",
    "check_review",
    "parse_review",
    "plan_text",
    "review_plan",
]

#: The status of a run stopped for a person's review of its plan.
AWAITING_REVIEW = "awaiting_review"
#: How a reply to a proposal looks (shown with every proposal).
HOW_TO_ANSWER = (
    'send {"action": "approve"}, or {"action": "edit", "edits": [...]} with edits '
    '{"op": "reword", "step": N, "question": "..."}, {"op": "remove", "step": N}, '
    '{"op": "add", "question": "...", "after": N, "depends_on": [...]} (applied in order, '
    'step numbers as the plan stands after the previous edit; "#k" in a question refers to '
    'step k\'s answer), or {"action": "replace", "sub_questions": [{"question": "...", '
    '"depends_on": [...]}, ...]}'
)


class PlanEditError(UserError):
    """A review answer that cannot be applied, or whose plan is unusable; the message
    says why, and the run waits for another answer."""


class ProposedStep(BaseModel):
    """One step of the plan shown for review (``depends_on``: earlier steps, 1-based)."""

    step: int
    question: str
    depends_on: list[int] = Field(default_factory=list)


class PlanProposal(BaseModel):
    """What the person reviews: the value of the run's interrupt."""

    kind: Literal["plan_review"] = "plan_review"
    run_id: str
    question: str
    sub_questions: list[ProposedStep]
    max_sub_questions: int
    #: Why the previous answer was refused (None on the first proposal).
    error: str | None = None
    how_to_answer: str = HOW_TO_ANSWER

    def plan(self) -> Plan:
        """The proposed plan as a :class:`Plan`."""
        return Plan(sub_questions=[PlannedStep(question=s.question, depends_on=s.depends_on)
                                   for s in self.sub_questions])


class StepEdit(BaseModel):
    """One change to the plan: ``reword`` step N (its question, and its dependencies when
    given), ``remove`` step N, or ``add`` a step after step N (default: at the end)."""

    op: Literal["reword", "remove", "add"]
    step: int | None = None
    question: str | None = None
    depends_on: list[int] | None = None
    after: int | None = None


class PlanReview(BaseModel):
    """A person's answer to a :class:`PlanProposal`."""

    action: Literal["approve", "edit", "replace"] = "approve"
    edits: list[StepEdit] = Field(default_factory=list)
    #: ``replace``: the new plan (steps as ``{"question", "depends_on"}`` or plain text).
    sub_questions: list[PlannedStep] | None = None

    @field_validator("sub_questions", mode="before")
    @classmethod
    def _plain_text_steps(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"question": v} if isinstance(v, str) else v for v in value]
        return value


def parse_review(answer: Any) -> PlanReview:
    """A :class:`PlanReview` from what a client sent: a ``PlanReview``, its JSON dict, or
    the word ``"approve"``. Anything else is a :class:`PlanEditError`."""
    if isinstance(answer, PlanReview):
        return answer
    if isinstance(answer, str) and answer.strip().lower() in {"approve", "ok", "yes"}:
        return PlanReview(action="approve")
    if isinstance(answer, dict):
        try:
            return PlanReview.model_validate(answer)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise PlanEditError(f"invalid plan review: {where}: {first.get('msg')}; {HOW_TO_ANSWER}") from None
    raise PlanEditError(f"invalid plan review {str(answer)[:80]!r}: {HOW_TO_ANSWER}")


def _renumber(text: str, mapping: dict[int, int | None], step: int) -> str:
    def sub(m: re.Match[str]) -> str:
        k = int(m.group(1))
        if k not in mapping:
            return m.group(0)
        new = mapping[k]
        if new is None:
            raise PlanEditError(f"step {step} refers to #{k}, which is removed: reword step {step} "
                                "first (or remove it too)")
        return f"#{new}"

    return REF.sub(sub, text)


def _check_step(step: int | None, steps: list[PlannedStep], op: str) -> int:
    if step is None:
        raise PlanEditError(f"`{op}` needs the number of the step (\"step\": N)")
    if not 1 <= step <= len(steps):
        raise PlanEditError(f"there is no step {step}: the plan has steps 1 to {len(steps)}")
    return step


def apply_edit(steps: list[PlannedStep], edit: StepEdit) -> list[PlannedStep]:
    """``steps`` with ``edit`` applied; later steps' ``#k`` references and dependencies
    are renumbered. Structural mistakes (no such step, a reference to a removed step)
    are a :class:`PlanEditError`; whether the plan is usable is :func:`check_review`'s."""
    if edit.op == "reword":
        k = _check_step(edit.step, steps, "reword")
        if not (edit.question or "").strip():
            raise PlanEditError(f"`reword` of step {k} needs the new question")
        out = list(steps)
        deps = edit.depends_on if edit.depends_on is not None else steps[k - 1].depends_on
        out[k - 1] = PlannedStep(question=" ".join(edit.question.split()), depends_on=list(deps))
        return out
    if edit.op == "remove":
        k = _check_step(edit.step, steps, "remove")
        if len(steps) == 1:
            raise PlanEditError("the plan's only step cannot be removed: reword it, or replace the plan")
        mapping: dict[int, int | None] = {i: (None if i == k else i - (i > k)) for i in range(1, len(steps) + 1)}
        out = []
        for i, s in enumerate(steps, 1):
            if i == k:
                continue
            # A dependency on the removed step goes with it; a "#k" in the text cannot.
            deps = [mapping[d] for d in s.depends_on if d in mapping and mapping[d] is not None]
            out.append(PlannedStep(question=_renumber(s.question, mapping, i), depends_on=deps))
        return out
    # add
    if not (edit.question or "").strip():
        raise PlanEditError("`add` needs the new step's question")
    after = len(steps) if edit.after is None else edit.after
    if not 0 <= after <= len(steps):
        raise PlanEditError(f"cannot add after step {after}: the plan has steps 1 to {len(steps)} (0: first)")
    shift = {i: (i if i <= after else i + 1) for i in range(1, len(steps) + 1)}
    out = [PlannedStep(question=_renumber(s.question, dict(shift), i),
                       depends_on=[shift.get(d, d) for d in s.depends_on])
           for i, s in enumerate(steps, 1)]
    out.insert(after, PlannedStep(question=" ".join(edit.question.split()), depends_on=list(edit.depends_on or [])))
    return out


def check_review(proposal: PlanProposal, answer: Any) -> tuple[PlanReview, Plan | None]:
    """The review and the plan it gives (None: approved as proposed), validated like a
    generated plan (:func:`repair_plan`, then :func:`validate_plan`). An unusable answer
    is a :class:`PlanEditError` saying why."""
    review = parse_review(answer)
    if review.action == "approve":
        if review.edits or review.sub_questions:
            raise PlanEditError('"approve" takes no edits: send {"action": "edit", "edits": [...]}')
        return review, None
    if review.action == "replace":
        if not review.sub_questions:
            raise PlanEditError('"replace" needs the new plan: "sub_questions": [{"question": "..."}, ...]')
        plan = Plan(sub_questions=review.sub_questions)
    else:
        if not review.edits:
            raise PlanEditError('"edit" needs at least one edit (or send {"action": "approve"})')
        steps = proposal.plan().sub_questions
        for n, edit in enumerate(review.edits, 1):
            try:
                steps = apply_edit(steps, edit)
            except PlanEditError as exc:
                raise PlanEditError(f"edit {n} ({edit.op}): {exc}") from None
        plan = Plan(sub_questions=steps)
    # A person's plan is checked as written first: repair_plan would silently drop a
    # repeated step or a dependency on a later one, which a person should hear about.
    reason = _repeated(plan) or validate_plan(plan, proposal.question, proposal.max_sub_questions)
    repaired = repair_plan(plan)
    reason = reason or validate_plan(repaired, proposal.question, proposal.max_sub_questions)
    if reason is not None:
        raise PlanEditError(f"the edited plan is not usable: {reason}")
    return review, repaired


def _repeated(plan: Plan) -> str | None:
    """Which step repeats an earlier one (the same content words and references, as
    :func:`repair_plan` judges), or None."""
    seen: dict[str, int] = {}
    for i, step in enumerate(plan.sub_questions, 1):
        key = " ".join(sorted(content_words(step.question))) + "|" + " ".join(REF.findall(step.question))
        if key in seen:
            return f"step {i} asks what step {seen[key]} asks (the same words): reword or remove it"
        seen[key] = i
    return None


def _proposed(sub_questions: list[dict[str, Any]]) -> list[ProposedStep]:
    return [ProposedStep(step=int(sq["id"]), question=sq["text"], depends_on=[int(d) for d in sq["depends_on"]])
            for sq in sub_questions]


def plan_text(proposal: PlanProposal) -> str:
    """The proposal as a person reads it: numbered steps with what each waits for."""
    lines = [f"Plan for: {proposal.question}"]
    for s in proposal.sub_questions:
        needs = f"  (after {', '.join(str(d) for d in s.depends_on)})" if s.depends_on else ""
        lines.append(f"  {s.step}. {s.question}{needs}")
    if proposal.error:
        lines.append(f"Your last answer was not applied: {proposal.error}")
    return "\n".join(lines)


def _reopen_trajectory(ctx: Any, run_id: str) -> None:
    """A run resumed under LangGraph's server is a new server run with a fresh context:
    point it at the trajectory its first part wrote, so the run keeps one trajectory."""
    if ctx.owns_trajectory and ctx.recorder.path is None and (ctx.config is None or ctx.config.trajectory):
        ctx.recorder = TrajectoryRecorder(trajectory_path(ctx.config, run_id), run_id)
        ctx.recorder.record("run_resumed", next=["review_plan"])


def review_enabled(ctx: Any) -> bool:
    """Whether this run stops for a review of its plan (``RunConfig.review_plan``)."""
    return bool(ctx.config is not None and getattr(ctx.config, "review_plan", False))


def _answer_waiting() -> bool:
    """Whether this node call is resumed with an answer (``Command(resume=...)``).

    LangGraph contexts are per run: a client may resume without repeating
    ``review_plan: true``, and its answer must not be dropped silently. LangGraph has no
    public way to ask, so this reads the task's scratchpad, as ``interrupt()`` itself
    does; if that ever moves, the answer is False and only the context decides."""
    try:
        from langgraph._internal._constants import CONFIG_KEY_SCRATCHPAD
        from langgraph.config import get_config

        pad = get_config()["configurable"].get(CONFIG_KEY_SCRATCHPAD)
        return pad is not None and (bool(pad.resume) or pad.get_null_resume(False) is not None)
    except Exception:  # noqa: BLE001 - a private detail: fall back to the context alone
        return False


def review_plan(state: ResearchState, runtime: Runtime[Any]) -> dict[str, Any]:
    """Stop for a person's review of the plan (when the run asks for one) and go on with
    the plan approved, edited or replaced. Not ``traced``: ``interrupt()`` raises through
    the node, and a paused run is not a failed one."""
    ctx = context_of(runtime)
    if not state.get("sub_questions") or not (review_enabled(ctx) or _answer_waiting()):
        return {}
    run_id = str(state.get("run_id") or "")
    _reopen_trajectory(ctx, run_id)
    proposal = PlanProposal(run_id=run_id, question=state["question"],
                            sub_questions=_proposed(state["sub_questions"]),
                            max_sub_questions=ctx.settings.max_sub_questions)
    refused: list[dict[str, Any]] = []
    while True:
        try:
            # On a resume the node runs again: earlier answers come back from LangGraph in
            # order, so refused ones are refused again, then the new one is judged.
            answer = interrupt(proposal.model_dump(mode="json"))
        except GraphInterrupt:
            ctx.recorder.record("plan_review_requested", node="review_plan", proposal=proposal.model_dump(mode="json"),
                                refused=refused)
            ctx.progress(type="note", node="review_plan", kind="plan_review",
                         message="waiting for a review of the plan")
            raise
        try:
            review, plan = check_review(proposal, answer)
            break
        except PlanEditError as exc:
            refused.append({"answer": answer, "error": str(exc)})
            proposal = proposal.model_copy(update={"error": str(exc)})
    before = [s.model_dump() for s in proposal.sub_questions]
    if plan is None:
        ctx.recorder.record("plan_review", node="review_plan", action="approve", edits=[], before=before,
                            after=before, refused=refused)
        ctx.progress(type="note", node="review_plan", kind="plan_review", message="plan approved")
        return {}
    sub_questions = sub_questions_from_plan(plan, ctx.settings.max_sub_questions)
    graph = load_memory(state, ctx)
    # The plan node put the proposed steps in memory as <run>.<step>; the reviewed ones
    # get ids of their own, so a reworded step never inherits another's node.
    qid = state.get("run_id") or "run"
    for sq in sub_questions:
        sq["mem_id"] = f"{qid}.reviewed.{sq['id']}"
        graph.add_subquestion(sq["mem_id"], sq["text"], question_id=qid,
                              depends_on=[f"{qid}.reviewed.{d}" for d in sq["depends_on"]])
    after = [s.model_dump() for s in _proposed(sub_questions)]
    ctx.recorder.record("plan_review", node="review_plan", action=review.action,
                        edits=[e.model_dump(exclude_none=True) for e in review.edits],
                        before=before, after=after, refused=refused)
    ctx.progress(type="plan", node="review_plan", sub_questions=[sq["text"] for sq in sub_questions])
    return {"sub_questions": sub_questions, **save_memory(graph, state, ctx, node="review_plan")}
