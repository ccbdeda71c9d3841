"""The on-disk cache of web sources: search answers and page texts, one JSON file per
key, so re-running an evaluation with the same run configuration makes no requests."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from agentflow.config import home_dir


def default_cache_dir(config_key: str) -> Path:
    """``<AGENTFLOW_HOME>/web-cache/<hash of the source's configuration>``: a source
    configured differently (another endpoint, other fields) never reads another's answers."""
    digest = hashlib.sha256(config_key.encode()).hexdigest()[:16]
    return home_dir() / "web-cache" / digest


class WebCache:
    """A folder of cached JSON values; a missing, unreadable or corrupt entry is a miss
    (the caller fetches again and overwrites it)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def _path(self, *key: Any) -> Path:
        digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
        return self.folder / digest[:2] / f"{digest}.json"

    def get(self, *key: Any) -> Any | None:
        """The value stored under ``key``, or None."""
        try:
            return json.loads(self._path(*key).read_text(encoding="utf-8"))["value"]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, value: Any, *key: Any) -> None:
        """Store ``value`` under ``key`` (written whole or not at all: concurrent runs may
        share the folder)."""
        path = self._path(*key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"key": [str(k) for k in key], "value": value}, fh)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only or full disk costs a re-fetch later, never the run
