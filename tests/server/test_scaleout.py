"""Several `gb serve` processes on one PostgreSQL + Valkey; a server killed with -9; Valkey stopped."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A real `gb serve` process."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self.proc = subprocess.Popen([sys.executable, "-m", "gb_basic.cli", "serve", "--port", str(self.port)],
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


@pytest.fixture
def env(pg_database: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    shutil.copytree(ROOT / "bots", tmp_path / "bots")
    return dict(os.environ, GB_DATABASE_URL=pg_database, GB_VALKEY_URL=redis_url,
                GB_BOTS_DIR=str(tmp_path / "bots"), GB_DATA_DIR=str(tmp_path / "data"))


@pytest.fixture
def servers(env: dict[str, str], tmp_path: Path) -> Iterator[list[Server]]:
    started = [Server(env, tmp_path / f"server{i}.log").start() for i in range(2)]
    yield started
    for s in started:
        s.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_session_moves_between_processes_and_replies_reach_the_other_ones_socket(
        servers: list[Server]) -> None:
    one, two = servers
    async with httpx.AsyncClient() as c:
        s = (await c.post(f"{one.url}/api/session")).json()
        async with websockets.connect(one.url.replace("http", "ws") + "/ws", origin=one.url) as ws:
            await ws.send(json.dumps({"type": "hello", "token": s["token"]}))
            assert json.loads(await ws.recv())["type"] == "ready"
            r = await c.post(f"{two.url}/api/chat", json={"message": "Ann"}, headers=bearer(s["token"]))
            assert r.status_code == 200 and r.json()["messages"][-1]["content"].startswith("Hi Ann")
            pushed = json.loads(await asyncio.wait_for(ws.recv(), 10))  # over Valkey pub/sub
            assert pushed["type"] == "reply" and pushed["echo"] == "Ann"
            assert pushed["messages"][-1]["content"].startswith("Hi Ann")
        r = await c.post(f"{one.url}/api/chat", json={"message": "Sessions"}, headers=bearer(s["token"]))
        assert "I will remember you, Ann" in r.json()["messages"][-1]["content"]


async def test_kill_9_while_a_dialog_waits_then_restart(env: dict[str, str], tmp_path: Path) -> None:
    server = Server(env, tmp_path / "server.log").start()
    try:
        async with httpx.AsyncClient() as c:
            s = (await c.post(f"{server.url}/api/session")).json()
            r = await c.post(f"{server.url}/api/chat", json={"message": "Ann"}, headers=bearer(s["token"]))
            assert r.json()["waiting"]["variable"] == "topic"
        server.kill9()
        server.start()
        async with httpx.AsyncClient() as c:
            r = await c.post(f"{server.url}/api/chat", json={"message": "Channels"}, headers=bearer(s["token"]))
            assert r.status_code == 200 and "WhatsApp" in r.json()["messages"][-1]["content"]
            history = (await c.get(f"{server.url}/api/session/history", headers=bearer(s["token"]))).json()
        contents = [m["content"] for m in history["messages"]]
        assert contents[-4:-1] == ["Ann", "Hi Ann, what would you like to know about?", "Channels"]
    finally:
        server.stop()
