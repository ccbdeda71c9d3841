"""Ablation of the research loop: switch each mechanism off in turn and compare.

    python -m agentflow.evals.ablation --dataset DIR_OR_FILE [--corpus FILE] \
        [--llm local|oracle|openai:...] [--embedder minilm] [--limit 30] --out runs/ablation

Runs ``rag`` and ``deep_research`` with every mechanism on (``full``), then
``deep_research`` with one mechanism off per row, all on the same cached store in the
same session, and prints evidence Recall@5, full chain@5, F1, correct, refusals,
over-refusal, LLM calls and seconds per question. Eval folders are resumable: run
again to finish what is missing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from agentflow.agent.context import ResearchSettings

#: (row label, graph, settings overrides): one mechanism switched off per row.
VARIANTS: tuple[tuple[str, str, dict[str, object]], ...] = (
    ("rag (single search)", "rag", {}),
    ("deep_research, full", "deep_research", {}),
    ("- bridge hops", "deep_research", {"bridge_searches": 0}),
    ("- model plan (question as the plan)", "deep_research", {"plan_llm": False}),
    ("+ model plan even for a small model", "deep_research", {"plan_llm": True}),
    ("- first-hop names taken for bridges", "deep_research", {"beyond_subjects": False}),
    ("- model reader (top typed candidate)", "deep_research", {"reader_llm": False}),
    ("+ a small model asked to pick the span", "deep_research", {"reader_llm": True}),
    ("- critic", "deep_research", {"critic_llm": False}),
    ("- clause plan for a small model", "deep_research", {"clause_plan": False}),
    ("- whole-question bridges under a plan", "deep_research", {"question_bridges": False}),
    ("- answers stated about the named entity", "deep_research", {"named_subjects": False}),
    ("- comparisons decided in code", "deep_research", {"compare_in_code": False}),
    ("- final step must be supported", "deep_research", {"final_step_support": False}),
    ("- single-step floor when a chain link is unsupported", "deep_research", {"chain_fallback": False}),
    ("- relation cues around spans", "deep_research", {"relation_cues": False}),
    ("- step heads in the evidence order", "deep_research", {"step_heads": False}),
    ("- subject page counts as missing evidence", "deep_research", {"subject_page_missing": False}),
    ("- subject-page rule only for spans read on that page", "deep_research", {"subject_page_refined": False}),
    ("- runner-up bridges retried when a step finds nothing", "deep_research", {"bridge_retries": 0}),
    ("- evidence ordered with the corpus graph's PPR", "deep_research", {"evidence_graph": 0.0}),
    ("- stated links after the step heads", "deep_research", {"stated_links": False}),
    ("- chain's own answer before the floor on an unsupported link", "deep_research",
     {"chain_answer_first": False}),
    ("- the floor skips the chain's bridges", "deep_research", {"floor_skips_bridges": False}),
)
COLUMNS = (("recall@5", "R@5"), ("full_chain", "chain@5"), ("f1", "F1"), ("correct", "correct"),
           ("refused", "refused"), ("over_refusal", "over-refusal"), ("llm_calls", "LLM calls"),
           ("seconds", "s/question"))


def _value(score: object, key: str) -> str:
    value = score.metric(key).get("mean")  # type: ignore[attr-defined]
    return "-" if value is None else f"{float(value):.3f}" if key not in ("llm_calls", "seconds") \
        else f"{float(value):.1f}"


def main(argv: list[str] | None = None) -> int:
    """Run every variant and print the table; returns a process exit code."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, type=Path)
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--llm", default="local")
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--only", default="", help="comma-separated row numbers to run (default: all)")
    parser.add_argument("--out", type=Path, default=Path("runs/ablation"))
    args = parser.parse_args(argv)

    from agentflow.scoring.batch import run_batch
    from agentflow.scoring.scorer import score_folder

    console = Console(stderr=True)
    wanted = {int(x) for x in args.only.split(",") if x.strip()}
    table = Table(title=f"ablation: {args.dataset.name}, {args.llm}, {args.limit} questions")
    table.add_column("variant")
    for _, label in COLUMNS:
        table.add_column(label, justify="right")
    for i, (label, graph, overrides) in enumerate(VARIANTS, 1):
        if wanted and i not in wanted:
            continue
        folder = args.out / f"{i:02d}-{graph}-{'-'.join(f'{k}{v}' for k, v in overrides.items()) or 'full'}"
        settings = ResearchSettings(**overrides)  # type: ignore[arg-type]
        run_batch(args.dataset, out=folder, corpus=args.corpus, graph=graph, llm=args.llm,
                  embedder=args.embedder, limit=args.limit, settings=settings, progress=True,
                  console=console)
        score = score_folder(folder, resamples=100)
        table.add_row(label, *[_value(score, key) for key, _ in COLUMNS])
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
