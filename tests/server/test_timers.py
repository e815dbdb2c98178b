"""WAIT on real `gb serve` processes: the lock is free while a dialog waits, a timer fires once
across two processes on one PostgreSQL + Valkey, a server killed with -9 fires it after its
restart, a loop of WAITs talks spaced out, and the web socket gets what the timer said."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from gb_runtime.runtime import MAX_TYPED_AHEAD
from tests.conftest import PG_ADMIN
from tests.helpers.bots import make_bot
from tests.helpers.servers import Server, bearer, gb_environ, serving
from tests.helpers.stores import create_database, drop_database

DIALOGS = {
    "start": 'TALK "hi"\n',
    "pause": 'TALK "wait"\nWAIT 1\nTALK "after"\nx = HEAR\nTALK "got " + x\n',
    "count": 'FOR i = 1 TO 4\n  TALK i\n  WAIT 1\nNEXT\nTALK "end"\n',
}


@pytest.fixture
def env(redis_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A bot with WAITs, on a PostgreSQL database of this test alone (its timers are this test's) + Valkey."""
    make_bot(tmp_path / "bots", "default", DIALOGS)
    name = f"gb_timers_{uuid.uuid4().hex[:10]}"
    url = create_database(PG_ADMIN, name)
    yield gb_environ(tmp_path / "bots", tmp_path / "data", database_url=url, valkey_url=redis_url)
    drop_database(PG_ADMIN, name)


async def chat(c: httpx.AsyncClient, url: str, token: str, text: str) -> httpx.Response:
    return await c.post(f"{url}/api/chat", json={"message": text}, headers=bearer(token))


async def contents(c: httpx.AsyncClient, url: str, token: str) -> list[str]:
    history = (await c.get(f"{url}/api/session/history", headers=bearer(token))).json()
    return [m["content"] for m in history["messages"]]


async def until_said(c: httpx.AsyncClient, url: str, token: str, text: str, seconds: float = 15) -> list[str]:
    deadline = time.monotonic() + seconds
    while True:
        said = await contents(c, url, token)
        if text in said or time.monotonic() > deadline:
            return said
        await asyncio.sleep(0.1)


async def test_a_timer_fires_once_across_two_processes_and_reaches_the_socket(
        env: dict[str, str], tmp_path: Path) -> None:
    with serving(*(Server(env, tmp_path / f"server{i}.log") for i in range(2))) as (one, two):
        async with httpx.AsyncClient(timeout=10) as c:
            tokens = [(await c.post(f"{one.url}/api/session")).json()["token"] for _ in range(12)]
            async with websockets.connect(one.url.replace("http", "ws") + "/ws", origin=one.url) as ws:
                await ws.send(json.dumps({"type": "hello", "token": tokens[0]}))
                assert json.loads(await ws.recv())["type"] == "ready"
                for i, token in enumerate(tokens):  # half of the WAITs start on each process
                    r = await chat(c, (one, two)[i % 2].url, token, "pause")
                    assert r.status_code == 200 and [m["content"] for m in r.json()["messages"]] == ["wait"]
                    waiting = r.json()["waiting"]
                    assert waiting["kind"] == "wait" and dt.datetime.fromisoformat(waiting["due"])
                echo = json.loads(await asyncio.wait_for(ws.recv(), 10))  # the turn that began the WAIT
                assert echo["echo"] == "pause" and echo["waiting"]["kind"] == "wait"
                pushed = json.loads(await asyncio.wait_for(ws.recv(), 10))  # the timer's turn, from either process
            assert pushed["type"] == "reply" and [m["content"] for m in pushed["messages"]] == ["after"]
            assert "echo" not in pushed and pushed["waiting"]["kind"] == "hear"
            for token in tokens:
                said = await until_said(c, two.url, token, "after")
                assert said == ["hi", "pause", "wait", "after"], said  # fired once: one "after"
            await asyncio.sleep(1.5)  # a second firing (a claim that lapsed) would be stored by now
            for token in tokens:
                assert (await contents(c, one.url, token)).count("after") == 1
            r = await chat(c, two.url, tokens[0], "Ann")
            assert [m["content"] for m in r.json()["messages"]] == ["got Ann"]


async def test_the_lock_is_free_during_a_wait_and_messages_typed_ahead_answer_the_hear_after_it(
        env: dict[str, str], tmp_path: Path) -> None:
    with Server(env, tmp_path / "server.log") as server:
        async with httpx.AsyncClient(timeout=10) as c:
            token = (await c.post(f"{server.url}/api/session")).json()["token"]
            await chat(c, server.url, token, "pause")
            started = time.monotonic()
            r = await chat(c, server.url, token, "Ann")  # answered at once, while the dialog waits
            assert time.monotonic() - started < 0.5
            assert r.status_code == 200 and r.json()["messages"] == [] and r.json()["waiting"]["kind"] == "wait"
            for i in range(MAX_TYPED_AHEAD - 1):
                assert (await chat(c, server.url, token, f"more {i}")).status_code == 200
            refused = await chat(c, server.url, token, "too many")
            assert refused.status_code == 429 and refused.json()["error"]["code"] == "dialog_waiting"
            assert 1 <= int(refused.headers["Retry-After"]) <= 2
            said = await until_said(c, server.url, token, "got Ann")
            assert said[:6] == ["hi", "pause", "wait", "Ann", "more 0", "more 1"] and "too many" not in said
            assert said.index("after") < said.index("got Ann")


async def test_kill_9_during_a_wait_then_restart_fires_it_late_once(env: dict[str, str], tmp_path: Path) -> None:
    with Server(env, tmp_path / "server.log") as server:
        async with httpx.AsyncClient(timeout=10) as c:
            token = (await c.post(f"{server.url}/api/session")).json()["token"]
            assert (await chat(c, server.url, token, "pause")).json()["waiting"]["kind"] == "wait"
            server.kill9()
            await asyncio.sleep(1.5)  # the due time passes while no process is alive
            server.start()
            said = await until_said(c, server.url, token, "after")
            assert said == ["hi", "pause", "wait", "after"]
            r = await chat(c, server.url, token, "Bo")
            assert [m["content"] for m in r.json()["messages"]] == ["got Bo"]


async def test_a_loop_of_waits_talks_spaced_and_never_holds_the_lock(env: dict[str, str], tmp_path: Path) -> None:
    with Server(env, tmp_path / "server.log") as server:
        async with httpx.AsyncClient(timeout=10) as c:
            token = (await c.post(f"{server.url}/api/session")).json()["token"]
            r = await chat(c, server.url, token, "count")
            assert [m["content"] for m in r.json()["messages"]] == ["1"]
            slowest = 0.0
            for _ in range(MAX_TYPED_AHEAD - 2):  # all through the loop the lock is free: answered at once
                started = time.monotonic()
                assert (await chat(c, server.url, token, "?")).status_code == 200
                slowest = max(slowest, time.monotonic() - started)
                await asyncio.sleep(0.4)
            await until_said(c, server.url, token, "end")
            history = (await c.get(f"{server.url}/api/session/history", headers=bearer(token))).json()["messages"]
    assert slowest < 0.5, slowest
    said = [m for m in history if m["role"] == "assistant" and m["content"] in ("1", "2", "3", "4", "end")]
    assert [m["content"] for m in said] == ["1", "2", "3", "4", "end"]
    times = [dt.datetime.fromisoformat(m["timestamp"]) for m in said]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert all(0.95 <= g < 2.0 for g in gaps), gaps
