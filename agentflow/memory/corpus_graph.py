"""An LLM-free entity graph over a whole corpus, for graph-augmented retrieval.

Passages link to the capitalised-phrase entities they mention and to their own
titles, so a passage about a bridge entity connects to the passage titled with it.
Personalized PageRank seeded from the question's entities and the fused ranking
then surfaces second-hop passages that similarity to the question alone misses.

Edges touching a hub (more than :data:`HUB_DEGREE` neighbours) are down-weighted by
``HUB_DEGREE / degree`` at each end (:func:`~agentflow.memory.ppr.hub_dampened`). Queries
run local PPR (:func:`~agentflow.memory.local_ppr.forward_push`), whose cost follows the
seeds' neighbourhood rather than the corpus; the global power iteration stays as the
reference (``exact=True``). The graph is kept in segments, one per ingestion, so adding
passages appends rows instead of rebuilding, and it is saved as checked columns loaded
memory-mapped (:mod:`agentflow.store.index_files`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from agentflow.errors import StoreNotFoundError
from agentflow.memory.entities import extract_entities, normalize_entity
from agentflow.memory.local_ppr import forward_push, multi_arange
from agentflow.memory.ppr import PageRankOperator, hub_dampened
from agentflow.store.index_files import IndexCorruptError, IndexFolder
from agentflow.store.lazy_segments import LazySegments
from agentflow.store.string_table import StringTable

__all__ = ["CorpusGraph"]

KIND = "agentflow.corpus_graph"
#: 3: passage ids and entities as string tables (looked up without loading them into a dict).
VERSION = 3

DAMPING = 0.5
HUB_DEGREE = 50
#: Every fused candidate is seeded with this share of its (max-normalised) fused score.
PASSAGE_SEED_WEIGHT = 0.05
#: Seed weight of a question entity and of the top fused passage.
ANCHOR_SEED_WEIGHT = 1.0
# Rankings only need the order of the top few; a looser tolerance than the memory
# graph's saves iterations on a large corpus.
_TOL = 1e-8
#: Residual tolerance of local PPR (per unit of degree, seeds summing to 1). Tuned on the
#: generated world and the development sample: the same top 10 as the global iteration.
PUSH_EPS = 1e-6
#: More segments than this and all but the first are merged when saving.
MAX_SEGMENTS = 8
_PARTS = ("p_indptr", "p_cols", "e_indptr", "e_rows")


def passage_keys(title: str, text: str) -> list[str]:
    """The entity keys a passage links to: its title's and those named in its text."""
    keys = {normalize_entity(name) for name in [title, *extract_entities(text)] if name}
    keys.discard("")
    return sorted(keys)


@dataclass
class GraphSegment:
    """The edges of passages ``row0 .. row0 + rows - 1``, both ways: passage ``row0 + i``
    mentions ``p_cols[p_indptr[i]:p_indptr[i + 1]]``; entity ``e`` (below
    ``len(e_indptr) - 1``) is mentioned by ``e_rows[e_indptr[e]:e_indptr[e + 1]]``."""

    sid: int
    row0: int
    p_indptr: np.ndarray
    p_cols: np.ndarray
    e_indptr: np.ndarray
    e_rows: np.ndarray

    @property
    def rows(self) -> int:
        """Number of passages in the segment."""
        return len(self.p_indptr) - 1


def _segment(sid: int, row0: int, p_indptr: np.ndarray, p_cols: np.ndarray,
             n_entities: int) -> GraphSegment:
    rows = len(p_indptr) - 1
    local = np.repeat(np.arange(rows, dtype=np.int64), np.diff(p_indptr))
    order = np.lexsort((local, p_cols))
    e_indptr = np.zeros(n_entities + 1, np.int64)
    np.cumsum(np.bincount(p_cols, minlength=n_entities), out=e_indptr[1:])
    return GraphSegment(sid, row0, p_indptr.astype(np.int64), p_cols.astype(np.int32),
                        e_indptr, (local[order] + row0).astype(np.int32))


def _hub_factor(degree: np.ndarray) -> np.ndarray:
    return np.minimum(1.0, HUB_DEGREE / np.maximum(np.asarray(degree, dtype=np.float64), 1.0))


