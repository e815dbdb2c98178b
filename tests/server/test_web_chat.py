"""The web chat page of a real `gb serve`, in Debian's headless Chromium (Playwright)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, FLAGS

from .serverproc import Server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is not installed (make test installs it)")
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    shutil.copytree(ROOT / "bots", tmp_path / "bots")
    env = dict(os.environ, GB_BOTS_DIR=str(tmp_path / "bots"), GB_DATA_DIR=str(tmp_path / "data"))
    env.pop("GB_DATABASE_URL", None)
    env.pop("GB_VALKEY_URL", None)
    s = Server(env, tmp_path / "server.log").start()
    yield s
    s.stop()


def test_chat_reload_and_another_bot(server: Server) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page()
        urls: list[str] = []
        page.on("request", lambda r: urls.append(r.url))
        page.on("websocket", lambda ws: urls.append(ws.url))
        try:
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
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "web-chat-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
