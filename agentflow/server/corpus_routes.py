"""``POST /v1/corpus/documents``: add documents to the served corpus, so that one of several
server processes sharing a store (a Chroma server and the store folder on shared storage)
can ingest while the others answer. Enabled by ``agentflow serve --allow-ingest``.

The body is ``{"documents": [{"title": ..., "text": ..., "id": optional}]}``, chunked and
identified as ``agentflow ingest`` does for JSON records; the answer is the ingestion
report. The other processes see the new passages on their next search: the BM25 index and
the entity graph are republished in the store folder, and each process reloads a newer one.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from pydantic import BaseModel, Field, ValidationError

from agentflow.server.auth import ApiKeys
from agentflow.server.errors import APIError

if TYPE_CHECKING:
    from agentflow.agent.api import Agent

MAX_DOCUMENTS = 10_000


class DocumentIn(BaseModel):
    """One document to add."""

    title: str = ""
    text: str = Field(min_length=1)
    #: Omitted or null: derived from title and text. Never empty (the vector store refuses it).
    id: str | None = Field(default=None, min_length=1)


class DocumentsIn(BaseModel):
    """The request body."""

    documents: list[DocumentIn] = Field(min_length=1, max_length=MAX_DOCUMENTS)


def install_corpus_routes(app: FastAPI, agent: Agent, keys: ApiKeys) -> None:
    """Add ``POST /v1/corpus/documents`` to ``app``, ingesting into ``agent``'s store."""
    from agentflow.store.ingest import RECORD_MAX_WORDS, SourceDocument, ingest_documents

    @app.post("/v1/corpus/documents")
    async def add_documents(request: Request) -> dict[str, Any]:
        owner = keys.owner(request.headers.get("authorization"))
        try:
            body = DocumentsIn.model_validate_json(await request.body())
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise APIError(400, f"bad documents body at {where}: {first['msg']}",
                           code="invalid_request", param=where) from None
        source = f"api:{owner or 'local'}"
        docs = [SourceDocument(title=d.title, text=d.text, source=source, id=d.id,
                               max_whole_words=RECORD_MAX_WORDS) for d in body.documents]
        store = agent.components.store
        report = await asyncio.to_thread(ingest_documents, docs, store, progress=False)
        return {"object": "ingest_report", **report.model_dump()}