class CorpusGraph:
    """Passages and the entities they mention, as a bipartite graph with PPR reranking.

    ``passage_ids`` and ``entities`` (normalised names) give the row and column order
    of the passage x entity incidence matrix; node ``i < len(passage_ids)`` is a passage,
    node ``len(passage_ids) + j`` the entity ``entities[j]``.
    """

    def __init__(self) -> None:
        self.passage_ids = StringTable()
        self.entities = StringTable()
        self._pdeg = np.zeros(0, np.int32)
        self._edeg = np.zeros(0, np.int32)
        # Sum of the hub factors of each entity's passages: the denominator of the
        # entity -> passage transition (a passage's factor never changes once added).
        self._efsum = np.zeros(0, np.float64)
        self._segs: LazySegments[GraphSegment] = LazySegments()
        self._next_sid = 0
        self._operator: PageRankOperator | None = None
        self._saved: tuple[Path, dict[str, Any]] | None = None

    @property
    def _segments(self) -> list[GraphSegment]:
        return self._segs.all()

    def complete(self) -> None:
        """Read the segments not read yet (a damaged one raises :class:`IndexCorruptError`)."""
        self._segs.all()

    @classmethod
    def build(cls, passages: Iterable[tuple[str, str, str]]) -> CorpusGraph:
        """Build the graph from ``(passage id, title, text)`` triples."""
        graph = cls()
        graph.add(passages)
        return graph

    def add(self, passages: Iterable[tuple[str, str, str]]) -> int:
        """Add passages (ids already in the graph are skipped) as a new segment; returns
        how many were new."""
        batch: dict[str, tuple[str, str]] = {}
        for pid, title, text in passages:
            batch.setdefault(pid, (title, text))
        known = self.passage_ids.find(list(batch))
        ids = [pid for pid, row in zip(batch, known.tolist()) if row < 0]
        if not ids:
            return 0
        keys_of = [passage_keys(*batch[pid]) for pid in ids]
        lengths = [len(keys) for keys in keys_of]
        # Entity columns: the known entities' from the table, new ones numbered in the
        # order first seen (as one build over all passages numbers them).
        col_of = self.entities.intern([key for keys in keys_of for key in keys])
        cols = [col_of[key] for keys in keys_of for key in keys]
        row0 = len(self.passage_ids)
        self.passage_ids.extend(ids)
        p_indptr = np.zeros(len(ids) + 1, np.int64)
        np.cumsum(lengths, out=p_indptr[1:])
        p_cols = np.asarray(cols, dtype=np.int64)
        seg = _segment(self._next_sid, row0, p_indptr, p_cols, len(self.entities))
        self._next_sid += 1
        self._segs.append(seg)
        new_pdeg = np.asarray(lengths, dtype=np.int32)
        self._pdeg = np.concatenate([self._pdeg, new_pdeg])
        n_ent = len(self.entities)
        edeg = np.zeros(n_ent, np.int32)
        edeg[: len(self._edeg)] = self._edeg
        edeg += np.bincount(p_cols, minlength=n_ent).astype(np.int32)
        efsum = np.zeros(n_ent, np.float64)
        efsum[: len(self._efsum)] = self._efsum
        efsum += np.bincount(p_cols, weights=np.repeat(_hub_factor(new_pdeg), lengths),
                             minlength=n_ent)
        self._edeg, self._efsum = edeg, efsum
        self._operator = None
        return len(ids)

    def __len__(self) -> int:
        """Number of passages in the graph."""
        return len(self.passage_ids)

    def clone(self) -> CorpusGraph:
        """A copy to extend while queries go on in this one (arrays are shared: they are
        replaced, never written in place)."""
        other = CorpusGraph.__new__(CorpusGraph)
        other.__dict__.update(self.__dict__)
        other.passage_ids, other.entities = self.passage_ids.clone(), self.entities.clone()
        other._segs = self._segs.copy()
        other._operator = None
        return other

    # ---- persistence ---------------------------------------------------------------

    def save(self, directory: str | Path) -> None:
        """Write the graph to ``directory``: only what is new when the folder holds what this
        graph was loaded from, everything otherwise. Concurrent writers hold
        :meth:`IndexFolder.lock` around load, add and save."""
        folder = IndexFolder(directory, KIND, VERSION)
        try:
            current = folder.read_manifest()
        except IndexCorruptError:
            current = None
        base = self._saved[1] if self._saved and self._saved[0] == Path(directory) else None
        if current is None or base is None or current.get("generation") != base.get("generation"):
            folder.clear()
            base, current = {"columns": {}, "rows": 0, "entities": 0, "segments": [],
                             "generation": 0, "tables": {}}, None
        folder.path.mkdir(parents=True, exist_ok=True)
        columns = dict(base["columns"])
        gen = int(base["generation"]) + 1
        tables = {name: getattr(self, name).save(folder, columns, name, base["tables"].get(name), gen)
                  for name in ("passage_ids", "entities")}
        folder.append(columns, "pdeg", self._pdeg[base["rows"]:])
        folder.write(columns, "edeg", self._edeg, gen)
        folder.write(columns, "efsum", self._efsum, gen)
        saved = {s["sid"] for s in base["segments"]}
        if not saved or len(self._segs) > MAX_SEGMENTS:
            if len(self._segments) > MAX_SEGMENTS:  # all written, or some merged: read them
                self._merge_tail()
        for seg in self._segs.in_memory():
            if seg.sid not in saved:
                for part in _PARTS:
                    folder.write(columns, f"seg{seg.sid}.{part}", getattr(seg, part), gen)
        entries = self._segs.entries(lambda seg: {"sid": seg.sid, "row0": seg.row0, "rows": seg.rows})
        live = {f"seg{e['sid']}." for e in entries}
        columns = {k: v for k, v in columns.items()
                   if not k.startswith("seg") or k[: k.index(".") + 1] in live}
        manifest = {"generation": gen, "rows": len(self.passage_ids),
                    "entities": len(self.entities), "next_segment": self._next_sid,
                    "segments": entries, "columns": columns, "tables": tables}
        folder.commit(manifest, previous=current)
        self._saved = (Path(directory), manifest)

    def merge_segments(self) -> bool:
        """Merge every segment into one, as if the graph were built at once (a store's
        compaction); False when there was nothing to merge."""
        if len(self._segs) < 2:
            return False
        self._merge_tail(first=0)
        self.passage_ids.compact()
        self.entities.compact()
        return True

    def _merge_tail(self, first: int = 1) -> None:
        """Merge every segment from ``first`` on into one (they are consecutive rows)."""
        tail = self._segments[first:]
        indptrs, cols = [], []
        offset = 0
        for seg in tail:
            indptrs.append(np.asarray(seg.p_indptr[1:]) + offset if indptrs else np.asarray(seg.p_indptr))
            offset += int(seg.p_indptr[-1])
            cols.append(np.asarray(seg.p_cols))
        merged = _segment(self._next_sid, tail[0].row0, np.concatenate(indptrs),
                          np.concatenate(cols).astype(np.int64), len(self.entities))
        self._next_sid += 1
        self._segs.replace([*self._segments[:first], merged])
        self._operator = None

    @classmethod
    def load(cls, directory: str | Path, *, lazy: bool = False) -> CorpusGraph:
        """Read a graph written by :meth:`save` (columns memory-mapped). A missing graph is
        ``StoreNotFoundError``; a damaged one :class:`IndexCorruptError`. ``lazy``: read the
        segments only when first needed (an append does not need them; :meth:`complete`
        reads them and checks them)."""
        folder = IndexFolder(directory, KIND, VERSION)
        manifest = folder.read_manifest()
        if manifest is None:
            raise StoreNotFoundError(
                f"no corpus graph in {folder.path}: build one with CorpusGraph.build(...) and "
                "save it there (re-ingesting the corpus does this)"
            )
        graph = cls()
        graph.passage_ids = StringTable.load(folder, manifest, "passage_ids")
        graph.entities = StringTable.load(folder, manifest, "entities")
        graph._pdeg = folder.column(manifest, "pdeg")
        graph._edeg = folder.column(manifest, "edeg")
        graph._efsum = folder.column(manifest, "efsum")

        def read(entry: dict[str, Any]) -> GraphSegment:
            sid = entry["sid"]
            segment = GraphSegment(sid, int(entry["row0"]),
                                   *(folder.column(manifest, f"seg{sid}.{p}") for p in _PARTS))
            if segment.rows != int(entry["rows"]):
                raise IndexCorruptError(f"{folder.path}: segment {sid} disagrees with the manifest")
            return segment

        graph._segs = LazySegments(manifest["segments"], read)
        sizes = (len(graph.passage_ids), len(graph._pdeg), len(graph.entities),
                 len(graph._edeg), len(graph._efsum))
        want = (manifest["rows"],) * 2 + (manifest["entities"],) * 3
        if sizes != want or sum(int(e["rows"]) for e in manifest["segments"]) != manifest["rows"]:
            raise IndexCorruptError(f"{folder.path}: the columns disagree with the manifest")
        if not lazy:
            graph.complete()
        graph._next_sid = int(manifest["next_segment"])
        graph._saved = (Path(directory), manifest)
        return graph

    # ---- the graph as forward push sees it -----------------------------------------

    @property
    def size(self) -> int:
        """Number of nodes: passages, then entities."""
        return len(self.passage_ids) + len(self.entities)

    def degrees(self, nodes: np.ndarray) -> np.ndarray:
        """Number of neighbours of each node."""
        n_p = len(self.passage_ids)
        is_p = nodes < n_p
        out = np.empty(len(nodes), np.int64)
        out[is_p] = self._pdeg[nodes[is_p]]
        out[~is_p] = self._edeg[nodes[~is_p] - n_p]
        return out

    def spread(self, nodes: np.ndarray, mass: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Split each node's ``mass`` over its neighbours by the hub-dampened transition:
        passage -> entity in proportion to the entity's hub factor, entity -> passage in
        proportion to the passage's."""
        n_p = len(self.passage_ids)
        targets: list[np.ndarray] = []
        amounts: list[np.ndarray] = []
        is_p = nodes < n_p
        rows, row_mass = nodes[is_p], mass[is_p]
        ents, ent_mass = nodes[~is_p] - n_p, mass[~is_p]
        for seg in self._segments:
            if rows.size:
                inside = (rows >= seg.row0) & (rows < seg.row0 + seg.rows)
                local = rows[inside] - seg.row0
                if local.size:
                    starts = np.asarray(seg.p_indptr[local])
                    lengths = np.asarray(seg.p_indptr[local + 1]) - starts
                    keep = lengths > 0
                    starts, lengths, share = starts[keep], lengths[keep], row_mass[inside][keep]
                    cols = np.asarray(seg.p_cols[multi_arange(starts, lengths)])
                    factor = _hub_factor(self._edeg[cols])
                    sums = np.add.reduceat(factor, np.cumsum(lengths) - lengths) if cols.size else factor
                    targets.append(cols.astype(np.int64) + n_p)
                    amounts.append(factor * np.repeat(share / sums, lengths))
            if ents.size:
                inside = ents < len(seg.e_indptr) - 1
                local = ents[inside]
                if local.size:
                    starts = np.asarray(seg.e_indptr[local])
                    lengths = np.asarray(seg.e_indptr[local + 1]) - starts
                    prow = np.asarray(seg.e_rows[multi_arange(starts, lengths)]).astype(np.int64)
                    factor = _hub_factor(self._pdeg[prow])
                    share = ent_mass[inside] / np.asarray(self._efsum[local])
                    targets.append(prow)
                    amounts.append(factor * np.repeat(share, lengths))
        if not targets:
            return np.zeros(0, np.int64), np.zeros(0)
        return np.concatenate(targets), np.concatenate(amounts)

    # ---- retrieval -----------------------------------------------------------------

    def _incidence(self) -> sp.csr_matrix:
        indptrs, cols, offset = [np.zeros(1, np.int64)], [], 0
        for seg in self._segments:
            indptrs.append(np.asarray(seg.p_indptr[1:]) + offset)
            offset += int(seg.p_indptr[-1])
            cols.append(np.asarray(seg.p_cols))
        indptr = np.concatenate(indptrs)
        col = np.concatenate(cols) if cols else np.zeros(0, np.int32)
        return sp.csr_matrix((np.ones(len(col), np.float32), col, indptr),
                             shape=(len(self.passage_ids), len(self.entities)))

    def _operator_for_graph(self) -> PageRankOperator:
        if self._operator is None:
            incidence = self._incidence()
            adjacency = sp.bmat([[None, incidence], [incidence.T, None]], format="csr")
            self._operator = PageRankOperator(hub_dampened(adjacency, HUB_DEGREE))
        return self._operator

    def entity_frequency(self, key: str) -> int:
        """How many passages mention the entity with normalised name ``key`` (0 if none)."""
        col = int(self.entities.find([key])[0])
        return 0 if col < 0 else int(self._edeg[col])

    def query_entities(self, query: str) -> list[str]:
        """The entity keys of ``query`` that occur in the corpus graph."""
        keys = list(dict.fromkeys(normalize_entity(name) for name in extract_entities(query)))
        return [key for key, col in zip(keys, self.entities.find(keys).tolist()) if col >= 0]

    def seeds(self, query: str, fused: Sequence[tuple[str, float]]) -> tuple[np.ndarray, np.ndarray]:
        """Restart nodes and weights: the query's entities and the top fused candidate at
        full weight, every fused candidate at 0.05 x its max-normalised score."""
        n_passages = len(self.passage_ids)
        weights: dict[int, float] = {}
        keys = list(dict.fromkeys(normalize_entity(name) for name in extract_entities(query)))
        for col in self.entities.find(keys).tolist():
            if col >= 0:
                weights[n_passages + col] = ANCHOR_SEED_WEIGHT
        rows = self.passage_ids.find([pid for pid, _ in fused]).tolist()
        known = [(row, score) for row, (_, score) in zip(rows, fused) if row >= 0]
        top = max((score for _, score in known), default=0.0)
        for row, score in known:
            if top > 0 and score > 0:
                weights[row] = weights.get(row, 0.0) + PASSAGE_SEED_WEIGHT * score / top
        if known:
            weights[known[0][0]] = weights.get(known[0][0], 0.0) + ANCHOR_SEED_WEIGHT
        nodes = np.fromiter(weights, dtype=np.int64, count=len(weights))
        return nodes, np.fromiter(weights.values(), dtype=np.float64, count=len(weights))

    def passage_scores(self, query: str, fused: Sequence[tuple[str, float]]) -> np.ndarray:
        """Exact (global power iteration) PPR score of every passage, aligned with
        :attr:`passage_ids`: the reference that :meth:`local_scores` approximates."""
        n_passages = len(self.passage_ids)
        if n_passages == 0:
            return np.zeros(0)
        nodes, weights = self.seeds(query, fused)
        if not nodes.size:
            return np.zeros(n_passages)
        restart = np.zeros(self.size)
        restart[nodes] = weights
        return self._operator_for_graph().run(restart, damping=DAMPING, tol=_TOL)[:n_passages]

    def local_scores(self, query: str, fused: Sequence[tuple[str, float]], *,
                     eps: float = PUSH_EPS) -> tuple[np.ndarray, np.ndarray]:
        """Local (forward push) PPR of the passages near the seeds: ``(rows, scores)``;
        every passage not listed scores (about) zero."""
        nodes, weights = self.seeds(query, fused)
        if not nodes.size:
            return np.zeros(0, np.int64), np.zeros(0)
        found, scores = forward_push(self, nodes, weights, damping=DAMPING, eps=eps)
        is_passage = found < len(self.passage_ids)
        return found[is_passage], scores[is_passage]

    def rerank(
        self, query: str, fused: Sequence[tuple[str, float]], *, k: int = 5, keep_top: int = 3,
        exact: bool = False,
    ) -> list[tuple[str, float]]:
        """The first ``keep_top`` fused passages, then the passages with the most PPR mass
        that are not among them (from the whole corpus), ``k`` in all.

        ``fused`` is a best-first ``(passage id, score)`` list. Scores decrease along the
        result: a kept passage scores 1 + its max-normalised fused score, a graph pick its
        PPR score relative to the best passage's (at most 1). ``exact`` uses the global
        power iteration instead of local push (the reference, O(corpus) a query).
        """
        if k <= 0:
            return []
        kept = list(dict.fromkeys(pid for pid, _ in fused))[: min(keep_top, k)]
        top = max((score for _, score in fused), default=0.0)
        fused_score = {pid: score for pid, score in reversed(fused)}
        result = [(pid, 1.0 + (fused_score[pid] / top if top > 0 else 0.0)) for pid in kept]
        if exact:
            scores = self.passage_scores(query, fused)
            rows = np.arange(len(scores))
        else:
            rows, scores = self.local_scores(query, fused)
        taken = set(kept)
        best = scores.max() if scores.size else 0.0
        if best > 0:
            want = min(len(scores), k + len(taken))
            head = np.argpartition(-scores, want - 1)[:want]
            # Ties go to the earlier passage, as a stable sort of all passages would.
            head = head[np.lexsort((rows[head], -scores[head]))]
            for i, pid in zip(head.tolist(), self.passage_ids.take(rows[head])):
                if len(result) >= k or scores[i] <= 0:
                    break
                if pid not in taken:
                    taken.add(pid)
                    result.append((pid, float(scores[i] / best)))
        # Fused candidates outside the graph (or no PPR mass at all): fill from fused.
        for pid, _ in fused:
            if len(result) >= k:
                break
            if pid not in taken:
                taken.add(pid)
                result.append((pid, 0.0))
        return result

