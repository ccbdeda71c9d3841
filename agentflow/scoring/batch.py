"""Batch runs: every question of a dataset through one agent, one trajectory each.

``run_batch`` ingests the dataset's corpus into a cached store (or searches an existing
store given with ``store``, after checking it holds the corpus), runs each selected
question through :class:`~agentflow.agent.api.Agent` and writes the eval folder laid out
in :mod:`agentflow.scoring.manifest`. It is resumable: a question whose trajectory has a
``final`` event is done and skipped; a partial trajectory (a killed run) is moved to
``DIR/interrupted/`` and the question is restarted from scratch, so every scored
trajectory is one clean run. A question that fails is recorded with status ``error``
and the batch goes on.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from agentflow.agent.budget import Budget
from agentflow.agent.context import ResearchSettings
from agentflow.errors import UserError
from agentflow.evals.dataset_files import SkippedRecord
from agentflow.scoring.manifest import (
    RUNS,
    BatchRecord,
    DatasetInfo,
    EvalManifest,
    dataset_sha256,
    manifest_path,
    now_iso,
    read_manifest,
    sha256_path,
    trajectory_path,
    write_manifest,
)
from agentflow.scoring.store_cache import check_store_holds_corpus
from agentflow.scoring.trajectories import (
    final_status,
    new_run_id,
    record_failure,
    set_aside,
    trajectory_finished,
)

if TYPE_CHECKING:
    from rich.console import Console

    from agentflow.embed.base import Embedder
    from agentflow.evals.datasets import Dataset, QAExample
    from agentflow.llm.base import LLM
    from agentflow.store.corpus import CorpusStore

DEFAULT_GRAPH = "deep_research"


class BatchReport(BaseModel):
    """What one ``run_batch`` call did."""

    out: str
    total: int
    already_done: int = 0
    ran: int = 0
    restarted: int = 0
    errors: int = 0
    statuses: dict[str, int] = Field(default_factory=dict)
    store: str = ""
    store_built: bool = False
    #: ``cached`` (built from the dataset, by content hash) or ``given`` (``--store``).
    store_kind: str = "cached"
    chroma_url: str | None = None
    #: Passages a given store holds beyond the dataset's corpus.
    store_extra: int | None = None
    seconds: float = 0.0
    #: Every record of the dataset's questions or corpus file that was skipped, and why.
    skipped: list[SkippedRecord] = Field(default_factory=list)


def _resolve_option(name: str, given: Any, old: EvalManifest | None, old_value: Any,
                    default: Any) -> Any:
    """An option for this batch: the one given, else the folder's earlier choice, else the
    default; a given value that contradicts the folder's is a usage error."""
    if given is None:
        return old_value if old is not None else default
    if old is not None and given != old_value:
        raise UserError(f"this eval folder was run with {name} {old_value!r}, not {given!r}: "
                        f"pass the same {name} to resume it, or use another --out folder")
    return given


def select_examples(dataset: Dataset, limit: int | None) -> list[QAExample]:
    """The first ``limit`` examples (all when None)."""
    return dataset.examples if limit is None else dataset.examples[:limit]


