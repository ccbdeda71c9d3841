"""Overlapped search halves: results in order, errors raised once every half is done, and
searches that give exactly what running the halves one after the other gives."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import agentflow.store.corpus as corpus
import agentflow.store.segments as seg
from agentflow.evals.world import generate_world
from agentflow.store import CorpusStore
from agentflow.store.overlap import all_at_once
from agentflow.tools.corpus_search import CorpusSearch


def test_results_come_in_order_from_several_threads() -> None:
    threads: list[str] = []

    def call(i: int) -> int:
        threads.append(threading.current_thread().name)
        return i * i

    assert all_at_once([lambda i=i: call(i) for i in range(5)]) == [0, 1, 4, 9, 16]
    assert len(set(threads)) > 1  # the first in this thread, the others on the pool
    assert all_at_once([]) == [] and all_at_once([lambda: 7]) == [7]


def test_an_error_is_raised_after_every_call_finished() -> None:
    finished = threading.Event()

    def slow() -> int:
        time.sleep(0.05)
        finished.set()
        return 1

    def fails() -> int:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        all_at_once([fails, slow])
    assert finished.is_set()


def test_overlapped_searches_equal_sequential_ones(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Small thresholds, so that the store has delta segments searched at once too.
    monkeypatch.setattr(seg, "DELTA_FROM", 100)
    monkeypatch.setattr(seg, "DELTA_CAP", 60)
    world = generate_world(n_docs=300, n_questions=30, seed=21)
    questions = [q.question for q in world.questions]
    store = CorpusStore(tmp_path / "store", embedder="hash")
    for start in range(0, len(world.corpus), 100):
        store.add(world.corpus[start : start + 100])
    assert len(store.segments()) > 2
    tool = CorpusSearch(store)

    def everything() -> list:
        return [[(h.id, h.score) for h in search(q)] for q in questions
                for search in (lambda q: store.search(q, k=8), lambda q: tool.search(q, k=5),
                               lambda q: store.search(q, k=8, mode="dense"))]

    overlapped = everything()
    one_by_one = lambda calls: [call() for call in calls]  # noqa: E731
    monkeypatch.setattr(corpus, "all_at_once", one_by_one)
    monkeypatch.setattr(seg, "all_at_once", one_by_one)
    assert everything() == overlapped


def test_a_call_inside_the_pool_runs_its_parts_in_turn() -> None:
    """Nested overlaps (an index rebuilt from inside a search half) cannot starve the pool."""
    from agentflow.store.overlap import WORKERS

    inner = [lambda: all_at_once([lambda: threading.current_thread().name] * 3)] * (WORKERS + 2)
    results = all_at_once(inner)
    # The first runs in this thread (free to overlap), the others in the pool (in turn).
    assert all(len(set(names)) == 1 for names in results[1:])
