"""Evidence picture benchmark: how long a run's picture takes to appear in headless
Chromium when its memory graph has about 2,000 nodes (a long thread).

A synthetic trajectory (``--passages`` passages with a fact and two entities each, one
sub-question answered by the first fact) is drawn into the page ``agentflow show --html``
writes. For each of ``--runs`` fresh page loads it measures, inside the page: navigation
start to the first frame after the picture is ready (the collapsed view: answer path plus
top passages), and the ``show all`` redraw of every node to its next frame. Prints the
medians; the target is under 2 s for the page.

    python -m agentflow.evals.bench_picture --passages 650 --runs 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
_NEXT_FRAME = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))"


def synthetic_trajectory(path: Path, passages: int, *, hostile: str = "") -> Path:
    """A finished run whose memory holds ``passages`` passages, each with a fact and two
    entities (``3 * passages + 53`` nodes); ``hostile`` is put into every text."""
    run = "r1"
    nodes = [{"id": f"q:{run}", "type": "question", "text": "Which?"},
             {"id": f"sq:{run}.1", "type": "subquestion", "text": "Which?", "answer": "A0"}]
    edges = [[f"q:{run}", f"sq:{run}.1", "decomposes"]]
    for i in range(passages):
        nodes += [{"id": f"p:p{i}", "type": "passage", "title": f"T{i} {hostile}", "source": "c", "chunk": 0},
                  {"id": f"f:{i}", "type": "fact", "text": f"fact {i} {hostile}", "source": f"p{i}"},
                  {"id": f"e:a{i}", "type": "entity", "name": f"A{i}"},
                  {"id": f"e:b{i % 50}", "type": "entity", "name": f"B{i % 50}"}]
        edges += [[f"p:p{i}", f"f:{i}", "supports"], [f"f:{i}", f"e:a{i}", "mentions"],
                  [f"f:{i}", f"e:b{i % 50}", "mentions"], [f"p:p{i}", f"e:a{i}", "mentions"]]
    edges.append(["f:0", f"sq:{run}.1", "answers"])
    events = [
        {"v": 1, "type": "run_start", "run_id": run, "seq": 0, "t": 0, "question": f"Which? {hostile}"},
        {"v": 1, "type": "memory_delta", "run_id": run, "seq": 1, "t": 0, "nodes": nodes, "edges": edges},
        {"v": 1, "type": "final", "run_id": run, "seq": 2, "t": 0, "answer": f"A0 {hostile}", "status": "answered",
         "citations": [{"id": "p0", "title": "T0", "text": f"text 0 {hostile}"}],
         "evidence": [{"id": f"p{i}", "title": f"T{i}", "text": f"text {i}"} for i in range(min(30, passages))],
         "sub_questions": [{"id": "1", "question": "Which?", "answer": "A0", "status": "answered"}],
         "removed_citations": []},
    ]
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print one line per measure plus a JSON summary."""
    from playwright.sync_api import sync_playwright

    from agentflow.picture import evidence_picture, write_picture
    from agentflow.trajectory import read_trajectory

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passages", type=int, default=650, help="passages in memory (nodes = 3 x this + 53)")
    ap.add_argument("--runs", type=int, default=5, help="page loads to take the median of")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        traj = synthetic_trajectory(Path(tmp) / "run.jsonl", args.passages)
        started = time.perf_counter()
        picture = evidence_picture(read_trajectory(traj))
        build_s = time.perf_counter() - started
        page_path = write_picture(picture, Path(tmp) / "picture.html")
        core = sum(1 for n in picture.nodes if n.core)
        load, full = [], []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for _ in range(args.runs):
                    page = browser.new_page(viewport={"width": 1280, "height": 800})
                    errors: list[str] = []
                    page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                    page.goto(page_path.as_uri(), wait_until="load")
                    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
                    load.append(page.evaluate(_NEXT_FRAME) / 1000)
                    full.append(page.evaluate(
                        f"(async () => {{ const t0 = performance.now(); agentflowPicture.showAll(); "
                        f"const t1 = await {_NEXT_FRAME}; return t1 - t0; }})()") / 1000)
                    assert page.evaluate("agentflowPicture.cy.nodes().length") == len(picture.nodes)
                    if errors:
                        raise SystemExit(f"page errors: {errors}")
                    page.close()
            finally:
                browser.close()
    summary = {
        "nodes": len(picture.nodes), "edges": len(picture.edges), "collapsed_nodes": core,
        "build_s": round(build_s, 3), "runs": args.runs,
        "page_ready_median_s": round(statistics.median(load), 3),
        "show_all_median_s": round(statistics.median(full), 3),
    }
    print(f"memory graph: {summary['nodes']} nodes, {summary['edges']} edges; collapsed view {core} nodes")
    print(f"picture data built in {build_s:.3f} s")
    print(f"page ready (navigation to first frame), median of {args.runs}: {summary['page_ready_median_s']:.3f} s "
          f"(all: {', '.join(f'{x:.3f}' for x in load)})")
    print(f"show all {summary['nodes']} nodes (redraw to next frame), median: {summary['show_all_median_s']:.3f} s "
          f"(all: {', '.join(f'{x:.3f}' for x in full)})")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
