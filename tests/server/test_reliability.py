"""The server under failures: Valkey stopped during traffic, PostgreSQL restarted during traffic.

Both services are restarted before a test ends (DEVELOPERS.md).
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.bots import ECHO, make_bot
from tests.helpers.servers import Server, bearer

REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
               "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]


def pg(action: str) -> None:
    version = subprocess.run("ls /etc/postgresql", shell=True, capture_output=True, text=True).stdout.split()[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action], check=False,
                   capture_output=True, timeout=120)


def pg_up() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode == 0


def redis_up() -> bool:
    r = subprocess.run(["redis-cli", "-p", "6379", "ping"], capture_output=True, text=True)
    return r.stdout.strip() == "PONG"


@pytest.fixture
def server(env: dict[str, str], tmp_path: Path) -> Iterator[Server]:
    """`gb serve` on PostgreSQL + Valkey, with an `echo` bot next to the example bots."""
    make_bot(Path(env["GB_BOTS_DIR"]), "echo", {"start": ECHO}, config="rate-limit,100000\n")
    with Server(env, tmp_path / "server.log") as server:
        yield server


async def traffic(url: str, token: str, seconds: float, during) -> tuple[list[str], list[int], dict[int, str]]:  # type: ignore[no-untyped-def]
    """Send numbered messages for `seconds`; call `during()` (blocking) in a thread meanwhile."""
    acked: list[str] = []
    statuses: list[int] = []
    retry_after: dict[int, str] = {}
    failure = asyncio.get_running_loop().run_in_executor(None, during)
    deadline = time.monotonic() + seconds
    i = 0
    async with httpx.AsyncClient(timeout=20) as c:
        while time.monotonic() < deadline or not failure.done():
            text = f"m{i}"
            try:
                r = await c.post(f"{url}/echo/api/chat", json={"message": text}, headers=bearer(token))
            except httpx.HTTPError:
                statuses.append(0)  # the connection itself failed: not acknowledged
            else:
                statuses.append(r.status_code)
                if r.status_code == 200:
                    assert [(m["role"], m["content"]) for m in r.json()["messages"]] == [("assistant", f"echo {text}")]
                    acked.append(text)
                elif "Retry-After" in r.headers:
                    retry_after[r.status_code] = r.headers["Retry-After"]
            i += 1
            await asyncio.sleep(0.05)
    await failure
    return acked, statuses, retry_after


async def history(url: str, token: str) -> list[str]:
    async with httpx.AsyncClient(timeout=20) as c:
        r = await c.get(f"{url}/echo/api/session/history", headers=bearer(token))
        return [m["content"] for m in r.json()["messages"] if m["role"] == "user"]


@pytest.mark.outage
async def test_valkey_stopped_during_traffic_gives_no_errors(server: Server) -> None:
    s = httpx.post(f"{server.url}/echo/api/session").json()

    def stop_and_restart_valkey() -> None:
        time.sleep(1)
        subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True)
        time.sleep(2)
        subprocess.run(REDIS_START, capture_output=True)

    try:
        acked, statuses, _ = await traffic(server.url, s["token"], 5, stop_and_restart_valkey)
        assert set(statuses) == {200}, statuses
        assert await history(server.url, s["token"]) == acked
    finally:
        if not redis_up():
            subprocess.run(REDIS_START, capture_output=True)


@pytest.mark.outage
async def test_postgres_restarted_during_traffic(server: Server) -> None:
    s = httpx.post(f"{server.url}/echo/api/session").json()

    def restart_postgres() -> None:
        time.sleep(1)
        pg("stop")
        time.sleep(2)
        pg("start")
        for _ in range(100):
            if pg_up():
                return
            time.sleep(0.1)

    try:
        acked, statuses, retry_after = await traffic(server.url, s["token"], 6, restart_postgres)
        assert set(statuses) <= {200, 503, 0}, statuses
        assert 503 in statuses and retry_after.get(503), "no 503 with Retry-After while PostgreSQL was down"
        assert statuses[-5:] == [200] * 5  # full recovery
        stored = await history(server.url, s["token"])
        assert set(acked) <= set(stored)  # nothing acknowledged was lost
        assert stored == sorted(stored, key=lambda t: int(t[1:]))  # and the order holds
    finally:
        if not pg_up():
            pg("start")
