"""The Python API: :class:`Agent`, and :class:`AsyncAgent` for asyncio applications.

    from agentflow import Agent
    agent = Agent(store="./store", llm="local")
    result = agent.ask("Who founded the company that published X?")
    print(result.answer, result.status, [c["id"] for c in result.citations])

    # threads: a follow-up starts from the memory graph of the earlier turns
    agent.ask("Where was its founder born?", thread_id="chat-42")

    from agentflow import AsyncAgent
    agent = AsyncAgent(store="./store", llm="local")
    result = await agent.ask("...", thread_id="chat-42")
    async for event in agent.astream("...", thread_id="chat-42"):   # progress, then {"type": "final"}
        print(event)

    # a plan a person reviews: the run stops after planning, then goes on
    result = agent.ask("...", review_plan=True)            # status "awaiting_review"
    print(result.plan_review["sub_questions"])
    result = agent.resume(result.run_id, review={"action": "edit", "edits": [
        {"op": "reword", "step": 1, "question": "Who founded X?"}]})
    # or answer in-process: agent.ask("...", review_plan=True, reviewer=lambda proposal: "approve")
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentflow.agent.budget import Budget, new_usage
from agentflow.agent.citations import ERROR
from agentflow.agent.context import ResearchSettings
from agentflow.agent.factory import Components
from agentflow.agent.followup import EarlierTurn, FollowUp, standalone_question
from agentflow.agent.review import AWAITING_REVIEW, PlanEditError, PlanProposal, check_review
from agentflow.agent.runner import EventSink, Runner, RunResult
from agentflow.errors import RunCancelledError, UserError
from agentflow.threads import CANCELLED, Thread, ThreadStore, open_thread_store
from agentflow.trajectory import TrajectoryRecorder

if TYPE_CHECKING:
    from agentflow.embed.base import Embedder
    from agentflow.llm.base import LLM
    from agentflow.store.corpus import CorpusStore
    from agentflow.tools.base import SearchTool

__all__ = ["Agent", "AsyncAgent", "PlanReviewer", "RunCancelledError", "RunHandle", "RunResult"]

#: Answers a plan proposal in-process (``Agent.ask(..., reviewer=...)``): returns a
#: :class:`~agentflow.agent.review.PlanReview`, its JSON, or ``"approve"``; it is asked
#: again, with the reason in ``proposal.error``, when its answer is refused.
PlanReviewer = Callable[[PlanProposal], Any]
#: Answers refused in a row before a reviewer is given up on (a reviewer that never learns).
MAX_REFUSED_REVIEWS = 10


class _CancelSignal(BaseException):
    """Raised from the progress sink to stop a cancelled run at its next event.

    The runner reads progress from LangGraph's custom stream and calls the sink between
    events, so raising here stops the iteration, which stops the run (after the node in
    flight). A BaseException on purpose: the runner turns every ``Exception`` into a
    result with status ``error``, and this one must get through. It never leaves
    :meth:`Agent.ask`, which turns it into :class:`RunCancelledError`.
    """


def new_run_id() -> str:
    """A run id in the runner's format: a timestamp plus random hex."""
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:8]


