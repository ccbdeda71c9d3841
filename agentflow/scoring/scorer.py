"""Scoring trajectories against gold data: per question, then aggregated with bootstrap
intervals. Reads files only; it never calls an LLM (nor a store, nor an embedder).

Per-question definitions (each metric is None where it does not apply, and aggregates
are means over the questions where it applies; see :mod:`agentflow.scoring.bootstrap`):

* prediction: the ``final`` answer, or "" when the run refused (status ``refused``, or
  the refusal text "insufficient evidence" under any other status but ``error``). A run
  with status ``unsupported`` (an answer no retrieved passage supports) is an answer here:
  its prediction is scored like any other, and ``uncited_answers`` reports it.
* gold answers: the example's answers; for an unanswerable example the gold is "no
  answer" (SQuAD 2.0), so a refusal scores EM = F1 = cover-EM = 1 there.
* ``em``, ``f1``, ``cover_em``: :mod:`agentflow.scoring.metrics`, max over gold aliases.
* ``correct`` = cover-EM or F1 >= 0.5. Cover-EM accepts a verbose answer that contains a
  gold alias (small models rarely give the bare span); F1 >= 0.5 accepts a partial span
  such as "Stanley Hall" for "G. Stanley Hall". Either alone misses one of these.
* evidence: ``recall@k`` of the ``final`` event's ``evidence`` ids (in the agent's order)
  against the gold supporting ids; ``full_chain`` = every gold id in the top 5.
* ``citation_precision`` = cited ids that are gold supporting / cited ids;
  ``citation_validity`` = cited ids that appear in some ``tool_call`` result / cited ids
  (the runner removes any other citation, so < 1.0 is a bug); averaged over the runs that
  cite, so it says nothing about runs that cite nothing: hence
* ``uncited_answers`` = P(no valid citation | answered), over the runs that neither refused
  nor ended in ``error``: 1 when no cited id appears in a ``tool_call`` result.
* ``sufficient`` (answerable questions with gold ids): every gold supporting id appears in
  some ``tool_call`` result of the run (WebDetective's search sufficiency).
* ``utilisation`` = P(correct | sufficient); ``over_refusal`` = P(refused | sufficient),
  i.e. refused although every gold passage was retrieved; ``good_refusal`` =
  P(refused | not sufficient, or unanswerable), i.e. refused where the evidence was missing.
* ``hop_accuracy``: for datasets with gold decompositions, hop i is correct when the
  answer of the run's i-th sub-question (``final.sub_questions`` in order) cover-matches
  gold step i's answer (a missing i-th sub-question is wrong); the question's value is
  the mean over its hops. None for runs without sub-questions (the rag and react graphs).
* cost: ``llm_calls``, ``prompt_tokens`` and ``completion_tokens`` (summed over
  ``llm_call`` events, re-asks included); ``searches`` (``tool_call`` events of source
  tools, i.e. not the memory graph); ``seconds`` (wall time from ``run_start`` to
  ``final``); ``max_prompt_tokens`` (the largest single prompt: the max over every
  attempt of every call); ``redundant_retrievals`` (results of source-tool calls that an
  earlier call of the run had returned already, or that the call reported as
  ``known_ids``) and ``redundant_rate`` (that count / all source-tool results).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, Field

from agentflow.errors import UserError
from agentflow.scoring import metrics as m
from agentflow.scoring.bootstrap import DEFAULT_RESAMPLES, Bootstrap
from agentflow.scoring.manifest import EvalManifest, dataset_sha256, read_manifest, trajectory_path
from agentflow.trajectory import Trajectory, read_trajectory

if TYPE_CHECKING:
    from agentflow.evals.datasets import QAExample

#: The runner's refusal answer (agentflow.agent.citations.REFUSAL); repeated here so the
#: scorer does not import the agent.
REFUSAL_TEXT = "insufficient evidence"
MEMORY_TOOL = "memory"
RECALL_KS = (2, 5, 10)

#: Aggregated metrics in display order, with what they are (for reports).
METRICS: dict[str, str] = {
    "em": "exact match (SQuAD)",
    "f1": "token F1 (SQuAD)",
    "cover_em": "gold alias contained in the answer",
    "correct": "cover-EM or F1 >= 0.5",
    "refused": "refusal rate",
    "recall@2": "gold passages in the top 2 of the ranked evidence",
    "recall@5": "gold passages in the top 5",
    "recall@10": "gold passages in the top 10",
    "full_chain": "all gold passages in the top 5",
    "citation_precision": "cited passages that are gold",
    "citation_validity": "cited passages that were retrieved, over runs that cite (< 1 is a bug)",
    "uncited_answers": "answers without a valid citation (refusals and errors excluded)",
    "sufficient": "all gold passages retrieved at some point",
    "utilisation": "P(correct | sufficient)",
    "good_refusal": "P(refused | insufficient or unanswerable)",
    "over_refusal": "P(refused | sufficient)",
    "hop_accuracy": "sub-answers matching the gold decomposition",
    "llm_calls": "LLM calls per question",
    "prompt_tokens": "prompt tokens per question",
    "completion_tokens": "completion tokens per question",
    "searches": "source searches per question",
    "seconds": "wall seconds per question",
    "max_prompt_tokens": "largest prompt of the run",
    "redundant_retrievals": "results returned again",
    "redundant_rate": "share of results returned again",
}
COST_METRICS = ("llm_calls", "prompt_tokens", "completion_tokens", "searches", "seconds",
                "max_prompt_tokens", "redundant_retrievals", "redundant_rate")


class QuestionScore(BaseModel):
    """One question's prediction, evidence and metrics (the ``questions`` items of ``--json``)."""

    id: str
    question: str = ""
    prediction: str = ""
    gold_answers: list[str] = Field(default_factory=list)
    answerable: bool = True
    status: str = "missing"
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    cited_ids: list[str] = Field(default_factory=list)
    retrieved_ids: list[str] = Field(default_factory=list)
    gold_supporting_ids: list[str] = Field(default_factory=list)
    sub_answers: list[str | None] = Field(default_factory=list)
    hops: list[float | None] = Field(default_factory=list)
    prompt_tokens_by_step: list[int] = Field(default_factory=list)
    run_id: str = ""
    metrics: dict[str, float | None] = Field(default_factory=dict)


