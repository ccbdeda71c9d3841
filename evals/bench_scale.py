"""Scale benchmark: a generated world of N passages (hashing embedder) ingested into a corpus
store, then searched, at 10^4, 10^5 and (by hand) 10^6 passages.

For each size it prints:

- ingest docs/s of ``CorpusStore.add`` (embedding, Chroma, BM25 and entity graph), and the
  ratio to Chroma's own ``collection.add`` throughput on the same vectors in the same run
  (``ratio`` leaves the embedder's own time out: the same vectors go to both);
- peak RSS of the ingesting process and of a fresh search process, the vectors' size,
  the BM25 index's and the entity graph's size on disk, and the whole store's;
- search p50/p95 for dense, bm25, hybrid and the corpus tool (hybrid + entity-graph PPR),
  and the libraries' own query times (Chroma top-50, bm25s top-50) measured in a separate
  process on the same store, so that ``hybrid / (chroma + bm25s)`` is a ratio within one run;
- optionally (``--batches``) incremental ingest onto the largest store: each batch's seconds
  against adding the same batch to an empty store.

    python -m agentflow.evals.bench_scale                       # 10^4 and 10^5 (CI)
    python -m agentflow.evals.bench_scale --sizes 1000000 --batches 10 --batch-size 10000
    python -m agentflow.evals.bench_scale --sizes 1000000 --parts-only   # no Chroma, ~7 min
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agentflow.embed.base import Embedder
from agentflow.embed.hashing import HashingEmbedder
from agentflow.evals.world import generate_world
from agentflow.records import Passage
from agentflow.store.chroma_store import ChromaCollection
from agentflow.store.corpus import CorpusStore, embedding_text

TOP = 50  # candidates per list, as the corpus tool asks for


class TimedEmbedder(Embedder):
    """The hashing embedder, counting the seconds spent inside ``embed`` (so a ratio to
    Chroma's own add can leave the embedder out: both get the same vectors)."""

    def __init__(self) -> None:
        self._inner = HashingEmbedder()
        self.name, self.dim, self.spec = self._inner.name, self._inner.dim, self._inner.spec
        self.seconds = 0.0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self._inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - started


def peak_rss_mb() -> float:
    """This process's peak resident set size, in MiB. Linux's ``VmHWM`` rather than
    ``ru_maxrss``, which a child started by fork and exec inherits from its parent."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def disk_mb(path: Path) -> float:
    """Bytes under ``path`` (0 when absent), in MiB."""
    if path.is_file():
        return path.stat().st_size / 2**20
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0
    return total / 2**20


def percentiles(values: Sequence[float]) -> tuple[float, float]:
    """Median and 95th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def world_passages(n: int, seed: int, queries: int) -> tuple[list[Passage], list[str]]:
    """The corpus and question texts of the generated world of ``n`` documents."""
    world = generate_world(n_docs=n, n_questions=queries, seed=seed)
    return world.corpus, [q.question for q in world.questions][:queries]


# ---- ingest ------------------------------------------------------------------------


def raw_collection(folder: Path, name: str = "raw") -> Any:
    """A Chroma collection configured as the store's, used directly (the baseline)."""
    import chromadb
    from chromadb.config import Settings

    from agentflow.store.chroma_store import EF_SEARCH

    client = chromadb.PersistentClient(path=str(folder), settings=Settings(anonymized_telemetry=False))
    return client.get_or_create_collection(
        name, embedding_function=None,
        configuration={"hnsw": {"space": "cosine", "ef_search": EF_SEARCH}})


def raw_add(collection: Any, passages: Sequence[Passage], vectors: np.ndarray) -> float:
    """Seconds of Chroma's own ``collection.add`` (batches of its maximum size) of these
    vectors, with the same documents and metadata the store writes."""
    batch = int(collection._client.get_max_batch_size())
    started = time.perf_counter()
    for i in range(0, len(passages), batch):
        chunk = passages[i : i + batch]
        collection.add(ids=[p.id for p in chunk], embeddings=vectors[i : i + batch],
                       documents=[p.text for p in chunk],
                       metadatas=[{"title": p.title, "source": p.source, "chunk": p.chunk}
                                  for p in chunk])
    return time.perf_counter() - started


def _timed(fn: Callable[..., Any], total: list[float]) -> Callable[..., None]:
    """``fn`` that adds its wall time to ``total[0]`` on every call."""
    def timed(*args: Any, **kwargs: Any) -> None:
        t0 = time.perf_counter()
        try:
            fn(*args, **kwargs)
        finally:
            total[0] += time.perf_counter() - t0
    return timed


def timed_add(store_dir: Path, passages: Sequence[Passage],
              store: CorpusStore | None = None) -> dict[str, float]:
    """Add ``passages`` to the store at ``store_dir`` (everything ingest builds, the entity
    graph included) and return wall seconds, the embedder's share, the side indexes' and
    Chroma's own ``add`` calls' (the same vectors into the same collection: Chroma's own
    add throughput measured in place, whatever the collection's size). ``store``: add
    through that open store (a process that keeps its store open, as a server that
    ingests does) instead of opening the folder afresh (a new ``agentflow ingest``)."""
    from agentflow.tools.corpus_search import CorpusSearch

    if store is None:
        store = CorpusStore(store_dir, embedder=TimedEmbedder())
    embedder = store.embedder
    assert isinstance(embedder, TimedEmbedder)
    embedded_before = embedder.seconds
    side, chroma = [0.0], [0.0]
    # Every segment's add (the store adds to its base or to a delta collection).
    real_add = ChromaCollection.add
    ChromaCollection.add = _timed(real_add, chroma)  # type: ignore[method-assign]
    real_update = store.update_indexes
    store.update_indexes = _timed(real_update, side)  # type: ignore[method-assign]
    try:
        started = time.perf_counter()
        store.add(list(passages))
        # The corpus tool's first use brings the entity graph up to date (built at ingest
        # where the store does that already): part of what ingesting costs.
        CorpusSearch(store)
        seconds = time.perf_counter() - started
    finally:
        ChromaCollection.add = real_add  # type: ignore[method-assign]
        store.update_indexes = real_update  # type: ignore[method-assign]
    return {"seconds": seconds, "embed_seconds": embedder.seconds - embedded_before,
            "side_seconds": side[0], "chroma_seconds": chroma[0]}


# ---- search (run in a fresh process, for its peak RSS) --------------------------------


#: CPU milliseconds (the whole process's, Chroma's threads included) of each call timed
#: by the last :func:`time_calls`: on a shared, loaded machine a steadier figure than wall time.
LAST_CPU: list[float] = []


def time_calls(call: Callable[[str], Any], queries: Sequence[str]) -> list[float]:
    """Milliseconds of each call, after one warm-up call (CPU times in :data:`LAST_CPU`)."""
    call(queries[0])
    out = []
    LAST_CPU.clear()
    for q in queries:
        started, cpu = time.perf_counter(), time.process_time()
        call(q)
        out.append(1000 * (time.perf_counter() - started))
        LAST_CPU.append(1000 * (time.process_time() - cpu))
    return out


def search_figures(store_dir: Path, queries: Sequence[str]) -> dict[str, Any]:
    """p50/p95 ms of each search mode over a store opened in this process, and peak RSS."""
    from agentflow.tools.corpus_search import CorpusSearch

    started = time.perf_counter()
    store = CorpusStore.open_existing(store_dir)
    tool = CorpusSearch(store)
    out: dict[str, Any] = {"open_s": time.perf_counter() - started}
    calls: dict[str, Callable[[str], Any]] = {
        "dense": lambda q: store.search(q, k=5, mode="dense"),
        "bm25": lambda q: store.search(q, k=5, mode="bm25"),
        "hybrid": lambda q: store.search(q, k=5, mode="hybrid"),
        "corpus": lambda q: tool.search(q, k=5),
    }
    for name, call in calls.items():
        out[name] = percentiles(time_calls(call, queries))
        out[f"{name}_cpu"] = statistics.median(LAST_CPU)
    out["rss_mb"] = peak_rss_mb()
    return out


def library_figures(store_dir: Path, n: int, seed: int, queries: Sequence[str],
                    world: int | None = None) -> dict[str, Any]:
    """p50/p95 ms of the libraries' own top-50 queries on the same data: Chroma's
    ``collection.query`` on the store's collection, and a bm25s index of the same texts."""
    import bm25s
    import chromadb
    import Stemmer
    from chromadb.config import Settings

    client = chromadb.PersistentClient(path=str(store_dir / "chroma"),
                                       settings=Settings(anonymized_telemetry=False))
    collection = client.get_collection("agentflow_corpus")
    embedder = HashingEmbedder()
    chroma = time_calls(lambda q: collection.query(
        query_embeddings=embedder.embed([q]), n_results=TOP, include=["distances"]), queries)
    chroma_cpu = statistics.median(LAST_CPU)
    # The store's first n passages of the world it was built from (n + its increments).
    passages = world_passages(world or n, seed, 0)[0][:n]
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([embedding_text(p) for p in passages], stopwords="en",
                                   stemmer=stemmer, show_progress=False), show_progress=False)
    del passages

    def bm25(q: str) -> Any:
        tokens = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False)
        return retriever.retrieve(tokens, k=TOP, show_progress=False)

    return {"chroma": percentiles(chroma), "bm25s": percentiles(time_calls(bm25, queries)),
            "chroma_cpu": chroma_cpu, "bm25s_cpu": statistics.median(LAST_CPU)}


