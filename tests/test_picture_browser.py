"""The evidence picture in headless Chromium: the page ``agentflow show --html`` writes
for a 3-hop run, and the chat page's picture toggle for an answered message.

No request may leave file:// or the test server: everything else is blocked and
recorded. Set ``AGENTFLOW_PICTURE_SCREENSHOT_COPY=/path.png`` to keep the screenshot.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentflow import Agent
from tests.test_picture import CHAIN, THREE_HOP, oracle, states_birthplace

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PATH_COLOR = "rgb(250,204,21)"
KEY = "picture-key"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium; see .ci/system-deps.sh)"),
]


class Watch:
    """Console errors, page errors and blocked outside requests of one page."""

    def __init__(self, page: Any, allowed: tuple[str, ...]) -> None:
        self.problems: list[str] = []
        self.foreign: list[str] = []
        page.on("console", lambda m: self.problems.append(f"{m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))

        def route(r: Any) -> None:
            if r.request.url.startswith(allowed):
                r.continue_()
            else:
                self.foreign.append(r.request.url)
                r.abort()

        page.route("**/*", route)


def click_node(page: Any, handle: str, node_id: str) -> None:
    """Click the node ``node_id`` of the picture that ``handle`` (a JS expression) names."""
    x, y = page.evaluate(
        """([handle, id]) => { const view = eval(handle); const n = view.cy.$id(id);
             view.cy.center(n); const p = n.renderedPosition();
             const b = view.cy.container().getBoundingClientRect(); return [b.left + p.x, b.top + p.y]; }""",
        [handle, node_id])
    page.mouse.move(x, y)
    page.mouse.click(x, y)


def test_picture_page_and_chat_toggle(tmp_path: Path) -> None:
    pytest.importorskip("playwright", reason="needs the [dev] extra (playwright)")
    from playwright.sync_api import sync_playwright

    from agentflow.cli.main import app
    from agentflow.evals.serving import serve_in_thread
    from agentflow.evals.world.demo import demo_agent, demo_questions, demo_store, demo_world
    from agentflow.evals.world.reader import stated
    from agentflow.server.app import create_app

    store = demo_store(folder=tmp_path / "corpus" / "store").path
    result = Agent(store, llm=oracle(), embedder="hash").ask(THREE_HOP)
    assert result.status == "answered" and result.answer == CHAIN.country
    out = tmp_path / "picture.html"
    cli = CliRunner().invoke(app, ["show", str(result.trajectory), "--html", str(out)])
    assert cli.exit_code == 0, cli.output
    shot = tmp_path / "picture.png"

    agent = demo_agent(threads=f"sqlite:{tmp_path / 'threads.sqlite'}")
    question = demo_questions()[0][0]
    with sync_playwright() as pw, serve_in_thread(create_app(agent, api_keys=[KEY])) as base_url:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # -- the page `agentflow show --html` wrote --------------------------------------
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            watch = Watch(page, ("file:", "data:"))
            page.goto(out.as_uri(), wait_until="load")
            page.wait_for_selector("body[data-ready='1']", timeout=10_000)
            path = page.evaluate("agentflowPicture.cy.$('node.path').map(n => n.id())")
            founder = f"p:{CHAIN.founder_id}"
            assert {"answer", *(f"p:{i}" for i in CHAIN.ids)} <= set(path)
            assert sum(1 for n in path if n.startswith("sq:")) == 3
            # highlighted as drawn, not only as data: path nodes and edges carry the path colour
            color = page.evaluate(f"agentflowPicture.cy.$id('{founder}').style('border-color')")
            assert color.replace(" ", "") == PATH_COLOR
            text = next(d["text"] for d in demo_world() if d["id"] == CHAIN.founder_id)
            born = stated("born_year", CHAIN.founder, CHAIN.founder, text)
            assert born  # an entity beside the path: the founder's year of birth
            off = page.evaluate(f"agentflowPicture.cy.$id('e:{born[0]}').style('border-color')")
            assert off.replace(" ", "") != PATH_COLOR
            assert page.evaluate("agentflowPicture.cy.edges('.path').length") >= 6
            click_node(page, "agentflowPicture", founder)
            assert page.inner_text("#node-title") == CHAIN.founder
            assert states_birthplace(page.inner_text("#node-text"))
            assert "on the answer path" in page.inner_text("#node-kind")
            assert page.is_visible("#tooltip")  # hovering shows the text
            assert CHAIN.city in page.inner_text("#tooltip")
            page.screenshot(path=str(shot))
            assert not watch.problems, watch.problems
            assert not watch.foreign, f"the page fetched from elsewhere: {watch.foreign}"

            # -- a report's picture: the drawing code loaded from a file beside it -----------
            from agentflow.picture import evidence_picture, picture_script, write_picture
            from agentflow.trajectory import read_trajectory

            shared = tmp_path / "report-pictures"
            linked = write_picture(evidence_picture(read_trajectory(result.trajectory)), shared / "q1.html",
                                   script_href="picture.js")
            (shared / "picture.js").write_text(picture_script())
            report_page = browser.new_page()
            rw = Watch(report_page, ("file:", "data:"))
            report_page.goto(linked.as_uri(), wait_until="load")
            report_page.wait_for_selector("body[data-ready='1']", timeout=10_000)
            assert "answer" in report_page.evaluate("agentflowPicture.cy.$('node.path').map(n => n.id())")
            assert not rw.problems and not rw.foreign, (rw.problems, rw.foreign)

            # -- the chat page: the picture of an answered message ---------------------------
            chat = browser.new_page(viewport={"width": 1280, "height": 820})
            cw = Watch(chat, (base_url,))
            chat.goto(base_url + "/", wait_until="load")
            chat.fill("#api-key", KEY)
            chat.dispatch_event("#api-key", "change")
            chat.fill("#question", question)
            chat.click("#ask")
            chat.wait_for_selector(".turn .status.answered", timeout=20_000)
            chat.click(".turn .picture-toggle")
            chat.wait_for_function("window.agentflowPictures && window.agentflowPictures.length === 1",
                                   timeout=10_000)
            assert chat.is_visible(".turn .picture canvas")
            handle = "window.agentflowPictures[0]"
            on_path = chat.evaluate(f"{handle}.cy.$('node.path').map(n => n.id())")
            assert "answer" in on_path
            cited = chat.evaluate(f"{handle}.cy.$('node.passage.path').map(n => n.id())")
            assert cited
            click_node(chat, handle, cited[0])
            node = chat.evaluate(f"{handle}.node({cited[0]!r})")
            assert chat.inner_text("#passage-title") == node["title"]
            assert node["text"][:30] in chat.inner_text("#passage-text").replace("\n", " ")
            chat.screenshot(path=str(tmp_path / "chat-picture.png"))
            chat.click(".turn .picture-toggle")
            assert not chat.is_visible(".turn .picture")  # the toggle hides it again
            assert not cw.problems, cw.problems
            assert not cw.foreign, f"the chat page fetched from elsewhere: {cw.foreign}"
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    if copy := os.environ.get("AGENTFLOW_PICTURE_SCREENSHOT_COPY"):
        shutil.copy(shot, copy)
