"""JupyterLab in a real headless Chromium: run a %chat cell, type into the widget, see the reply.

Debian's chromium, driven by Playwright for Python (never a browser download). The screenshot
is saved under test-artifacts/. JupyterLab is the kernel tests' shared one (the ``lab`` fixture).
"""

from __future__ import annotations

from tests.browser import ARTIFACTS, Lab, chromium_page
from tests.helpers.llm_server import LlmServer, Scripted


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


def test_the_widget_header_yes_no_buttons_and_errors_apart(lab: Lab) -> None:
    from playwright.sync_api import expect

    with chromium_page("chat-widget-yes-no-failure.png", viewport={"width": 1280, "height": 900}) as page:
        page.goto(lab.open("quiz", ["%bot quiz\n%chat", "%run start"]))
        expect(page.get_by_text("gb BASIC | Idle")).to_be_visible(timeout=90_000)
        page.locator(".jp-Notebook .jp-Cell .cm-content").first.click()
        page.keyboard.press("Shift+Enter")  # %chat
        chat = page.get_by_test_id("gb-chat")
        chat.wait_for(timeout=60_000)
        expect(chat.get_by_test_id("gb-header-bot")).to_have_text("quiz")
        expect(chat.get_by_test_id("gb-header-channel")).to_have_text("notebook")
        expect(chat.get_by_test_id("gb-header-session")).to_contain_text("session ")
        page.keyboard.press("Shift+Enter")  # %run start: its HEARs wait for the widget
        expect(chat.get_by_test_id("gb-message").last).to_have_text("Ready?", timeout=30_000)
        buttons = chat.get_by_test_id("gb-yes-no")
        expect(buttons).to_have_text(["Yes", "No"])
        buttons.filter(has_text="Yes").click()
        expect(chat.get_by_test_id("gb-message").last).to_have_text("Divide 10 by?", timeout=30_000)
        expect(chat.get_by_test_id("gb-message").filter(has_text="Ready: true")).to_have_count(1)
        expect(buttons).to_have_count(0)  # an INTEGER HEAR: no Yes / No
        box = chat.get_by_test_id("gb-input")
        box.fill("0")
        box.press("Enter")
        alert = chat.get_by_test_id("gb-error")
        expect(alert).to_contain_text("division by zero", timeout=30_000)
        assert not any("division by zero" in t for t in chat.get_by_test_id("gb-message").all_inner_texts())
        chat.get_by_test_id("gb-error-dismiss").click()
        expect(alert).to_be_hidden()
        page.screenshot(path=str(ARTIFACTS / "chat-widget-yes-no.png"), full_page=True)


def test_the_widget_streams_an_answer_and_its_stop_button_stops_the_next(lab: Lab, lab_llm: LlmServer) -> None:
    from playwright.sync_api import expect

    answer = "Sessions keep each conversation apart from every other one"
    lab_llm.script += [Scripted.say(answer, pause=0.25), Scripted.say(answer + " and on and on", pause=0.4)]
    with chromium_page("chat-widget-stream-failure.png", viewport={"width": 1280, "height": 900}) as page:
        page.goto(lab.open("ai", ["%bot ai\n%chat"]))
        expect(page.get_by_text("gb BASIC | Idle")).to_be_visible(timeout=90_000)
        page.locator(".jp-Notebook .jp-Cell .cm-content").first.click()
        page.keyboard.press("Shift+Enter")
        chat = page.get_by_test_id("gb-chat")
        chat.wait_for(timeout=60_000)
        box, stop = chat.get_by_test_id("gb-input"), chat.get_by_test_id("gb-stop")
        box.fill("What is a session?")
        box.press("Enter")
        growing = chat.get_by_test_id("gb-streaming")
        expect(growing).to_contain_text("Sessions keep", timeout=30_000)
        assert growing.inner_text() != answer, "the answer was shown only once it was whole"
        expect(stop).to_be_visible()
        expect(growing).to_have_count(0, timeout=30_000)  # the stored answer took its place
        expect(chat.get_by_test_id("gb-message").last).to_have_text(answer)
        expect(stop).to_be_hidden()
        box.fill("And channels?")
        box.press("Enter")
        expect(growing).to_contain_text("Sessions keep", timeout=30_000)
        stop.click()
        stopped = "Stopped: the answer was not finished, and nothing of it was kept."
        expect(chat.get_by_test_id("gb-message").last).to_have_text(stopped, timeout=30_000)
        expect(growing).to_have_count(0)
        assert lab_llm.requests[-1]["stream"] is True
