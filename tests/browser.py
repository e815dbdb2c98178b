"""What the browser and server tests share: Debian's chromium and its flags, a free port."""

from __future__ import annotations

import shutil
import socket

__all__ = ["CHROMIUM", "FLAGS", "free_port"]

# Debian's chromium (make test installs it); never a browser download.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags chromium keeps trying hosts this machine cannot reach.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]


def free_port() -> int:
    """A TCP port nobody listens on right now (127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
