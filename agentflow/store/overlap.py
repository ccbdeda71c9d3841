"""Running the independent halves of a search at the same time.

A hybrid search asks Chroma (dense) and our BM25 index (sparse) for their candidates, and a
store with delta segments asks each Chroma collection in turn. Chroma's query runs in Rust
and numpy's big array passes run in C, both without holding Python's GIL for much of
their time, so on a machine with a spare core the halves overlap: the search costs about
its slower half instead of their sum. One small pool lives for the whole process, so a
search pays a queue hand-off (tens of microseconds), not a thread start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

R = TypeVar("R")

#: Threads of the shared pool: enough for a few searches at once to overlap their halves.
WORKERS = 4

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
# Set in the pool's threads: a call made there runs its parts in turn, because waiting in
# a pool thread for work queued behind it could leave every thread waiting.
_in_pool = threading.local()


def _shared_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="agentflow-search")
        return _pool


def beside(call: Callable[[], R]) -> Future[R]:
    """Start ``call`` on the shared pool; its result (or exception) comes from the future."""
    def run() -> R:
        _in_pool.active = True
        return call()

    return _shared_pool().submit(run)


def all_at_once(calls: Sequence[Callable[[], R]]) -> list[R]:
    """The results of ``calls`` in order: all but the first run on the pool while the
    calling thread runs the first. An exception is raised once every call has finished
    (none is left running behind the caller's back)."""
    if len(calls) < 2 or getattr(_in_pool, "active", False):
        return [call() for call in calls]
    futures = [beside(call) for call in calls[1:]]
    try:
        first = calls[0]()
    finally:
        rest = [f.exception() for f in futures]  # waits for each
    for error in rest:
        if error is not None:
            raise error
    return [first, *(f.result() for f in futures)]
