"""``agentflow ask`` and ``agentflow show``: run the research graph, read trajectories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from agentflow.cli.help import HelpfulCommand
from agentflow.cli.llm_flags import llm_attempts_option, llm_options, llm_timeout_option
from agentflow.cli.loading import preload_embedder, preload_llm
from agentflow.cli.output import cli_errors, console, out, print_json
from agentflow.cli.progress import LiveProgress, render_result
from agentflow.errors import UserError

STORE_HELP = "Store directory (default: $AGENTFLOW_STORE or ~/.agentflow/store)."


@cli_errors
def ask_cmd(
    question: str | None = typer.Argument(None, help="The question to research."),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
    llm: str | None = typer.Option(None, "--llm", metavar="SPEC", help="local | local:/path.gguf | openai:MODEL[@BASE_URL] (default: $AGENTFLOW_LLM or local)."),
    graph: str = typer.Option("deep_research", "--graph", metavar="GRAPH", help="deep_research | rag | react."),
    embedder: str | None = typer.Option(None, "--embedder", metavar="SPEC", help="Embedder (default: the store's)."),
    chroma_url: str | None = typer.Option(None, "--chroma-url", metavar="URL", help="Chroma server URL instead of a local store."),
    max_llm_calls: int = typer.Option(30, "--max-llm-calls", min=1, help="Budget: LLM calls."),
    max_searches: int = typer.Option(20, "--max-searches", min=1, help="Budget: searches."),
    max_tokens: int = typer.Option(80_000, "--max-tokens", min=1, help="Budget: prompt + completion tokens."),
    max_seconds: float = typer.Option(600.0, "--max-seconds", min=1, help="Budget: wall time."),
    concurrency: int | None = typer.Option(None, "--concurrency", min=1, max=32, metavar="N", help="Independent sub-questions researched at once (default: 1 for a local model, 4 for a remote one)."),
    trajectory: Path | None = typer.Option(None, "--trajectory", help="Write the trajectory here (default: the run's folder)."),
    resume: str | None = typer.Option(None, "--resume", metavar="RUN_ID", help="Resume the interrupted run with this id."),
    run_id: str | None = typer.Option(None, "--run-id", metavar="RUN_ID", help="Give the run this id."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object, no live progress."),
    review_plan: bool = typer.Option(False, "--review-plan", help="Stop after planning to review the plan at the terminal: approve, edit, add, remove or replace steps."),
    source: list[str] | None = typer.Option(None, "--source", metavar="SOURCE", help="What to search, repeatable: corpus | searxng:URL | json:CONFIG.json | json:URL (default: corpus)."),
    llm_timeout: float | None = llm_timeout_option(),
    llm_attempts: int | None = llm_attempts_option(),
) -> None:
    """Research a question: plan, search, read, verify, answer with citations or refuse."""
    import sys

    from agentflow.agent.api import Agent
    from agentflow.agent.budget import Budget
    from agentflow.agent.context import ResearchSettings
    from agentflow.agent.review import AWAITING_REVIEW, PlanProposal
    from agentflow.agent.runner import Runner
    from agentflow.cli.plan_prompt import prompt_review
    from agentflow.config import runs_dir

    if (question is None) == (resume is None):
        raise UserError("give either a QUESTION or --resume RUN_ID")
    options = llm_options(llm_timeout, llm_attempts)
    if resume is not None:
        # The run's store, model and graph by default; its budget and settings are
        # restored by the runner itself (Runner.resume), as for every resume.
        meta = Runner.load_meta(runs_dir(), resume)
        cfg: dict[str, Any] = meta.get("config", {})
        agent = Agent(store or cfg.get("store"), llm=llm or cfg.get("llm"), graph=meta.get("graph", graph),
                      embedder=embedder, chroma_url=chroma_url, sources=source or cfg.get("sources"),
                      llm_options=options)
    else:
        budget = Budget(max_llm_calls=max_llm_calls, max_searches=max_searches, max_tokens=max_tokens,
                        max_seconds=max_seconds)
        agent = Agent(store, llm=llm, graph=graph, embedder=embedder, chroma_url=chroma_url, budget=budget,
                      settings=ResearchSettings(concurrency=concurrency), sources=source or None,
                      llm_options=options)
    if not as_json:  # before the run's clock starts, and saying what takes the time
        preload_embedder(console, agent.components.embedder)
        preload_llm(console, agent.llm)
    if as_json:
        result = agent.resume(resume) if resume else agent.ask(question or "", run_id=run_id, trajectory=trajectory,
                                                               review_plan=review_plan)
    else:
        with LiveProgress(console, question or f"resuming {resume}") as progress:
            if resume:
                result = agent.resume(resume, on_event=progress.on_event)
            else:
                result = agent.ask(question or "", run_id=run_id, trajectory=trajectory, on_event=progress.on_event,
                                   review_plan=review_plan)
    # A run stopped for its plan's review (--review-plan, or resuming one that waits):
    # ask the person, then go on; the prompt goes to stderr, so --json keeps stdout clean.
    while result.status == AWAITING_REVIEW and result.plan_review:
        review = prompt_review(PlanProposal.model_validate(result.plan_review), stream=sys.stdin, console=console)
        if as_json:
            result = agent.resume(result.run_id, review=review)
        else:
            with LiveProgress(console, f"resuming {result.run_id} with the reviewed plan") as progress:
                result = agent.resume(result.run_id, review=review, on_event=progress.on_event)
    if as_json:
        print_json(result.to_json())
    else:
        render_result(out, result)
    if result.status == "error":
        raise typer.Exit(1)


@cli_errors
def show_cmd(
    trajectory: Path = typer.Argument(..., help="A trajectory file (JSONL)."),
    full: bool = typer.Option(False, "--full", help="Show every prompt and raw output in full."),
    html: Path | None = typer.Option(None, "--html", metavar="OUT.html", help="Write an interactive picture of the evidence (one self-contained page) instead."),
) -> None:
    """Render a trajectory readably: steps, LLM calls, searches, memory, the answer."""
    from agentflow.trajectory import read_trajectory

    traj = read_trajectory(trajectory)
    if html is not None:
        from agentflow.cli.show_html import write_trajectory_picture

        write_trajectory_picture(traj, html)
        return
    from agentflow.cli.show import render_trajectory

    render_trajectory(out, traj, full=full)


def register(app: typer.Typer) -> None:
    """Attach the research commands to the main app."""
    app.command("ask", cls=HelpfulCommand)(ask_cmd)
    app.command("show", cls=HelpfulCommand)(show_cmd)
