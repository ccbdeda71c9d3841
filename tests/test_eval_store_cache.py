"""Eval stores are cached by corpus content: the second batch over a corpus embeds nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from agentflow.embed import HashingEmbedder
from agentflow.records import Passage
from agentflow.scoring.manifest import trajectory_name
from agentflow.scoring.store_cache import cached_store, corpus_hash, stores_dir


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, counting the documents it embeds."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += len(texts)
        return super().embed(texts)


PASSAGES = [Passage(id=f"p{i}", title=f"Title {i}", text=f"Passage number {i} about rivers.") for i in range(20)]


def test_second_store_request_embeds_nothing() -> None:
    first = CountingEmbedder()
    store, key, built = cached_store(PASSAGES, first, progress=False)
    assert built and first.embedded == 20 and store.count() == 20
    assert store.path == stores_dir() / key
    second = CountingEmbedder()
    again, key2, built2 = cached_store(list(reversed(PASSAGES)), second, progress=False)
    assert (key2, built2, second.embedded) == (key, False, 0)
    assert again.search("rivers", k=3)  # and it is searchable


def test_an_interrupted_build_is_completed_not_redone() -> None:
    from agentflow.store.corpus import CorpusStore

    key = corpus_hash(PASSAGES, HashingEmbedder().name)
    # A build killed after 12 passages: they are in the store, the completion marker is not.
    CorpusStore(stores_dir() / key, embedder=HashingEmbedder()).add(PASSAGES[:12])
    rest = CountingEmbedder()
    store, key2, built = cached_store(PASSAGES, rest, progress=False)
    assert (key2, built, rest.embedded, store.count()) == (key, True, 8, 20)


def test_the_key_depends_on_content_and_embedder() -> None:
    base = corpus_hash(PASSAGES, "hash-384")
    assert base == corpus_hash(list(reversed(PASSAGES)), "hash-384")
    assert base != corpus_hash(PASSAGES, "minilm")
    changed = [*PASSAGES[:-1], Passage(id="p19", title="Title 19", text="Edited.")]
    assert base != corpus_hash(changed, "hash-384")


@pytest.mark.parametrize("qid, expected", [
    ("2hop__150763_14904", "2hop__150763_14904"),
    ("wq000001", "wq000001"),
])
def test_safe_ids_name_their_trajectory(qid: str, expected: str) -> None:
    assert trajectory_name(qid) == expected


def test_unsafe_ids_get_distinct_file_names() -> None:
    a, b = trajectory_name("a/b"), trajectory_name("a:b")
    assert a != b and "/" not in a and ":" not in b
    assert trajectory_name("../../etc/passwd").startswith("etc_passwd-")
    assert Path(trajectory_name("x" * 500)).name == trajectory_name("x" * 500)
    assert len(trajectory_name("x" * 500)) < 130
