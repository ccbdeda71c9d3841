"""Running a graph: checkpointing, trajectories, progress events, resume.

Every run has an id and a folder ``<runs>/<run_id>/`` holding ``run.json`` (what
is needed to resume it), its LangGraph checkpoints (``checkpoints.sqlite``: one
database per run, so runs never wait on each other's locks), the journal of its
completed LLM requests (``llm_calls.jsonl``, see :mod:`agentflow.agent.journal`) and,
unless another path is given, its trajectory. ``resume(run_id)`` picks up from the
last completed step and replays the interrupted step's completed LLM calls from the
journal instead of sending them again.

Checkpoints are written synchronously (LangGraph ``durability="sync"``): a step is on
disk before the next one starts. SQLite runs in WAL mode and waits up to
``$AGENTFLOW_CHECKPOINT_BUSY_S`` (default 120 s) for a lock another process holds,
so a busy database delays a run instead of failing it. ``checkpoint_db=`` puts every
run's checkpoints in one database instead (``agentflow serve --checkpointer``), and
``checkpoint_db="postgres:DSN"`` puts them in PostgreSQL (``langgraph-checkpoint-postgres``),
so several server processes share runs.

Checkpoints hold references to long texts, not the texts: a passage in the state is
written once to ``texts.sqlite`` beside them (``<name>-texts.sqlite`` beside a shared
database), see :mod:`agentflow.agent.checkpoint_texts`, so a checkpoint's size does not
grow with the passages a step holds.

A run's memory graph lives beside its checkpoints, in a LangGraph store (``memory.sqlite``,
``<name>-memory.sqlite`` beside a shared database, or PostgreSQL), as a snapshot per turn
plus a delta per step (:mod:`agentflow.agent.memory_store`); the checkpoints carry only
a reference. ``resume`` restores the run's own budget and settings from ``run.json``.

A run started with ``review_plan=True`` stops after planning (LangGraph ``interrupt()``,
:mod:`agentflow.agent.review`): its result has status ``awaiting_review`` and the
proposal in ``plan_review``; nothing of it is lost, the checkpoint holds it, and
``resume(run_id, review=...)`` (in this process or another) goes on with the reviewed plan.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentflow.agent.budget import Budget, new_usage
from agentflow.agent.checkpoint_texts import TextStoreSerde
from agentflow.agent.citations import ERROR
from agentflow.agent.context import ResearchSettings
from agentflow.agent.factory import Components
from agentflow.agent.journal import CallJournal, JournaledLLM
from agentflow.agent.live import attach
from agentflow.agent.memory_io import memory_json
from agentflow.agent.memory_store import StoreMemory, is_ref
from agentflow.agent.outcome import RunResult, package_versions, sub_question_report
from agentflow.agent.review import AWAITING_REVIEW, PlanProposal, PlanReview, check_review
from agentflow.agent.run_config import RunConfig
from agentflow.config import runs_dir
from agentflow.errors import ConfigError, DependencyMissingError, UserError
from agentflow.trajectory import TrajectoryRecorder

EventSink = Callable[[dict[str, Any]], None]

__all__ = ["RunResult", "Runner", "package_versions"]

#: When checkpoints are written: before the next step starts (not in the background).
DURABILITY = "sync"
BUSY_ENV = "AGENTFLOW_CHECKPOINT_BUSY_S"
DEFAULT_BUSY_S = 120.0
CHECKPOINT_FILE = "checkpoints.sqlite"
JOURNAL_FILE = "llm_calls.jsonl"
MEMORY_FILE = "memory.sqlite"
TEXTS_FILE = "texts.sqlite"


_checkpointers: dict[str, Any] = {}
_checkpointer_lock = threading.Lock()


def busy_timeout_s() -> float:
    """How long a checkpoint write waits for another process's lock (``$AGENTFLOW_CHECKPOINT_BUSY_S``)."""
    raw = os.environ.get(BUSY_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_BUSY_S
    except ValueError:
        raise ConfigError(f"${BUSY_ENV} must be a number of seconds, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"${BUSY_ENV} must not be negative, got {raw!r}")
    return value


def memory_path(checkpoints: Path) -> Path:
    """The memory store beside a checkpoint database (``memory.sqlite`` in a run's
    folder; ``<name>-memory.sqlite`` beside a shared database)."""
    if checkpoints.name == CHECKPOINT_FILE:
        return checkpoints.with_name(MEMORY_FILE)
    return checkpoints.with_name(checkpoints.stem + "-memory.sqlite")


def texts_path(checkpoints: Path) -> Path:
    """The long texts of the checkpoints in ``checkpoints`` (``texts.sqlite`` in a run's
    folder; ``<name>-texts.sqlite`` beside a shared database)."""
    if checkpoints.name == CHECKPOINT_FILE:
        return checkpoints.with_name(TEXTS_FILE)
    return checkpoints.with_name(checkpoints.stem + "-texts.sqlite")


def checkpoint_saver(conn: sqlite3.Connection, texts: sqlite3.Connection) -> Any:
    """A SqliteSaver over ``conn`` whose checkpoints refer to long texts kept once in
    ``texts`` (a connection to :func:`texts_path`, opened with ``autocommit``)."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    return SqliteSaver(conn, serde=TextStoreSerde(texts))


def saved_run_config(meta: dict[str, Any]) -> tuple[Budget, ResearchSettings]:
    """The budget and settings a run was started with, from its ``run.json``."""
    return Budget(**meta.get("budget", {})), ResearchSettings(**meta.get("settings", {}))


def connect_checkpoints(path: Path, *, autocommit: bool = False) -> sqlite3.Connection:
    """A connection to a checkpoint database: WAL (readers never block the writer), a
    real busy timeout, and fsync at WAL commits that survives a killed process.
    ``autocommit`` is what LangGraph's SqliteStore needs (it opens its own transactions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    busy = busy_timeout_s()
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=busy,
                           **({"isolation_level": None} if autocommit else {}))
    try:
        conn.execute(f"PRAGMA busy_timeout={int(busy * 1000)}")
        _wait_for_wal(conn, busy)
        conn.execute("PRAGMA synchronous=NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def _wait_for_wal(conn: sqlite3.Connection, busy_s: float) -> None:
    """Switch to WAL, waiting up to ``busy_s`` for another process's lock. Switching a new
    database needs its exclusive lock, and SQLite answers "database is locked" at once,
    without its busy timeout, when another process holds the write lock then (a run and
    a writer racing for a database just created): so wait here instead."""
    deadline = time.monotonic() + busy_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            if not busy or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def sqlite_checkpointer(path: Path) -> Any:
    """One SqliteSaver per shared database file per process (connections are thread-safe
    here because SqliteSaver serialises access with its own lock)."""
    key = str(path.resolve())
    with _checkpointer_lock:
        if key not in _checkpointers:
            _checkpointers[key] = checkpoint_saver(
                connect_checkpoints(path), connect_checkpoints(texts_path(path), autocommit=True))
        return _checkpointers[key]


def postgres_dsn(spec: str | Path | None) -> str | None:
    """The DSN of a ``postgres:DSN`` (or ``postgresql:DSN``) spec, else None."""
    text = str(spec) if isinstance(spec, str) else ""
    for prefix in ("postgres:", "postgresql:"):
        if text.startswith(prefix) and not text.startswith(prefix + "//"):
            return text[len(prefix):]
    return text if text.startswith(("postgres://", "postgresql://")) else None


def postgres_persistence(dsn: str) -> tuple[Any, Any]:
    """One PostgresSaver (run checkpoints) and one PostgresStore (memory graphs) per DSN
    per process, over one connection pool, so several server processes share runs."""
    key = "postgres:" + dsn
    with _checkpointer_lock:
        if key not in _checkpointers:
            try:
                from langgraph.checkpoint.postgres import PostgresSaver
                from langgraph.store.postgres import PostgresStore
                from psycopg.rows import dict_row
                from psycopg_pool import ConnectionPool
            except ImportError as exc:
                raise DependencyMissingError(
                    "run checkpoints in PostgreSQL need langgraph-checkpoint-postgres: "
                    "pip install 'agentflow[server]'") from exc
            pool = ConnectionPool(dsn, min_size=1, max_size=8, open=True,
                                  kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row})
            saver, store = PostgresSaver(pool), PostgresStore(pool)
            saver.setup()
            store.setup()
            _checkpointers[key] = (saver, store)
        return _checkpointers[key]


def sqlite_memory_store(path: Path) -> Any:
    """One SqliteStore (the runs' memory graphs) per shared database file per process."""
    from langgraph.store.sqlite import SqliteStore

    key = "memory:" + str(path.resolve())
    with _checkpointer_lock:
        if key not in _checkpointers:
            store = SqliteStore(connect_checkpoints(path, autocommit=True))
            store.setup()
            _checkpointers[key] = store
        return _checkpointers[key]


class Runner:
    """Runs graphs over a set of :class:`Components`, with checkpoints and trajectories."""

    def __init__(
        self,
        components: Components,
        *,
        graph: str | Callable[[], Any] = "deep_research",
        budget: Budget | None = None,
        settings: ResearchSettings | None = None,
        checkpoint_db: str | Path | None = None,
        runs: str | Path | None = None,
    ) -> None:
        from agentflow.graphs.registry import graph_builder

        self.components = components
        # A graph name (``deep_research``, ``rag``, ``react``) or a builder of one's own:
        # a function returning an uncompiled StateGraph over agentflow's nodes.
        builder = graph_builder(graph) if isinstance(graph, str) else graph
        self.graph_name = graph if isinstance(graph, str) else getattr(graph, "__module__", "custom").rsplit(".", 1)[-1]
        self.budget = budget or Budget()
        self.settings = settings or ResearchSettings()
        self.runs = Path(runs) if runs else runs_dir()
        #: PostgreSQL holding every run's checkpoints and memory (``postgres:DSN``), or None.
        self.checkpoint_dsn = postgres_dsn(checkpoint_db)
        #: One SQLite database for every run, or None: each run has its own in its folder.
        self.checkpoint_db = Path(checkpoint_db) if checkpoint_db and not self.checkpoint_dsn else None
        self._builder = builder()
        self._shared = None
        if self.checkpoint_dsn:
            saver, store = postgres_persistence(self.checkpoint_dsn)
            self._shared = self._builder.compile(checkpointer=saver, store=store)
        elif self.checkpoint_db:
            self._shared = self._builder.compile(checkpointer=sqlite_checkpointer(self.checkpoint_db),
                                                 store=sqlite_memory_store(memory_path(self.checkpoint_db)))

    def has_checkpoint(self, run_id: str) -> bool:
        """Whether run ``run_id`` has a checkpoint database (or rows in PostgreSQL)."""
        if self.checkpoint_dsn:
            return self._shared.checkpointer.get_tuple({"configurable": {"thread_id": run_id}}) is not None
        return self.checkpoint_path(run_id).exists()

    def checkpoint_path(self, run_id: str) -> Path:
        """The checkpoint database of run ``run_id``."""
        if self.checkpoint_db is not None:
            return self.checkpoint_db
        own = self.runs / run_id / CHECKPOINT_FILE
        legacy = self.runs / CHECKPOINT_FILE  # runs made before per-run databases
        return legacy if not own.exists() and legacy.exists() else own

    @contextmanager
    def _graph(self, run_id: str) -> Iterator[Any]:
        """The compiled graph checkpointing into run ``run_id``'s database, with the
        run's memory store (``memory.sqlite`` beside the checkpoints)."""
        if self._shared is not None:
            yield self._shared
            return
        from langgraph.store.sqlite import SqliteStore

        path = self.checkpoint_path(run_id)
        conn = connect_checkpoints(path)
        memory_conn = connect_checkpoints(memory_path(path), autocommit=True)
        texts_conn = connect_checkpoints(texts_path(path), autocommit=True)
        try:
            store = SqliteStore(memory_conn)
            store.setup()
            yield self._builder.compile(checkpointer=checkpoint_saver(conn, texts_conn), store=store)
        finally:
            conn.close()
            memory_conn.close()
            texts_conn.close()

    # -- public ----------------------------------------------------------------

    def run(self, question: str, *, run_id: str | None = None, trajectory: str | Path | None = None,
            on_event: EventSink | None = None, memory: dict[str, Any] | None = None,
            metadata: dict[str, Any] | None = None, review_plan: bool = False) -> RunResult:
        """Run ``question`` to the end; failures give a result with status ``error``.

        With ``review_plan`` the run stops after planning for a person's review: status
        ``awaiting_review``, the proposal in ``plan_review``; go on with :meth:`resume`.

        ``memory`` seeds the run's memory graph (``MemoryGraph.to_json()``, e.g. from an
        earlier turn of a thread), so evidence found before is reused, not searched again.
        ``metadata`` is recorded in ``run.json`` and the trajectory (e.g. a thread id).
        """
        if not question or not question.strip():
            raise UserError("the question is empty")
        if review_plan and "review_plan" not in self._builder.nodes:
            raise UserError(f"the {self.graph_name} graph has no plan to review: review_plan needs the "
                            "deep_research graph")
        run_id = run_id or time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        folder = self.runs / run_id
        if (folder / "run.json").exists():
            raise UserError(f"run {run_id} exists already: resume it with `agentflow ask --resume {run_id}`")
        traj = Path(trajectory) if trajectory else folder / "trajectory.jsonl"
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"run_id": run_id, "question": question, "graph": self.graph_name, "trajectory": str(traj),
                "budget": self.budget.model_dump(), "settings": self.settings.model_dump(),
                "config": self.components.describe(), "metadata": metadata or {},
                "review_plan": review_plan}
        (folder / "run.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        recorder = TrajectoryRecorder(traj, run_id)
        recorder.record("run_start", question=question, graph=self.graph_name,
                        config={**meta["config"], "budget": meta["budget"], "settings": meta["settings"]},
                        model=self.components.llm.name, versions=package_versions(),
                        metadata=metadata or {}, seeded_memory=bool(memory), review_plan=review_plan)
        initial: dict[str, Any] = {"run_id": run_id, "question": question}
        return self._drive(initial, run_id, question, recorder, on_event, self.budget, self.settings,
                           seed=memory, review_plan=review_plan)

    def resume(self, run_id: str, *, on_event: EventSink | None = None,
               review: PlanReview | dict[str, Any] | str | None = None) -> RunResult:
        """Continue a run from its last checkpoint (after a crash or kill), with the budget
        and settings it was started with (saved in its ``run.json``), not this runner's.

        A run waiting for a review of its plan needs ``review`` (a :class:`PlanReview`,
        its JSON, or ``"approve"``), checked before the run goes on: an unusable one is a
        :class:`~agentflow.agent.review.PlanEditError` and the run keeps waiting. Without
        ``review`` such a run is not resumed: its waiting result is returned again."""
        meta = self.load_meta(self.runs, run_id)
        budget, settings = saved_run_config(meta)
        review_plan = bool(meta.get("review_plan"))
        config = {"configurable": {"thread_id": run_id}}
        if not self.has_checkpoint(run_id):
            raise UserError(f"run {run_id} has no checkpoint to resume from: ask the question again")
        with self._graph(run_id) as graph:
            snapshot = graph.get_state(config)
        if not snapshot.values:
            raise UserError(f"run {run_id} has no checkpoint to resume from: ask the question again")
        proposal = _proposal_of(snapshot)
        if proposal is None and review is not None:
            raise UserError(f"run {run_id} is not waiting for a review of its plan")
        if proposal is not None and review is None:
            return self._waiting(run_id, meta, snapshot.values, proposal)
        command = None
        if proposal is not None:
            checked, _ = check_review(proposal, review)  # refused here: nothing is resumed
            command = checked.model_dump(mode="json", exclude_none=True)
        recorder = TrajectoryRecorder(meta["trajectory"], run_id)
        recorder.record("run_resumed", next=list(snapshot.next), review=command)
        return self._drive(None, run_id, meta["question"], recorder, on_event, budget, settings,
                           review_plan=review_plan, resume_with=command)

    def pending_review(self, run_id: str) -> PlanProposal | None:
        """The plan run ``run_id`` waits to have reviewed, or None when it waits for none."""
        if not self.has_checkpoint(run_id):
            return None
        with self._graph(run_id) as graph:
            return _proposal_of(graph.get_state({"configurable": {"thread_id": run_id}}))

    def _waiting(self, run_id: str, meta: dict[str, Any], state: dict[str, Any],
                 proposal: PlanProposal) -> RunResult:
        return RunResult(run_id=run_id, question=meta["question"], status=AWAITING_REVIEW,
                         sub_questions=sub_question_report(state), usage=state.get("usage") or new_usage(),
                         trajectory=meta.get("trajectory"), plan_review=proposal.model_dump(mode="json"))

    @staticmethod
    def load_meta(runs: Path, run_id: str) -> dict[str, Any]:
        """The saved ``run.json`` of a run."""
        path = runs / run_id / "run.json"
        if not path.is_file():
            raise UserError(f"no run {run_id!r} under {runs}: check the id (see the folder names there)")
        return json.loads(path.read_text(encoding="utf-8"))

    # -- internals -------------------------------------------------------------

    def _drive(self, initial: dict[str, Any] | None, run_id: str, question: str,
               recorder: TrajectoryRecorder, on_event: EventSink | None, budget: Budget,
               settings: ResearchSettings, *, seed: dict[str, Any] | None = None,
               review_plan: bool = False, resume_with: dict[str, Any] | None = None) -> RunResult:
        with self._graph(run_id) as graph:
            if initial is not None and seed:
                # The seed is written to the memory store as the run's snapshot; the
                # input (and so the first checkpoint) carries only a reference to it.
                initial["memory"] = StoreMemory(graph.store).start(run_id, run_id, seed, 0)
            return self._drive_graph(graph, initial, run_id, question, recorder, on_event, budget, settings,
                                     review_plan=review_plan, resume_with=resume_with)

    def _drive_graph(self, graph: Any, initial: dict[str, Any] | None, run_id: str, question: str,
                     recorder: TrajectoryRecorder, on_event: EventSink | None, budget: Budget,
                     settings: ResearchSettings, *, review_plan: bool = False,
                     resume_with: dict[str, Any] | None = None) -> RunResult:
        from langgraph.types import Command

        sink = on_event or (lambda event: None)
        # Progress reaches the sink through LangGraph's custom stream, read below: a sink
        # that raises (a cancelled run) stops the iteration, which stops the run.
        ctx = self.components.context(budget=budget, settings=settings, recorder=recorder)
        ctx.llm = JournaledLLM(ctx.llm, CallJournal(self.runs / run_id / JOURNAL_FILE))
        ctx.memory_store = StoreMemory(graph.store)
        context = attach(RunConfig(budget=budget, settings=settings, review_plan=review_plan), ctx)
        config = {"configurable": {"thread_id": run_id}, "recursion_limit": 200}
        error: BaseException | None = None
        state: dict[str, Any] = {}
        proposal: PlanProposal | None = None
        run_input: Any = initial if resume_with is None else Command(resume=resume_with)
        try:
            previous = graph.get_state(config).values or {}
            spent = float((previous.get("usage") or {}).get("seconds", 0.0))
            ctx.deadline = time.monotonic() + max(0.0, budget.max_seconds - spent)
            for mode, chunk in graph.stream(run_input, config, context=context, durability=DURABILITY,
                                            stream_mode=["custom", "values"]):
                if mode == "custom":
                    sink({"run_id": run_id, **chunk})
                elif "__interrupt__" not in (chunk or {}):
                    state = dict(chunk or {})
        except Exception as exc:  # noqa: BLE001 - every run ends with a status; the error is kept
            error = exc
        try:
            snapshot = graph.get_state(config)
            state = dict(snapshot.values or {}) or state
            proposal = _proposal_of(snapshot) if error is None else None
        except Exception as exc:  # noqa: BLE001 - a locked database must not lose the answer
            recorder.record("note", node="runner", kind="checkpoint",
                            message=f"could not read the final checkpoint ({type(exc).__name__}): "
                                    "reporting the state the run returned")
        try:
            memory = memory_json(state, ctx)
            if error is None and state.get("status") and is_ref(state.get("memory")):
                # A finished run's graph goes to the caller (and a thread's store) with the
                # result; only an unfinished run needs it kept here, for resume.
                ctx.memory_store.forget(state["memory"])
        except Exception as exc:  # noqa: BLE001 - the answer matters more than the memory
            memory = None
            recorder.record("note", node="runner", kind="memory",
                            message=f"could not read the run's memory graph ({type(exc).__name__})")
        result = RunResult(
            run_id=run_id, question=question, answer=state.get("answer", ""),
            status=state.get("status") or ERROR, citations=state.get("citations") or [],
            sub_questions=sub_question_report(state), evidence=state.get("evidence") or [],
            usage=state.get("usage") or new_usage(), trajectory=str(recorder.path) if recorder.path else None,
            removed_citations=state.get("removed_citations") or [], memory=memory,
        )
        if proposal is not None:
            # Paused, not ended: no ``final`` yet; the checkpoint holds the run for resume.
            result.status, result.plan_review = AWAITING_REVIEW, proposal.model_dump(mode="json")
            recorder.record("run_paused", waiting_for="plan_review", usage=result.usage)
            recorder.close()
            sink({"run_id": run_id, "type": "plan_review", **result.plan_review})
            sink({"run_id": run_id, "type": "final", **result.to_json()})
            return result
        if error is not None:
            result.status, result.error = ERROR, f"{type(error).__name__}: {error}"
            recorder.record("error", message=str(error), error_type=type(error).__name__)
        recorder.record("final", answer=result.answer, status=result.status, citations=result.citations,
                        sub_questions=result.sub_questions, evidence=result.evidence,
                        retrieved_ids=state.get("retrieved") or [], usage=result.usage,
                        removed_citations=result.removed_citations, error=result.error)
        recorder.close()
        sink({"run_id": run_id, "type": "final", **result.to_json()})
        return result


def _proposal_of(snapshot: Any) -> PlanProposal | None:
    """The plan proposal a checkpointed run is interrupted on, or None."""
    for item in getattr(snapshot, "interrupts", ()) or ():
        value = getattr(item, "value", None)
        if isinstance(value, dict) and value.get("kind") == "plan_review":
            return PlanProposal.model_validate(value)
    return None
