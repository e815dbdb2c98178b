"""What the browser tests share: Debian's chromium and its flags, where screenshots go."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.helpers import ROOT
from tests.helpers.prereqs import unavailable

__all__ = ["ARTIFACTS", "CHROMIUM", "FLAGS", "chromium_page", "need_chromium"]

# Debian's chromium (make test installs it); never a browser download.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags chromium keeps trying hosts this machine cannot reach.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"  # screenshots, kept by CI


def need_chromium() -> None:
    """Skip the test (fail it on CI) where Debian's chromium is not installed."""
    if not os.path.exists(CHROMIUM):
        unavailable("Debian's chromium is not installed (make test installs it)")


@contextmanager
def chromium_page(failure_shot: str, **page_options: Any) -> Iterator[Any]:
    """A page of Debian's headless chromium (Playwright, sync); if the block fails, a full-page
    screenshot `failure_shot` goes to ARTIFACTS before the error propagates."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(**page_options)
        try:
            yield page
        except Exception:
            page.screenshot(path=str(ARTIFACTS / failure_shot), full_page=True)
            raise
        finally:
            browser.close()