class Agent:
    """A research agent over a local corpus store.

    ``llm`` is a model string (``local``, ``local:/path.gguf``,
    ``openai:gpt-4o-mini``, ``openai:MODEL@http://host:port/v1``) or an
    :class:`~agentflow.llm.base.LLM`; ``graph`` is ``deep_research`` (default),
    ``rag`` or ``react``. ``threads`` is where conversation threads live: a
    :class:`~agentflow.threads.ThreadStore`, ``sqlite:PATH``, ``postgres:DSN`` or None
    (SQLite under ``$AGENTFLOW_HOME``, opened on first use). Models and the store load
    once and are reused by every call. ``sources`` chooses what runs search:
    ``["corpus"]`` (default), web sources such as ``"searxng:http://127.0.0.1:8888"`` or
    ``"json:brave.json"`` (:mod:`agentflow.tools.web`), or both. ``llm_options`` go to the
    backend a model string names (``{"timeout_s": 30, "max_attempts": 2}`` for a server).
    """

    def __init__(
        self,
        store: str | os.PathLike[str] | CorpusStore | None = None,
        *,
        llm: str | LLM | None = None,
        embedder: str | Embedder | None = None,
        graph: str | Callable[[], Any] = "deep_research",
        budget: Budget | None = None,
        settings: ResearchSettings | None = None,
        tools: list[SearchTool] | None = None,
        chroma_url: str | None = None,
        mode: str = "hybrid",
        use_corpus_graph: bool = True,
        runs_dir: str | Path | None = None,
        checkpoint_db: str | Path | None = None,
        threads: str | ThreadStore | None = None,
        rewrite_follow_ups: bool = True,
        sources: list[str] | None = None,
        llm_options: dict[str, Any] | None = None,
    ) -> None:
        self.rewrite_follow_ups = rewrite_follow_ups
        self.components = Components(llm=llm, store=store, embedder=embedder, chroma_url=chroma_url,
                                     tools=tools, mode=mode, use_corpus_graph=use_corpus_graph,
                                     sources=sources, llm_options=llm_options)
        self.runner = Runner(self.components, graph=graph, budget=budget, settings=settings,
                             checkpoint_db=checkpoint_db, runs=runs_dir)
        # Open the store (and load its embedder) now: a missing store is a clear error
        # at construction, not halfway through the first run.
        self.components.tools  # noqa: B018
        self._threads_spec = threads
        self._threads: ThreadStore | None = threads if isinstance(threads, ThreadStore) else None
        self._threads_lock = threading.Lock()
        self._async: AsyncAgent | None = None

    @property
    def llm(self) -> LLM:
        """The LLM backend this agent uses."""
        return self.components.llm

    @property
    def threads(self) -> ThreadStore:
        """The thread store (opened on first use)."""
        with self._threads_lock:
            if self._threads is None:
                spec = self._threads_spec if isinstance(self._threads_spec, str) else None
                self._threads = open_thread_store(spec)
            return self._threads

    def ask(
        self,
        question: str,
        *,
        thread_id: str | None = None,
        owner: str = "",
        run_id: str | None = None,
        trajectory: str | Path | None = None,
        on_event: EventSink | None = None,
        cancel: threading.Event | None = None,
        history: list[EarlierTurn] | None = None,
        review_plan: bool = False,
        reviewer: PlanReviewer | None = None,
    ) -> RunResult:
        """Research ``question`` and return the answer with citations, or a refusal.

        With ``review_plan`` the run stops after planning for a person's review of the
        plan: the result has status ``awaiting_review`` and the proposal in
        ``plan_review``; :meth:`resume` with ``review=...`` goes on (in this process or
        another). With ``reviewer`` too, the reviewer answers in-process and the run
        goes on to the end (a refused answer is shown to the reviewer, who is asked again).

        With ``thread_id`` the question is a turn of that conversation (created on first
        use): the run starts from the memory the thread's last turn ended with, and the
        turn is recorded (``on_event`` first gets ``{"type": "turn", "turn": N}``, with
        ``question`` when a follow-up is researched as a rewritten question).
        A follow-up that leans on earlier turns ("Where was she born?") is researched as
        a self-contained question (see :mod:`agentflow.agent.followup`), using the
        thread's turns, else ``history`` (earlier questions and answers the caller kept);
        the rewrite is recorded in the trajectory's ``run_start.metadata.follow_up``.
        ``owner`` scopes threads (the server passes the API key's hash). Setting
        ``cancel`` stops the run at its next step and raises :class:`RunCancelledError`.
        """
        if not question or not question.strip():
            raise UserError("the question is empty")
        if thread_id is None and cancel is None and not history:
            result = self.runner.run(question, run_id=run_id, trajectory=trajectory, on_event=on_event,
                                     review_plan=review_plan)
            return self._reviewed(result, reviewer, on_event=on_event, owner=owner)
        run_id = run_id or new_run_id()
        sink = _cancellable_sink(on_event, cancel, thread_id)
        index, memory = (None, None)
        earlier = list(history or [])
        if thread_id is not None:
            earlier = self._earlier_turns(thread_id, owner) or earlier
            index, memory = self.threads.start_turn(thread_id, question=question, run_id=run_id, owner=owner)
        metadata: dict[str, Any] | None = (
            {"thread_id": thread_id, "turn": index} if thread_id is not None else None
        )
        try:
            follow_up = self._follow_up(question, earlier)
            if follow_up.source != "unchanged" or earlier:
                metadata = {**(metadata or {}), "follow_up": follow_up.model_dump(exclude_none=True)}
            if index is not None and on_event is not None:
                turn = {"type": "turn", "run_id": run_id, "thread_id": thread_id, "turn": index}
                if follow_up.question != question:  # what is researched, when it differs
                    turn["question"] = follow_up.question
                on_event(turn)
            result = self.runner.run(follow_up.question, run_id=run_id, trajectory=trajectory, on_event=sink,
                                     memory=memory, metadata=metadata, review_plan=review_plan)
        except _CancelSignal:
            self._close_cancelled(run_id)
            if thread_id is not None and index is not None:
                self.threads.finish_turn(thread_id, index, status=CANCELLED, error="cancelled by the caller", owner=owner)
            raise RunCancelledError(run_id) from None
        except BaseException as exc:
            if thread_id is not None and index is not None:
                self.threads.finish_turn(thread_id, index, status=ERROR, error=f"{type(exc).__name__}: {exc}", owner=owner)
            raise
        if thread_id is not None and index is not None:
            self._record_turn(thread_id, index, result, owner)
        return self._reviewed(result, reviewer, on_event=on_event, owner=owner, cancel=cancel)

    def _record_turn(self, thread_id: str, index: int, result: RunResult, owner: str) -> None:
        summary = result.to_json()
        # A run waiting for its review has no memory to hand on yet.
        memory = None if result.status == AWAITING_REVIEW else result.memory
        self.threads.finish_turn(thread_id, index, status=result.status, answer=result.answer,
                                 citations=result.citations, usage=summary["usage"], error=result.error,
                                 memory=memory, owner=owner)

    def _reviewed(self, result: RunResult, reviewer: PlanReviewer | None, *, on_event: EventSink | None,
                  owner: str, cancel: threading.Event | None = None) -> RunResult:
        """``result``, or, while it waits for a review and a reviewer is given, the run
        resumed with the reviewer's answer."""
        while reviewer is not None and result.status == AWAITING_REVIEW and result.plan_review:
            proposal = PlanProposal.model_validate(result.plan_review)
            for _ in range(MAX_REFUSED_REVIEWS):
                answer = reviewer(proposal)
                try:
                    check_review(proposal, answer)
                    break
                except PlanEditError as exc:
                    proposal = proposal.model_copy(update={"error": str(exc)})
            else:
                raise PlanEditError(f"the reviewer's last {MAX_REFUSED_REVIEWS} answers were refused "
                                    f"({proposal.error}); run {result.run_id} still waits: resume it "
                                    "with a review")
            result = self.resume(result.run_id, review=answer, on_event=on_event, owner=owner, cancel=cancel)
        return result

    def pending_review(self, run_id: str) -> PlanProposal | None:
        """The plan run ``run_id`` waits to have reviewed, or None."""
        return self.runner.pending_review(run_id)

    def _earlier_turns(self, thread_id: str, owner: str) -> list[EarlierTurn]:
        found = self.threads.get(thread_id, owner=owner)
        if found is None:
            return []
        # Finished turns only, like the memory the run starts from: an interrupted turn
        # has neither an answer nor memory to refer back to.
        return [EarlierTurn(question=t.question, answer=t.answer)
                for t in found.turns if t.question and t.answer]

    def _follow_up(self, question: str, earlier: list[EarlierTurn]) -> FollowUp:
        llm = self.llm if self.rewrite_follow_ups else None
        return standalone_question(question, earlier, llm=llm)

    def thread(self, thread_id: str, *, owner: str = "") -> Thread | None:
        """A thread's turns (question, answer, citations, run id, status), or None.
        A turn still ``running`` after the run time budget reads as ``interrupted``."""
        return self.threads.get(thread_id, owner=owner, stale_after_s=self.runner.budget.max_seconds + 60)

    def resume(self, run_id: str, *, on_event: EventSink | None = None, review: Any = None,
               owner: str = "", cancel: threading.Event | None = None) -> RunResult:
        """Finish an interrupted run from its last completed step. A run waiting for a
        review of its plan goes on with ``review`` (a :class:`~agentflow.agent.review.PlanReview`,
        its JSON or ``"approve"``; an unusable one raises
        :class:`~agentflow.agent.review.PlanEditError` and the run keeps waiting). A run
        that is a thread's turn updates that turn when it ends (``owner`` must own it)."""
        meta = Runner.load_meta(self.runner.runs, run_id)
        thread_id = (meta.get("metadata") or {}).get("thread_id")
        index = (meta.get("metadata") or {}).get("turn")
        if thread_id is not None:
            belongs = self.threads.thread_of_run(run_id)
            if belongs is None or belongs[1] != owner:
                raise UserError(f"no run {run_id!r} for this owner")
        sink = _cancellable_sink(on_event, cancel, thread_id)
        try:
            result = self.runner.resume(run_id, on_event=sink, review=review)
        except _CancelSignal:
            self._close_cancelled(run_id)
            if thread_id is not None and index is not None:
                self.threads.finish_turn(thread_id, index, status=CANCELLED, error="cancelled by the caller",
                                         owner=owner)
            raise RunCancelledError(run_id) from None
        if thread_id is not None and index is not None:
            self._record_turn(thread_id, index, result, owner)
        return result

    async def aask(self, question: str, **kwargs: Any) -> RunResult:
        """Async :meth:`ask` (the run happens in a worker thread; see :class:`AsyncAgent`)."""
        return await self._async_agent().ask(question, **kwargs)

    async def astream(self, question: str, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        """Progress events of a run as they happen, ending with ``{"type": "final", ...}``;
        leaving the loop early cancels the run."""
        async for event in self._async_agent().astream(question, **kwargs):
            yield event

    def _async_agent(self) -> AsyncAgent:
        with self._threads_lock:
            if self._async is None:
                self._async = AsyncAgent(self)
            return self._async

    def _close_cancelled(self, run_id: str) -> None:
        """End a cancelled run's trajectory with an error and a final event, so readers of
        trajectories see how it ended (its checkpoint stays: it can still be resumed)."""
        try:
            path = Runner.load_meta(self.runner.runs, run_id)["trajectory"]
        except UserError:
            return
        recorder = TrajectoryRecorder(path, run_id)
        message = "cancelled by the caller (e.g. the client disconnected)"
        recorder.record("error", message=message, error_type="RunCancelled")
        recorder.record("final", answer="", status=ERROR, citations=[], sub_questions=[], evidence=[],
                        retrieved_ids=[], usage=new_usage(), removed_citations=[],
                        error=f"RunCancelled: {message}")
        recorder.close()


def _cancellable_sink(on_event: EventSink | None, cancel: threading.Event | None,
                      thread_id: str | None) -> EventSink:
    def sink(event: dict[str, Any]) -> None:
        final = event.get("type") == "final"
        if cancel is not None and cancel.is_set() and not final:
            raise _CancelSignal()
        if final and thread_id is not None:
            event = {**event, "thread_id": thread_id}
        if on_event is not None:
            on_event(event)

    return sink


_END = object()
_HEARTBEAT = {"type": "heartbeat"}


class _EventChannel:
    """Events from a worker thread to the event loop, delivered in batches: the worker
    wakes the loop once per batch rather than once per event, which keeps a loop that
    serves many runs cheap (and quick to get the GIL back)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._items: list[Any] = []
        self._pending = False
        self._ready = asyncio.Event()

    def put(self, item: Any) -> bool:
        """Add an event (from any thread); False if the loop is gone."""
        with self._lock:
            self._items.append(item)
            wake, self._pending = not self._pending, True
        if wake:
            try:
                self._loop.call_soon_threadsafe(self._ready.set)
            except RuntimeError:
                return False
        return True

    async def take(self, timeout_s: float | None) -> list[Any]:
        """Everything put since the last call (waits for at least one; ``[_HEARTBEAT]``
        after ``timeout_s`` without any)."""
        try:
            async with asyncio.timeout(timeout_s):  # no extra task per wait, unlike wait_for
                await self._ready.wait()
        except TimeoutError:
            return [_HEARTBEAT]
        with self._lock:
            items, self._items, self._pending = self._items, [], False
        self._ready.clear()
        return items


class RunHandle:
    """A run started by :meth:`AsyncAgent.start`: its progress events as they come, its
    result, and a way to cancel it. Events can be iterated once."""

    def __init__(self, run_id: str, thread_id: str | None, future: Future[RunResult],
                 channel: _EventChannel | None, cancel: threading.Event, stamps: dict[str, float]) -> None:
        self.run_id = run_id
        self.thread_id = thread_id
        self._future = future
        self._channel = channel
        self._cancel = cancel
        self._stamps = stamps  # perf_counter() when submitted, started by a worker, finished
        self._peeked: list[Any] | None = None
        self._ended = False

    @property
    def timing(self) -> dict[str, float]:
        """Seconds spent waiting for a worker (``queued_s``) and in the worker (``run_s``:
        the thread's bookkeeping and the graph)."""
        s = self._stamps
        out: dict[str, float] = {}
        if "started" in s:
            out["queued_s"] = round(s["started"] - s["submitted"], 4)
            if "finished" in s:
                out["run_s"] = round(s["finished"] - s["started"], 4)
        return out

    @property
    def done(self) -> bool:
        """True once the worker has finished (answered, failed or stopped after a cancel)."""
        return self._future.done()

    def cancel(self) -> None:
        """Ask the run to stop at its next step (it raises :class:`RunCancelledError`)."""
        self._cancel.set()

    def add_done_callback(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` (in the worker thread, or now if done) once the worker is free
        again, which is later than a cancel: the run stops at its next step."""
        self._future.add_done_callback(lambda _: fn())

    async def result(self) -> RunResult:
        """The run's result (raises what the run raised). Cancelling the awaiting task
        cancels the run."""
        wrapped = asyncio.wrap_future(self._future)
        try:
            return await asyncio.shield(wrapped)
        except asyncio.CancelledError:
            self.cancel()
            # Nobody will read the outcome now; keep asyncio from logging it as lost.
            wrapped.add_done_callback(lambda f: None if f.cancelled() else f.exception())
            raise

    async def started(self) -> None:
        """Wait for the run's first event (for a thread's turn: the turn is recorded);
        raise what the run raised if it ended before (e.g. a thread another key owns)."""
        if self._peeked is None:
            self._peeked = await self._take(None)
        if self._peeked and self._peeked[0] is _END:
            await self.result()

    async def batches(self, *, heartbeat_s: float | None = None) -> AsyncIterator[list[dict[str, Any]]]:
        """Progress events in the batches they arrived in; ``[{"type": "heartbeat"}]``
        whenever nothing came for ``heartbeat_s``. Closing the iterator early cancels
        the run."""
        try:
            while not self._ended:
                if self._peeked is not None:
                    batch, self._peeked = self._peeked, None
                else:
                    batch = await self._take(heartbeat_s)
                if _END in batch:
                    self._ended = True
                    batch = batch[:batch.index(_END)]
                if batch:
                    yield batch
        finally:
            if not self._future.done():
                self.cancel()

    async def events(self, *, heartbeat_s: float | None = None) -> AsyncIterator[dict[str, Any]]:
        """Progress events until the run ends (the last one is ``{"type": "final"}`` unless
        the run failed); see :meth:`batches`."""
        async for batch in self.batches(heartbeat_s=heartbeat_s):
            for event in batch:
                yield event

    async def _take(self, timeout_s: float | None) -> list[Any]:
        if self._channel is None:
            raise UserError("this run was started with events=False: await result() instead")
        return await self._channel.take(timeout_s)


class AsyncAgent:
    """An :class:`Agent` for asyncio applications: ``await agent.ask(...)`` and
    ``async for event in agent.astream(...)``.

    Runs are synchronous graphs; each runs in a worker thread of this agent's own
    pool (``max_concurrent_runs`` workers; more runs wait for a free worker), so the
    event loop never blocks. Pass an :class:`Agent` or the same options as ``Agent``.
    """

    def __init__(self, agent: Agent | None = None, *, max_concurrent_runs: int = 8, **agent_options: Any) -> None:
        if agent is not None and agent_options:
            raise UserError("pass either an Agent or Agent options to AsyncAgent, not both")
        self.agent = agent if agent is not None else Agent(**agent_options)
        self.max_concurrent_runs = max_concurrent_runs
        self._pool = ThreadPoolExecutor(max_workers=max_concurrent_runs, thread_name_prefix="agentflow-run")

    def start(
        self,
        question: str,
        *,
        thread_id: str | None = None,
        owner: str = "",
        run_id: str | None = None,
        trajectory: str | Path | None = None,
        events: bool = True,
        history: list[EarlierTurn] | None = None,
        review_plan: bool = False,
    ) -> RunHandle:
        """Start a run in a worker thread and return its handle (call from the event loop).
        With ``review_plan`` it stops after planning (status ``awaiting_review``)."""
        if not question or not question.strip():
            raise UserError("the question is empty")
        run_id = run_id or new_run_id()
        return self._start(run_id, thread_id, events, lambda on_event, cancel: self.agent.ask(
            question, thread_id=thread_id, owner=owner, run_id=run_id, trajectory=trajectory,
            on_event=on_event, cancel=cancel, history=history, review_plan=review_plan))

    def start_resume(self, run_id: str, *, review: Any = None, owner: str = "", thread_id: str | None = None,
                     events: bool = True) -> RunHandle:
        """Resume a run in a worker thread (a run waiting for its plan's review goes on
        with ``review``, see :meth:`Agent.resume`) and return its handle."""
        return self._start(run_id, thread_id, events, lambda on_event, cancel: self.agent.resume(
            run_id, on_event=on_event, review=review, owner=owner, cancel=cancel))

    def _start(self, run_id: str, thread_id: str | None, events: bool,
               work_fn: Callable[[EventSink | None, threading.Event], RunResult]) -> RunHandle:
        cancel = threading.Event()
        channel = _EventChannel(asyncio.get_running_loop()) if events else None

        def to_loop(item: Any) -> None:
            if channel is not None and not channel.put(item):
                cancel.set()  # the loop is gone: nobody will read, so stop the run

        stamps = {"submitted": time.perf_counter()}

        def work() -> RunResult:
            stamps["started"] = time.perf_counter()
            try:
                return work_fn(to_loop if events else None, cancel)
            finally:
                stamps["finished"] = time.perf_counter()  # before the future completes

        future = self._pool.submit(work)
        if channel is not None:
            future.add_done_callback(lambda _: to_loop(_END))
        return RunHandle(run_id, thread_id, future, channel, cancel, stamps)

    async def ask(self, question: str, *, thread_id: str | None = None, owner: str = "",
                  run_id: str | None = None, trajectory: str | Path | None = None,
                  review_plan: bool = False) -> RunResult:
        """Research ``question`` (a turn of ``thread_id`` if given); cancelling the awaiting
        task cancels the run. With ``review_plan`` it stops after planning (status
        ``awaiting_review``); go on with :meth:`resume`."""
        handle = self.start(question, thread_id=thread_id, owner=owner, run_id=run_id,
                            trajectory=trajectory, events=False, review_plan=review_plan)
        return await handle.result()

    async def resume(self, run_id: str, *, review: Any = None, owner: str = "") -> RunResult:
        """Go on with a run (one waiting for its plan's review: with ``review``), see
        :meth:`Agent.resume`."""
        return await self.start_resume(run_id, review=review, owner=owner, events=False).result()

    async def astream(self, question: str, *, thread_id: str | None = None, owner: str = "",
                      run_id: str | None = None, trajectory: str | Path | None = None) -> AsyncIterator[dict[str, Any]]:
        """Progress events of a run as they happen, ending with ``{"type": "final", ...}``.
        Leaving the loop early cancels the run; a run that failed raises here."""
        handle = self.start(question, thread_id=thread_id, owner=owner, run_id=run_id, trajectory=trajectory)
        async for event in handle.events():
            yield event
        await handle.result()

    async def thread(self, thread_id: str, *, owner: str = "") -> Thread | None:
        """A thread's turns, or None (see :meth:`Agent.thread`)."""
        return await asyncio.to_thread(self.agent.thread, thread_id, owner=owner)

    def close(self) -> None:
        """Stop accepting runs; runs in progress finish in the background."""
        self._pool.shutdown(wait=False, cancel_futures=True)
