"""``POST /v1/chat/completions``: a question becomes a turn of a thread, run in a worker
thread, answered as one JSON completion or streamed as server-sent events.

With ``review_plan: true`` the run stops after planning: the response (or the stream's
last chunk) carries a ``plan_review`` event with the plan and what to send back, and a
follow-up request on the same thread with ``plan_review: {...}`` (approve, edit,
replace) resumes it; an unusable edit is answered 400 ``invalid_plan_review`` and the
run keeps waiting.

A client that goes away cancels its run: the streamed response is cancelled by the
server when the connection drops (and the stream's clean-up cancels the run), and a
non-streaming request watches for the disconnect while it waits. A cancelled run
stops at its next step; its slot is given back only when its worker is free.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import ValidationError

from agentflow.agent.api import AsyncAgent, RunCancelledError, RunHandle
from agentflow.agent.citations import ERROR
from agentflow.agent.review import (
    AWAITING_REVIEW,
    PlanEditError,
    PlanProposal,
    check_review,
    plan_text,
)
from agentflow.errors import UserError
from agentflow.server.auth import ApiKeys
from agentflow.server.errors import APIError
from agentflow.server.limits import RunSlots, ServerLimits
from agentflow.server.schemas import ChatCompletionRequest, completion_body
from agentflow.server.sources import cited_answer, earlier_turns, sources_block
from agentflow.server.sse import DONE, PROGRESS_TYPES, ChunkWriter, answer_pieces, comment
from agentflow.threads import check_thread_id, new_thread_id

__all__ = ["THREAD_HEADER", "ChatService"]

log = logging.getLogger("agentflow.server")

THREAD_HEADER = "X-Thread-Id"
#: An idle stream gets a comment line this often, so proxies keep it open and a
#: vanished client is noticed even while a slow model is thinking.
HEARTBEAT_S = 10.0


class ChatService:
    """Turns chat completion requests into runs of an :class:`AsyncAgent`."""

    def __init__(
        self, agent: AsyncAgent, *, keys: ApiKeys, limits: ServerLimits, model: str
    ) -> None:
        self.agent = agent
        self.keys = keys
        self.limits = limits
        self.model = model
        self.slots = RunSlots(limits)
        #: Runs being resumed after a review in this process: a second answer waits its turn.
        self._resuming: set[str] = set()

    async def complete(self, request: Request) -> Response:
        """Handle one ``POST /v1/chat/completions``."""
        owner = self.keys.owner(request.headers.get("authorization"))
        body = await self._parse(request)
        self._check_model(body.model)
        with_sources = _sources_option(body)
        if body.plan_review is not None:
            return await self._resume_reviewed(request, body, owner, with_sources=with_sources)
        question = body.question(self.limits.max_question_chars)
        thread_id = self._thread_for(body.requested_thread_id(request.headers.get(THREAD_HEADER)))
        self.slots.acquire(owner)
        try:
            handle = self.agent.start(
                question, thread_id=thread_id, owner=owner, events=body.stream,
                history=earlier_turns(body.messages), review_plan=body.review_plan,
            )
        except BaseException:
            self.slots.release(owner)
            raise
        handle.add_done_callback(lambda: self.slots.release(owner))
        return await self._respond(request, handle, body, thread_id, with_sources=with_sources)

    async def _resume_reviewed(self, request: Request, body: ChatCompletionRequest, owner: str, *,
                               with_sources: bool) -> Response:
        """Go on with a thread's run that waits for its plan's review, with the answer in
        ``plan_review``; the answer is checked first, so a refused one changes nothing."""
        requested = body.requested_thread_id(request.headers.get(THREAD_HEADER))
        if requested is None:
            raise APIError(400, "a plan review answers a run of a thread: send the thread's id "
                           f"(header {THREAD_HEADER} or `thread_id`)", code="invalid_request", param="thread_id")
        thread_id = self._thread_for(requested)
        answer = dict(body.plan_review or {})
        wanted = answer.pop("run_id", None)
        thread = await self.agent.thread(thread_id, owner=owner)
        if thread is None:
            raise APIError(404, f"no thread {thread_id!r} for this API key", code="thread_not_found")
        waiting = [t.run_id for t in thread.turns if t.status == AWAITING_REVIEW
                   and (wanted is None or t.run_id == wanted)]
        proposal: PlanProposal | None = None
        if waiting:
            proposal = await asyncio.to_thread(self.agent.agent.pending_review, waiting[-1])
        if proposal is None:
            which = f"run {wanted!r} of thread {thread_id!r}" if wanted else f"thread {thread_id!r}"
            raise APIError(400, f"{which} has no run waiting for a review of its plan: send "
                           "`review_plan: true` with a question to get one", code="no_plan_review",
                           param="plan_review")
        run_id = waiting[-1]
        try:
            check_review(proposal, answer)
        except PlanEditError as exc:
            raise APIError(400, f"{exc} (run {run_id} still waits for a review)", code="invalid_plan_review",
                           param="plan_review") from None
        if run_id in self._resuming:
            raise APIError(409, f"run {run_id} is being resumed already", code="run_in_progress")
        self.slots.acquire(owner)
        self._resuming.add(run_id)
        try:
            handle = self.agent.start_resume(run_id, review=answer, owner=owner, thread_id=thread_id,
                                             events=body.stream)
        except BaseException:
            self.slots.release(owner)
            self._resuming.discard(run_id)
            raise

        def done() -> None:
            self.slots.release(owner)
            self._resuming.discard(run_id)

        handle.add_done_callback(done)
        return await self._respond(request, handle, body, thread_id, with_sources=with_sources)

    async def _respond(self, request: Request, handle: RunHandle, body: ChatCompletionRequest, thread_id: str,
                       *, with_sources: bool) -> Response:
        """The run's answer: one JSON completion, or a stream of server-sent events."""
        headers = {THREAD_HEADER: thread_id, "X-Run-Id": handle.run_id}
        if body.stream:
            # The worker records the turn first (and refuses a thread another key owns):
            # answer with an error status now rather than inside a 200 stream.
            await handle.started()
            return StreamingResponse(
                self._stream(handle, body, thread_id, with_sources=with_sources),
                media_type="text/event-stream",
                headers={**headers, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        result = await self._wait(request, handle)
        if result is None:  # the client is gone; nobody will read this
            return Response(status_code=499)
        final = {**result.to_json(), "run_id": handle.run_id}
        if result.status == ERROR:
            raise APIError(
                500,
                f"run {handle.run_id} failed: {result.error}; its trajectory: "
                f"GET /v1/runs/{handle.run_id}/trajectory",
                code="run_failed",
                headers=headers,
            )
        if result.status == AWAITING_REVIEW:
            final["answer"] = _plan_text(final)
            return JSONResponse(completion_body(final, model=self.model, thread_id=thread_id,
                                                timing=handle.timing), headers=headers)
        completion = completion_body(final, model=self.model, thread_id=thread_id, timing=handle.timing)
        if with_sources:
            citations = final.get("citations") or []
            completion["choices"][0]["message"]["content"] = (
                cited_answer(final.get("answer", ""), citations) + sources_block(citations)
            )
        return JSONResponse(completion, headers=headers)

    # -- request ---------------------------------------------------------------------

    async def _parse(self, request: Request) -> ChatCompletionRequest:
        raw = await request.body()
        try:
            data = json.loads(raw or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise APIError(400, f"the body is not valid JSON: {exc}", code="invalid_json") from None
        if not isinstance(data, dict):
            raise APIError(
                400, "the body must be a JSON object with `messages`", code="invalid_request"
            )
        try:
            return ChatCompletionRequest.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise APIError(
                400,
                f"invalid request: {where}: {first.get('msg')}",
                code="invalid_request",
                param=where or None,
            ) from None

    def _check_model(self, model: str | None) -> None:
        """An unknown model is answered as OpenAI does: 404 ``model_not_found``."""
        if model and model != self.model:
            raise APIError(
                404,
                f"The model `{model}` does not exist: this server serves `{self.model}` "
                "(see GET /v1/models)",
                code="model_not_found",
                type_="invalid_request_error",
                param="model",
            )

    def _thread_for(self, requested: str | None) -> str:
        """The thread this request continues, or a new one (whose owner the worker checks)."""
        if requested is None:
            return new_thread_id()
        try:
            return check_thread_id(requested)
        except UserError as exc:
            raise APIError(400, str(exc), code="invalid_thread_id", param="thread_id") from None

    # -- responses -------------------------------------------------------------------

    async def _wait(self, request: Request, handle: RunHandle) -> Any:
        """The run's result, or None if the client disconnected first (the run is cancelled)."""
        result = asyncio.ensure_future(handle.result())
        gone = asyncio.ensure_future(_disconnected(request))
        done, _ = await asyncio.wait({result, gone}, return_when=asyncio.FIRST_COMPLETED)
        if result in done:
            gone.cancel()
            return result.result()
        handle.cancel()
        result.cancel()
        log.info("client left: run %s cancelled", handle.run_id)
        return None

    async def _stream(
        self, handle: RunHandle, body: ChatCompletionRequest, thread_id: str, *, with_sources: bool
    ) -> AsyncIterator[bytes]:
        writer = ChunkWriter(run_id=handle.run_id, thread_id=thread_id, model=self.model)
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        yield writer.role()
        final: dict[str, Any] | None = None
        try:
            # One write per batch of events: a busy loop stays cheap.
            async for batch in handle.batches(heartbeat_s=HEARTBEAT_S):
                out: list[bytes] = []
                for event in batch:
                    kind = event.get("type")
                    if kind == "heartbeat":
                        out.append(comment("working"))
                    elif kind == "final" and event.get("status") == AWAITING_REVIEW:
                        final = event
                        out.extend(writer.content(piece) for piece in answer_pieces(_plan_text(event)))
                    elif kind == "final":
                        final = event
                        if final.get("status") != ERROR:
                            # The answer goes out the moment it is known, before the
                            # worker has saved the turn and the run has ended.
                            out.extend(_answer_chunks(writer, final, with_sources=with_sources))
                    elif body.progress and kind in PROGRESS_TYPES:
                        out.append(writer.progress(event))
                if out:
                    yield b"".join(out)
            await handle.result()
        except RunCancelledError:
            yield writer.error(
                f"run {handle.run_id} was cancelled (the server is shutting down)", code="cancelled"
            )
            return
        except Exception as exc:
            log.exception("run %s failed", handle.run_id)
            yield writer.error(f"run {handle.run_id} failed: {type(exc).__name__}: {exc}")
            return
        finally:
            if not handle.done:
                log.info("stream of run %s closed early: run cancelled", handle.run_id)
                handle.cancel()
        if final is None or final.get("status") == ERROR:
            error = (final or {}).get("error") or "no result"
            yield writer.error(
                f"run {handle.run_id} failed: {error}; its trajectory: "
                f"GET /v1/runs/{handle.run_id}/trajectory"
            )
            return
        if final.get("status") == AWAITING_REVIEW:  # the stream ends with the plan to review
            tail = [writer.plan_review(final, handle.timing)]
        else:
            tail = [writer.finish(final, handle.timing)]
        if include_usage:
            tail.append(writer.usage(final))
        yield b"".join([*tail, DONE])


def _answer_chunks(writer: ChunkWriter, final: dict[str, Any], *, with_sources: bool) -> list[bytes]:
    """The answer as content deltas of a few words, then its sources in one delta.

    The answer is composed in code from checked sub-answers (or a typed, grounded model
    call), so it exists whole only at the end of the run: there are no model tokens to
    pass on as they come.
    """
    answer, citations = final.get("answer", ""), final.get("citations") or []
    if with_sources:
        answer = cited_answer(answer, citations)
    chunks = [writer.content(piece) for piece in answer_pieces(answer)]
    if with_sources and citations:
        chunks.append(writer.content(sources_block(citations)))
    return chunks


def _plan_text(final: dict[str, Any]) -> str:
    """The plan of a run waiting for its review, as the message a person reads."""
    proposal = PlanProposal.model_validate(final["plan_review"])
    return (plan_text(proposal) + "\n\nApprove it, or edit it (reword, add, remove or replace steps): "
            "send `plan_review` on this thread.")


def _sources_option(body: ChatCompletionRequest) -> bool:
    """The request's ``sources`` option (default true): citations written into the content."""
    value = (body.model_extra or {}).get("sources", True)
    if not isinstance(value, bool):
        raise APIError(400, "`sources` must be true or false", code="invalid_request", param="sources")
    return value


async def _disconnected(request: Request) -> None:
    """Return when the client closes the connection (the body has been read already)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return
