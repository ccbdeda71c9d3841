"""An LLM-free entity graph over a whole corpus, for graph-augmented retrieval.

Passages link to the capitalised-phrase entities they mention and to their own
titles, so a passage about a bridge entity connects to the passage titled with it.
Personalized PageRank seeded from the question's entities and the fused ranking
then surfaces second-hop passages that similarity to the question alone misses.
Plain scipy: the graph is a sparse passage x entity incidence matrix.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from agentflow.errors import StoreNotFoundError
from agentflow.memory.entities import extract_entities, normalize_entity
from agentflow.memory.ppr import PageRankOperator, hub_dampened

__all__ = ["CorpusGraph"]

_FORMAT = "agentflow.corpus_graph"
_VERSION = 1
_MATRIX_FILE = "corpus_graph.npz"
_INDEX_FILE = "corpus_graph.json"

DAMPING = 0.5
HUB_DEGREE = 50
#: Every fused candidate is seeded with this share of its (max-normalised) fused score.
PASSAGE_SEED_WEIGHT = 0.05
#: Seed weight of a question entity and of the top fused passage.
ANCHOR_SEED_WEIGHT = 1.0
# Rankings only need the order of the top few; a looser tolerance than the memory
# graph's saves iterations on a large corpus.
_TOL = 1e-8


class CorpusGraph:
    """Passages and the entities they mention, as a bipartite sparse graph with PPR reranking.

    ``passage_ids`` and ``entities`` (normalised names) give the row and column order
    of the passage x entity incidence matrix.
    """

    def __init__(self) -> None:
        self.passage_ids: list[str] = []
        self.entities: list[str] = []
        self._passage_index: dict[str, int] = {}
        self._entity_index: dict[str, int] = {}
        self._incidence = sp.csr_matrix((0, 0), dtype=np.float32)
        self._operator: PageRankOperator | None = None
        self._degrees: np.ndarray | None = None

    @classmethod
    def build(cls, passages: Iterable[tuple[str, str, str]]) -> CorpusGraph:
        """Build the graph from ``(passage id, title, text)`` triples."""
        graph = cls()
        graph.add(passages)
        return graph

    def add(self, passages: Iterable[tuple[str, str, str]]) -> int:
        """Add passages (ids already in the graph are skipped); returns how many were new."""
        rows: list[int] = []
        cols: list[int] = []
        first_new = len(self.passage_ids)
        for pid, title, text in passages:
            if pid in self._passage_index:
                continue
            row = len(self.passage_ids)
            self._passage_index[pid] = row
            self.passage_ids.append(pid)
            keys = {normalize_entity(name) for name in [title, *extract_entities(text)] if name}
            for key in keys:
                if not key:
                    continue
                col = self._entity_index.get(key)
                if col is None:
                    col = self._entity_index[key] = len(self.entities)
                    self.entities.append(key)
                rows.append(row - first_new)
                cols.append(col)
        added = len(self.passage_ids) - first_new
        if added:
            shape = (len(self.passage_ids), len(self.entities))
            old = self._incidence.tocoo()
            ones = np.ones(len(rows), dtype=np.float32)
            new = sp.coo_matrix((ones, (np.array(rows) + first_new, cols)), shape=shape)
            old = sp.coo_matrix((old.data, (old.row, old.col)), shape=shape)
            self._incidence = (old + new).tocsr()
            self._operator = None
            self._degrees = None
        return added

    def __len__(self) -> int:
        """Number of passages in the graph."""
        return len(self.passage_ids)

    # ---- persistence ---------------------------------------------------------------

    def save(self, directory: str | Path) -> None:
        """Write the graph to ``directory`` (a scipy ``.npz`` matrix plus a JSON index)."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        sp.save_npz(folder / _MATRIX_FILE, self._incidence.tocsr())
        index = {"format": _FORMAT, "version": _VERSION, "passage_ids": self.passage_ids,
                 "entities": self.entities}
        (folder / _INDEX_FILE).write_text(json.dumps(index), encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> CorpusGraph:
        """Read a graph written by :meth:`save`."""
        folder = Path(directory)
        if not (folder / _INDEX_FILE).is_file() or not (folder / _MATRIX_FILE).is_file():
            raise StoreNotFoundError(
                f"no corpus graph in {folder}: build one with CorpusGraph.build(...) and save it "
                "there (re-ingesting the corpus does this)"
            )
        index = json.loads((folder / _INDEX_FILE).read_text(encoding="utf-8"))
        if index.get("format") != _FORMAT or index.get("version", 0) > _VERSION:
            raise StoreNotFoundError(
                f"{folder / _INDEX_FILE} is not a corpus graph this agentflow reads: rebuild it"
            )
        graph = cls()
        graph.passage_ids = list(index["passage_ids"])
        graph.entities = list(index["entities"])
        graph._passage_index = {pid: i for i, pid in enumerate(graph.passage_ids)}
        graph._entity_index = {key: i for i, key in enumerate(graph.entities)}
        graph._incidence = sp.load_npz(folder / _MATRIX_FILE).tocsr()
        return graph

    # ---- retrieval -----------------------------------------------------------------

    def _operator_for_graph(self) -> PageRankOperator:
        if self._operator is None:
            adjacency = sp.bmat([[None, self._incidence], [self._incidence.T, None]], format="csr")
            self._operator = PageRankOperator(hub_dampened(adjacency, HUB_DEGREE))
        return self._operator

    def entity_frequency(self, key: str) -> int:
        """How many passages mention the entity with normalised name ``key`` (0 if none)."""
        col = self._entity_index.get(key)
        if col is None:
            return 0
        if self._degrees is None:
            self._degrees = np.asarray((self._incidence > 0).sum(axis=0)).ravel()
        return int(self._degrees[col])

    def query_entities(self, query: str) -> list[str]:
        """The entity keys of ``query`` that occur in the corpus graph."""
        keys = (normalize_entity(name) for name in extract_entities(query))
        return [key for key in dict.fromkeys(keys) if key in self._entity_index]

    def passage_scores(self, query: str, fused: Sequence[tuple[str, float]]) -> np.ndarray:
        """PPR score of every passage (aligned with :attr:`passage_ids`), seeded from the
        query's entities, every fused candidate at 0.05 x its max-normalised score and the
        top fused candidate at full weight."""
        n_passages = len(self.passage_ids)
        if n_passages == 0:
            return np.zeros(0)
        restart = np.zeros(n_passages + len(self.entities))
        for key in self.query_entities(query):
            restart[n_passages + self._entity_index[key]] = ANCHOR_SEED_WEIGHT
        index = self._passage_index
        known = [(index[pid], score) for pid, score in fused if pid in index]
        top = max((score for _, score in known), default=0.0)
        for row, score in known:
            if top > 0 and score > 0:
                restart[row] += PASSAGE_SEED_WEIGHT * score / top
        if known:
            restart[known[0][0]] += ANCHOR_SEED_WEIGHT
        if not restart.any():
            return np.zeros(n_passages)
        return self._operator_for_graph().run(restart, damping=DAMPING, tol=_TOL)[:n_passages]

    def rerank(
        self, query: str, fused: Sequence[tuple[str, float]], *, k: int = 5, keep_top: int = 3
    ) -> list[tuple[str, float]]:
        """The first ``keep_top`` fused passages, then the passages with the most PPR mass
        that are not among them (from the whole corpus), ``k`` in all.

        ``fused`` is a best-first ``(passage id, score)`` list. Scores decrease along the
        result: a kept passage scores 1 + its max-normalised fused score, a graph pick its
        PPR score relative to the best passage's (at most 1).
        """
        if k <= 0:
            return []
        kept = list(dict.fromkeys(pid for pid, _ in fused))[: min(keep_top, k)]
        top = max((score for _, score in fused), default=0.0)
        fused_score = {pid: score for pid, score in reversed(fused)}
        result = [(pid, 1.0 + (fused_score[pid] / top if top > 0 else 0.0)) for pid in kept]
        scores = self.passage_scores(query, fused)
        best = scores.max() if scores.size else 0.0
        taken = set(kept)
        if best > 0:
            # argpartition keeps this O(n) on a large corpus; only the head is sorted.
            want = min(len(scores), k + len(taken))
            head = np.argpartition(-scores, want - 1)[:want]
            for row in head[np.argsort(-scores[head], kind="stable")]:
                if len(result) >= k or scores[row] <= 0:
                    break
                pid = self.passage_ids[row]
                if pid not in taken:
                    taken.add(pid)
                    result.append((pid, float(scores[row] / best)))
        # Fused candidates outside the graph (or no PPR mass at all): fill from fused.
        for pid, _ in fused:
            if len(result) >= k:
                break
            if pid not in taken:
                taken.add(pid)
                result.append((pid, 0.0))
        return result