def run_batch(
    dataset: str | Path,
    *,
    out: str | Path,
    format: str = "auto",
    corpus: str | Path | None = None,
    graph: str | None = None,
    llm: str | LLM | None = None,
    embedder: str | Embedder | None = None,
    limit: int | None = None,
    concurrency: int = 1,
    budget: Budget | None = None,
    settings: ResearchSettings | None = None,
    store: CorpusStore | str | Path | None = None,
    chroma_url: str | None = None,
    retry_errors: bool = False,
    progress: bool = True,
    console: Console | None = None,
    on_result: Callable[[str, str], None] | None = None,
    sources: list[str] | None = None,
    llm_options: dict[str, Any] | None = None,
) -> BatchReport:
    """Run the first ``limit`` questions of ``dataset`` through an agent into ``out``.

    ``graph``, ``llm`` and ``embedder`` default to what ``out`` was run with before (a
    resume), else ``deep_research``, ``$AGENTFLOW_LLM``/``local`` and ``auto``. By default
    the corpus is ingested into a store cached by content hash. ``store`` (an open store or
    a store folder, with ``chroma_url`` for a folder attached to a remote collection)
    searches that store instead: it must hold every passage of the dataset's corpus (a
    ``UserError`` says how many, and how many gold supporting passages, are missing), its
    embedder is the default, and the folder is recorded in the manifest, so a resume
    without ``store`` uses it again and a resume with another one is refused.
    ``on_result(question_id, status)`` is called as each question finishes. ``sources``
    adds web sources next to the corpus (``["corpus", "searxng:URL"]``; their pages are
    cached, so a re-run makes no requests).
    ``llm_options`` go to the backend ``llm`` names (``timeout_s``, ``max_attempts``): they
    are how this invocation talks to the model, not part of the folder's configuration.
    """
    from agentflow.agent.api import Agent
    from agentflow.agent.runner import package_versions
    from agentflow.embed import embedder_spec as spec_of
    from agentflow.evals.datasets import load_dataset
    from agentflow.scoring.store_cache import cached_store, corpus_hash

    started = time.perf_counter()
    if concurrency < 1:
        raise UserError(f"--concurrency must be 1 or more (got {concurrency})")
    if limit is not None and limit < 1:
        raise UserError(f"--limit must be 1 or more (got {limit})")
    out_dir = Path(out)
    old = read_manifest(out_dir) if manifest_path(out_dir).is_file() else None
    data_path = Path(dataset).resolve()
    data = load_dataset(data_path, format=format, corpus=corpus)
    if data.corpus is None:
        raise UserError(f"{dataset} carries no passages: pass the corpus with --corpus FILE")
    if not data.examples:
        raise UserError(f"no questions could be read from {dataset}: {'; '.join(data.errors[:3])}")
    info = _dataset_info(data_path, format, corpus, data)
    if old is not None and old.dataset.sha256 != info.sha256:
        raise UserError(f"{out_dir} was run on another version of the dataset "
                        f"({old.dataset.path}): use another --out folder")
    graph = _resolve_option("--graph", graph, old, old.graph if old else None, DEFAULT_GRAPH)
    given, store_kind, opened_here = _given_store(store, chroma_url, embedder, old)
    examples = select_examples(data, limit if limit is not None else (old.limit if old else None))
    extra = None
    if given is not None:  # before any model loads: a store without the corpus is refused
        extra = check_store_holds_corpus(
            given, data.corpus, (i for e in examples for i in e.supporting_ids),
            ingest_hint=_ingest_hint(data_path, info, given))
    # A folder opened here was opened with the embedder asked for (or its own): use that one.
    use_its_own = given is not None and (opened_here or embedder is None)
    emb_arg = given.embedder if given is not None and use_its_own else embedder
    if llm == "oracle" or (llm is None and old is not None and old.llm == "oracle"):
        # The evaluation-only ceiling model plays the gold decompositions (evals/oracle.py).
        from agentflow.evals.oracle import OracleLLM

        llm_spec, llm_obj, emb = _choose_models(OracleLLM(data.examples), emb_arg, given, old)
        llm_spec = "oracle"
    else:
        llm_spec, llm_obj, emb = _choose_models(llm, emb_arg, given, old, llm_options or {})
    built = False
    if given is None:
        corpus_store, key, built = cached_store(data.corpus, emb, progress=progress)
    else:
        corpus_store, key = given, corpus_hash(data.corpus, emb.name)
    budget = Budget(**_resolve_option("the budget", budget.model_dump() if budget else None, old,
                                      old.budget if old else None, Budget().model_dump()))
    settings = ResearchSettings(**_resolve_option(
        "the research settings", settings.model_dump() if settings else None, old,
        old.settings if old else None, ResearchSettings().model_dump()))
    manifest = EvalManifest(
        dataset=info, graph=graph, llm=llm_spec or llm_obj.name, model=llm_obj.name,
        embedder=emb.name, embedder_spec=spec_of(emb), store=_store_name(corpus_store, store_kind),
        store_kind=store_kind, chroma_url=given.chroma_url if given is not None else None,
        store_extra=extra, corpus_hash=key,
        budget=budget.model_dump(), settings=settings.model_dump(),
        limit=limit if limit is not None else (old.limit if old else None),
        question_ids=[e.id for e in examples], versions=package_versions(),
        created=old.created if old else now_iso(), batches=list(old.batches) if old else [],
    )
    record = BatchRecord(started=now_iso())
    manifest.batches.append(record)

    agent = Agent(corpus_store, llm=llm_obj, embedder=emb, graph=graph, budget=budget,
                  settings=settings, runs_dir=out_dir / RUNS, sources=sources)
    report = BatchReport(out=str(out_dir), total=len(examples), store=manifest.store,
                         store_built=built, store_kind=store_kind, chroma_url=manifest.chroma_url,
                         store_extra=extra, skipped=list(data.skipped))
    todo = _pending(out_dir, examples, retry_errors, report)
    record.already_done, record.restarted = report.already_done, report.restarted
    write_manifest(out_dir, manifest)

    statuses: Counter[str] = Counter()
    lock = threading.Lock()

    def one(ex: QAExample) -> str:
        path = trajectory_path(out_dir, ex.id)
        run_id = new_run_id(out_dir, ex.id)
        try:
            result = agent.runner.run(ex.question, run_id=run_id, trajectory=path,
                                      metadata={"question_id": ex.id})
            return result.status
        except Exception as exc:  # noqa: BLE001 - one failing question must not stop the batch
            record_failure(path, run_id, ex, exc)
            return "error"

    with _ProgressBar(console, enabled=progress, total=len(examples), done=report.already_done,
                       label=f"{graph} x {data.name}") as advance:
        if concurrency == 1:
            for ex in todo:
                _tally(ex, one(ex), statuses, lock, advance, on_result)
        else:
            pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="eval")
            try:
                futures = {pool.submit(one, ex): ex for ex in todo}
                for fut in as_completed(futures):
                    _tally(futures[fut], fut.result(), statuses, lock, advance, on_result)
            finally:
                # On Ctrl-C, questions not started yet are dropped instead of run to the end;
                # the ones in flight are restarted by the next run.
                pool.shutdown(wait=True, cancel_futures=True)

    report.ran = len(todo)
    report.statuses = dict(statuses)
    report.errors = statuses.get("error", 0)
    report.seconds = round(time.perf_counter() - started, 3)
    record.finished = now_iso()
    record.ran, record.errors = report.ran, report.errors
    write_manifest(out_dir, manifest)
    return report


