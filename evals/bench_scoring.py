"""Scoring speed: synthesise an eval folder of N trajectories and time ``score_folder``.

The synthetic runs are shaped like deep-research runs of a capable model (12 LLM calls
with full prompts, 8 tool calls, memory deltas, 10 evidence passages; about 70 KB
each), over a JSON Lines dataset with gold answers, supporting ids and decompositions.
Prints the median wall time of several full scorings (reading every file, scoring,
1,000-resample bootstrap), which must stay under 10 s for 1,000 trajectories.

    python -m evals.bench_scoring --n 1000 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentflow.scoring.manifest import (
    DatasetInfo,
    EvalManifest,
    now_iso,
    sha256_path,
    trajectory_path,
    write_manifest,
)

WORDS = [
    "river",
    "company",
    "founded",
    "born",
    "city",
    "college",
    "author",
    "film",
    "director",
    "country",
    "year",
    "spouse",
    "studied",
    "published",
    "married",
    "station",
    "bridge",
    "museum",
    "harbour",
    "village",
]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _event(kind: str, seq: int, t: float, run_id: str, **fields: Any) -> dict[str, Any]:
    return {"v": 1, "type": kind, "run_id": run_id, "seq": seq, "t": round(t, 4), **fields}


def synthetic_run(
    rng: random.Random, qid: str, question: str, answer: str, gold: list[str], hops: int
) -> list[dict[str, Any]]:
    """The events of one plausible deep-research run (right or wrong, cited or not)."""
    run_id = f"{qid}.r1"
    t = 1_800_000_000.0 + rng.random() * 1000
    events: list[dict[str, Any]] = []

    def add(kind: str, **fields: Any) -> None:
        nonlocal t
        t += rng.random() * 2
        events.append(_event(kind, len(events), t, run_id, **fields))

    pool = gold + [f"p{rng.randrange(100000):06d}" for _ in range(30)]
    add(
        "run_start",
        question=question,
        graph="deep_research",
        config={"llm": "synthetic", "embedder": "minilm", "budget": {"max_llm_calls": 30}},
        model="synthetic",
        versions={"python": "3.11"},
        metadata={"question_id": qid},
    )
    retrieved: list[str] = []
    for step in range(12):
        add("step_start", node="read", sub_question=str(step % hops + 1), step=step)
        if step % 3 == 0:
            ids = rng.sample(pool, 5)
            known = [i for i in ids if i in retrieved]
            retrieved.extend(i for i in ids if i not in retrieved)
            add(
                "tool_call",
                node="search",
                sub_question=str(step % hops + 1),
                tool="corpus",
                query=_text(rng, 8),
                mode="hybrid",
                k=5,
                results=[{"id": i, "score": round(rng.random(), 6)} for i in ids],
                new_ids=[i for i in ids if i not in known],
                known_ids=known,
                seconds=0.01,
            )
            add(
                "tool_call",
                node="search",
                sub_question=str(step % hops + 1),
                tool="memory",
                query=_text(rng, 8),
                mode="memory-ppr",
                k=8,
                results=[{"id": i, "score": 0.1} for i in retrieved[:8]],
                new_ids=[],
                known_ids=retrieved[:8],
                seconds=0.002,
            )
            add(
                "memory_delta",
                node="search",
                nodes=[{"id": f"p:{i}", "type": "passage", "title": _text(rng, 3)} for i in ids],
                edges=[[f"p:{i}", f"e:{rng.choice(WORDS)}", "mentions"] for i in ids],
            )
        prompt = rng.randint(300, 900)
        add(
            "llm_call",
            node="read",
            sub_question=str(step % hops + 1),
            prompt="read",
            messages=[
                {"role": "system", "content": _text(rng, 60)},
                {"role": "user", "content": _text(rng, 320)},
            ],
            attempts=[
                {
                    "output": json.dumps({"answer": _text(rng, 3)}),
                    "prompt_tokens": prompt,
                    "completion_tokens": 30,
                    "latency_s": 0.7,
                }
            ],
            parsed={"answer": _text(rng, 3)},
            error=None,
            prompt_tokens=prompt,
            first_prompt_tokens=prompt,
            completion_tokens=30,
            latency_s=0.7,
            model="synthetic",
        )
        add("step_end", node="read", sub_question=str(step % hops + 1), step=step, seconds=0.8)
    evidence = rng.sample(retrieved, min(10, len(retrieved)))
    right = rng.random() < 0.5
    status = "answered" if rng.random() < 0.8 else "refused"
    add(
        "final",
        answer=(answer if right else _text(rng, 2))
        if status == "answered"
        else "insufficient evidence",
        status=status,
        citations=[{"id": i, "title": "t", "text": _text(rng, 40)} for i in evidence[:2]],
        sub_questions=[
            {
                "id": str(h + 1),
                "question": _text(rng, 6),
                "answer": _text(rng, 2),
                "status": "answered",
                "evidence_ids": evidence[:3],
            }
            for h in range(hops)
        ],
        evidence=[{"id": i, "title": _text(rng, 3), "text": _text(rng, 60)} for i in evidence],
        retrieved_ids=retrieved,
        usage={"llm_calls": 12},
        removed_citations=[],
        error=None,
    )
    return events


def synthesise(folder: Path, n: int, seed: int = 0) -> Path:
    """Write ``questions.jsonl``, a manifest and ``n`` trajectories under ``folder``."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    questions = folder / "questions.jsonl"
    ids = []
    with questions.open("w", encoding="utf-8") as qf:
        for k in range(n):
            qid, hops = f"syn{k:05d}", rng.choice((2, 2, 3, 4))
            gold = [f"g{k:05d}{h}" for h in range(hops)]
            answer = _text(rng, 2)
            qf.write(
                json.dumps(
                    {
                        "id": qid,
                        "question": _text(rng, 12),
                        "answers": [answer],
                        "supporting_ids": gold,
                        "hops": hops,
                        "decomposition": [
                            {
                                "question": _text(rng, 6),
                                "answer": _text(rng, 2),
                                "supporting_ids": [g],
                            }
                            for g in gold
                        ],
                    }
                )
                + "\n"
            )
            path = trajectory_path(folder, qid)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8") as tf:
                for event in synthetic_run(rng, qid, "q", answer, gold, hops):
                    tf.write(json.dumps(event) + "\n")
            ids.append(qid)
    write_manifest(
        folder,
        EvalManifest(
            dataset=DatasetInfo(
                path=str(questions),
                sha256=sha256_path(questions),
                format="jsonl",
                name="synthetic",
                examples=n,
            ),
            graph="deep_research",
            llm="synthetic",
            model="synthetic",
            embedder="minilm",
            embedder_spec="minilm",
            store="",
            corpus_hash="",
            question_ids=ids,
            created=now_iso(),
        ),
    )
    return folder


def main(argv: Sequence[str] | None = None) -> int:
    """Synthesise, score ``--repeats`` times, print the median seconds (and the spread)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="trajectories (default 1000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed scorings (default 5)")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--dir", default=None, help="keep the synthetic folder here")
    args = parser.parse_args(argv)
    from agentflow.scoring.scorer import score_folder

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.dir) if args.dir else Path(tmp) / "eval"
        started = time.perf_counter()
        synthesise(folder, args.n)
        size = sum(p.stat().st_size for p in (folder / "trajectories").iterdir())
        print(
            f"synthesised {args.n} trajectories ({size / 1e6:.1f} MB) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            scores = score_folder(folder, resamples=args.resamples)
            times.append(time.perf_counter() - t0)
        assert scores.aggregate["scored"] == args.n
        median = statistics.median(times)
        print(
            f"scoring {args.n} trajectories: median {median:.2f} s over {args.repeats} runs "
            f"(min {min(times):.2f}, max {max(times):.2f}); limit 10 s: "
            f"{'PASS' if median < 10 else 'FAIL'}"
        )
    return 0 if median < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
