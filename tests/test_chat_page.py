"""The chat page at ``/`` in headless Chromium: ask, watch progress and the answer
stream in, click a citation to see its passage, follow up in the same thread.

Set ``AGENTFLOW_CHAT_SCREENSHOT_COPY=/path.png`` to keep a copy of the screenshot.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentflow.evals.serving import serve_in_thread
from agentflow.evals.world.demo import demo_agent, demo_chains, demo_questions
from agentflow.evals.world.reader import stated
from agentflow.server.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
KEY = "page-key"
QUESTION, FOLLOW_UP, FOLLOW_UP_ANSWER = demo_questions()[0]
FIRST = demo_chains()[0]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium; see .ci/system-deps.sh)",
    ),
]


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    # A little model latency, so progress arrives while the run goes on.
    agent = demo_agent(latency_s=0.08, threads=f"sqlite:{tmp_path / 'threads.sqlite'}")
    with serve_in_thread(create_app(agent, api_keys=[KEY])) as url:
        yield url


def test_ask_stream_and_open_a_citation(base_url: str, tmp_path: Path) -> None:
    pytest.importorskip("playwright", reason="needs the [dev] extra (playwright)")
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    foreign: list[str] = []
    shot = tmp_path / "chat.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 820})
            page.on(
                "console",
                lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
            page.on(
                "request", lambda r: None if r.url.startswith(base_url) else foreign.append(r.url)
            )
            page.goto(base_url + "/", wait_until="load")
            assert page.title() == "agentflow chat"
            page.fill("#api-key", KEY)
            page.dispatch_event("#api-key", "change")

            page.fill("#question", QUESTION)
            page.click("#ask")
            # Progress lines show up while the run is still going, then the answer.
            page.wait_for_selector(".turn .progress div", timeout=20_000)
            assert page.locator(".turn .status.answered").count() == 0
            page.wait_for_selector(".turn .status.answered", timeout=20_000)
            first = page.locator(".turn").nth(0)
            assert first.locator(".text").inner_text() == FIRST.city
            assert first.locator(".progress div").count() >= 5
            chips = first.locator(".citation")
            assert chips.count() == len(FIRST.ids)  # company, founder, city
            chips.nth(1).click()
            assert page.inner_text("#passage-title") == FIRST.founder
            born = stated("born_in", FIRST.founder, FIRST.founder, page.inner_text("#passage-text"))
            assert born and born[0] == FIRST.city

            # A follow-up in the same thread: only the thread knows which company.
            page.fill("#question", FOLLOW_UP)
            page.press("#question", "Enter")
            page.wait_for_function(
                "document.querySelectorAll('.turn .status.answered').length === 2", timeout=20_000
            )
            second = page.locator(".turn").nth(1)
            assert second.locator(".text").inner_text() == FOLLOW_UP_ANSWER
            second.locator(".citation").first.click()
            founded = stated("founded_year", FIRST.company, FIRST.company,
                             page.inner_text("#passage-text"))
            assert founded and founded[0] == FOLLOW_UP_ANSWER
            thread_id = page.inner_text("#thread-id")
            assert thread_id.startswith("thread_")
            page.screenshot(path=str(shot))

            # Reloading shows the thread's history from the server.
            page.reload(wait_until="load")
            page.wait_for_function(
                "document.querySelectorAll('.turn').length === 2", timeout=10_000
            )
            assert page.inner_text("#thread-id") == thread_id
            assert page.locator(".turn .citation").count() == len(FIRST.ids) + 1
        finally:
            browser.close()
    assert not problems, problems
    assert not foreign, f"the page fetched from elsewhere: {foreign}"
    assert shot.stat().st_size > 10_000
    if copy := os.environ.get("AGENTFLOW_CHAT_SCREENSHOT_COPY"):
        shutil.copy(shot, copy)
