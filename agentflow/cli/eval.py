"""``agentflow eval run|score|report``: batch runs over a dataset, offline scoring, reports."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from agentflow.cli.help import HelpfulCommand, HelpfulGroup
from agentflow.cli.llm_flags import llm_attempts_option, llm_options, llm_timeout_option
from agentflow.cli.output import cli_errors, console, out, print_json

app = typer.Typer(
    help="Offline evaluation: run a dataset through an agent, score trajectories, compare runs.",
    no_args_is_help=True,
    cls=HelpfulGroup,
)

FORMAT_HELP = "Dataset format: auto | musique | hotpotqa | 2wiki | multihoprag | jsonl."


@app.command("run", cls=HelpfulCommand)
@cli_errors
def run_cmd(
    dataset: Path = typer.Option(..., "--dataset", help="Questions file, or a folder with questions.json(l) and corpus.json(l)."),
    out_dir: Path = typer.Option(..., "--out", help="Eval folder (created; run again to resume)."),
    format: str = typer.Option("auto", "--format", metavar="FORMAT", help=FORMAT_HELP),
    corpus: Path | None = typer.Option(None, "--corpus", help="Corpus file: JSON/JSONL of {id?, title, text} records, or a {title: text | [sentences]} object (HotpotQA/HippoRAG)."),
    graph: str | None = typer.Option(None, "--graph", metavar="GRAPH", help="deep_research | rag | react (default: the folder's, else deep_research)."),
    llm: str | None = typer.Option(None, "--llm", metavar="SPEC", help="local | local:/path.gguf | openai:MODEL[@BASE_URL] | oracle (an evaluation-only ceiling that plays the gold decomposition) (default: the folder's, else $AGENTFLOW_LLM or local)."),
    embedder: str | None = typer.Option(None, "--embedder", metavar="SPEC", help="auto | minilm | hash[:DIM] | openai:MODEL[@URL] (default: the folder's, else the --store's, else auto)."),
    store: Path | None = typer.Option(None, "--store", metavar="DIR", help="Search this existing store folder instead of building a cached one from the dataset; it must hold the dataset's corpus (checked). Recorded in the eval folder, so a resume uses it."),
    chroma_url: str | None = typer.Option(None, "--chroma-url", metavar="URL", help="Chroma server (http://HOST:PORT) holding the --store folder's collection (attaches a new folder; recorded in it)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Only the first N questions."),
    concurrency: int = typer.Option(1, "--concurrency", min=1, help="Questions run at once (threads)."),
    retry_errors: bool = typer.Option(False, "--retry-errors", help="Run again the questions that ended with status error."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON summary, no progress bar."),
    source: list[str] | None = typer.Option(None, "--source", metavar="SOURCE", help="What runs search, repeatable: corpus | searxng:URL | json:CONFIG.json | json:URL (default: corpus)."),
    llm_timeout: float | None = llm_timeout_option(),
    llm_attempts: int | None = llm_attempts_option(),
) -> None:
    """Run every question of a dataset through an agent; one trajectory per question (resumable)."""
    from agentflow.scoring.batch import run_batch

    report = run_batch(dataset, out=out_dir, format=format, corpus=corpus, graph=graph, llm=llm,
                       embedder=embedder, store=store, chroma_url=chroma_url, limit=limit, concurrency=concurrency,
                       retry_errors=retry_errors, progress=not as_json, console=console,
                       sources=source or None, llm_options=llm_options(llm_timeout, llm_attempts))
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    if report.skipped:
        out.print(f"skipped {len(report.skipped)} dataset record(s):", markup=False, highlight=False)
        for record in report.skipped:
            out.print(f"  {record.file} {record.where}: {record.reason}", markup=False, highlight=False)
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(report.statuses.items())) or "nothing to run"
    if report.store_kind == "given":
        where = escape(report.store) + (f" on {escape(report.chroma_url)}" if report.chroma_url else "")
        extra = f", {report.store_extra} passages beyond the dataset's corpus" if report.store_extra else ""
        note = f"  [dim](store {where}{extra})[/]"
    else:
        note = "" if report.store_built else "  [dim](cached store reused)[/]"
    console.print(
        f"[bold]eval run[/] {report.ran} run ({statuses}), {report.already_done} done before, "
        f"{report.restarted} restarted, in {report.seconds:.1f}s -> [dim]{report.out}[/]" + note
    )
    console.print(f"[dim]score it with: agentflow eval score {report.out}[/]")


@app.command("score", cls=HelpfulCommand)
@cli_errors
def score_cmd(
    folders: list[Path] = typer.Argument(..., help="Eval folder(s) written by `agentflow eval run`."),
    as_json: bool = typer.Option(False, "--json", help="Print {aggregate, questions} as JSON."),
    dataset: Path | None = typer.Option(None, "--dataset", help="Gold data, when it moved since the run."),
    corpus: Path | None = typer.Option(None, "--corpus", help="Corpus file, when it moved since the run."),
    resamples: int = typer.Option(1000, "--resamples", min=100, help="Bootstrap resamples."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
) -> None:
    """Score trajectories against the gold data (no LLM calls): answers, evidence, refusals, cost."""
    from agentflow.scoring.report import markdown_table
    from agentflow.scoring.scorer import score_folder

    scores = [score_folder(f, dataset=dataset, corpus=corpus, resamples=resamples, seed=seed)
              for f in folders]
    if as_json:
        for s in scores:
            print_json(s.to_json())
        return
    out.print(markdown_table(scores), markup=False, highlight=False)
    for s in scores:
        for warning in s.warnings:
            console.print(f"[yellow]warning[/] {s.label}: {warning}")


@app.command("report", cls=HelpfulCommand)
@cli_errors
def report_cmd(
    folders: list[Path] = typer.Argument(..., help="Eval folders to compare side by side."),
    html: Path = typer.Option(..., "--out", help="Write the HTML report here."),
    resamples: int = typer.Option(1000, "--resamples", min=100, help="Bootstrap resamples."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
) -> None:
    """Compare eval folders: a self-contained HTML report and a markdown table on stdout."""
    from agentflow.scoring.report import markdown_table, write_html_report
    from agentflow.scoring.scorer import score_folder

    scores = [score_folder(f, resamples=resamples, seed=seed) for f in folders]
    path = write_html_report(scores, html)
    out.print(markdown_table(scores), markup=False, highlight=False)
    console.print(f"[bold]report[/] -> {path}")
