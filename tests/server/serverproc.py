"""A real `gb serve` process for server tests."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.browser import free_port

__all__ = ["Server", "free_port", "bearer"]



class Server:
    """A real `gb serve` process."""

    def __init__(self, env: dict[str, str], log: Path, extra: list[str] | None = None) -> None:
        self.env, self.log, self.extra = env, log, extra or []
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self.proc = subprocess.Popen([sys.executable, "-m", "gb_basic.cli", "serve", "--port", str(self.port),
                                      *self.extra],
                                     env=self.env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        for _ in range(300):
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("gb serve did not start: " + self.log.read_text()[-2000:])

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()



def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
