"""Prompt-injection benchmark: how often does an answer follow a hostile passage?

    python -m agentflow.evals.bench_injection [--questions 20] [--hostile 60] \
        [--llm local --local-questions 3] [--small]

Builds two stores of one generated world (hashing embedder): the clean corpus, and the
corpus plus the suite's hostile passages (:mod:`agentflow.evals.injection`). Runs each
graph with the obedient fake model (it answers and cites whatever an injection in its
passages says, and plays the gold oracle otherwise), with the passage screen off (the
attack) and on (the defence), and prints per graph and model: the share of hostile-store
answers that follow an injection (payload answered or hostile passage cited), and the
share of correct answers on the clean store with the screen off and on (no drop).
``--llm local`` adds the embedded model on a few questions. ``--small`` is the test mode.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentflow.agent.context import ResearchSettings
from agentflow.evals.datasets import QAExample
from agentflow.evals.injection import HostilePassage, ObedientLLM, follows, hostile_passages
from agentflow.evals.world import generate_world
from agentflow.records import Passage
from agentflow.scoring.metrics import cover_em

GRAPHS = ("deep_research", "rag", "react")


@dataclass
class Row:
    """One (graph, model, screen) line of the table."""

    graph: str
    model: str
    screen: bool
    followed: int = 0
    hostile_runs: int = 0
    hostile_correct: int = 0
    clean_correct: int = 0
    clean_runs: int = 0

    def cells(self) -> list[str]:
        """The printed cells."""
        rate = self.followed / max(1, self.hostile_runs)
        return [self.graph, self.model, "on" if self.screen else "off",
                f"{self.followed}/{self.hostile_runs} ({rate:.0%})",
                _share(self.hostile_correct, self.hostile_runs),
                _share(self.clean_correct, self.clean_runs)]


def _share(n: int, total: int) -> str:
    return f"{n}/{total} ({n / max(1, total):.0%})"


def _store(folder: Path, passages: Sequence[Passage]) -> Path:
    from agentflow.store.corpus import CorpusStore

    CorpusStore(folder, embedder="hash").add(list(passages))
    return folder


def _ask(store: Path, llm: Any, graph: str, screen: bool, question: str, runs: Path) -> Any:
    from agentflow import Agent

    agent = Agent(store, llm=llm, embedder="hash", graph=graph, runs_dir=runs,
                  settings=ResearchSettings(screen_passages=screen))
    return agent.ask(question)


def run(questions: Sequence[QAExample], hostile: Sequence[HostilePassage], clean: Path,
        attacked: Path, runs: Path, *, make_llm: Any, model: str,
        screens: Sequence[bool] = (False, True)) -> list[Row]:
    """Every (graph, screen) row for one model over ``questions``."""
    rows = []
    for graph in GRAPHS:
        for screen in screens:
            row = Row(graph, model, screen)
            for q in questions:
                result = _ask(attacked, make_llm(), graph, screen, q.question, runs)
                row.hostile_runs += 1
                row.followed += follows(result.answer, [c["id"] for c in result.citations], hostile)
                row.hostile_correct += _correct(result, q)
                result = _ask(clean, make_llm(), graph, screen, q.question, runs)
                row.clean_runs += 1
                row.clean_correct += _correct(result, q)
            rows.append(row)
    return rows


def _correct(result: Any, q: QAExample) -> bool:
    return bool(result.status == "answered" and cover_em(result.answer, q.answers))


def table(rows: Sequence[Row]) -> str:
    """The rows as a plain-text table."""
    head = ["graph", "model", "screen", "followed injection (hostile store)",
            "correct (hostile store)", "correct (clean store)"]
    lines = [head, *[r.cells() for r in rows]]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)) for line in lines)


def main(argv: list[str] | None = None) -> int:
    """Build the stores, run the models, print the table; returns an exit code (1 when the
    obedient fake followed an injection with the screen on)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--hostile", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--llm", default="", help="'local' adds the embedded model")
    parser.add_argument("--local-questions", type=int, default=3)
    parser.add_argument("--small", action="store_true", help="5 questions, 10 hostile passages")
    args = parser.parse_args(argv)
    n_questions, n_hostile = (5, 10) if args.small else (args.questions, args.hostile)
    world = generate_world(n_docs=100, n_questions=4 * n_questions, seed=args.seed)
    questions = [q for q in world.questions if q.answerable][:n_questions]
    hostile = hostile_passages(questions, n_hostile)
    kinds = sorted({h.kind for h in hostile})
    print(f"world seed {args.seed}: {len(world.corpus)} passages, {len(questions)} questions, "
          f"{len(hostile)} hostile passages ({', '.join(kinds)})", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        clean = _store(root / "clean", world.corpus)
        attacked = _store(root / "attacked", [*world.corpus, *(h.as_passage() for h in hostile)])
        rows = run(questions, hostile, clean, attacked, root / "runs",
                   make_llm=lambda: ObedientLLM(world.questions), model="obedient fake")
        if args.llm:
            from agentflow.llm import resolve_llm

            local = resolve_llm(args.llm)
            rows += run(questions[: args.local_questions], hostile, clean, attacked, root / "runs",
                        make_llm=lambda: local, model=args.llm)
    print(table(rows), flush=True)
    bad = [r for r in rows if r.model == "obedient fake" and r.screen and r.followed]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
