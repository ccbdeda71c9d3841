"""``agentflow ingest`` and ``agentflow search``: build and query the local corpus store."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from agentflow.cli.help import HelpfulCommand
from agentflow.cli.loading import preload_embedder
from agentflow.cli.output import cli_errors, console, out, print_json
from agentflow.errors import UserError
from agentflow.snippets import snippet

STORE_HELP = "Store directory (default: $AGENTFLOW_STORE or ~/.agentflow/store)."
CHROMA_HELP = "Chroma server (http://HOST:PORT) holding the corpus instead of the store folder (recorded in the folder, so later commands need no flag)."
EMBEDDER_HELP = "Embedder: auto (MiniLM if installed), minilm, hash[:DIM], openai:MODEL[@URL]."


def _open_store(store: Path | None, chroma_url: str | None, embedder: str | None, *, must_exist: bool):
    from agentflow.store.corpus import CorpusStore

    if must_exist:
        return CorpusStore.open_existing(store, embedder=embedder, chroma_url=chroma_url)
    return CorpusStore(store, embedder=embedder, chroma_url=chroma_url)


@cli_errors
def ingest_cmd(
    paths: list[Path] = typer.Argument(..., help="Files or folders: .txt, .md, .json, .jsonl."),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
    chroma_url: str | None = typer.Option(None, "--chroma-url", metavar="URL", help=CHROMA_HELP),
    embedder: str | None = typer.Option(None, "--embedder", metavar="SPEC", help=EMBEDDER_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON summary object."),
) -> None:
    """Add documents to the corpus store (re-ingesting the same data adds nothing)."""
    import time

    from agentflow.store.ingest import ingest_documents, load_documents

    started = time.perf_counter()
    errors: list[str] = []
    docs = load_documents(paths, errors)
    if not docs:
        # Nothing readable: fail before a store is created, naming what was wrong.
        for err in errors:
            console.print(_skipped_line(err), soft_wrap=True)
        raise UserError(
            f"nothing to ingest: no readable document in {', '.join(str(p) for p in paths)} "
            "(give .txt, .md, .json or .jsonl files, or folders holding them)"
        )
    corpus = _open_store(store, chroma_url, embedder, must_exist=False)
    report = ingest_documents(docs, corpus, errors=errors, progress=not as_json, started=started)
    if as_json:
        print_json(report.model_dump())
        return
    extra = "".join(
        f", {n} {what}"
        for n, what in ((report.duplicates, "repeated"), (report.conflicts, "[red]conflicting ids[/]"),
                        (len(report.instruction_like), "[yellow]instruction-like (never shown to a model)[/]"))
        if n
    )
    console.print(
        f"[bold]ingested[/] {report.documents} documents -> {report.chunks} chunks: "
        f"[green]{report.added} added[/], {report.skipped} already present{extra}, "
        f"{_count(len(report.errors), 'error')} in {report.seconds:.1f}s  ([dim]{corpus.path}[/])"
    )
    for err in report.errors:
        console.print(_skipped_line(err), soft_wrap=True)
    for line in report.instruction_like:
        console.print(f"  [yellow]instruction-like[/] {line}", soft_wrap=True)


def _skipped_line(err: str) -> str:
    """One reported problem under a ``skipped`` label, which says it once."""
    return f"  [yellow]skipped[/] {escape(err.removesuffix(': skipped'))}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@cli_errors
def search_cmd(
    query: str | None = typer.Argument(None, help="The search query."),
    queries: Path | None = typer.Option(
        None, "--queries", help="A file with one query per line (models load once)."
    ),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
    chroma_url: str | None = typer.Option(None, "--chroma-url", metavar="URL", help=CHROMA_HELP),
    embedder: str | None = typer.Option(None, "--embedder", metavar="SPEC", help=EMBEDDER_HELP),
    k: int = typer.Option(5, "-k", "--top-k", min=1, help="Number of passages."),
    mode: str = typer.Option("hybrid", "--mode", metavar="MODE", help="hybrid | dense | bm25."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one line per query with --queries)."),
) -> None:
    """Search the corpus store."""
    if mode not in {"hybrid", "dense", "bm25"}:
        raise UserError(f"unknown --mode {mode!r}: use hybrid, dense or bm25")
    if (query is None) == (queries is None):
        raise UserError("give either a QUERY or --queries FILE")
    if queries is not None:
        try:
            lines = [ln.strip() for ln in queries.read_text(encoding="utf-8").splitlines()]
        except OSError as exc:
            raise UserError(f"cannot read --queries file {queries}: {exc.strerror}") from exc
        query_list = [ln for ln in lines if ln]
    else:
        query_list = [query or ""]
    corpus = _open_store(store, chroma_url, embedder, must_exist=True)
    if mode != "bm25" and not as_json:
        preload_embedder(console, corpus.embedder)
    results = corpus.search_many(query_list, k=k, mode=mode)
    for q, hits in zip(query_list, results):
        rows = [h.model_dump(include={"id", "title", "text", "score", "source"}) for h in hits]
        if as_json:
            print_json({"query": q, "results": rows} if queries is not None else rows)
            continue
        table = Table(title=f"{q}  [dim]({mode}, top {k})[/]", show_lines=False, expand=True)
        table.add_column("#", justify="right", width=3)
        table.add_column("score", justify="right", width=7)
        table.add_column("id", width=18, overflow="fold")
        table.add_column("title / text", ratio=1)
        for i, h in enumerate(hits, 1):
            text = snippet(h.text, 240, title=h.title)
            table.add_row(str(i), f"{h.score:.3f}", h.id, f"[bold]{escape(h.title)}[/]\n{escape(text)}")
        out.print(table)


@cli_errors
def compact_cmd(
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
    chroma_url: str | None = typer.Option(None, "--chroma-url", metavar="URL", help=CHROMA_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON summary object."),
) -> None:
    """Fold the store's delta segments into its base collection and merge its BM25 and entity-graph segments: the store as if built at once.

    Ingestion into a big store adds to small delta collections (fast to add to; every search asks each of them). Compacting copies them into the base, whose add cost grows with its size: run it when nothing else is ingesting (searches may go on meanwhile).
    """
    import time

    corpus = _open_store(store, chroma_url, None, must_exist=True)
    before = corpus.segments()
    started = time.perf_counter()
    moved = corpus.compact()
    summary = {"moved": moved, "deltas_before": len(before) - 1,
               "passages": corpus.count(), "seconds": round(time.perf_counter() - started, 2)}
    if as_json:
        print_json(summary)
        return
    console.print(
        f"[bold]compacted[/] {_count(summary['deltas_before'], 'delta segment')} into the base: "
        f"{moved} passages moved, {summary['passages']} in the store, "
        f"{summary['seconds']:.1f}s  ([dim]{corpus.path}[/])"
    )


def register(app: typer.Typer) -> None:
    """Attach the corpus commands to the main app."""
    app.command("ingest", cls=HelpfulCommand)(ingest_cmd)
    app.command("search", cls=HelpfulCommand)(search_cmd)
    app.command("compact", cls=HelpfulCommand)(compact_cmd)
