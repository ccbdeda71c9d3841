"""Command line: ``python -m agentflow.evals.world --docs N --questions M --seed S --out DIR``
writes a synthetic world as ``DIR/corpus.jsonl`` and ``DIR/questions.jsonl``."""

from __future__ import annotations

import argparse
import sys
import time

from agentflow.errors import UserError

from .generator import write_world


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, write the world, print one summary line; 2 on a usage error."""
    parser = argparse.ArgumentParser(
        prog="python -m agentflow.evals.world",
        description="Write a seeded synthetic world (hint-free multi-hop questions) as JSON Lines.")
    parser.add_argument("--docs", type=int, default=1000, help="corpus documents (default 1000)")
    parser.add_argument("--questions", type=int, default=200, help="questions (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        files = write_world(args.out, args.docs, args.questions, args.seed)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {files.n_docs} documents to {files.corpus} and {files.n_questions} questions "
          f"to {files.questions} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
