"""``agentflow report``: research a question, then write a long cited report of it."""

from __future__ import annotations

from pathlib import Path

import typer

from agentflow.cli.help import HelpfulCommand
from agentflow.cli.llm_flags import llm_attempts_option, llm_options, llm_timeout_option
from agentflow.cli.loading import preload_embedder, preload_llm
from agentflow.cli.output import cli_errors, console, out, print_json
from agentflow.cli.progress import LiveProgress
from agentflow.cli.research import STORE_HELP
from agentflow.errors import UserError

_SUFFIXES = (".md", ".markdown", ".html", ".htm")


@cli_errors
def report_cmd(
    question: str = typer.Argument(..., help="The question the report answers."),
    out_path: Path = typer.Option(..., "--out", metavar="REPORT.md|REPORT.html", help="Where to write the report (Markdown or one self-contained HTML page, by the suffix)."),
    words: int = typer.Option(1000, "--words", metavar="N", min=50, max=20_000, help="Length of the report in words."),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
    llm: str | None = typer.Option(None, "--llm", metavar="SPEC", help="local | local:/path.gguf | openai:MODEL[@BASE_URL] (default: $AGENTFLOW_LLM or local)."),
    embedder: str | None = typer.Option(None, "--embedder", metavar="SPEC", help="Embedder (default: the store's)."),
    chroma_url: str | None = typer.Option(None, "--chroma-url", metavar="URL", help="Chroma server URL instead of a local store."),
    max_llm_calls: int = typer.Option(60, "--max-llm-calls", min=1, help="Budget: LLM calls (research and writing together)."),
    max_searches: int = typer.Option(30, "--max-searches", min=1, help="Budget: searches."),
    max_tokens: int = typer.Option(200_000, "--max-tokens", min=1, help="Budget: prompt + completion tokens."),
    max_seconds: float = typer.Option(1200.0, "--max-seconds", min=1, help="Budget: wall time."),
    trajectory: Path | None = typer.Option(None, "--trajectory", help="Write the trajectory here (default: the run's folder)."),
    run_id: str | None = typer.Option(None, "--run-id", metavar="RUN_ID", help="Give the run this id."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON summary object, no live progress."),
    source: list[str] | None = typer.Option(None, "--source", metavar="SOURCE", help="What to search, repeatable: corpus | searxng:URL | json:CONFIG.json | json:URL (default: corpus)."),
    llm_timeout: float | None = llm_timeout_option(),
    llm_attempts: int | None = llm_attempts_option(),
) -> None:
    """Write a long report: research, outline, then sections whose every sentence cites a retrieved passage."""
    from agentflow.agent.api import Agent
    from agentflow.agent.budget import Budget
    from agentflow.graphs.report import builder
    from agentflow.report.page import write_report
    from agentflow.report.records import Report
    from agentflow.trajectory import read_trajectory

    if out_path.suffix.lower() not in _SUFFIXES:
        raise UserError(f"--out must end in .md or .html (got {out_path.name!r})")
    budget = Budget(max_llm_calls=max_llm_calls, max_searches=max_searches, max_tokens=max_tokens,
                    max_seconds=max_seconds)
    agent = Agent(store, llm=llm, graph=builder(words), embedder=embedder, chroma_url=chroma_url,
                  budget=budget, sources=source or None, llm_options=llm_options(llm_timeout, llm_attempts))
    if as_json:
        result = agent.ask(question, run_id=run_id, trajectory=trajectory)
    else:
        preload_embedder(console, agent.components.embedder)
        preload_llm(console, agent.llm)
        with LiveProgress(console, question) as progress:
            result = agent.ask(question, run_id=run_id, trajectory=trajectory, on_event=progress.on_event)
    if result.status == "error" or not result.trajectory:
        raise UserError(f"the run failed: {result.error or 'no trajectory'} (trajectory {result.trajectory})")
    recorded = read_trajectory(result.trajectory).of_type("report")
    if not recorded:
        raise UserError(f"the run wrote no report (status {result.status}); see {result.trajectory}")
    report = Report.model_validate(recorded[-1]["report"])
    written = write_report(report, out_path)
    summary = {"report": str(written), "trajectory": result.trajectory, "run_id": result.run_id,
               "status": result.status, "words": report.words(), "words_asked": words,
               "sections": len(report.sections), "sentences": sum(len(s.sentences) for s in report.sections),
               "sources": len(report.sources), "usage": result.to_json()["usage"]}
    if as_json:
        print_json(summary)
        return
    u = summary["usage"]
    out.print(f"wrote {written}: {summary['words']} words (asked {words}), {summary['sections']} sections, "
              f"{summary['sentences']} sentences, {summary['sources']} sources")
    out.print(f"trajectory {result.trajectory}")
    console.print(f"[dim]{u['llm_calls']} LLM calls, {u['prompt_tokens']}+{u['completion_tokens']} tokens, "
                  f"{u['searches']} searches, {u['seconds']:.1f}s; run {result.run_id}[/]")


def register(app: typer.Typer) -> None:
    """Attach ``report`` to the main app."""
    app.command("report", cls=HelpfulCommand)(report_cmd)
