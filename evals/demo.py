"""The main job on embedded defaults (``make demo``): generate a small fictional world,
ingest it into a local Chroma store, and research a multi-hop question about it
with the embedded local model, printing progress, the answer and its evidence
chain. Everything runs offline.

    python -m agentflow.evals.demo [--docs 300] [--seed 7] [--question "..."] [--llm local]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.panel import Panel

from agentflow.config import home_dir


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns a process exit code."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=300, help="documents in the generated world")
    parser.add_argument("--seed", type=int, default=7, help="world seed")
    parser.add_argument("--question", help="ask this instead of a generated 2-hop question")
    parser.add_argument("--llm", default=None, help="LLM model string (default: $AGENTFLOW_LLM or local)")
    parser.add_argument("--embedder", default=None, help="embedder (default: MiniLM when installed)")
    parser.add_argument("--home", type=Path, default=None, help="where the demo world and store go")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from agentflow.agent.api import Agent
    from agentflow.cli.progress import LiveProgress, render_result
    from agentflow.evals.world import generate_world
    from agentflow.store.corpus import CorpusStore
    from agentflow.store.ingest import ingest

    console = Console(stderr=True)
    root = args.home or home_dir() / "demo"
    world = generate_world(n_docs=args.docs, n_questions=40, seed=args.seed)
    corpus_file = root / f"world-{args.seed}-{args.docs}.jsonl"
    corpus_file.parent.mkdir(parents=True, exist_ok=True)
    if not corpus_file.exists():
        corpus_file.write_text(
            "".join(p.model_dump_json(include={"id", "title", "text"}) + "\n" for p in world.corpus),
            encoding="utf-8",
        )
    console.print(f"[bold]1. world[/] {len(world.corpus)} fictional documents -> {corpus_file}")
    store = CorpusStore(root / "store", embedder=args.embedder)
    report = ingest([corpus_file], store, progress=True)
    console.print(f"[bold]2. ingest[/] {report.added} added, {report.skipped} already present "
                  f"({store.embedder.name} embeddings, store {store.path})")

    gold = None
    question = args.question
    if question is None:
        # A 2-hop chain question: hard enough to need the loop, short enough for a 135M model.
        gold = next(q for q in world.questions if q.answerable and q.hops == 2 and q.kind == "chain")
        question = gold.question
    console.print("[bold]3. research[/] with the embedded model (SmolLM2-135M: weak at reasoning, "
                  "so the deterministic floors carry much of the work)")
    agent = Agent(store, llm=args.llm)
    with LiveProgress(console, question) as progress:
        result = agent.ask(question, on_event=progress.on_event)
    render_result(Console(), result)
    if gold is not None:
        chain = " -> ".join(f"{s.question} [{s.answer}]" for s in gold.decomposition)
        console.print(Panel(f"gold answer: [bold]{gold.answers[0]}[/]\ngold chain: {chain}\n"
                            f"gold passages: {', '.join(gold.supporting_ids)}", title="for comparison",
                            expand=False))
    console.print(f"inspect the run: [bold]agentflow show {result.trajectory}[/]")
    return 0 if result.status != "error" else 1


if __name__ == "__main__":
    sys.exit(main())