def _store_name(store: CorpusStore, kind: str) -> str:
    """How the manifest names the store: a given folder by its absolute path."""
    return str(Path(store.path).expanduser().resolve()) if kind == "given" else str(store.path)


def _same_folder(a: str | Path, b: str | Path) -> bool:
    return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def _same_url(a: str | None, b: str | None) -> bool:
    return (a or "").rstrip("/").lower() == (b or "").rstrip("/").lower()


def _given_store(
    store: CorpusStore | str | Path | None, chroma_url: str | None,
    embedder: str | Embedder | None, old: EvalManifest | None,
) -> tuple[CorpusStore | None, str, bool]:
    """The store a batch searches instead of a cached one, its kind (``given``/``cached``),
    and whether it was opened here (from a folder) rather than passed open.

    ``store`` is an open store or a folder; without one, a resume uses the folder the eval
    folder was run on. A store that contradicts the eval folder's is a usage error.
    """
    from agentflow.store.corpus import CorpusStore

    resumed = store is None and old is not None and old.store_kind == "given"
    if store is None and not resumed:
        if chroma_url:
            raise UserError("--chroma-url needs --store DIR: the folder that describes (and "
                            "records) the remote collection; without --store, `eval run` "
                            "builds a local store of its own from the dataset")
        return None, "cached", False
    folder = old.store if resumed and old is not None else (
        store.path if isinstance(store, CorpusStore) else store)
    if old is not None and not resumed and not _same_folder(folder, old.store):
        ran_on = ("the store" if old.store_kind == "given" else "its own cached store")
        raise UserError(f"this eval folder was run on {ran_on} {old.store}, not {folder}: pass "
                        f"--store {old.store} (or leave out --store) to resume it, or use "
                        "another --out folder")
    if isinstance(store, CorpusStore):
        if chroma_url and not _same_url(chroma_url, store.chroma_url):
            raise UserError(f"the store at {store.path} is not on {chroma_url}")
        opened = store
    else:
        emb = embedder if embedder is not None else (old.embedder_spec if old else None)
        try:
            opened = CorpusStore.open_existing(folder, embedder=emb, chroma_url=chroma_url)
        except UserError as exc:
            if not resumed:
                raise
            raise UserError(f"this eval folder was run on the store {folder}, which cannot be "
                            f"opened now: {exc}") from None
    if old is not None and old.store_kind == "given" and not _same_url(old.chroma_url,
                                                                        opened.chroma_url):
        was = f"the collection on {old.chroma_url}" if old.chroma_url else "its local corpus"
        now = f"one on {opened.chroma_url}" if opened.chroma_url else "a local one"
        raise UserError(f"this eval folder was run on {was} of {folder}, and the folder now "
                        f"describes {now}: use another --out folder")
    return opened, "given", not isinstance(store, CorpusStore)


