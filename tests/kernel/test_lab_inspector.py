"""The JupyterLab extension's session inspector (labextension/src/inspector.ts), in real JupyterLab
(the kernel tests' shared one, Debian's headless chromium): the right side panel "gb sessions"
lists a web chat's session and what it waits for, shows its variables and history, follows a
web answer by itself (it polls), and its actions attach the session to the open gb notebook,
send a message and end the session.

The web chat's session is started and answered from the test process, by a runtime on the
same storage as the lab (its data folder), as gb serve would; each runtime step runs in a
thread with its own event loop, beside Playwright's sync API.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from gb_runtime import DialogRuntime, Inbound, StoreSettings
from gb_runtime.setup import open_services
from tests.browser import ARTIFACTS, Lab, chromium_page

T = TypeVar("T")


def _on_storage(root: Path, step: Callable[[DialogRuntime], Awaitable[T]]) -> T:
    """Run `step` with a runtime on the lab's storage, in a thread of its own (its own loop: the
    Playwright sync API owns this thread's); the runtime is opened and closed around it."""

    async def scenario() -> T:
        services = await open_services(StoreSettings.from_env({}, data_dir=root / "data"), root / "bots",
                                       run_schedules=False, run_timers=False)
        try:
            return await step(services.runtime)
        finally:
            await services.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, scenario()).result(timeout=60)


