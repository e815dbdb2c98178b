"""The embed snippet (static/embed.js): one <script> tag on another site's page puts the web chat
there, in an iframe of the gb server; only a site of GB_CORS_ORIGINS may frame it. A real
`gb serve` and a page served from another origin, in Debian's headless Chromium."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import ARTIFACTS, chromium_page, need_chromium
from tests.helpers.bots import make_bot
from tests.helpers.servers import Server, free_port, gb_environ


@pytest.fixture
def site() -> Iterator[tuple[int, list[str]]]:
    """Another site: one page (any path) whose body the test sets; (its port, [the body])."""
    body = ["<!doctype html><title>Shop</title><h1>Our shop</h1>"]

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = body[0].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    port = free_port()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Page)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield port, body
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_one_script_tag_embeds_the_chat_on_an_allowed_site_only(tmp_path: Path, site: tuple[int, list[str]]) -> None:
    from playwright.sync_api import expect

    need_chromium()
    port, body = site
    allowed = f"http://localhost:{port}"  # the same page at http://127.0.0.1:{port} is another origin, not allowed
    make_bot(tmp_path / "bots", "support", {"start": 'HEAR name WITH "Your name?"\nTALK "Hi " + name\n'},
             config="bot-name,Support\n")
    env = gb_environ(tmp_path / "bots", tmp_path / "data", GB_CORS_ORIGINS=allowed)
    with Server(env, tmp_path / "server.log") as gb, chromium_page("web-chat-embed-failure.png") as page:
        body[0] += f'<script src="{gb.url}/static/embed.js" data-bot="support" async></script>'
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text))
        page.goto(allowed + "/products")
        launcher = page.get_by_role("button", name="Chat with us")
        expect(launcher).to_have_attribute("aria-expanded", "false")
        assert page.locator("iframe").count() == 0  # no session before the chat is opened
        launcher.click()
        expect(launcher).to_have_attribute("aria-expanded", "true")
        chat = page.frame_locator("iframe.gb-embed-frame")
        expect(chat.get_by_test_id("message").last).to_have_text("Your name?", timeout=20_000)
        expect(chat.locator("h1")).to_have_text("Support")
        expect(chat.get_by_test_id("status")).to_have_attribute("data-state", "connected", timeout=20_000)
        chat.get_by_test_id("input").fill("Ann")
        chat.get_by_test_id("input").press("Enter")
        expect(chat.get_by_test_id("message").last).to_have_text("Hi Ann", timeout=20_000)
        assert page.locator("iframe.gb-embed-frame").get_attribute("src") == f"{gb.url}/support"
        # the token lives in the chat's own origin, out of the host page's reach
        assert page.evaluate("Object.keys(localStorage)") == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "web-chat-embed.png"))
        launcher.click()  # closes the panel
        expect(page.locator("iframe.gb-embed-frame")).to_be_hidden()

        # a site that is not in GB_CORS_ORIGINS: the browser refuses to show the chat in its frame
        page.goto(f"http://127.0.0.1:{port}/")
        with page.expect_console_message(lambda m: "frame-ancestors" in m.text, timeout=20_000):
            page.get_by_role("button", name="Chat with us").click()
        page.wait_for_timeout(500)
        assert page.frame_locator("iframe.gb-embed-frame").get_by_test_id("chat").count() == 0
        assert [c for c in console if "frame-ancestors" in c and allowed in c]