def _ingest_hint(data_path: Path, info: DatasetInfo, store: CorpusStore) -> str:
    """How to put the dataset's corpus into ``store`` (for the missing-passages error)."""
    corpus_file = Path(info.corpus) if info.corpus else next(
        (data_path / n for n in ("corpus.jsonl", "corpus.json") if (data_path / n).is_file()),
        None)
    if corpus_file is None:
        return ("ingest the dataset's passages into it "
                f"(`agentflow ingest FILES --store {store.path}`)")
    return f"ingest the corpus into it: `agentflow ingest {corpus_file} --store {store.path}`"


def _choose_models(
    llm: str | LLM | None, embedder: str | Embedder | None, store: CorpusStore | None,
    old: EvalManifest | None, llm_options: dict[str, Any] | None = None,
) -> tuple[str | None, LLM, Embedder]:
    """The LLM spec, LLM and embedder of a batch: those given, else the folder's earlier ones.

    Both are compared with the folder's by the name they resolve to, not by the spelling of
    the spec ("hash" and "hash:384" are the same embedder).
    """
    from agentflow.embed import resolve_embedder
    from agentflow.llm import resolve_llm

    llm_spec = llm if isinstance(llm, str) else (old.llm if old and llm is None else None)
    llm_obj = resolve_llm(llm if llm is not None and not isinstance(llm, str) else llm_spec,
                          **(llm_options or {}))
    if old is not None and llm_obj.name != old.model:
        raise UserError(f"this eval folder was run with the model {old.model!r}, not "
                        f"{llm_obj.name!r}: pass the same --llm to resume it, or use another "
                        "--out folder")
    if isinstance(embedder, str) or embedder is None:
        emb_spec = embedder if embedder is not None else (old.embedder_spec if old else None)
        reuse = store is not None and emb_spec is None
        emb = store.embedder if reuse and store is not None else resolve_embedder(emb_spec)
    else:
        emb = embedder
    if old is not None and emb.name != old.embedder:
        raise UserError(f"this eval folder was run with the embedder {old.embedder!r}, not "
                        f"{emb.name!r}: pass --embedder {old.embedder_spec} or use another --out")
    return llm_spec, llm_obj, emb


def _pending(out: Path, examples: list[QAExample], retry_errors: bool,
             report: BatchReport) -> list[QAExample]:
    """The questions still to run. A finished trajectory is kept (unless it ended in error
    and ``retry_errors``); a partial one is set aside and its question restarted."""
    todo: list[QAExample] = []
    for ex in examples:
        path = trajectory_path(out, ex.id)
        if trajectory_finished(path) and not (retry_errors and final_status(path) == "error"):
            report.already_done += 1
            continue
        if path.exists():
            set_aside(out, path)
            report.restarted += 1
        todo.append(ex)
    return todo


def _tally(ex: QAExample, status: str, statuses: Counter[str], lock: threading.Lock,
           advance: Callable[[str], None], on_result: Callable[[str, str], None] | None) -> None:
    with lock:
        statuses[status] += 1
        advance(" ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    if on_result is not None:
        on_result(ex.id, status)


def _dataset_info(path: Path, format: str, corpus: str | Path | None, data: Dataset) -> DatasetInfo:
    corpus_path = Path(corpus).resolve() if corpus is not None else None
    return DatasetInfo(
        path=str(path), sha256=dataset_sha256(path), format=format,
        corpus=str(corpus_path) if corpus_path else None,
        corpus_sha256=sha256_path(corpus_path) if corpus_path else None,
        name=data.name, examples=len(data.examples), skipped=list(data.skipped),
    )


class _ProgressBar:
    """A rich progress bar with ETA over the batch (a no-op when disabled)."""

    def __init__(self, console: Console | None, *, enabled: bool, total: int, done: int,
                 label: str) -> None:
        self.enabled, self.total, self.done, self.label = enabled, total, done, label
        self.console = console
        self._bar: Any = None

    def __enter__(self) -> Callable[[str], None]:
        if not self.enabled:
            return lambda summary: None
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
            TextColumn("[dim]{task.fields[summary]}"),
            console=self.console or Console(stderr=True), transient=False,
        )
        self._bar.__enter__()
        task = self._bar.add_task(self.label, total=self.total, completed=self.done,
                                  summary=f"{self.done} done before" if self.done else "")

        def advance(summary: str) -> None:
            self._bar.update(task, advance=1, summary=summary)

        return advance

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
