"""The research graph's state and the sub-question bookkeeping around it.

State holds only JSON-serialisable data (dicts, lists, strings, numbers), so the
SQLite checkpointer can save it after every step and a killed run resumes where it
stopped. The memory graph lives in the run's store; the state carries a reference
and a revision number (:mod:`agentflow.agent.memory_store`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from typing_extensions import TypedDict

from agentflow.agent.schemas import Plan, PlannedStep
from agentflow.memory.entities import fold_accents

REF = re.compile(r"#(\d+)")

# Sub-question statuses.
PENDING, ANSWERED, UNANSWERABLE = "pending", "answered", "unanswerable"


def merge_branches(done: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The reducer of ``ResearchState.branches``: results of parallel branches merged by
    sub-question id (each branch writes only its own id, so the merge is the same in
    whatever order they finish); an empty update clears it (the join has folded them)."""
    return {**done, **new} if new else {}


class ResearchState(TypedDict, total=False):
    """What flows between the nodes of the deep-research graph (and the baselines)."""

    run_id: str
    question: str
    messages: list[dict[str, Any]]  # chat input; the intake node reads it into `question`
    sub_questions: list[dict[str, Any]]
    current: str | None  # id of the sub-question being worked on
    candidates: list[dict[str, Any]]  # passages shown to the reader this round
    retrieved: list[str]  # every passage id a tool returned in this run (citation check)
    ranks: dict[str, float]  # reciprocal-rank fusion of every corpus search of the run
    question_hits: list[str]  # ids the run's search of the whole question returned, best first
    reading: dict[str, Any]  # the reader's last result for `current`
    reader_budget: int  # evidence tokens the reader sees, fixed by the run's first read
    memory: dict[str, Any]  # a MemoryRef into the run's store, or MemoryGraph.to_json() without one
    memory_rev: int
    usage: dict[str, Any]
    stop_reason: str | None  # the budget that ended the loop, if any
    history: list[dict[str, Any]]  # ReAct baseline transcript
    status: str
    answer: str
    citations: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    removed_citations: list[str]
    #: Sub-questions sent to parallel branches by ``select`` (:mod:`agentflow.agent.fanout`):
    #: ``[{"id", "budget", "asks_question"}]``; empty or absent: one at a time, as ``current``.
    fanout: list[dict[str, Any]]
    #: What each parallel branch did, by sub-question id, until ``join`` folds it into the
    #: fields above (:class:`agentflow.agent.branch.BranchResult` as a dict).
    branches: Annotated[dict[str, Any], merge_branches]


def new_sub_question(index: int, text: str, depends_on: list[str]) -> dict[str, Any]:
    """A fresh sub-question record (``id`` is its 1-based index as a string)."""
    return {
        "id": str(index),
        "text": text.strip(),
        "depends_on": depends_on,
        "status": PENDING,
        "answer": None,
        "resolved": None,  # text with #k references replaced by earlier answers
        "rounds": 0,
        "queries": [],
        "evidence_ids": [],
        "fact_ids": [],
        "next_query": None,  # refined query proposed by the verifier
        "head_ids": [],  # the best passages of the step's own first query (evidence order)
    }


def sub_questions_from_plan(plan: Plan, max_steps: int) -> list[dict[str, Any]]:
    """Turn a validated plan into sub-question records (see :func:`validate_plan`)."""
    out = []
    for i, step in enumerate(plan.sub_questions[:max_steps], 1):
        deps = sorted({d for d in step.depends_on if 1 <= d < i} | {int(m) for m in REF.findall(step.question) if 1 <= int(m) < i})
        out.append(new_sub_question(i, step.question, [str(d) for d in deps]))
    return out


def repair_plan(plan: Plan) -> Plan:
    """Fix what a weak model gets wrong without changing what a plan asks: a
    ``depends_on`` entry naming the step itself or a later step is dropped (references
    in the text are left for :func:`validate_plan` to judge), and a repeated step is
    removed, with later references to it pointed at its first occurrence."""
    steps: list[PlannedStep] = []
    index_of: dict[int, int] = {}  # original 1-based index -> new 1-based index
    seen: dict[str, int] = {}
    for i, step in enumerate(plan.sub_questions, 1):
        def ref(m: re.Match[str]) -> str:
            k = int(m.group(1))
            return f"#{index_of[k]}" if k in index_of else m.group(0)

        text = " ".join(REF.sub(ref, step.question).split())
        key = " ".join(sorted(content_words(text))) + "|" + " ".join(REF.findall(text))
        if key in seen:
            index_of[i] = seen[key]
            continue
        deps = sorted({index_of[d] for d in step.depends_on if 1 <= d < i and d in index_of})
        steps.append(PlannedStep(question=text, depends_on=deps))
        index_of[i] = seen[key] = len(steps)
    return Plan(sub_questions=steps)


