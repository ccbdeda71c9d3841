"""A long report's HTML page in headless Chromium, at desktop and phone widths: the sources
are linked from each citation, hovering a citation shows its passage (title), clicking it
opens the passage pane, no console errors, and nothing is fetched from anywhere.

Set ``AGENTFLOW_REPORT_SCREENSHOT_DIR=/some/folder`` to keep the screenshots.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from agentflow import Agent
from agentflow.evals.world.demo import demo_chains, demo_store
from agentflow.graphs.report import builder
from agentflow.llm import ScriptedLLM
from agentflow.report.page import write_report
from agentflow.report.records import Report
from agentflow.report.scripted import write_like_a_model
from agentflow.trajectory import read_trajectory
from tests.test_picture_browser import CHROMIUM, CHROMIUM_ARGS, Watch

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium; see .ci/system-deps.sh)"),
]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def test_report_page_in_a_browser(tmp_path: Path) -> None:
    pytest.importorskip("playwright", reason="needs the [dev] extra (playwright)")
    from playwright.sync_api import sync_playwright

    store = demo_store(companies=24, folder=tmp_path / "store").path
    result = Agent(store, llm=ScriptedLLM(fn=write_like_a_model), embedder="hash", graph=builder(400),
                   runs_dir=tmp_path / "runs").ask(demo_chains()[0].question)
    report = Report.model_validate(read_trajectory(result.trajectory).of_type("report")[-1]["report"])
    page_file = write_report(report, tmp_path / "report.html")
    first = report.sections[0].sentences[0]
    source = next(s for s in report.sources if s.id == first.citations[0])
    keep = os.environ.get("AGENTFLOW_REPORT_SCREENSHOT_DIR")

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, viewport in VIEWPORTS.items():
                page = browser.new_page(viewport=viewport)
                watch = Watch(page, ("file:",))
                page.goto(page_file.as_uri(), wait_until="load")
                assert page.inner_text("h1") == report.question
                cites = page.locator("a.cite")
                assert cites.count() == sum(len(s.citations) for sec in report.sections for s in sec.sentences)
                link = cites.first
                # linked: the citation points at its entry in the sources list, which exists
                href = link.get_attribute("href")
                assert href == f"#src-{source.label}"
                assert page.locator(href).count() == 1
                assert source.id in page.inner_text(href)
                # hovering: the citation's title is the passage
                assert source.text[:40] in (link.get_attribute("title") or "")
                link.hover()
                # clicking: the pane shows the passage, a link to the source, and closes again
                assert page.is_hidden("#pane")
                link.click()
                assert page.is_visible("#pane")
                assert source.text[:40] in " ".join(page.inner_text("#pane .body").split())
                assert page.get_attribute("#pane a.to-source", "href") == href
                assert "active" in (link.get_attribute("class") or "")
                # the page fits the width (no sideways scrolling on a phone)
                assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
                shot = tmp_path / f"report-{name}.png"
                page.screenshot(path=str(shot), full_page=False)
                assert shot.stat().st_size > 5_000
                page.click("#pane button.close")
                assert page.is_hidden("#pane")
                page.click(f"ol.sources {href} summary")
                assert source.text[:40] in " ".join(page.inner_text(href).split())
                assert not watch.problems, watch.problems
                assert not watch.foreign, f"the page fetched from elsewhere: {watch.foreign}"
                if keep:
                    Path(keep).mkdir(parents=True, exist_ok=True)
                    shutil.copy(shot, Path(keep) / shot.name)
                page.close()
        finally:
            browser.close()
