"""The web chat page of a real `gb serve`, in Debian's headless Chromium (Playwright)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import ARTIFACTS, chromium_page, need_chromium
from tests.helpers.bots import copy_example_bots
from tests.helpers.servers import Server, gb_environ


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    need_chromium()
    with Server(gb_environ(copy_example_bots(tmp_path / "bots"), tmp_path / "data"), tmp_path / "server.log") as s:
        yield s


def test_chat_reload_and_another_bot(server: Server) -> None:
    from playwright.sync_api import expect

    with chromium_page("web-chat-failure.png") as page:
        urls: list[str] = []
        page.on("request", lambda r: urls.append(r.url))
        page.on("websocket", lambda ws: urls.append(ws.url))
        page.goto(server.url + "/")
        messages = page.get_by_test_id("message")
        expect(messages.last).to_have_text("What is your name?", timeout=20_000)
        expect(page.get_by_test_id("status")).to_contain_text("connected", timeout=20_000)
        page.get_by_test_id("input").fill("Ann")
        page.get_by_test_id("input").press("Enter")
        expect(messages.last).to_have_text("Hi Ann, what would you like to know about?", timeout=20_000)
        expect(page.get_by_test_id("choice")).to_have_count(3)
        # a reload continues the same conversation, its history shown
        page.reload()
        expect(messages.last).to_have_text("Hi Ann, what would you like to know about?", timeout=20_000)
        expect(page.get_by_test_id("status")).to_contain_text("connected", timeout=20_000)
        page.get_by_test_id("choice").filter(has_text="Channels").click()
        expect(messages.last).to_contain_text("WhatsApp", timeout=20_000)
        page.screenshot(path=str(ARTIFACTS / "web-chat-default.png"), full_page=True)
        token = page.evaluate("localStorage.getItem('gb.token.default')")
        assert token and not any(token in u for u in urls), "the token must never be in a URL"
        # /support has its own session
        page.goto(server.url + "/support")
        expect(messages.last).to_have_text("How can I help?", timeout=20_000)
        support = page.evaluate("localStorage.getItem('gb.token.support')")
        assert support and support != token
        page.get_by_test_id("choice").filter(has_text="Shipping").click()
        expect(messages.last).to_contain_text("Orders ship within 2 business days.", timeout=20_000)
        # a typed HEAR's re-ask is shown
        page.get_by_test_id("input").fill("refund")
        page.get_by_test_id("input").press("Enter")
        expect(messages.last).to_have_text("What is your order number?", timeout=20_000)
        page.get_by_test_id("input").fill("twelve")
        page.get_by_test_id("input").press("Enter")
        expect(messages.last).to_contain_text("whole number", timeout=20_000)
        page.screenshot(path=str(ARTIFACTS / "web-chat-support.png"), full_page=True)
