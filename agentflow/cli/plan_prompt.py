"""The terminal's plan review (``agentflow ask --review-plan``): show the plan a run
stopped on, take the person's changes one line at a time, and hand back a
:class:`~agentflow.agent.review.PlanReview`.

Commands (one per line, so a script can pipe them in)::

    approve                  go on with the plan as shown (with the edits made)
    edit N NEW QUESTION      reword step N ("#k" refers to step k's answer)
    add NEW QUESTION         add a step at the end
    add after N NEW QUESTION add a step after step N (0: first)
    remove N                 remove step N
    replace                  type a new plan: one step per line, an empty line ends it
    reset                    drop the edits made so far
    show / help

Each change is applied to the draft at once (a mistake such as a step that does not
exist is shown and the draft kept); ``approve`` checks the whole plan as the run will
(``validate_plan``) and, when it is unusable, says why and asks again.
"""

from __future__ import annotations

import re
from typing import TextIO

from rich.console import Console
from rich.markup import escape

from agentflow.agent.review import (
    PlanEditError,
    PlanProposal,
    PlanReview,
    ProposedStep,
    StepEdit,
    apply_edit,
    check_review,
    plan_text,
)
from agentflow.agent.schemas import PlannedStep
from agentflow.agent.state import REF
from agentflow.errors import UserError

__all__ = ["COMMANDS", "prompt_review"]

COMMANDS = ("approve | edit N QUESTION | add [after N] QUESTION | remove N | replace | reset | show | help")
_EDIT = re.compile(r"^(?:edit|e)\s+(\d+)\s+(.+)$", re.I)
_ADD = re.compile(r"^add(?:\s+after\s+(\d+))?\s+(.+)$", re.I)
_REMOVE = re.compile(r"^(?:remove|r|rm)\s+(\d+)$", re.I)


class _Draft:
    """The plan being reviewed: the proposal plus the person's changes so far."""

    def __init__(self, proposal: PlanProposal) -> None:
        self.proposal = proposal
        self.reset()

    def reset(self) -> None:
        self.steps = self.proposal.plan().sub_questions
        self.edits: list[StepEdit] = []
        self.replaced = False

    def apply(self, edit: StepEdit) -> None:
        self.steps = apply_edit(self.steps, edit)  # raises before anything changes
        self.edits.append(edit)

    def replace(self, questions: list[str]) -> None:
        if not questions:
            raise PlanEditError("the new plan has no steps: the draft is unchanged")
        self.steps = [PlannedStep(question=q) for q in questions]
        self.edits, self.replaced = [], True

    def review(self) -> PlanReview:
        if self.replaced:  # edits after a replace are part of the new plan
            return PlanReview(action="replace", sub_questions=self.steps)
        if self.edits:
            return PlanReview(action="edit", edits=self.edits)
        return PlanReview(action="approve")

    def shown(self) -> PlanProposal:
        steps = [ProposedStep(step=i, question=s.question,
                              depends_on=sorted(set(s.depends_on) | {int(m) for m in REF.findall(s.question)}))
                 for i, s in enumerate(self.steps, 1)]
        return self.proposal.model_copy(update={"sub_questions": steps, "error": None})


def _shown(proposal: PlanProposal) -> str:
    return escape(plan_text(proposal))


def _read(stream: TextIO, console: Console, prompt: str) -> str | None:
    console.print(prompt, end="", soft_wrap=True)
    line = stream.readline()
    if not line:
        return None
    return line.strip()


def prompt_review(proposal: PlanProposal, *, stream: TextIO, console: Console) -> PlanReview:
    """Ask the person at the terminal for a review of ``proposal`` (see the module doc).
    The end of the input before ``approve`` is a :class:`UserError` that says how to
    come back to the waiting run."""
    draft = _Draft(proposal)
    console.print(_shown(proposal), soft_wrap=True)
    console.print(f"[dim]{escape(COMMANDS)}[/]", soft_wrap=True)
    while True:
        line = _read(stream, console, "[bold]review>[/] ")
        if line is None:
            raise UserError(f"no answer to the plan review: run {proposal.run_id} waits for one; "
                            f"come back with `agentflow ask --resume {proposal.run_id}`")
        command = line.lower()
        try:
            if command in {"approve", "a", "ok", "yes", "y"}:
                review = draft.review()
                check_review(proposal, review)
                return review
            if command in {"show", "s"}:
                console.print(_shown(draft.shown()), soft_wrap=True)
            elif command in {"help", "?", "h"}:
                console.print(escape(__doc__ or COMMANDS), soft_wrap=True)
            elif command == "reset":
                draft.reset()
                console.print(_shown(draft.shown()), soft_wrap=True)
            elif command == "replace":
                questions = []
                while (step := _read(stream, console, f"  step {len(questions) + 1}> ")):
                    questions.append(step)
                draft.replace(questions)
                console.print(_shown(draft.shown()), soft_wrap=True)
            elif m := _EDIT.match(line):
                draft.apply(StepEdit(op="reword", step=int(m.group(1)), question=m.group(2)))
                console.print(_shown(draft.shown()), soft_wrap=True)
            elif m := _ADD.match(line):
                after = int(m.group(1)) if m.group(1) is not None else None
                draft.apply(StepEdit(op="add", after=after, question=m.group(2)))
                console.print(_shown(draft.shown()), soft_wrap=True)
            elif m := _REMOVE.match(line):
                draft.apply(StepEdit(op="remove", step=int(m.group(1))))
                console.print(_shown(draft.shown()), soft_wrap=True)
            elif line:
                console.print(f"[yellow]unknown command {escape(repr(line))}:[/] {escape(COMMANDS)}", soft_wrap=True)
        except PlanEditError as exc:
            console.print(f"[red]not applied:[/] {escape(str(exc))}", soft_wrap=True)