def test_the_panel_follows_a_web_session_and_acts_on_it(lab: Lab) -> None:
    from playwright.sync_api import expect

    root = lab.notebooks.parent
    web: Any = _on_storage(root, lambda runtime: runtime.start("default"))  # a web chat's session
    sid = str(web.session_id)

    with chromium_page("lab-inspector-failure.png", viewport={"width": 1400, "height": 1000}) as page:
        page.goto(lab.open("inspector", ["%session"]))
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
        expect(page.get_by_text("gb BASIC | Idle")).to_be_visible(timeout=90_000)

        # the panel's tab in the right side bar opens it; it lists the session and what it waits for
        panel = page.get_by_test_id("gb-sessions-panel")
        tab = page.locator('.jp-SideBar.jp-mod-right .lm-TabBar-tab[data-id="gb-sessions"]')
        if not panel.is_visible():  # a workspace of an earlier run may have restored it open
            tab.click()
        expect(panel).to_be_visible()
        row = panel.locator(f'[data-testid="gb-session-row"][data-session-id="{sid}"]')
        expect(row).to_be_visible(timeout=30_000)
        cells = row.locator("td")
        expect(cells).to_have_count(5)
        expect(cells.nth(0)).to_have_text("default")
        expect(cells.nth(1)).to_have_text("web")
        expect(cells.nth(3)).to_contain_text("ago")
        expect(cells.nth(4)).to_have_text("HEAR name (NAME)")
        assert panel.get_by_test_id("gb-session-row").first.get_attribute("data-session-id") == sid  # newest first

        # the bot filter: another bot's sessions do not include it; back to every bot
        expect(panel.get_by_test_id("gb-session-bot").locator("option")).to_contain_text(["all bots", "default"])
        panel.get_by_test_id("gb-session-bot").select_option("support")
        expect(row).to_have_count(0, timeout=10_000)
        panel.get_by_test_id("gb-session-bot").select_option("default")
        expect(row).to_be_visible(timeout=10_000)

        # selected: its variables and its history
        row.click()
        variables = panel.get_by_test_id("gb-session-vars")
        history = panel.get_by_test_id("gb-session-history")
        expect(variables).to_contain_text("No variables yet", timeout=10_000)  # nothing SET before the name
        expect(variables.locator('tr[data-variable="user_name"]')).to_have_count(0)
        expect(history.locator("li").last).to_contain_text("What is your name?")
        expect(history.locator('li[data-role="assistant"]').first).to_contain_text("assistant")

        # the web user answers (first with markup, not a name); the panel shows it by itself (no
        # click) within seconds, the markup as text
        async def answer(runtime: DialogRuntime) -> None:
            await runtime.handle(Inbound("default", "<b>Ann</b>", token=web.token))
            await runtime.handle(Inbound("default", "Ann", token=web.token))

        _on_storage(root, answer)
        expect(variables.locator('tr[data-variable="user_name"] td').nth(1)).to_have_text("Ann", timeout=8_000)
        expect(history.locator("li").last).to_contain_text("Hi Ann, what would you like to know about?")
        expect(cells.nth(4)).to_have_text("HEAR topic (Sessions / Channels / Nothing, thanks)")
        expect(history.locator('li[data-role="user"]').first).to_have_text("user<b>Ann</b>")
        expect(panel.locator("b")).to_have_count(0)

        # an API error shows in the panel (the server's 409 for a session ended meanwhile, stood in
        # for at the network seam), and the text stays in the box
        ended = json.dumps({"message": f"session {sid} has ended"})
        messages = re.compile(r"/gb/api/sessions/[^/]+/messages(\?|$)")  # ServerConnection adds ?<time>
        page.route(messages, lambda route: route.fulfill(
            status=409, content_type="application/json", body=ended))
        panel.get_by_test_id("gb-session-input").fill("Channels")
        panel.get_by_test_id("gb-session-send").click()
        expect(panel.get_by_test_id("gb-sessions-error")).to_have_text(f"409: session {sid} has ended")
        page.unroute(messages)

        # Send: the message goes to the session as its user, the bot's reply shows in the history
        expect(panel.get_by_test_id("gb-session-input")).to_have_value("Channels")
        panel.get_by_test_id("gb-session-send").click()
        expect(history.locator("li").last).to_contain_text(
            "The same dialog runs on the web, WhatsApp, Teams, email and voice.", timeout=20_000)
        expect(history.locator('li[data-role="user"]').last).to_contain_text("Channels")
        expect(variables.locator('tr[data-variable="last_topic"] td').nth(1)).to_have_text("Channels")
        expect(panel.get_by_test_id("gb-sessions-error")).to_be_empty()

        # Attach: %session attach in the notebook's gb kernel; the notebook's %session shows the id
        attach = panel.get_by_test_id("gb-session-attach")
        expect(attach).to_be_enabled()
        attach.click()
        expect(panel.get_by_test_id("gb-session-status")).to_contain_text(f"attached session {sid}", timeout=30_000)
        page.locator(".jp-Notebook .jp-Cell .cm-content").first.click()
        page.keyboard.press("Shift+Enter")
        expect(page.locator(".jp-Notebook .jp-OutputArea-output").first).to_contain_text(
            f"session {sid}", timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "lab-inspector.png"), full_page=True)

        # End: the session is ended, in the list and in the detail; its actions are off
        panel.get_by_test_id("gb-session-end").click()
        expect(row).to_have_attribute("data-status", "ended", timeout=10_000)
        expect(cells.nth(4)).to_have_text("ended")
        expect(panel.get_by_test_id("gb-session-heading")).to_contain_text("ended")
        expect(panel.get_by_test_id("gb-sessions-error")).to_be_empty()
        for action in ("gb-session-send", "gb-session-end", "gb-session-attach"):
            expect(panel.get_by_test_id(action)).to_be_disabled()

        # hidden (its tab clicked again), the panel reads nothing; shown again, it reads at once
        reads: list[str] = []
        page.on("request", lambda request: reads.append(request.url) if "/gb/api/sessions" in request.url else None)
        tab.click()
        expect(panel).to_be_hidden()
        page.wait_for_timeout(500)  # a read in flight when it hid
        reads.clear()
        page.wait_for_timeout(4_500)  # over two polling periods
        assert reads == []
        tab.click()
        expect(panel).to_be_visible()
        page.wait_for_timeout(1_000)
        assert reads, "the panel shown again did not read the sessions"
    assert _on_storage(root, lambda runtime: runtime.summary(web.session_id)).status == "ended"
