"""Synthetic-world throughput: documents per second, median of a few runs, at 10k and 100k
documents, in memory (``generate_world``) and streamed to disk (``write_world``).

Run with ``python -m agentflow.evals.bench_world`` (``--sizes 10000 100000 1000000`` to
change the sizes, ``--repeat N`` the runs per size).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

# Absolute import: this file also runs as a plain script from a checkout.
from agentflow.evals.world import generate_world, write_world


def docs_per_second(n_docs: int, n_questions: int, repeat: int, *, to_disk: bool) -> list[float]:
    """Documents per second of each of ``repeat`` runs generating ``n_docs`` documents."""
    rates = []
    for seed in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            if to_disk:
                write_world(tmp, n_docs, n_questions, seed)
            else:
                generate_world(n_docs=n_docs, n_questions=n_questions, seed=seed)
            rates.append(n_docs / (time.perf_counter() - start))
    return rates


def main(argv: list[str] | None = None) -> None:
    """Print one line per (size, mode): median docs/s, the slowest run's seconds."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    for n in args.sizes:
        for to_disk in (False, True):
            rates = docs_per_second(n, args.questions, args.repeat, to_disk=to_disk)
            mode = "write_world (jsonl)" if to_disk else "generate_world (memory)"
            print(f"{n:>9,} docs  {mode:<24} median {statistics.median(rates):>9,.0f} docs/s"
                  f"  slowest run {n / min(rates):6.2f} s  ({args.repeat} runs)", flush=True)


if __name__ == "__main__":
    main()
