"""A real server subprocess (``gb serve``, or any command that answers ``GET /healthz``), and what
talking to one takes: a free port, a gb process's environment, the Bearer header; and a local
Tornado application served in the test's own event loop (the APIs that HTTP keyword tests call)."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from types import TracebackType

import httpx
import tornado.httpserver
import tornado.netutil
import tornado.web

from . import ROOT

__all__ = ["Server", "bearer", "free_port", "gb_environ", "gb_serve", "local_app", "serving"]


def free_port() -> int:
    """A TCP port nobody listens on right now (127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def local_app(app: tornado.web.Application, ssl_options: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    """Serve `app` on a free port of 127.0.0.1 in the running event loop for the block; yields the port.

    The socket is bound before the block starts (no race for the port), and at the end the server
    stops listening and closes the connections still open (a client that stopped reading an endless
    body). With `ssl_options` it serves HTTPS.
    """
    server = tornado.httpserver.HTTPServer(app, ssl_options=ssl_options)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server.add_sockets(sockets)
    try:
        yield int(sockets[0].getsockname()[1])
    finally:
        server.stop()
        await server.close_all_connections()


def bearer(token: str) -> dict[str, str]:
    """The headers of a request made with a session's token."""
    return {"Authorization": f"Bearer {token}"}


def gb_environ(bots: Path, data: Path, *, database_url: str | None = None, valkey_url: str | None = None,
               **more: str) -> dict[str, str]:
    """This process's environment for a gb process (`gb serve`, the gb kernel) on `bots` and `data`.

    Without `database_url` it uses the embedded SQLite file in `data`, without `valkey_url` no
    cache: the variables of this environment are dropped. `more` adds variables (JPY_SESSION_NAME).
    """
    env = {k: v for k, v in os.environ.items() if k not in ("GB_DATABASE_URL", "GB_VALKEY_URL")}
    env.update(GB_BOTS_DIR=str(bots), GB_DATA_DIR=str(data), **more)
    if database_url is not None:
        env["GB_DATABASE_URL"] = database_url
    if valkey_url is not None:
        env["GB_VALKEY_URL"] = valkey_url
    return env


def gb_serve(port: int, *extra: str) -> list[str]:
    """The command line of `gb serve` on `port`, with `extra` options (``--workers 2``)."""
    return [sys.executable, "-m", "gb_basic.cli", "serve", "--port", str(port), *extra]


class Server:
    """A server subprocess on a free port; its output (stdout and stderr) goes to `log`.

    Started by ``start()`` or by ``with``; a ``with`` block stops it at the end and, when the block
    raised, prints the end of the log to stderr (a benchmark's failure shows why).
    """

    def __init__(self, env: dict[str, str], log: Path, extra: list[str] | None = None, *,
                 command: Callable[[int], list[str]] | None = None) -> None:
        """Args:
            env: the process's environment (see `gb_environ`).
            extra: options added to `gb serve`.
            command: the command line for a port, instead of `gb serve` (a benchmark's floor server).
        """
        self.env, self.log, self.extra = env, log, extra or []
        self.command = command or (lambda port: gb_serve(port, *self.extra))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    def start(self, timeout: float = 60) -> Server:
        """Start it (again after ``kill9``, on the same port) and wait until /healthz answers 200.

        Raises:
            RuntimeError: it exited, or did not answer within `timeout` seconds (the end of its log says why).
        """
        return self.launch().wait_ready(timeout)

    def launch(self) -> Server:
        """Start its process and return at once (``wait_ready`` waits for it; see `serving`)."""
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.command(self.port), env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         cwd=ROOT)
        return self

    def wait_ready(self, timeout: float = 60) -> Server:
        """Wait until the launched process answers /healthz with 200 (`timeout` seconds from now).

        Raises:
            RuntimeError: it exited, or did not answer within `timeout` seconds (the end of its log says why).
        """
        assert self.proc is not None, "not launched"
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        what = f"exited with {self.proc.returncode}" if self.proc.poll() is not None else f"no 200 in {timeout} s"
        self.stop()
        raise RuntimeError(f"{self.command(self.port)}: {what}:\n{self.log_tail()}")

    def kill9(self) -> None:
        """SIGKILL: no shutdown code runs."""
        assert self.proc is not None, "not started"
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, SIGKILL if it still runs after `timeout` seconds; its exit code (None if never started)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is not None:
            print(f"--- the end of {self.log.name}:\n{self.log_tail(4000)}", file=sys.stderr)
        self.stop()


@contextmanager
def serving(*servers: Server, timeout: float = 60) -> Iterator[list[Server]]:
    """Start `servers` at once and wait until each answers /healthz; stop them all when the block ends.

    A gb server takes seconds to start (imports, migrations, its dialog workers), so several that
    a test needs start side by side, not one after another; their migrations take turns (a lock).
    When the block raises, the end of each server's log goes to stderr, as with ``with Server``.
    """
    try:
        for server in servers:
            server.launch()
        for server in servers:
            server.wait_ready(timeout)
        yield list(servers)
    except BaseException:
        for server in servers:
            if server.proc is not None:
                print(f"--- the end of {server.log.name}:\n{server.log_tail(4000)}", file=sys.stderr)
        raise
    finally:
        for server in reversed(servers):
            server.stop()
