"""Trajectories: the versioned JSONL record every run leaves behind.

One JSON object per line, appended as the run goes (so a killed run keeps what it
did), each with ``v`` (schema version), ``type``, ``run_id``, ``seq`` and ``t``
(seconds since the epoch). Event types and their fields:

``run_start``     question, config (graph, llm, budgets, store, embedder), model, versions
``run_resumed``   the run was resumed from its checkpoint after an interruption
``step_start``    node, sub_question (id or null), step (index)
``step_end``      node, sub_question, step, seconds
``llm_call``      node, sub_question, prompt (template name), messages, attempts
                  ([{output, prompt_tokens, completion_tokens, latency_s}]), parsed, error,
                  prompt_tokens, completion_tokens, latency_s, model
``tool_call``     node, sub_question, tool, query, mode, k, results ([{id, score}]),
                  new_ids, known_ids (already in memory, not fetched again), seconds
``memory_delta``  node, nodes ([{id, type}]), edges ([[u, v, type]])
``note``          node, kind (plan_fallback, citation_removed, budget, ...), message, data
``final``         answer, status, citations ([{id, title, text}]), sub_questions, evidence
                  ([{id, title, text}], most relevant first), retrieved_ids, usage
``error``         message, error_type

The scorer (``agentflow eval score``) and ``agentflow show`` read these files and
nothing else, so every figure they report can be recomputed from the file alone.

Events stay small whatever the documents hold: a per-step event carries ids and short
text, and any string in it longer than :data:`MAX_EVENT_TEXT` characters is cut and
marked with its full length. Kept whole: ``run_start`` (the question), ``final`` (the
answer and its passages, once per run) and an ``llm_call``'s ``messages`` (the prompt
as sent, already bounded by the reader's budget: ``passage_chars``, ``evidence_tokens``).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agentflow.errors import UserError

SCHEMA_VERSION = 1
#: Longest string a per-step event keeps (a 70 KB reply, a passage without spaces).
MAX_EVENT_TEXT = 2000
# Events (and fields) written whole, see the module docstring.
_WHOLE_EVENTS = frozenset({"run_start", "final"})
_WHOLE_FIELDS = {"llm_call": frozenset({"messages"})}


def _cut(value: Any) -> Any:
    """``value`` with every string longer than :data:`MAX_EVENT_TEXT` cut and marked."""
    if isinstance(value, str):
        if len(value) <= MAX_EVENT_TEXT:
            return value
        return value[:MAX_EVENT_TEXT] + f"… [cut: {len(value):,} characters]"
    if isinstance(value, dict):
        return {k: _cut(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_cut(v) for v in value]
    return value


def bounded_fields(type_: str, fields: dict[str, Any]) -> dict[str, Any]:
    """An event's fields as recorded: per-step events have long strings cut."""
    if type_ in _WHOLE_EVENTS:
        return fields
    whole = _WHOLE_FIELDS.get(type_, frozenset())
    return {k: v if k in whole else _cut(v) for k, v in fields.items()}


class TrajectoryRecorder:
    """Appends events to a trajectory file; safe to share between threads.

    Each line is flushed as it is written so nothing is lost when the process is
    killed. ``path=None`` records in memory only (``events``).
    """

    def __init__(self, path: str | Path | None, run_id: str) -> None:
        self.path = Path(path) if path else None
        self.run_id = run_id
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._seq = 0
        self._fh = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():  # resuming: continue the sequence numbers
                self._seq = sum(1 for _ in self.path.open(encoding="utf-8"))
            self._fh = self.path.open("a", encoding="utf-8")

    def record(self, type_: str, **fields: Any) -> dict[str, Any]:
        """Write one event and return it."""
        with self._lock:
            event = {
                "v": SCHEMA_VERSION,
                "type": type_,
                "run_id": self.run_id,
                "seq": self._seq,
                "t": round(time.time(), 4),
                **bounded_fields(type_, fields),
            }
            self._seq += 1
            self.events.append(event)
            if self._fh is not None:
                self._fh.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
                self._fh.flush()
            return event

    def close(self) -> None:
        """Close the file (further events are kept in memory only)."""
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None


class Trajectory(BaseModel):
    """A trajectory read back from disk: its events plus convenient views."""

    path: str | None = None
    events: list[dict[str, Any]] = Field(default_factory=list)
    skipped_lines: list[int] = Field(default_factory=list)

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        """All events of one type, in order."""
        return [e for e in self.events if e.get("type") == type_]

    @property
    def start(self) -> dict[str, Any]:
        """The ``run_start`` event (empty if missing)."""
        starts = self.of_type("run_start")
        return starts[0] if starts else {}

    @property
    def final(self) -> dict[str, Any] | None:
        """The last ``final`` event, or None for a run that never finished."""
        finals = self.of_type("final")
        return finals[-1] if finals else None

    @property
    def run_id(self) -> str:
        """The run id recorded in the file."""
        return str(self.events[0].get("run_id", "")) if self.events else ""

    @property
    def question(self) -> str:
        """The question the run was asked."""
        return str(self.start.get("question", ""))

    @property
    def llm_calls(self) -> list[dict[str, Any]]:
        """Every ``llm_call`` event."""
        return self.of_type("llm_call")

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        """Every ``tool_call`` event."""
        return self.of_type("tool_call")

    def retrieved_ids(self) -> list[str]:
        """Every passage id any tool call returned, first-seen order."""
        seen: dict[str, None] = {}
        for call in self.tool_calls:
            for hit in call.get("results", []):
                seen.setdefault(str(hit["id"]), None)
        return list(seen)


def read_trajectory(path: str | Path) -> Trajectory:
    """Read a trajectory file; a truncated or garbled line (a killed writer) is skipped
    and its line number kept in ``skipped_lines``."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"no trajectory at {p}: pass the file written by `agentflow ask --trajectory`")
    events: list[dict[str, Any]] = []
    skipped: list[int] = []
    with p.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                skipped.append(lineno)
                continue
            if not isinstance(event, dict) or "type" not in event:
                skipped.append(lineno)
                continue
            if int(event.get("v", 0)) > SCHEMA_VERSION:
                raise UserError(
                    f"{p} uses trajectory schema v{event.get('v')}, newer than this agentflow "
                    f"(v{SCHEMA_VERSION}): upgrade agentflow to read it"
                )
            events.append(event)
    return Trajectory(path=str(p), events=events, skipped_lines=skipped)
