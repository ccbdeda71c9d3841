"""Wall time of a plan of independent sub-questions, one at a time vs in parallel branches.

    python -m agentflow.evals.bench_fanout [--repeats 3] [--latency 0.5] [--steps 4] [--critic-again] [--json]

The demo world's store (hashing embedder) and its scripted reader, with the model's plan
fixed to ``--steps`` independent "Who founded X?" sub-questions, and every LLM call taking
``--latency`` seconds (``ScriptedLLM.latency_s``, a sleep, as a remote model's wait is).
Each configuration runs ``--repeats`` times; the medians and their ratio are printed.

A run makes 1 plan call, 2 calls per sub-question (the reader's pick, the critic's check)
and 1 answer call (several final steps need composing): at concurrency 1 that is
``2 + 2 * steps`` calls end to end, with every step in parallel ``2 + 2``, so the best
ratio for 4 steps is 10 / 4 = 2.5. ``--critic-again`` makes the critic ask for one more
search per sub-question (3 calls each: 14 / 5 = 2.8 at best).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["main", "measure"]


def _llm(steps: int, latency: float, critic_again: bool) -> Any:
    from agentflow.evals.world.demo import demo_chains
    from agentflow.evals.world.reader import read_like_a_model
    from agentflow.evals.world.wording import QUESTIONS
    from agentflow.llm import ScriptedLLM

    plan = {"sub_questions": [{"question": QUESTIONS["founded_by"][0].format(x=c.company), "depends_on": []}
                              for c in demo_chains(steps)]}

    def fn(messages: list[Any], schema: dict[str, Any] | None) -> Any:
        fields = set((schema or {}).get("properties", {}))
        if "sub_questions" in fields:
            return plan
        if critic_again and "verdict" in fields:
            return {"verdict": "search_again", "refined_query": ""}
        return read_like_a_model(messages, schema)

    return ScriptedLLM(fn=fn, latency_s=latency)


def question(steps: int) -> str:
    """The question the fixed plan splits."""
    from agentflow.evals.world.demo import demo_chains

    return "Who founded " + ", ".join(c.company for c in demo_chains(steps)) + "?"


def measure(concurrency: int, *, steps: int, latency: float, repeats: int, critic_again: bool,
            folder: Path) -> dict[str, Any]:
    """Wall seconds of ``repeats`` runs at ``concurrency`` (and what they answered)."""
    from agentflow import Agent
    from agentflow.agent.context import ResearchSettings
    from agentflow.evals.world.demo import demo_store

    store = demo_store(folder=folder / "store", companies=steps).path
    seconds, answers, calls = [], set(), set()
    for i in range(repeats):
        llm = _llm(steps, latency, critic_again)
        agent = Agent(store, llm=llm, embedder="hash", runs_dir=folder / f"runs-{concurrency}-{i}",
                      settings=ResearchSettings(concurrency=concurrency))
        started = time.perf_counter()
        result = agent.ask(question(steps))
        seconds.append(time.perf_counter() - started)
        answers.add((result.status, tuple(s["answer"] for s in result.sub_questions)))
        calls.add(len(llm.calls))
    return {"concurrency": concurrency, "seconds": [round(s, 3) for s in seconds],
            "median_s": round(statistics.median(seconds), 3), "llm_calls": sorted(calls),
            "answers": sorted(answers)}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per configuration (default 3)")
    parser.add_argument("--latency", type=float, default=0.5, help="seconds per LLM call (default 0.5)")
    parser.add_argument("--steps", type=int, default=4, help="independent sub-questions (default 4)")
    parser.add_argument("--concurrency", type=int, default=4, help="the parallel configuration (default 4)")
    parser.add_argument("--critic-again", action="store_true", help="the critic asks for one more search")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        options = {"steps": args.steps, "latency": args.latency, "repeats": args.repeats,
                   "critic_again": args.critic_again, "folder": Path(tmp)}
        one = measure(1, **options)
        many = measure(args.concurrency, **options)
    figures = {"steps": args.steps, "latency_s": args.latency, "critic_again": args.critic_again,
               "sequential": one, "parallel": many,
               "speedup": round(one["median_s"] / many["median_s"], 2),
               "same_answers": one["answers"] == many["answers"]}
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"{args.steps} independent sub-questions, {args.latency} s per LLM call, {args.repeats} runs each")
        for name, f in (("concurrency 1", one), (f"concurrency {args.concurrency}", many)):
            print(f"  {name}: median {f['median_s']:.2f} s  (runs {f['seconds']}, LLM calls {f['llm_calls']})")
        print(f"  speedup: {figures['speedup']}x  (same answers: {figures['same_answers']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