def validate_plan(plan: Plan, question: str, max_steps: int) -> str | None:
    """Why a plan is unusable, or None when it is fine.

    The checks keep a weak model's plan from derailing the run: steps must be
    questions of reasonable length, references must point backwards (a DAG), and
    the plan must stay about the question (it shares content words with it).
    """
    steps = plan.sub_questions
    if not steps:
        return "the plan has no sub-questions"
    if len(steps) > max_steps:
        return f"the plan has {len(steps)} sub-questions, more than the limit of {max_steps}"
    q_words = content_words(question)
    # The same words over different earlier steps are different steps ("the founder of
    # #1" and "the founder of #3" in a chain through two universities).
    texts = [" ".join(sorted(content_words(s.question))) + "|" + " ".join(REF.findall(s.question))
             for s in steps]
    if len(set(texts)) < len(texts):
        return "the plan repeats a sub-question"
    covered: set[str] = set()
    for i, step in enumerate(steps, 1):
        text = step.question.strip()
        if len(text) < 8 or len(text) > 400:
            return f"sub-question {i} is empty or too long"
        for ref in [int(m) for m in REF.findall(text)] + list(step.depends_on):
            if ref >= i or ref < 1:
                return f"sub-question {i} refers to #{ref}, which is not an earlier step"
        covered |= content_words(text)
        if i > 1 and not REF.search(text) and not step.depends_on and len(steps) > 1:
            # independent steps are allowed (comparisons), but they must be on topic
            if not content_words(text) & q_words:
                return f"sub-question {i} shares no words with the question"
    if q_words and len(covered & q_words) < max(1, len(q_words) // 3):
        return "the sub-questions do not cover the question's key words"
    return None


def resolve_text(sq: dict[str, Any], sub_questions: list[dict[str, Any]]) -> str:
    """The sub-question with ``#k`` replaced by the answer found for step k."""
    answers = {s["id"]: s.get("answer") for s in sub_questions}

    def sub(m: re.Match[str]) -> str:
        return answers.get(m.group(1)) or m.group(0)

    return REF.sub(sub, sq["text"])


def next_ready(sub_questions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first pending sub-question whose dependencies are all answered."""
    by_id = {s["id"]: s for s in sub_questions}
    for sq in sub_questions:
        if sq["status"] != PENDING:
            continue
        if all(by_id.get(d, {}).get("status") == ANSWERED for d in sq["depends_on"]):
            return sq
    return None


def ready_steps(sub_questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every pending sub-question whose dependencies are all answered, in plan order
    (the first is :func:`next_ready`'s)."""
    by_id = {s["id"]: s for s in sub_questions}
    return [sq for sq in sub_questions if sq["status"] == PENDING
            and all(by_id.get(d, {}).get("status") == ANSWERED for d in sq["depends_on"])]


def blocked(sub_questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pending sub-questions that can never run because a dependency is unanswerable."""
    by_id = {s["id"]: s for s in sub_questions}
    return [
        sq
        for sq in sub_questions
        if sq["status"] == PENDING
        and any(by_id.get(d, {}).get("status") == UNANSWERABLE for d in sq["depends_on"])
    ]


def final_steps(sub_questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sink(s) of the DAG: sub-questions no other step depends on. The last one
    carries the answer to the whole question."""
    used = {d for s in sub_questions for d in s["depends_on"]}
    sinks = [s for s in sub_questions if s["id"] not in used]
    return sinks or sub_questions[-1:]


_STOP = frozenset(
    "a an the of in on at to for by with from and or is was were are be been who what which "
    "when where whom whose why how did does do that this these those it its as than into "
    "after before during same one".split()
)
_WORD = re.compile(r"[A-Za-z0-9]+")


def content_words(text: str) -> set[str]:
    """Lower-cased words of ``text`` minus stop words and ``#k`` references, accents
    folded ("Tekezé" and "Tekeze" are one word, as in the entity graph's keys)."""
    words = (m.group(0).lower() for m in _WORD.finditer(REF.sub(" ", fold_accents(text))))
    return {w for w in words if w not in _STOP}
