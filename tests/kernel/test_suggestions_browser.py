"""The %chat widget's suggestion buttons in JupyterLab, in Debian's headless Chromium (Playwright):
a dialog's ADD SUGGESTION / ADD SWITCHER become buttons; a click sends the text as the user's message.
The bot is ``shop`` (SHOP in conftest.py), in the kernel tests' shared JupyterLab (the ``lab`` fixture)."""

from __future__ import annotations

from tests.browser import ARTIFACTS, Lab, chromium_page


def test_chat_widget_shows_suggestions_as_buttons(lab: Lab) -> None:
    from playwright.sync_api import expect

    with chromium_page("chat-widget-suggestions-failure.png", viewport={"width": 1280, "height": 900}) as page:
        page.goto(lab.open("shop", ["%bot shop\n%chat", "%run start"]))
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
        expect(page.get_by_text("gb BASIC | Idle")).to_be_visible(timeout=90_000)
        page.locator(".jp-Notebook .jp-Cell .cm-content").first.click()
        page.keyboard.press("Shift+Enter")  # %chat
        chat = page.get_by_test_id("gb-chat")
        chat.wait_for(timeout=60_000)
        page.keyboard.press("Shift+Enter")  # %run start: its HEAR waits for the widget
        messages, buttons = chat.get_by_test_id("gb-message"), chat.get_by_test_id("gb-suggestion")
        expect(messages.last).to_contain_text("Welcome! Your name?", timeout=30_000)
        expect(buttons).to_have_text(["View products", "Help <i>me</i>", "Tables"], timeout=30_000)
        assert chat.locator(".gb-suggestions i").count() == 0  # a label is text, not markup
        box = page.get_by_test_id("gb-input")
        box.fill("Ann")
        box.press("Enter")
        expect(messages.last).to_contain_text("Hi Ann, pick a button", timeout=30_000)
        expect(buttons.filter(has_text="Tables")).to_have_attribute("aria-pressed", "false")
        buttons.filter(has_text="Tables").click()  # a switcher: toggled, no reply
        expect(buttons.filter(has_text="Tables")).to_have_attribute("aria-pressed", "true", timeout=30_000)
        buttons.filter(has_text="View products").click()  # sends its text: the dialog of that name runs
        expect(messages.last).to_contain_text("We have hats and caps", timeout=30_000)
        expect(messages.filter(has_text="View products")).to_have_attribute("data-role", "user")
        page.screenshot(path=str(ARTIFACTS / "chat-widget-suggestions.png"), full_page=True)
        box.fill("clear")
        box.press("Enter")
        expect(messages.last).to_contain_text("No more suggestions", timeout=30_000)
        expect(buttons).to_have_text(["Tables"], timeout=30_000)