class RunScore(BaseModel):
    """A scored eval folder: per-question scores, the aggregate, and what looked wrong."""

    label: str
    folder: str
    manifest: EvalManifest
    questions: list[QuestionScore]
    aggregate: dict[str, Any]
    warnings: list[str] = Field(default_factory=list)

    def metric(self, name: str) -> dict[str, Any]:
        """The aggregate estimate of one metric (``{"mean", "lo", "hi", "n"}``)."""
        return self.aggregate["metrics"].get(name, {"mean": None, "lo": None, "hi": None, "n": 0})

    def to_json(self) -> dict[str, Any]:
        """The documented ``eval score --json`` shape."""
        return {"aggregate": self.aggregate,
                "questions": [q.model_dump() for q in self.questions]}


# -- one question ---------------------------------------------------------------------


def is_refusal(status: str, answer: str) -> bool:
    """True when a run declined to answer (status ``refused``, or the refusal text)."""
    if status == "error":
        return False
    text = m.normalize_answer(answer)
    return status == "refused" or text in ("", m.normalize_answer(REFUSAL_TEXT))


def _largest_prompt(call: dict[str, Any]) -> int:
    sizes = [int(a.get("prompt_tokens") or 0) for a in call.get("attempts") or []]
    sizes.append(int(call.get("first_prompt_tokens") or 0))
    if len(sizes) == 1 and not sizes[0]:
        sizes.append(int(call.get("prompt_tokens") or 0))
    return max(sizes)


def _redundancy(tool_calls: list[dict[str, Any]]) -> tuple[int, int]:
    """(results returned again, all results) over the run's source-tool calls, in order."""
    seen: set[str] = set()
    again = total = 0
    for call in tool_calls:
        if call.get("tool") == MEMORY_TOOL:
            continue
        known = set(map(str, call.get("known_ids") or []))
        ids = [str(h["id"]) for h in call.get("results") or []]
        total += len(ids)
        again += sum(1 for i in ids if i in seen or i in known)
        seen.update(ids)
    return again, total


def _hops(example: QAExample, sub_questions: list[dict[str, Any]]) -> list[float | None]:
    if not example.decomposition:
        return []
    if not sub_questions:
        return [None] * len(example.decomposition)
    out: list[float | None] = []
    for i, step in enumerate(example.decomposition):
        answer = str(sub_questions[i].get("answer") or "") if i < len(sub_questions) else ""
        out.append(m.cover_em(answer, [step.answer]) if answer else 0.0)
    return out


