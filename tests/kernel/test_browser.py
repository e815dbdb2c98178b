"""JupyterLab in a real headless Chromium: run a %chat cell, type into the widget, see the reply.

Debian's chromium, driven by Playwright for Python (never a browser download). The screenshot
is saved under test-artifacts/.
"""

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
from tests.helpers.bots import copy_example_bots
from tests.helpers.servers import free_port, gb_environ


def notebook(cells: list[str]) -> dict[str, object]:
    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "gb", "display_name": "gb BASIC", "language": "basic"},
                         "language_info": {"name": "basic"}},
            "cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None,
                       "outputs": [], "source": src} for i, src in enumerate(cells)]}


@pytest.fixture
def lab(tmp_path: Path, gb_kernelspec: str) -> Iterator[str]:
    need_chromium()
    copy_example_bots(tmp_path / "bots")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "chat.ipynb").write_text(json.dumps(
        notebook(["%bot default\n%chat", "%run start"])))
    port, token = free_port(), "gbtest"
    env = gb_environ(tmp_path / "bots", tmp_path / "data")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={tmp_path / 'notebooks'}", "--LabApp.news_url=",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "lab.log", "w"), cwd=tmp_path)
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
        yield f"{base}/lab/tree/chat.ipynb?token={token}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_chat_widget_in_jupyterlab(lab: str) -> None:
    from playwright.sync_api import expect

    with chromium_page("chat-widget-jupyterlab-failure.png", viewport={"width": 1280, "height": 900}) as page:
        page.goto(lab)
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
