"""Several `gb serve` processes on one PostgreSQL + Valkey; a server killed with -9; Valkey stopped."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.helpers.servers import Server, bearer, serving


@pytest.fixture
def servers(env: dict[str, str], tmp_path: Path) -> Iterator[list[Server]]:
    with serving(*(Server(env, tmp_path / f"server{i}.log") for i in range(2))) as started:
        yield started


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
    with Server(env, tmp_path / "server.log") as server:
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


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
async def test_workers_share_the_port(database: str, env: dict[str, str], tmp_path: Path) -> None:
    """`gb serve --workers 2`: two serving processes, one port, one conversation across them."""
    import subprocess

    if database == "sqlite":
        env = {k: v for k, v in env.items() if k not in ("GB_DATABASE_URL", "GB_VALKEY_URL")}
    with Server(env, tmp_path / "workers.log", extra=["--workers", "2"]) as server:
        children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True)
        assert len(children.stdout.split()) == 2, server.log_tail(2000)
        async with httpx.AsyncClient() as c:
            s = (await c.post(f"{server.url}/api/session")).json()
            for text in ("Ann", "Sessions"):
                r = await c.post(f"{server.url}/api/chat", json={"message": text}, headers=bearer(s["token"]))
                assert r.status_code == 200
            assert "I will remember you, Ann" in r.json()["messages"][-1]["content"]
    for _ in range(100):  # the workers go with their supervisor
        if not subprocess.run(["pgrep", "-f", f"serve --port {server.port}"], capture_output=True).stdout:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("a worker outlived gb serve")
