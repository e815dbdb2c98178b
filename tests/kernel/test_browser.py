"""JupyterLab in a real headless Chromium: run a %chat cell, type into the widget, see the reply.

Debian's chromium, driven by Playwright for Python (never a browser download). The screenshot
is saved under test-artifacts/. JupyterLab is the kernel tests' shared one (the ``lab`` fixture).
"""

from __future__ import annotations

from tests.browser import ARTIFACTS, Lab, chromium_page


def test_chat_widget_in_jupyterlab(lab: Lab) -> None:
    from playwright.sync_api import expect

    with chromium_page("chat-widget-jupyterlab-failure.png", viewport={"width": 1280, "height": 900}) as page:
        page.goto(lab.open("chat", ["%bot default\n%chat", "%run start"]))
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
        # the gb kernel is started and idle (status bar), then run the cell
        expect(page.get_by_text("gb BASIC | Idle")).to_be_visible(timeout=90_000)
        page.locator(".jp-Notebook .jp-Cell .cm-content").first.click()
        page.keyboard.press("Shift+Enter")  # %chat: the widget
        chat = page.get_by_test_id("gb-chat")
        chat.wait_for(timeout=60_000)
        page.keyboard.press("Shift+Enter")  # %run start: its HEARs wait for the widget
        expect(page.get_by_test_id("gb-waiting")).to_contain_text("HEAR name", timeout=30_000)
        expect(chat.get_by_test_id("gb-message").last).to_contain_text("What is your name?")
        box = page.get_by_test_id("gb-input")
        box.fill("Ann")
        box.press("Enter")
        expect(chat.get_by_test_id("gb-message").last).to_contain_text(
            "Hi Ann, what would you like to know about?", timeout=30_000)
        expect(page.get_by_test_id("gb-vars")).to_contain_text("user_name", timeout=30_000)
        expect(page.get_by_test_id("gb-vars")).to_contain_text('"Ann"')
        page.get_by_test_id("gb-choice").filter(has_text="Channels").click()
        expect(chat.get_by_test_id("gb-message").last).to_contain_text(
            "The same dialog runs on the web, WhatsApp, Teams, email and voice.", timeout=30_000)
        expect(page.get_by_test_id("gb-vars")).to_contain_text("last_topic")
        page.screenshot(path=str(ARTIFACTS / "chat-widget-jupyterlab.png"), full_page=True)