def parts_figures(n: int, seed: int, n_queries: int) -> dict[str, Any]:
    """The parts of a search that are ours, without Chroma (which takes most of an hour to
    fill at 10^6): p50/p95 ms of our BM25 top-50 and of bm25s's on the same texts, and of the
    corpus graph's rerank of our BM25 top-50, in one process, interleaved per query."""
    import bm25s
    import Stemmer

    from agentflow.memory.corpus_graph import CorpusGraph
    from agentflow.store.bm25_index import BM25Index

    passages, queries = world_passages(n, seed, n_queries)
    texts = [embedding_text(p) for p in passages]
    started = time.perf_counter()
    ours = BM25Index.build([p.id for p in passages], texts)
    out: dict[str, Any] = {"n": n, "bm25_build_s": time.perf_counter() - started}
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
                    show_progress=False)
    del texts
    started = time.perf_counter()
    graph = CorpusGraph.build((p.id, p.title, p.text) for p in passages)
    out["graph_build_s"] = time.perf_counter() - started
    del passages
    pools = {q: ours.search(q, TOP) for q in queries}
    calls: dict[str, Callable[[str], Any]] = {
        "bm25": lambda q: ours.search(q, TOP),
        "bm25s": lambda q: retriever.retrieve(
            bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False),
            k=TOP, show_progress=False),
        "graph_rerank": lambda q: graph.rerank(q, pools[q], k=5),
    }
    wall: dict[str, list[float]] = {name: [] for name in calls}
    cpu: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        call(queries[0])
    for q in queries:
        for name, call in calls.items():
            started, cpu0 = time.perf_counter(), time.process_time()
            call(q)
            wall[name].append(1000 * (time.perf_counter() - started))
            cpu[name].append(1000 * (time.process_time() - cpu0))
    for name in calls:
        out[name] = percentiles(wall[name])
        out[f"{name}_cpu"] = statistics.median(cpu[name])
    return out


