"""The chat page at desktop (1280 px) and phone (390 px) widths in headless Chromium:
the key box says a key is needed before the first question and shows a 401 there;
progress lines wrap instead of being clipped; passages read as clean text; nothing
overlaps or runs off the screen; Enter sends and Tab moves in a sensible order.

Set ``AGENTFLOW_CHAT_SCREENSHOT_DIR=/some/dir`` to keep the screenshots.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentflow.evals.serving import serve_in_thread
from agentflow.evals.world.demo import demo_agent, demo_chains
from agentflow.server.app import create_app
from tests.test_chat_page import CHROMIUM, CHROMIUM_ARGS

KEY = "layout-key"
FIRST = demo_chains()[0]
QUESTION = FIRST.question
VIEWPORTS = {"desktop": {"width": 1280, "height": 820}, "phone": {"width": 390, "height": 844}}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM}"),
]

MARKDOWN = "# Elda Morrow\n\nElda Morrow was a **cartographer** born in\nthe town of *Brevik*.\n\n- one\n- two"


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    agent = demo_agent(latency_s=0.05, threads=f"sqlite:{tmp_path / 'threads.sqlite'}")
    with serve_in_thread(create_app(agent, api_keys=[KEY])) as url:
        yield url


def box(page: Any, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not visible"
    return found


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def assert_within(page: Any, selector: str, width: int, height: int) -> None:
    b = box(page, selector)
    assert b["x"] >= -0.5 and b["x"] + b["width"] <= width + 0.5, f"{selector} runs off: {b}"
    assert b["y"] >= -0.5 and b["y"] + b["height"] <= height + 0.5, f"{selector} runs off: {b}"


@pytest.mark.parametrize("name", list(VIEWPORTS))
def test_chat_page_layout(name: str, base_url: str, tmp_path: Path) -> None:
    pytest.importorskip("playwright", reason="needs the [dev] extra (playwright)")
    from playwright.sync_api import sync_playwright

    view = VIEWPORTS[name]
    width, height = view["width"], view["height"]
    problems: list[str] = []
    shots: list[Path] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=view)
            page.on("console", lambda m: problems.append(f"{m.type}: {m.text}")
                    if m.type == "error" and "401" not in m.text else None)
            page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
            page.goto(base_url + "/", wait_until="load")

            # Before any question: the key box says a key is needed, and has the focus.
            page.wait_for_selector("#key-hint.needed")
            assert "needs an API key" in page.inner_text("#key-hint")
            assert page.evaluate("document.activeElement.id") == "api-key"
            for sel in ("#api-key", "#question", "#ask", "#new-thread"):
                assert_within(page, sel, width, height)
            assert not overlaps(box(page, "#question"), box(page, "#ask"))
            q = box(page, "#question")
            assert q["height"] >= 40 and q["width"] >= (0.6 * width if name == "phone" else 500)
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            shots.append(tmp_path / f"chat-{name}-start.png")
            page.screenshot(path=str(shots[-1]))

            # Asking without a key: the 401 shows at the key box, which gets the focus.
            page.fill("#question", QUESTION)
            page.press("#question", "Enter")  # Enter sends
            page.wait_for_selector("#key-hint.bad", timeout=10_000)
            assert "key" in page.inner_text("#key-hint").lower()
            assert page.evaluate("document.activeElement.id") == "api-key"
            assert "key box" in page.inner_text(".turn .status.error")
            # The failed turn is one line of error: no blank space above it.
            card, error = box(page, ".turn .answer"), box(page, ".turn .status.error")
            assert error["y"] - card["y"] <= 14, (card, error)

            # Focus order: key box -> question -> Ask.
            page.fill("#api-key", KEY)
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "question"
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "ask"
            page.focus("#question")
            page.keyboard.type("first line")
            page.keyboard.press("Shift+Enter")  # a new line, not a send
            assert page.input_value("#question") == "first line\n"
            page.fill("#question", QUESTION)
            page.press("#question", "Enter")
            page.wait_for_selector(".turn:nth-child(2) .status.answered", timeout=20_000)
            assert page.inner_text("#key-hint") != "" and "bad" not in (page.get_attribute("#key-hint", "class") or "")

            # Progress lines wrap: none is wider than its box (nothing clipped); once the
            # answer is in they fold away under a summary that opens them again.
            page.click(".turn:nth-child(2) .progress summary")
            clipped = page.evaluate("""[...document.querySelectorAll('.progress div')]
                .filter(d => d.scrollWidth > d.clientWidth + 1).map(d => d.textContent)""")
            assert not clipped, clipped
            assert page.locator(".turn:nth-child(2) .progress div").count() >= 5
            shots.append(tmp_path / f"chat-{name}-answer.png")
            page.screenshot(path=str(shots[-1]))

            # A citation opens its passage as clean text, within the screen.
            page.locator(".turn:nth-child(2) .citation").nth(1).click()
            assert page.inner_text("#passage-title") == FIRST.founder
            assert_within(page, "#passage-pane", width, height)
            if name == "phone":  # a sheet over the lower part; the question box stays reachable
                pane = box(page, "#passage-pane")
                assert pane["height"] <= 0.62 * height
                page.click("#passage-close")
                assert page.locator("#passage-pane").is_hidden()
                page.locator(".turn:nth-child(2) .citation").nth(1).click()
            shots.append(tmp_path / f"chat-{name}-passage.png")
            page.screenshot(path=str(shots[-1]))
            paragraphs = page.evaluate(f"displayParagraphs({MARKDOWN!r}, 'Elda Morrow')")
            assert paragraphs == ["Elda Morrow was a cartographer born in the town of Brevik.",
                                  "• one\n• two"]
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        finally:
            browser.close()
    assert not problems, problems
    if keep := os.environ.get("AGENTFLOW_CHAT_SCREENSHOT_DIR"):
        Path(keep).mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copy(shot, Path(keep) / shot.name)
