"""The %chat widget's suggestion buttons in JupyterLab, in Debian's headless Chromium (Playwright):
a dialog's ADD SUGGESTION / ADD SWITCHER become buttons; a click sends the text as the user's message."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import ARTIFACTS, chromium_page, need_chromium
from tests.helpers.bots import make_bot
from tests.helpers.servers import free_port, gb_environ
from tests.kernel.test_browser import notebook

SHOP = {
    "start": 'ADD SUGGESTION "products" AS "View products"\n'
             'ADD SUGGESTION "Help <i>me</i>"\n'
             'ADD SWITCHER "tables" AS "Tables"\n'
             'TALK "Welcome! Your name?"\n'
             'HEAR name\n'
             'TALK "Hi " + name + ", pick a button"\n',
    "view_products": 'TALK "We have hats and caps"\n',
    "clear": 'CLEAR SUGGESTIONS\nTALK "No more suggestions"\n',
}


@pytest.fixture
def lab(tmp_path: Path, gb_kernelspec: str) -> Iterator[str]:
    need_chromium()
    make_bot(tmp_path / "bots", "default", SHOP)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "shop.ipynb").write_text(json.dumps(notebook(["%bot default\n%chat", "%run start"])))
    port, token = free_port(), "gbtest"
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={tmp_path / 'notebooks'}", "--LabApp.news_url=",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=gb_environ(tmp_path / "bots", tmp_path / "data"), stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "lab.log", "w"), cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=1)
                break
            except OSError:
                time.sleep(0.25)
        else:
            raise AssertionError("JupyterLab did not start: " + (tmp_path / "lab.log").read_text()[-2000:])
        yield f"{base}/lab/tree/shop.ipynb?token={token}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_chat_widget_shows_suggestions_as_buttons(lab: str) -> None:
    from playwright.sync_api import expect

    with chromium_page("chat-widget-suggestions-failure.png", viewport={"width": 1280, "height": 900}) as page:
        page.goto(lab)
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