def in_subprocess(role: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Run ``role`` (``search`` or ``library``) in a fresh interpreter; its JSON figures."""
    done = subprocess.run(
        [sys.executable, "-m", "agentflow.evals.bench_scale", "--role", role, json.dumps(payload)],
        capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{role} process failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- one size --------------------------------------------------------------------------


def bench_size(n: int, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    """Every figure for one corpus size (see the module docstring)."""
    extra = args.batches * args.batch_size if n == max(args.sizes) else 0
    passages, queries = world_passages(n + extra, args.seed, args.queries)
    bulk, increments = passages[:n], passages[n:]
    started = time.perf_counter()
    vectors = HashingEmbedder().embed([embedding_text(p) for p in bulk])
    embed_rate = n / (time.perf_counter() - started)
    raw = raw_collection(root / f"raw-{n}")
    # --chroma-sample caps the baseline's time: Chroma adds faster to a smaller collection,
    # so a rate measured on a prefix is an upper bound and the ratio a lower bound.
    sample = min(n, args.chroma_sample or n)
    chroma_rate = sample / raw_add(raw, bulk[:sample], vectors[:sample])
    del vectors, raw
    shutil.rmtree(root / f"raw-{n}", ignore_errors=True)
    store_dir = root / f"store-{n}"
    added = timed_add(store_dir, bulk)
    own = added["seconds"] - added["embed_seconds"]
    fig: dict[str, Any] = {
        "n": n,
        "ingest_s": added["seconds"],
        "ingest_docs_s": n / added["seconds"],
        "chroma_docs_s": chroma_rate,
        "chroma_sample": sample,
        "embed_docs_s": embed_rate,
        # Same vectors on both sides: the store's time without its embedder's.
        "ratio": n / own / chroma_rate,
        # Chroma's own add calls inside the store's ingest (same vectors, same collection,
        # whatever its size) against the store's whole time without the embedder.
        "chroma_in_place_s": added["chroma_seconds"],
        "ratio_in_place": added["chroma_seconds"] / own,
        "side_s": added["side_seconds"],
        "ingest_rss_mb": peak_rss_mb(),
        "vectors_mb": n * 384 * 4 / 2**20,
        "bm25_mb": disk_mb(store_dir / "bm25"),
        "graph_mb": disk_mb(store_dir / "graph"),
        "store_mb": disk_mb(store_dir),
    }
    payload = {"store": str(store_dir), "n": n, "seed": args.seed, "queries": queries,
               "world": n + extra}
    if not args.skip_search:
        fig["search"] = in_subprocess("search", payload)
        fig["library"] = in_subprocess("library", payload) if not args.skip_library else None
    if increments and not args.skip_increments:
        fig["increments"] = bench_increments(store_dir, increments, args.batch_size, root,
                                             compact=args.compact, warm=args.warm,
                                             paired=args.paired)
    if not args.keep:
        shutil.rmtree(store_dir, ignore_errors=True)
    return fig


def bench_increments(store_dir: Path, extra: Sequence[Passage], size: int,
                     root: Path, *, compact: bool = False, warm: bool = False,
                     paired: bool = False) -> dict[str, Any]:
    """Seconds of each batch of ``size`` added onto the big store (and its side indexes'
    and Chroma's shares), against the first batch added to an empty store; the same for
    Chroma's own add onto a copy of the big store's own collection and onto an empty one,
    which bounds what the store can do. The store's segments afterwards, and with
    ``compact`` the seconds :meth:`CorpusStore.compact` takes to fold them into one.
    ``warm``: every batch through one store kept open (its indexes loaded once, before
    the first batch and outside the timings), as a serving process that ingests adds;
    otherwise each batch opens the folder afresh, as a new ``agentflow ingest`` does.
    ``paired``: each batch also added to an empty store just before (ratios per batch)."""
    vectors = HashingEmbedder().embed([embedding_text(p) for p in extra])
    empty = timed_add(root / "empty", extra[:size])
    raw_empty = raw_add(raw_collection(root / "raw-empty"), extra[:size], vectors[:size])
    shutil.rmtree(root / "empty", ignore_errors=True)
    shutil.rmtree(root / "raw-empty", ignore_errors=True)
    # Chroma's own collection of the same size: a copy of the one inside the store.
    copy = root / "raw-big"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(store_dir / "chroma", copy)
    raw = raw_collection(copy, "agentflow_corpus")
    batches, raw_batches = [], []
    kept = None
    if warm:
        from agentflow.tools.corpus_search import CorpusSearch

        kept = CorpusStore(store_dir, embedder=TimedEmbedder())
        kept.search("warm up", k=1, mode="bm25")  # the BM25 index loaded
        CorpusSearch(kept)  # and the entity graph
    pairs: list[float] = []
    for i in range(0, len(extra), size):
        if paired:  # a new folder each time: Chroma keeps one client per path
            pairs.append(timed_add(root / f"pair-{i}", extra[i : i + size])["seconds"])
            shutil.rmtree(root / f"pair-{i}", ignore_errors=True)
        batches.append(timed_add(store_dir, extra[i : i + size], kept))
        raw_batches.append(raw_add(raw, extra[i : i + size], vectors[i : i + size]))
        print(f"  batch {len(batches)}: {batches[-1]}, chroma alone {raw_batches[-1]:.2f} s",
              file=sys.stderr, flush=True)
    del raw
    shutil.rmtree(copy, ignore_errors=True)
    again = timed_add(root / "empty-after", extra[:size])  # the machine's load drifts
    shutil.rmtree(root / "empty-after", ignore_errors=True)
    seconds = [b["seconds"] for b in batches]
    store = kept or CorpusStore(store_dir)
    segments = store.segments()
    compact_s = None
    if compact:
        started = time.perf_counter()
        store.compact()
        compact_s = time.perf_counter() - started
    return {"segments": segments, "compact_s": compact_s, "warm": warm,
            "empty_s": empty["seconds"], "empty_side_s": empty["side_seconds"],
            "empty_chroma_s": empty["chroma_seconds"], "empty_after_s": again["seconds"],
            "ratio_median_both": statistics.median(seconds) / ((empty["seconds"] + again["seconds"]) / 2),
            "paired_empty_s": pairs, "paired_ratio_median":
                statistics.median(b / e for b, e in zip(seconds, pairs)) if pairs else None,
            "batches_s": seconds, "side_s": [b["side_seconds"] for b in batches],
            "embed_s": [b["embed_seconds"] for b in batches],
            "chroma_in_place_s": [b["chroma_seconds"] for b in batches],
            "ratio_median": statistics.median(seconds) / empty["seconds"],
            "ratio_max": max(seconds) / empty["seconds"],
            "chroma_empty_s": raw_empty, "chroma_batches_s": raw_batches,
            "chroma_ratio_median": statistics.median(raw_batches) / raw_empty}


def report(fig: dict[str, Any]) -> None:
    """Print one size's figures as a few aligned lines."""
    print(f"== {fig['n']:,} passages", flush=True)
    if "ingest_docs_s" in fig:
        print(f"  ingest {fig['ingest_docs_s']:,.0f} docs/s ({fig['ingest_s']:.0f} s)   chroma add"
              f" {fig['chroma_docs_s']:,.0f} docs/s (first {fig['chroma_sample']:,})   ratio (same"
              f" vectors) {fig['ratio']:.2f}   hashing embedder {fig['embed_docs_s']:,.0f} docs/s"
              f"   side indexes {fig.get('side_s', 0):.1f} s")
        print(f"  Chroma's own add calls inside the ingest: {fig['chroma_in_place_s']:.1f} s"
              f" = {fig['ratio_in_place']:.2f} of the store's time without the embedder"
              f"   ingest RSS {fig['ingest_rss_mb']:,.0f} MiB;  disk: store"
              f" {fig['store_mb']:,.0f} MiB (bm25 {fig['bm25_mb']:,.0f}, graph {fig['graph_mb']:,.0f})")
    if "search" in fig:
        report_search(fig)
    if "increments" in fig:
        report_increments(fig["increments"])


def report_search(fig: dict[str, Any]) -> None:
    """Print the search figures of one size."""
    s, lib = fig["search"], fig.get("library")
    print(f"  search RSS {s['rss_mb']:,.0f} MiB"
          f" (vectors {fig['vectors_mb']:,.0f} MiB + bm25 {fig['bm25_mb']:,.0f} MiB:"
          f" ratio {s['rss_mb'] / (fig['vectors_mb'] + fig['bm25_mb']):.2f})")
    print(f"  open + index load {s['open_s']:.2f} s")
    for mode in ("dense", "bm25", "hybrid", "corpus"):
        p50, p95 = s[mode]
        print(f"  {mode:<7} p50 {p50:8.2f} ms   p95 {p95:8.2f} ms   (CPU p50"
              f" {s.get(mode + '_cpu', float('nan')):.2f} ms)")
    if lib:
        own = lib["chroma"][0] + lib["bm25s"][0]
        print(f"  libraries: chroma top-{TOP} p50 {lib['chroma'][0]:.2f} ms, bm25s top-{TOP} p50"
              f" {lib['bm25s'][0]:.2f} ms;  hybrid / (chroma + bm25s) = {s['hybrid'][0] / own:.2f}"
              f"  (CPU: {lib['chroma_cpu']:.2f} + {lib['bm25s_cpu']:.2f} ms)")


def report_increments(inc: dict[str, Any]) -> None:
    """Print the incremental-ingest figures."""
    if inc:
        segments = inc.get("segments") or []
        print("  segments after the batches: " + ", ".join(f"{n:,}" for _, n in segments)
              + (f";  compact (deltas into the base, side indexes merged) {inc['compact_s']:.1f} s"
                 if inc.get("compact_s") is not None else ""))
        if inc.get("warm"):
            print("  batches added through one open store (indexes loaded once, untimed)")
        print(f"  incremental: batch onto empty store {inc['empty_s']:.2f} s (side indexes"
              f" {inc['empty_side_s']:.2f}); onto the big store "
              + ", ".join(f"{b:.2f}" for b in inc["batches_s"])
              + f" s (side indexes median {statistics.median(inc['side_s']):.2f} s);"
              f"  median ratio {inc['ratio_median']:.2f}, max {inc['ratio_max']:.2f}")
        print(f"  onto an empty store again after the batches {inc['empty_after_s']:.2f} s:"
              f" median ratio to the mean of both {inc['ratio_median_both']:.2f}")
        if inc.get("paired_empty_s"):
            print("  paired (onto empty just before each): " + ", ".join(f"{e:.2f}" for e in
                  inc["paired_empty_s"]) + f" s; median ratio {inc['paired_ratio_median']:.2f}")
        print(f"  Chroma's own add of the same batches: onto empty {inc['chroma_empty_s']:.2f} s,"
              f" onto the big collection median {statistics.median(inc['chroma_batches_s']):.2f} s:"
              f" ratio {inc['chroma_ratio_median']:.2f}")
        print(f"  inside the store's batches: Chroma's add median"
              f" {statistics.median(inc['chroma_in_place_s']):.2f} s, embedder"
              f" {statistics.median(inc['embed_s']):.2f} s, side indexes"
              f" {statistics.median(inc['side_s']):.2f} s (onto empty: Chroma"
              f" {inc['empty_chroma_s']:.2f} s, side indexes {inc['empty_side_s']:.2f} s)")


def main(argv: list[str] | None = None) -> None:
    """Run the sizes asked for and print their figures (``--json`` for one JSON line each)."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200, help="search queries per size")
    parser.add_argument("--batches", type=int, default=0,
                        help="incremental batches added onto the largest store")
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--chroma-sample", type=int, default=0,
                        help="measure Chroma's own add on the first N passages only (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", help="working folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the stores")
    parser.add_argument("--skip-library", action="store_true",
                        help="skip the libraries' own query times (a bm25s build)")
    parser.add_argument("--skip-search", action="store_true", help="ingest figures only")
    parser.add_argument("--skip-increments", action="store_true")
    parser.add_argument("--warm", action="store_true",
                        help="add the incremental batches through one store kept open (a server "
                             "that ingests) instead of opening it afresh for each")
    parser.add_argument("--paired", action="store_true", help="each incremental batch also "
                        "added to an empty store just before it (ratios per batch)")
    parser.add_argument("--compact", action="store_true",
                        help="after the incremental batches, time `compact` (deltas into the base)")
    parser.add_argument("--search-only", metavar="STORE",
                        help="search figures of a store built earlier (--sizes N: its size; "
                             "the build's --batches and --batch-size, for the same world)")
    parser.add_argument("--increments-onto", metavar="STORE",
                        help="add --batches batches onto a store built earlier (--sizes N)")
    parser.add_argument("--parts-only", action="store_true",
                        help="our BM25 against bm25s, and the graph rerank, without Chroma")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--role", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    if args.role:
        payload = json.loads(rest[0])
        if args.role == "search":
            out = search_figures(Path(payload["store"]), payload["queries"])
        else:
            out = library_figures(Path(payload["store"]), payload["n"], payload["seed"],
                                  payload["queries"], payload.get("world"))
        print(json.dumps(out))
        return
    if args.parts_only:
        for n in args.sizes:
            parts = parts_figures(n, args.seed, args.queries)
            if args.json:
                print(json.dumps(parts), flush=True)
                continue
            print(f"== {n:,} passages, without Chroma (BM25 build {parts['bm25_build_s']:.0f} s,"
                  f" graph build {parts['graph_build_s']:.0f} s)", flush=True)
            for name in ("bm25", "bm25s", "graph_rerank"):
                p50, p95 = parts[name]
                print(f"  {name:<13} p50 {p50:8.2f} ms   p95 {p95:8.2f} ms   (CPU p50"
                      f" {parts[name + '_cpu']:.2f} ms)", flush=True)
        return
    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="bench-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    if args.search_only or args.increments_onto:
        try:
            later_run(args, root)
        finally:
            if not args.dir:
                shutil.rmtree(root, ignore_errors=True)
        return
    try:
        for n in args.sizes:
            started = time.perf_counter()
            fig = bench_size(n, args, root)
            fig["wall_s"] = time.perf_counter() - started
            print(json.dumps(fig) if args.json else "", flush=True)
            if not args.json:
                report(fig)
                print(f"  ({fig['wall_s']:.0f} s for this size)", flush=True)
    finally:
        if not args.dir and not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def later_run(args: argparse.Namespace, root: Path) -> None:
    """``--search-only`` / ``--increments-onto``: figures of a store built by an earlier run
    (``--keep``), with the code as it is now."""
    n = args.sizes[0]
    # The world the build generated: give the build's --batches and --batch-size.
    extra = args.batches * args.batch_size
    passages, queries = world_passages(n + extra, args.seed, args.queries)
    fig: dict[str, Any] = {"n": n}
    if args.search_only:
        payload = {"store": args.search_only, "n": n, "seed": args.seed, "queries": queries,
                   "world": n + extra}
        del passages
        fig.update(vectors_mb=n * 384 * 4 / 2**20, bm25_mb=disk_mb(Path(args.search_only) / "bm25"),
                   graph_mb=disk_mb(Path(args.search_only) / "graph"))
        fig["search"] = in_subprocess("search", payload)
        fig["library"] = in_subprocess("library", payload) if not args.skip_library else None
    else:
        fig["increments"] = bench_increments(Path(args.increments_onto), passages[n:],
                                             args.batch_size, root, compact=args.compact,
                                             warm=args.warm, paired=args.paired)
    print(json.dumps(fig) if args.json else "", flush=True)
    if not args.json:
        report(fig)


if __name__ == "__main__":
    main()
