"""The memory graph of one research run: questions, sub-questions, passages, facts and
entities as nodes of a typed networkx graph, searched by dense similarity plus
Personalized PageRank (HippoRAG 2 / GAAMA style).

Node ids carry their type as a prefix: ``q:<id>``, ``sq:<id>``, ``p:<passage id>``,
``f:<n>``, ``e:<normalized name>``. Edges are keyed by their type, so adding the same
edge twice is a no-op.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from agentflow.embed.base import Embedder
from agentflow.memory.entities import extract_entities, normalize_entity
from agentflow.memory.ppr import PageRankOperator, hub_dampened
from agentflow.records import Passage, SearchHit

__all__ = ["EDGE_TYPES", "NODE_TYPES", "MemoryGraph"]

NODE_TYPES = ("question", "subquestion", "passage", "fact", "entity")
EDGE_TYPES = (
    "decomposes", "depends_on", "retrieved_for", "supports", "mentions", "answers",
    "contradicts", "synonym",
)
_FORMAT = "agentflow.memory"
_VERSION = 1

# Edge weights for PPR (edges count as undirected there). The knowledge edges carry
# the walk; the bookkeeping edges (which passage was retrieved for which
# sub-question) only hint that passages belong together.
_PPR_WEIGHTS = {
    "mentions": 1.0, "supports": 1.0, "answers": 1.0, "synonym": 1.0, "contradicts": 0.5,
    "retrieved_for": 0.25, "decomposes": 0.25, "depends_on": 0.25,
}
DAMPING = 0.5
#: HippoRAG 2 seeds every passage with this share of its dense score.
PASSAGE_SEED_WEIGHT = 0.05
#: GAAMA: final score = cosine + PPR_WEIGHT * normalised PPR.
PPR_WEIGHT = 0.1
HUB_DEGREE = 50

_TOKEN = re.compile(r"\w+")
_LEXICAL_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a an the of in on at to for from by with and or is are was were be been who what which "
        "when where why how did does do that this it its as his her their",
    )
)


def _tokens(text: str) -> set[str]:
    return {t for t in _TOKEN.findall(text.casefold()) if t not in _LEXICAL_STOPWORDS}


def _sq(sub_question_id: str) -> str:
    return sub_question_id if sub_question_id.startswith("sq:") else f"sq:{sub_question_id}"


def _fact_key(passage_id: str, text: str) -> tuple[str, str]:
    # The same claim with other spacing or case is the same fact.
    return passage_id, " ".join(text.split()).casefold()


def _initials(key: str) -> str:
    words = [w for w in key.split() if w not in ("of", "the", "and", "de", "for")]
    return "".join(w[0] for w in words) if len(words) > 1 else ""


class MemoryGraph:
    """What a run has learned, as a typed graph with dense + PPR search over its passages.

    ``embedder`` scores passages against queries; without one, search falls back to
    word overlap. Passage embeddings live in a side cache, never in the graph.
    """

    def __init__(self, embedder: Embedder | None = None) -> None:
        self.embedder = embedder
        self._graph = nx.MultiDiGraph()
        self._embeddings: dict[str, np.ndarray] = {}
        self._fact_keys: dict[tuple[str, str], str] = {}
        self._next_fact = 1
        self._new_nodes: list[dict[str, Any]] = []
        self._new_edges: list[list[str]] = []
        self._operator: PageRankOperator | None = None
        self._index: dict[str, int] = {}

    # ---- writing -------------------------------------------------------------------

    @property
    def nx_graph(self) -> nx.MultiDiGraph:
        """The underlying networkx graph; read it, write through the methods."""
        return self._graph

    def _add_node(self, node_id: str, node_type: str, **attrs: Any) -> bool:
        if node_id in self._graph:
            # Fill in what a placeholder node lacked (e.g. text of an early reference).
            node = self._graph.nodes[node_id]
            for name, value in attrs.items():
                if value not in (None, "") and not node.get(name):
                    node[name] = value
            return False
        self._graph.add_node(node_id, type=node_type, **attrs)
        logged = {"id": node_id, "type": node_type}
        # Passage text is recorded with the search that found it, not again here.
        logged.update({k: v for k, v in attrs.items() if node_type != "passage" or k != "text"})
        self._new_nodes.append(logged)
        self._operator = None
        return True

    def _add_edge(self, source: str, target: str, edge_type: str, **attrs: Any) -> bool:
        if self._graph.has_edge(source, target, key=edge_type):
            self._graph.edges[source, target, edge_type].update(attrs)
            return False
        self._graph.add_edge(source, target, key=edge_type, type=edge_type, **attrs)
        self._new_edges.append([source, target, edge_type])
        self._operator = None
        return True

    def add_question(self, qid: str, text: str) -> str:
        """Add the user's question; returns its node id ``q:<qid>``."""
        node = f"q:{qid}"
        self._add_node(node, "question", text=text)
        return node

    def add_subquestion(
        self, sqid: str, text: str, *, question_id: str, depends_on: Iterable[str] = ()
    ) -> str:
        """Add a sub-question of ``question_id`` that needs the answers of ``depends_on``
        first; missing referenced nodes are created empty. Returns ``sq:<sqid>``."""
        node = _sq(sqid)
        self._add_node(node, "subquestion", text=text, answer=None)
        question = f"q:{question_id}"
        self._add_node(question, "question", text="")
        self._add_edge(question, node, "decomposes")
        for earlier in depends_on:
            self._add_node(_sq(earlier), "subquestion", text="", answer=None)
            self._add_edge(node, _sq(earlier), "depends_on")
        return node

    def set_answer(self, sub_question_id: str, answer: str) -> None:
        """Record the answer found for a sub-question (shown to later sub-questions)."""
        node = _sq(sub_question_id)
        if node not in self._graph:
            raise KeyError(
                f"no sub-question {sub_question_id!r} in memory: add it with add_subquestion first"
            )
        self._graph.nodes[node]["answer"] = answer

    def add_passage(
        self,
        passage: Passage | SearchHit,
        *,
        retrieved_for: str | None = None,
        score: float | None = None,
    ) -> bool:
        """Add a retrieved passage and link it to the entities it mentions (its title is
        one); ``retrieved_for`` names the sub-question it was found for. True when new."""
        node = f"p:{passage.id}"
        if score is None and isinstance(passage, SearchHit):
            score = passage.score
        chunk = passage.chunk if isinstance(passage, Passage) else 0
        is_new = self._add_node(
            node, "passage",
            title=passage.title, text=passage.text, source=passage.source, chunk=chunk,
        )
        if is_new:
            names = ([passage.title] if passage.title else []) + extract_entities(passage.text)
            self._link_entities(node, names)
        if retrieved_for is not None:
            target = _sq(retrieved_for)
            self._add_node(target, "subquestion", text="", answer=None)
            edge = (node, target, "retrieved_for")
            previous = self._graph.edges[edge].get("score") if self._graph.has_edge(*edge) else None
            scores = [s for s in (previous, score) if s is not None]
            self._add_edge(node, target, "retrieved_for", score=max(scores) if scores else None)
        return is_new

    def _link_entities(self, node: str, names: Iterable[str]) -> None:
        for name in names:
            key = normalize_entity(name)
            if key:
                self._add_node(f"e:{key}", "entity", name=name)
                self._add_edge(node, f"e:{key}", "mentions")

    def add_fact(
        self,
        text: str,
        *,
        source_passage_id: str,
        sub_question_id: str | None = None,
        answers: bool = False,
    ) -> str:
        """Add a fact read from a passage in memory (provenance: a ``supports`` edge from
        it); ``answers=True`` links it as an answer to the sub-question. Identical text
        from the same passage returns the existing fact id."""
        passage = f"p:{source_passage_id}"
        if passage not in self._graph:
            raise KeyError(
                f"passage {source_passage_id!r} is not in memory: add it with add_passage before "
                "recording facts read from it"
            )
        dedup_key = _fact_key(source_passage_id, text)
        fact = self._fact_keys.get(dedup_key)
        if fact is None:
            fact = f"f:{self._next_fact}"
            self._next_fact += 1
            self._fact_keys[dedup_key] = fact
            self._add_node(
                fact, "fact", text=text, source=source_passage_id, sub_question=sub_question_id
            )
            self._add_edge(passage, fact, "supports")
            self._link_entities(fact, extract_entities(text))
        if sub_question_id is not None:
            if not self._graph.nodes[fact].get("sub_question"):
                self._graph.nodes[fact]["sub_question"] = sub_question_id
            if answers:
                target = _sq(sub_question_id)
                self._add_node(target, "subquestion", text="", answer=None)
                self._add_edge(fact, target, "answers")
        return fact

    def mark_contradiction(self, fact_a: str, fact_b: str) -> None:
        """Record that two facts contradict each other (an edge each way)."""
        for fact in (fact_a, fact_b):
            if self._graph.nodes.get(fact, {}).get("type") != "fact":
                raise KeyError(f"no fact {fact!r} in memory")
        self._add_edge(fact_a, fact_b, "contradicts")
        self._add_edge(fact_b, fact_a, "contradicts")

    def add_synonyms(self, threshold: float = 0.8) -> int:
        """Link entities with near-identical names: word-set Jaccard >= ``threshold``, or
        one is the other's acronym ("fbi" / "federal bureau of investigation").
        Returns how many new pairs were linked."""
        keys = [n[2:] for n, d in self._graph.nodes(data="type") if d == "entity"]
        by_word: dict[str, list[str]] = {}
        by_initials: dict[str, list[str]] = {}
        for key in keys:
            for word in set(key.split()):
                by_word.setdefault(word, []).append(key)
            if initials := _initials(key):
                by_initials.setdefault(initials, []).append(key)
        pairs: set[tuple[str, str]] = set()
        for key in keys:
            words = set(key.split())
            for other in {o for w in words for o in by_word[w] if o > key}:
                other_words = set(other.split())
                if len(words & other_words) / len(words | other_words) >= threshold:
                    pairs.add((key, other))
            if " " not in key:
                pairs.update(tuple(sorted((key, long))) for long in by_initials.get(key, ()))
        added = 0
        for a, b in sorted(pairs):
            added += self._add_edge(f"e:{a}", f"e:{b}", "synonym")
            self._add_edge(f"e:{b}", f"e:{a}", "synonym")
        return added

    # ---- reading -------------------------------------------------------------------

    def has_passage(self, passage_id: str) -> bool:
        """True when the passage is in memory."""
        return f"p:{passage_id}" in self._graph

    def passage(self, passage_id: str) -> Passage | None:
        """The passage with this id, or None when it is not in memory."""
        data = self._graph.nodes.get(f"p:{passage_id}")
        if data is None:
            return None
        return Passage(
            id=passage_id, title=data.get("title", ""), text=data.get("text", ""),
            source=data.get("source", ""), chunk=data.get("chunk", 0),
        )

    def passage_ids(self) -> list[str]:
        """Ids of the passages in memory, in the order they were added."""
        return [n[2:] for n, t in self._graph.nodes(data="type") if t == "passage"]

    def _neighbours(self, node: str, edge_type: str, *, incoming: bool = False) -> list[str]:
        if node not in self._graph:
            return []
        if incoming:
            return [s for s, _, k in self._graph.in_edges(node, keys=True) if k == edge_type]
        return [t for _, t, k in self._graph.out_edges(node, keys=True) if k == edge_type]

    def _fact_record(self, fact: str) -> dict[str, Any]:
        data = self._graph.nodes[fact]
        return {
            "id": fact, "text": data["text"], "source": data["source"],
            "sub_question": data.get("sub_question"),
            "answers": [sq[3:] for sq in self._neighbours(fact, "answers")],
        }

    def facts_for(self, sub_question_id: str) -> list[dict[str, Any]]:
        """Facts recorded for or answering a sub-question: dicts with ``id``, ``text``,
        ``source`` (passage id), ``sub_question`` and ``answers`` (sub-question ids)."""
        node = _sq(sub_question_id)
        answering = set(self._neighbours(node, "answers", incoming=True))
        return [
            self._fact_record(n)
            for n, d in self._graph.nodes(data=True)
            if d["type"] == "fact" and (n in answering or d.get("sub_question") in (node[3:], node))
        ]

    def facts_from(self, passage_id: str) -> list[dict[str, Any]]:
        """Facts read from a passage (its ``supports`` edges), as in :meth:`facts_for`."""
        return [self._fact_record(f) for f in self._neighbours(f"p:{passage_id}", "supports")]

    def subquestions(self) -> list[dict[str, Any]]:
        """Every sub-question: dicts with ``id``, ``text``, ``answer`` (None until known)
        and ``depends_on`` (ids), in the order they were added."""
        return [
            {
                "id": node[3:], "text": data.get("text", ""), "answer": data.get("answer"),
                "depends_on": [sq[3:] for sq in self._neighbours(node, "depends_on")],
            }
            for node, data in self._graph.nodes(data=True)
            if data["type"] == "subquestion"
        ]

    def stats(self) -> dict[str, Any]:
        """Counts of nodes by type and edges by type, plus totals."""
        nodes = Counter(t for _, t in self._graph.nodes(data="type"))
        edges = Counter(k for _, _, k in self._graph.edges(keys=True))
        return {
            "nodes": {t: nodes.get(t, 0) for t in NODE_TYPES},
            "edges": {t: edges.get(t, 0) for t in EDGE_TYPES},
            "total_nodes": self._graph.number_of_nodes(),
            "total_edges": self._graph.number_of_edges(),
        }

    # ---- search --------------------------------------------------------------------

    def _operator_for_graph(self) -> PageRankOperator:
        # Rebuilt lazily: every write drops the cached operator.
        if self._operator is None:
            self._index = {node: i for i, node in enumerate(self._graph.nodes)}
            rows, cols, weights = [], [], []
            for u, v, kind in self._graph.edges(keys=True):
                i, j, w = self._index[u], self._index[v], _PPR_WEIGHTS[kind]
                rows += (i, j)
                cols += (j, i)
                weights += (w, w)
            size = len(self._index)
            adjacency = sp.csr_matrix((weights, (rows, cols)), shape=(size, size), dtype=np.float64)
            self._operator = PageRankOperator(hub_dampened(adjacency, HUB_DEGREE))
        return self._operator

    def ppr_scores(self, seeds: dict[str, float]) -> dict[str, float]:
        """Personalized PageRank (damping 0.5) over the whole graph from ``seeds`` (node id
        -> weight; unknown ids are ignored). Returns the non-zero scores by node id."""
        operator = self._operator_for_graph()
        restart = np.zeros(operator.size)
        for node, weight in seeds.items():
            if node in self._index and weight > 0:
                restart[self._index[node]] += weight
        if not restart.any():
            return {}
        scores = operator.run(restart, damping=DAMPING)
        nodes = list(self._index)
        return {nodes[i]: float(scores[i]) for i in np.flatnonzero(scores)}

    def _dense_scores(self, query: str, passage_ids: list[str]) -> np.ndarray:
        if self.embedder is None:
            wanted = _tokens(query)
            if not wanted:
                return np.zeros(len(passage_ids))
            return np.array([
                len(wanted & _tokens(f"{node['title']} {node['text']}")) / len(wanted)
                for node in (self._graph.nodes[f"p:{pid}"] for pid in passage_ids)
            ])
        missing = [pid for pid in passage_ids if pid not in self._embeddings]
        if missing:
            nodes = (self._graph.nodes[f"p:{pid}"] for pid in missing)
            texts = [f"{n['title']}\n{n['text']}" if n["title"] else n["text"] for n in nodes]
            for pid, vector in zip(missing, self.embedder.embed(texts), strict=True):
                self._embeddings[pid] = vector
        matrix = np.stack([self._embeddings[pid] for pid in passage_ids])
        return matrix @ self.embedder.embed_query(query)

    def add_embeddings(self, vectors: dict[str, Any], *, embedder_name: str) -> None:
        """Take passage embeddings made elsewhere (the corpus store's, by the same
        embedder) so :meth:`search` does not embed those passages again."""
        if self.embedder is None or self.embedder.name != embedder_name:
            return
        for pid, vector in vectors.items():
            if f"p:{pid}" in self._graph and pid not in self._embeddings:
                self._embeddings[pid] = np.asarray(vector, dtype=np.float32)

    def search(
        self, query: str, *, k: int = 5, query_entities: list[str] | None = None
    ) -> list[tuple[str, float]]:
        """Passages in memory ranked by ``cosine + 0.1 * PPR / max PPR`` (best first).

        PPR is seeded from the query's entities (extracted from ``query`` plus
        ``query_entities``) that are in memory, and from every passage at 0.05 x its
        dense score. Without an embedder, word overlap stands in for the cosine.
        """
        passage_ids = self.passage_ids()
        if not passage_ids or k <= 0:
            return []
        dense = self._dense_scores(query, passage_ids)
        seeds: dict[str, float] = {}
        for name in [*(query_entities or []), *extract_entities(query)]:
            key = normalize_entity(name)
            if key and f"e:{key}" in self._graph:
                seeds[f"e:{key}"] = 1.0
        for pid, score in zip(passage_ids, dense, strict=True):
            if score > 0:
                seeds[f"p:{pid}"] = PASSAGE_SEED_WEIGHT * float(score)
        ppr = self.ppr_scores(seeds)
        graph_scores = np.array([ppr.get(f"p:{pid}", 0.0) for pid in passage_ids])
        if graph_scores.max() > 0:
            graph_scores /= graph_scores.max()
        final = dense + PPR_WEIGHT * graph_scores
        # Stable sort: equal scores keep the order passages were added in.
        order = np.argsort(-final, kind="stable")[:k]
        return [(passage_ids[i], float(final[i])) for i in order]

    # ---- change log and serialisation --------------------------------------------

    def drain_changes(self) -> dict[str, list[Any]]:
        """Nodes and edges added since the last drain, for the trajectory:
        ``{"nodes": [{"id", "type", ...}], "edges": [[source, target, type], ...]}``."""
        changes = {"nodes": self._new_nodes, "edges": self._new_edges}
        self._new_nodes, self._new_edges = [], []
        return changes

    def to_json(self) -> dict[str, Any]:
        """The graph as JSON-safe networkx node-link data (embeddings are not included)."""
        data = nx.node_link_data(self._graph, edges="edges")
        data["graph"] = {"format": _FORMAT, "version": _VERSION}
        return data

    @property
    def embedding_cache(self) -> dict[str, np.ndarray]:
        """Passage embeddings computed so far, by passage id (pass it to :meth:`from_json`
        to keep them when the graph is rebuilt from state with the same embedder)."""
        return self._embeddings

    @classmethod
    def from_json(
        cls,
        data: dict[str, Any],
        embedder: Embedder | None = None,
        *,
        embedding_cache: dict[str, np.ndarray] | None = None,
    ) -> MemoryGraph:
        """Rebuild a graph saved by :meth:`to_json`. Embeddings are recomputed on demand,
        except those in ``embedding_cache`` (which must come from the same embedder)."""
        info = data.get("graph") or {}
        if info.get("format") != _FORMAT:
            raise ValueError("not a memory graph: expected the output of MemoryGraph.to_json()")
        if info.get("version", 0) > _VERSION:
            raise ValueError(
                f"memory graph version {info['version']} is newer than this agentflow reads "
                f"({_VERSION}): upgrade agentflow"
            )
        memory = cls(embedder)
        if embedding_cache is not None:
            # Shared, not copied: a passage id always names the same text.
            memory._embeddings = embedding_cache
        memory._graph = nx.node_link_graph(data, directed=True, multigraph=True, edges="edges")
        for node, attrs in memory._graph.nodes(data=True):
            if attrs["type"] == "fact":
                memory._fact_keys[_fact_key(attrs["source"], attrs["text"])] = node
                memory._next_fact = max(memory._next_fact, int(node[2:]) + 1)
        return memory
