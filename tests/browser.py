"""What the browser tests share: Debian's chromium and its flags, where screenshots go, and a
JupyterLab server with the gb kernel (the kernel's browser tests open their notebooks in one)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.helpers import ROOT
from tests.helpers.prereqs import unavailable
from tests.helpers.servers import free_port, gb_environ

__all__ = ["ARTIFACTS", "AXE", "CHROMIUM", "FLAGS", "Lab", "axe_violations", "chromium_page", "jupyterlab",
           "need_chromium", "notebook"]

# Debian's chromium (make test installs it); never a browser download.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags chromium keeps trying hosts this machine cannot reach.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"  # screenshots, kept by CI
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"  # npm axe-core (web/package-lock.json; make install)


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


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's violations of these impacts on the page as it is now (WCAG 2.x A and AA rules
    and axe's best practices): ``[{id, impact, help, nodes}]``, empty when there is none.

    axe is evaluated through the DevTools protocol, so the page's Content-Security-Policy (no
    inline scripts) lets it in; the page itself is not changed."""
    if not AXE.exists():
        unavailable(f"{AXE.relative_to(ROOT)} is missing (make install runs npm ci in web/)")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
                                              nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" "))}));
    }""")
    return [v for v in found if v["impact"] in impacts]


def notebook(cells: list[str]) -> dict[str, object]:
    """A gb BASIC notebook (nbformat 4) of code cells with these sources, not run yet."""
    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "gb", "display_name": "gb BASIC", "language": "basic"},
                         "language_info": {"name": "basic"}},
            "cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None,
                       "outputs": [], "source": src} for i, src in enumerate(cells)]}


class Lab:
    """A running JupyterLab server: its notebooks folder, and the URL that opens one of them."""

    def __init__(self, base: str, token: str, notebooks: Path) -> None:
        self.base, self.token, self.notebooks = base, token, notebooks

    def open(self, name: str, cells: list[str]) -> str:
        """Write the notebook `name` (.ipynb) of `cells`; the URL that opens it alone, in a JupyterLab
        workspace of its own (what another test opened in this server is not restored beside it)."""
        (self.notebooks / f"{name}.ipynb").write_text(json.dumps(notebook(cells)))
        return f"{self.base}/lab/workspaces/{name}/tree/{name}.ipynb?token={self.token}"


@contextmanager
def jupyterlab(root: Path, bots: Path) -> Iterator[Lab]:
    """JupyterLab on a free port, serving ``root/notebooks``; its gb kernels use the bots in `bots`
    and the embedded database in ``root/data``. Its log is ``root/lab.log``; stopped at the end."""
    (root / "notebooks").mkdir()
    port, token = free_port(), "gbtest"
    with open(root / "lab.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}",
             "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
             f"--ServerApp.root_dir={root / 'notebooks'}", "--LabApp.news_url=",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            env=gb_environ(bots, root / "data"), stdout=subprocess.DEVNULL, stderr=log, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=1)
                break
            except OSError:
                time.sleep(0.25)
        else:
            raise AssertionError("JupyterLab did not start: " + (root / "lab.log").read_text()[-2000:])
        yield Lab(base, token, root / "notebooks")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
