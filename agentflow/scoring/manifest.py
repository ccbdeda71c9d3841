"""The eval folder's layout and its ``manifest.json``: what was run, on which data, how.

An eval folder (``agentflow eval run --out DIR``) holds::

    DIR/manifest.json              dataset (path, sha256, format, records skipped and why),
                                   graph, model, embedder, store (cached, or given
                                   with --store, and its Chroma URL),
                                   budget, settings, versions, question ids, batch history
    DIR/trajectories/<qid>.jsonl   one trajectory per question (the file name is the id,
                                   made file-safe by :func:`trajectory_name`)
    DIR/interrupted/<run>.jsonl    partial trajectories of killed runs, kept for debugging
    DIR/runs/                      run folders and the LangGraph checkpointer of the batch

The scorer reads the manifest and the trajectories and nothing else (besides the gold
data the manifest names), so a folder can be scored anywhere it is copied to.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from agentflow.errors import UserError
from agentflow.evals.dataset_files import SkippedRecord

MANIFEST_FILE = "manifest.json"
TRAJECTORIES = "trajectories"
INTERRUPTED = "interrupted"
RUNS = "runs"
MANIFEST_VERSION = 1

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")


class DatasetInfo(BaseModel):
    """Where the gold data lives and what it was when the batch ran."""

    path: str
    sha256: str
    format: str
    corpus: str | None = None
    corpus_sha256: str | None = None
    name: str = ""
    examples: int = 0
    #: Every record of the questions or corpus file that loading skipped, with the reason.
    skipped: list[SkippedRecord] = Field(default_factory=list)


class BatchRecord(BaseModel):
    """One invocation of ``eval run`` on the folder (a batch may take several, resumed)."""

    started: str
    finished: str | None = None
    ran: int = 0
    already_done: int = 0
    restarted: int = 0
    errors: int = 0


class EvalManifest(BaseModel):
    """The contents of ``DIR/manifest.json``."""

    version: int = MANIFEST_VERSION
    dataset: DatasetInfo
    graph: str
    llm: str
    model: str
    embedder: str
    embedder_spec: str
    store: str
    #: ``cached``: the store ``eval run`` built from the dataset's corpus (by content hash);
    #: ``given``: an existing store folder passed with ``--store``, which a resume reuses.
    store_kind: Literal["cached", "given"] = "cached"
    #: The Chroma server holding a given store's collection (None: the folder's own Chroma).
    chroma_url: str | None = None
    #: Passages a given store holds beyond the dataset's corpus (None for cached stores).
    store_extra: int | None = None
    corpus_hash: str
    budget: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)
    limit: int | None = None
    question_ids: list[str] = Field(default_factory=list)
    versions: dict[str, str] = Field(default_factory=dict)
    created: str
    batches: list[BatchRecord] = Field(default_factory=list)


def now_iso() -> str:
    """The current UTC time as an ISO 8601 string (seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def sha256_path(path: str | Path) -> str:
    """SHA-256 of a file, or of a folder's files (sorted relative names and contents)."""
    p = Path(path)
    digest = hashlib.sha256()
    files = [p] if p.is_file() else sorted(f for f in p.rglob("*") if f.is_file())
    for f in files:
        if p.is_dir():
            digest.update(str(f.relative_to(p)).encode() + b"\0")
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


#: The files a dataset folder is read from (``load_dataset`` looks for these names).
DATASET_FILES = ("questions.jsonl", "questions.json", "corpus.jsonl", "corpus.json")


def dataset_sha256(path: str | Path) -> str:
    """SHA-256 of a dataset: the file itself, or of a folder only the question and corpus
    files it is read from (so an eval folder written inside it does not change the hash)."""
    p = Path(path)
    if p.is_file():
        return sha256_path(p)
    digest = hashlib.sha256()
    for name in DATASET_FILES:
        if (p / name).is_file():
            digest.update(name.encode() + b"\0" + sha256_path(p / name).encode())
    return digest.hexdigest()


def trajectory_name(question_id: str) -> str:
    """The file-safe stem of a question's trajectory: the id itself when it is safe,
    else the id with unsafe characters replaced plus a short hash (so two ids never collide)."""
    if _SAFE.fullmatch(question_id):
        return question_id
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", question_id).strip("._-")[:80] or "q"
    return f"{cleaned}-{hashlib.sha1(question_id.encode()).hexdigest()[:8]}"


def trajectory_path(out: str | Path, question_id: str) -> Path:
    """Where the trajectory of ``question_id`` lives in the eval folder ``out``."""
    return Path(out) / TRAJECTORIES / f"{trajectory_name(question_id)}.jsonl"


def manifest_path(out: str | Path) -> Path:
    """``DIR/manifest.json``."""
    return Path(out) / MANIFEST_FILE


def read_manifest(out: str | Path) -> EvalManifest:
    """Read an eval folder's manifest; a clear error when the folder is not one."""
    path = manifest_path(out)
    if not path.is_file():
        raise UserError(f"no {MANIFEST_FILE} in {out}: pass a folder written by "
                        "`agentflow eval run --out DIR`")
    try:
        return EvalManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise UserError(f"{path} is not a valid eval manifest ({str(exc).splitlines()[0]}): "
                        "run `agentflow eval run` into a new folder") from None


def write_manifest(out: str | Path, manifest: EvalManifest) -> Path:
    """Write the manifest atomically (a killed batch never leaves half a file)."""
    path = manifest_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
