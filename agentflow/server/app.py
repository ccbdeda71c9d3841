"""The OpenAI-compatible chatbot server: a FastAPI app over an :class:`AsyncAgent`.

    GET  /                              the chat page
    GET  /healthz                       liveness and runs in progress (no key needed)
    GET  /v1/models                     the one model this server serves
    POST /v1/chat/completions           ask (JSON or server-sent events); threads via X-Thread-Id
    GET  /v1/threads/{thread_id}        a thread's turns with their citations
    GET  /v1/runs/{run_id}/trajectory   a run's trajectory events as JSON
    GET  /v1/runs/{run_id}/picture      a run's evidence picture (agentflow.picture) as JSON
    GET  /picture.js                    the picture's drawing code (cytoscape.js bundled)
    POST /v1/corpus/documents           add documents to the corpus (``allow_ingest`` only)

Build one with :func:`create_app` (tests and embedding applications pass their own
agent) or run ``agentflow serve``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from agentflow.agent.api import Agent, AsyncAgent
from agentflow.agent.runner import Runner
from agentflow.errors import UserError
from agentflow.server.auth import ApiKeys
from agentflow.server.chat import THREAD_HEADER, ChatService
from agentflow.server.errors import APIError, install_error_handlers
from agentflow.server.limits import BodySizeLimit, ServerLimits
from agentflow.server.request_guard import RequestGuard
from agentflow.trajectory import Trajectory, read_trajectory

__all__ = ["create_app"]

DEFAULT_MODEL = "agentflow"


@lru_cache(maxsize=1)
def chat_page() -> str:
    """The chat page's HTML (one self-contained file shipped with the package)."""
    return (
        resources.files("agentflow.server")
        .joinpath("static", "chat.html")
        .read_text(encoding="utf-8")
    )


def create_app(
    agent: Agent | AsyncAgent,
    *,
    api_keys: ApiKeys | Sequence[str] = (),
    limits: ServerLimits | None = None,
    model: str = DEFAULT_MODEL,
    allow_ingest: bool = False,
) -> FastAPI:
    """The server app for ``agent``. ``api_keys`` empty means no authentication (only
    for loopback: ``agentflow serve`` enforces that); ``limits`` bound request sizes
    and runs in progress; ``allow_ingest`` adds ``POST /v1/corpus/documents``
    (:mod:`agentflow.server.corpus_routes`). An :class:`Agent` gets an :class:`AsyncAgent` with one
    worker per allowed run (closed with the app); an :class:`AsyncAgent` is used as
    it is (its pool size then bounds the runs that proceed at once)."""
    limits = limits or ServerLimits()
    keys = api_keys if isinstance(api_keys, ApiKeys) else ApiKeys(api_keys)
    owned = not isinstance(agent, AsyncAgent)
    runner = AsyncAgent(agent, max_concurrent_runs=limits.max_runs) if owned else agent
    chat = ChatService(runner, keys=keys, limits=limits, model=model)
    started = int(time.time())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:  # an AsyncAgent passed in belongs to the caller
            runner.close()

    app = FastAPI(
        title="agentflow",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.chat = chat
    install_error_handlers(app)
    # Added first, so it runs inside the size limit: it reads the body the limit has passed.
    app.add_middleware(
        RequestGuard, loopback_only=not keys.enabled, body_timeout_s=limits.body_timeout_s
    )
    app.add_middleware(BodySizeLimit, max_bytes=limits.max_body_bytes)

    if allow_ingest:
        from agentflow.server.corpus_routes import install_corpus_routes

        install_corpus_routes(app, runner.agent, keys)

    @app.get("/", include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(chat_page())

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {
            "status": "ok",
            "model": model,
            "runs_in_progress": chat.slots.total,
            "auth": keys.enabled,
        }

    @app.get("/v1/models")
    async def models(request: Request) -> dict[str, Any]:
        keys.owner(request.headers.get("authorization"))
        return {
            "object": "list",
            "data": [{"id": model, "object": "model", "created": started, "owned_by": "agentflow"}],
        }

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Response:
        return await chat.complete(request)

    @app.get("/v1/threads/{thread_id}")
    async def thread(thread_id: str, request: Request) -> JSONResponse:
        owner = keys.owner(request.headers.get("authorization"))
        found = await runner.thread(thread_id, owner=owner)
        if found is None:
            raise APIError(
                404, f"no thread {thread_id!r} for this API key", code="thread_not_found"
            )
        return JSONResponse(
            {"object": "thread", **found.model_dump(mode="json")},
            headers={THREAD_HEADER: thread_id},
        )

    async def owned_trajectory(run_id: str, request: Request) -> tuple[str, Trajectory]:
        """The run's thread id and trajectory, if the caller's key owns the run (else 404)."""
        owner = keys.owner(request.headers.get("authorization"))
        store = runner.agent.threads
        belongs = await asyncio.to_thread(store.thread_of_run, run_id)
        if belongs is None or belongs[1] != owner:
            raise APIError(404, f"no run {run_id!r} for this API key", code="run_not_found")
        try:
            meta = await asyncio.to_thread(Runner.load_meta, runner.agent.runner.runs, run_id)
            traj = await asyncio.to_thread(read_trajectory, meta["trajectory"])
        except UserError:
            raise APIError(
                404,
                f"run {run_id} is recorded in thread {belongs[0]!r} but its trajectory is not "
                "on this server (another server process ran it)",
                code="run_not_found",
            ) from None
        return belongs[0], traj

    @app.get("/v1/runs/{run_id}/trajectory")
    async def trajectory(run_id: str, request: Request) -> dict[str, Any]:
        thread_id, traj = await owned_trajectory(run_id, request)
        return {
            "object": "trajectory",
            "run_id": run_id,
            "thread_id": thread_id,
            "events": traj.events,
            "skipped_lines": traj.skipped_lines,
        }

    @app.get("/v1/runs/{run_id}/picture")
    async def picture(run_id: str, request: Request) -> dict[str, Any]:
        from agentflow.picture import evidence_picture

        thread_id, traj = await owned_trajectory(run_id, request)
        drawn = await asyncio.to_thread(evidence_picture, traj)
        return {"object": "picture", "thread_id": thread_id, **drawn.model_dump(mode="json")}

    @app.get("/picture.js", include_in_schema=False)
    async def picture_js() -> Response:
        from agentflow.picture import picture_script

        return Response(picture_script(), media_type="text/javascript",
                        headers={"Cache-Control": "max-age=3600"})

    return app