def score_trajectory(traj: Trajectory, example: QAExample) -> QuestionScore:
    """Score one finished run of ``example`` (see the module docstring for each formula)."""
    final = traj.final or {}
    status = str(final.get("status") or "error")
    answer = str(final.get("answer") or "")
    refused = is_refusal(status, answer)
    prediction = "" if refused else answer
    golds = list(example.answers) if example.answerable else []
    gold_ids = list(example.supporting_ids) if example.answerable else []
    evidence = [dict(e) for e in final.get("evidence") or []]
    ranked = [str(e.get("id")) for e in evidence]
    cited = list(dict.fromkeys(str(c.get("id")) for c in final.get("citations") or []))
    retrieved = traj.retrieved_ids()
    retrieved_set = set(retrieved)

    em = m.exact_match(prediction, golds)
    f1 = m.token_f1(prediction, golds)
    cover = m.cover_em(prediction, golds)
    correct = float(cover == 1.0 or f1 >= 0.5)
    sufficient: float | None = None
    if example.answerable and gold_ids:
        sufficient = float(set(gold_ids) <= retrieved_set)
    insufficient_or_unanswerable = (not example.answerable) or sufficient == 0.0

    llm_calls = traj.llm_calls
    tool_calls = traj.tool_calls
    again, results = _redundancy(tool_calls)
    started = traj.start.get("t")
    seconds = float(final["t"]) - float(started) if started is not None and "t" in final else None
    hops = _hops(example, list(final.get("sub_questions") or []))
    applicable = [h for h in hops if h is not None]

    # None = "does not apply to this question"; aggregates average over the rest, so each
    # conditional metric below is P(value | its condition).
    values: dict[str, float | None] = {
        # answer: max over gold aliases; "" (refusal) vs no gold answer scores 1
        "em": em, "f1": f1, "cover_em": cover,
        "correct": correct,  # cover_em == 1 or f1 >= 0.5
        "refused": float(refused),
        # evidence: |gold ∩ evidence[:k]| / |gold|, in the agent's evidence order
        **{f"recall@{k}": m.recall_at_k(ranked, gold_ids, k) for k in RECALL_KS},
        "full_chain": m.full_chain(ranked, gold_ids, 5),  # gold ⊆ evidence[:5]
        # |cited ∩ gold| / |cited| and |cited ∩ retrieved| / |cited|
        "citation_precision": m.precision(cited, gold_ids) if gold_ids else None,
        "citation_validity": m.precision(cited, retrieved_set),
        # P(no cited id was retrieved | an answer was given)
        "uncited_answers": (None if refused or status == "error"
                            else float(not set(cited) & retrieved_set)),
        # factorised (WebDetective): search, then use of what was found, then refusal
        "sufficient": sufficient,  # gold ⊆ ids of every tool_call result
        "utilisation": correct if sufficient == 1.0 else None,  # P(correct | sufficient)
        # P(refused | not sufficient or unanswerable)
        "good_refusal": float(refused) if insufficient_or_unanswerable else None,
        "over_refusal": float(refused) if sufficient == 1.0 else None,  # P(refused | sufficient)
        "hop_accuracy": sum(applicable) / len(applicable) if applicable else None,  # mean over hops
        # cost, from the events alone
        "llm_calls": float(len(llm_calls)),
        # prompt tokens include re-asks
        "prompt_tokens": float(sum(int(c.get("prompt_tokens") or 0) for c in llm_calls)),
        "completion_tokens": float(sum(int(c.get("completion_tokens") or 0) for c in llm_calls)),
        "searches": float(sum(1 for c in tool_calls if c.get("tool") != MEMORY_TOOL)),
        "seconds": round(seconds, 4) if seconds is not None else None,  # final.t - run_start.t
        "max_prompt_tokens": float(max((_largest_prompt(c) for c in llm_calls), default=0)),
        "redundant_retrievals": float(again),  # results seen earlier in the run or known_ids
        "redundant_rate": again / results if results else None,  # over all source-tool results
    }
    return QuestionScore(
        id=example.id, question=example.question, prediction=prediction, gold_answers=golds,
        answerable=example.answerable, status=status, evidence=evidence, cited_ids=cited,
        retrieved_ids=retrieved, gold_supporting_ids=gold_ids,
        sub_answers=[s.get("answer") for s in final.get("sub_questions") or []], hops=hops,
        prompt_tokens_by_step=[int(c.get("first_prompt_tokens") or c.get("prompt_tokens") or 0)
                               for c in llm_calls],
        run_id=traj.run_id, metrics=values,
    )


def missing_score(example: QAExample, status: str) -> QuestionScore:
    """A question without a finished trajectory (``missing`` or ``unfinished``): listed,
    never averaged."""
    return QuestionScore(id=example.id, question=example.question,
                         gold_answers=list(example.answers) if example.answerable else [],
                         answerable=example.answerable, status=status,
                         gold_supporting_ids=(list(example.supporting_ids)
                                              if example.answerable else []))


# -- a folder ---------------------------------------------------------------------------


