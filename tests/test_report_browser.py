"""The HTML report renders in headless Chromium without console errors or network requests.

Set ``AGENTFLOW_SCREENSHOT_COPY=/path.png`` to keep a copy of the screenshot for review.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from agentflow.scoring.batch import run_batch
from agentflow.scoring.report import write_html_report
from agentflow.scoring.scorer import score_folder
from tests.test_eval_batch import make_oracle, make_world

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium; see .ci/system-deps.sh)"),
]


def test_report_renders_without_console_errors(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    world = make_world(tmp_path / "world")
    for graph in ("rag", "react", "deep_research"):
        run_batch(world, out=tmp_path / graph, graph=graph, llm=make_oracle(world), embedder="hash",
                  progress=False)
    scores = [score_folder(tmp_path / g, resamples=200) for g in ("rag", "react", "deep_research")]
    html = write_html_report(scores, tmp_path / "report.html")
    shot = tmp_path / "report.png"

    messages: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
            page.on("request", lambda r: requests.append(r.url))
            page.on("requestfailed", lambda r: messages.append(f"requestfailed: {r.url}"))
            page.goto(html.as_uri(), wait_until="load")
            assert page.title() == "agentflow eval report"
            assert page.locator("svg").count() >= 4
            # every figure has laid out to a real size
            sizes = page.eval_on_selector_all("figure svg", "els => els.map(e => e.getBoundingClientRect().width)")
            assert sizes and min(sizes) > 100
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()

    errors = [m for m in messages if not m.startswith(("log:", "info:", "debug:"))]
    assert errors == []
    assert requests == [html.as_uri()]  # nothing but the page itself was fetched
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("AGENTFLOW_SCREENSHOT_COPY"):
        shutil.copy(shot, os.environ["AGENTFLOW_SCREENSHOT_COPY"])
