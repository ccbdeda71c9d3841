"""A run's write-ahead log of completed LLM requests, so a resumed run never pays twice.

A checkpoint is written when a node ends; a run killed inside a node re-runs that node
on resume, and with it every LLM request the node had already completed. The journal
closes that gap: :class:`JournaledLLM` appends each completed request (a hash of what
was sent, and the completion) to ``<run>/llm_calls.jsonl``, written before the node
sees the answer (a killed process loses nothing the kernel has; ``fsync=True`` also
survives a power cut, at a few milliseconds a call), and answers a request it finds there from the file instead
of sending it again. Identical requests are matched in order, one entry each.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

from agentflow.llm.base import LLM
from agentflow.records import ChatMessage, Completion

__all__ = ["CallJournal", "JournaledLLM", "request_key"]


def request_key(
    messages: list[ChatMessage], json_schema: dict[str, Any] | None, max_tokens: int, temperature: float
) -> str:
    """A stable hash of one request: the same prompt and options give the same key."""
    payload = json.dumps(
        {
            "messages": [[m.role, m.content] for m in messages],
            "schema": json_schema,
            "max_tokens": max_tokens,
            "temperature": temperature,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


class CallJournal:
    """The append-only file of one run's completed requests (a torn last line, from a
    kill during the write, is ignored: that request simply counts as not completed)."""

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self._lock = threading.Lock()
        self._saved: dict[str, list[Completion]] = defaultdict(list)
        self.replayed = 0
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                    self._saved[entry["key"]].append(Completion.model_validate(entry["completion"]))
                except (ValueError, KeyError, TypeError):
                    continue

    def take(self, key: str) -> Completion | None:
        """The saved completion of the next unreplayed request with ``key``, if any."""
        with self._lock:
            saved = self._saved.get(key)
            if not saved:
                return None
            self.replayed += 1
            return saved.pop(0)

    def record(self, key: str, completion: Completion) -> None:
        """Append one completed request and make it durable before returning."""
        line = json.dumps({"key": key, "completion": completion.model_dump(mode="json")})
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
                out.flush()
                if self.fsync:
                    os.fsync(out.fileno())


class JournaledLLM(LLM):
    """``inner`` with every completed request journaled, and journaled ones replayed."""

    def __init__(self, inner: LLM, journal: CallJournal) -> None:
        self.inner = inner
        self.journal = journal
        self.name = inner.name
        self.small = getattr(inner, "small", False)

    def _request(
        self,
        messages: list[ChatMessage],
        *,
        json_schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
    ) -> Completion:
        key = request_key(messages, json_schema, max_tokens, temperature)
        saved = self.journal.take(key)
        if saved is not None:
            return saved
        completion = self.inner._request(
            messages, json_schema=json_schema, max_tokens=max_tokens, temperature=temperature
        )
        self.journal.record(key, completion)
        return completion

    async def _arequest(
        self,
        messages: list[ChatMessage],
        *,
        json_schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
    ) -> Completion:
        key = request_key(messages, json_schema, max_tokens, temperature)
        saved = self.journal.take(key)
        if saved is not None:
            return saved
        completion = await self.inner._arequest(
            messages, json_schema=json_schema, max_tokens=max_tokens, temperature=temperature
        )
        self.journal.record(key, completion)
        return completion

    def __getattr__(self, name: str) -> Any:
        # Backend-specific attributes (model_path, base_url, calls) read through.
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)