def aggregate(questions: list[QuestionScore], *, resamples: int = DEFAULT_RESAMPLES,
              seed: int = 0) -> dict[str, Any]:
    """Means with seeded 95% bootstrap intervals over the scored questions, per-hop
    accuracy, mean prompt tokens by LLM-call index, and status counts."""
    scored = [q for q in questions if q.metrics]
    boot = Bootstrap(len(scored), resamples=resamples, seed=seed)

    def column(get: Any) -> np.ndarray:
        values = [get(q) for q in scored]
        return np.array([np.nan if x is None else float(x) for x in values], dtype=float)

    out_metrics = {name: boot.estimate(column(lambda q, n=name: q.metrics.get(n))).model_dump()
                   for name in METRICS}
    n_hops = max((len(q.hops) for q in scored), default=0)
    per_hop = []
    for i in range(n_hops):
        est = boot.estimate(column(lambda q, i=i: q.hops[i] if i < len(q.hops) else None))
        per_hop.append({"hop": i + 1, **est.model_dump()})
    longest = max((len(q.prompt_tokens_by_step) for q in scored), default=0)
    by_step = []
    for i in range(longest):
        vals = [q.prompt_tokens_by_step[i] for q in scored if i < len(q.prompt_tokens_by_step)]
        by_step.append({"step": i + 1, "mean": round(sum(vals) / len(vals), 2), "max": max(vals),
                        "n": len(vals)})
    statuses: dict[str, int] = {}
    for q in questions:
        statuses[q.status] = statuses.get(q.status, 0) + 1
    return {
        "questions": len(questions), "scored": len(scored),
        "missing": [q.id for q in questions if not q.metrics],
        "statuses": statuses, "metrics": out_metrics, "per_hop": per_hop,
        "prompt_tokens_by_step": by_step,
        "bootstrap": {"resamples": resamples, "seed": seed, "confidence": boot.confidence},
    }


def _load_gold(manifest: EvalManifest, dataset: str | Path | None, corpus: str | Path | None,
               warnings: list[str]) -> dict[str, QAExample]:
    from agentflow.evals.datasets import load_dataset

    path = Path(dataset) if dataset is not None else Path(manifest.dataset.path)
    corpus_path = Path(corpus) if corpus is not None else (
        Path(manifest.dataset.corpus) if manifest.dataset.corpus else None)
    if not path.exists():
        raise UserError(f"the gold data of this eval ({path}) is not there: pass it with --dataset "
                        "(and --corpus if it had one)")
    if corpus_path is not None and not corpus_path.exists():
        raise UserError(f"the corpus of this eval ({corpus_path}) is not there: "
                        "pass it with --corpus")
    if dataset_sha256(path) != manifest.dataset.sha256:
        warnings.append(f"the gold data at {path} changed since the batch ran (sha256 differs)")
    data = load_dataset(path, format=manifest.dataset.format, corpus=corpus_path)
    return {ex.id: ex for ex in data.examples}


def score_folder(folder: str | Path, *, dataset: str | Path | None = None,
                 corpus: str | Path | None = None, resamples: int = DEFAULT_RESAMPLES,
                 seed: int = 0) -> RunScore:
    """Score every question of an eval folder from its trajectories and the gold data."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    warnings: list[str] = []
    gold = _load_gold(manifest, dataset, corpus, warnings)
    questions: list[QuestionScore] = []
    for qid in manifest.question_ids:
        example = gold.get(qid)
        if example is None:
            warnings.append(f"question {qid} is not in the gold data: skipped")
            continue
        path = trajectory_path(folder, qid)
        if not path.is_file():
            questions.append(missing_score(example, "missing"))
            continue
        traj = read_trajectory(path)
        if traj.final is None:
            questions.append(missing_score(example, "unfinished"))
            continue
        questions.append(score_trajectory(traj, example))
    unfinished = [q.id for q in questions if not q.metrics]
    if unfinished:
        warnings.append(f"{len(unfinished)} question(s) have no finished trajectory and are not "
                        f"averaged (run `agentflow eval run` again on {folder} to finish them)")
    invalid = [q.id for q in questions
               if (v := q.metrics.get("citation_validity")) is not None and v < 1.0]
    if invalid:
        warnings.append(f"citations of passages never retrieved in {len(invalid)} question(s) "
                        f"({', '.join(invalid[:3])}): a bug in the citation check")
    agg = aggregate(questions, resamples=resamples, seed=seed)
    agg["run"] = {"folder": str(folder), "label": folder.name, "graph": manifest.graph,
                  "model": manifest.model, "llm": manifest.llm, "embedder": manifest.embedder,
                  "dataset": manifest.dataset.name, "dataset_path": manifest.dataset.path}
    agg["warnings"] = warnings
    return RunScore(label=folder.name, folder=str(folder), manifest=manifest, questions=questions,
                    aggregate=agg, warnings=warnings)

