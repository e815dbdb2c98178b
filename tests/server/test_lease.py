"""A session's lock on real `gb serve` processes (PostgreSQL + Valkey): a long turn keeps its lease
while a second message is refused busy with Retry-After from the lease; a turn that lost its lock
stores nothing; kill -9 during a slow turn frees the session within the lease (at once on the SQL
locks), and what was acknowledged before the kill is stored once."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from redis.asyncio import Redis

from gb_sessions.locks import LEASE_SECONDS, LOCK_WAIT
from tests.conftest import PG_ADMIN
from tests.helpers.bots import make_bot
from tests.helpers.servers import Server, bearer, serving

SLOW = '''TALK "ready"
n = 0
DO
  x = HEAR
  busy = 0
  IF x = "slow" THEN busy = 11
  IF x = "brief" THEN busy = 4
  IF busy > 0 THEN
    t = NOW()
    start = HOUR(t) * 3600 + MINUTE(t) * 60 + VAL(FORMAT_DATE(t, "ss"))
    passed = 0
    DO WHILE passed < busy
      t = NOW()
      passed = (HOUR(t) * 3600 + MINUTE(t) * 60 + VAL(FORMAT_DATE(t, "ss")) - start + 86400) MOD 86400
    LOOP
  END IF
  n = n + 1
  TALK x + " " + n
LOOP
'''  # "slow" computes (a WAIT would free the session) for 10-11 s (two leases), "brief" 3-4 s; n counts
# the committed turns


@pytest.fixture
def slow_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    make_bot(tmp_path / "bots", "slow", {"start": SLOW}, config="max-seconds,30\nmax-steps,1000000000")
    return env


@pytest.fixture
def servers(slow_env: dict[str, str], tmp_path: Path) -> Iterator[list[Server]]:
    with serving(*(Server(slow_env, tmp_path / f"server{i}.log") for i in range(2))) as started:
        yield started


async def chat(c: httpx.AsyncClient, server: Server, token: str, text: str) -> httpx.Response:
    return await c.post(f"{server.url}/api/chat", json={"message": text}, headers=bearer(token))


def replies(r: httpx.Response) -> list[str]:
    return [m["content"] for m in r.json()["messages"]]


async def history(c: httpx.AsyncClient, server: Server, token: str) -> list[str]:
    r = await c.get(f"{server.url}/api/session/history", headers=bearer(token))
    return [m["content"] for m in r.json()["messages"]]


async def locked(redis: Redis, key: str) -> bytes:
    """The token in the lock key, once a turn holds it."""
    for _ in range(200):
        token = await redis.get(key)
        if token is not None:
            return bytes(token)
        await asyncio.sleep(0.05)
    raise AssertionError(f"{key} was never taken")


async def test_a_long_turn_keeps_its_lock_and_a_second_message_is_refused_busy(
        servers: list[Server], redis_client: Redis) -> None:
    one, two = servers
    async with httpx.AsyncClient(timeout=30) as c:
        s = (await c.post(f"{one.url}/api/session", json={"bot": "slow"})).json()
        key = f"lock:session:{s['session_id']}"
        started = time.monotonic()
        slow = asyncio.ensure_future(chat(c, one, s["token"], "slow"))
        token = await locked(redis_client, key)
        samples: list[tuple[float, Any, int]] = []

        async def watch() -> None:
            while not slow.done():
                samples.append((time.monotonic() - started, await redis_client.get(key), await redis_client.pttl(key)))
                await asyncio.sleep(0.25)

        watcher = asyncio.ensure_future(watch())
        sent = time.monotonic()
        second = await chat(c, two, s["token"], "second")  # another process: waits, then is refused
        waited = time.monotonic() - sent
        first = await slow
        await watcher
        third = await chat(c, two, s["token"], "third")
        stored = await history(c, two, s["token"])
    print(f"\nthe second message was refused after {waited:.2f} s, Retry-After {second.headers.get('Retry-After')}")
    during = [(t, v, p) for t, v, p in samples if t < 9.5]  # the slow turn runs 10 s
    assert during and during[-1][0] > 2 * LEASE_SECONDS - 1, "not watched across two leases"
    assert all(v == token and 0 < p <= LEASE_SECONDS * 1000 for _, v, p in during), during  # renewed, never lost
    assert second.status_code == 503 and second.json()["error"]["code"] == "session_busy", second.text
    assert int(second.headers["Retry-After"]) in (4, 5)  # the rest of a 5 s lease renewed every 1.7 s
    assert LOCK_WAIT - 0.2 < waited < LOCK_WAIT + 2
    assert first.status_code == 200 and replies(first) == ["slow 1"], first.text
    assert third.status_code == 200 and replies(third) == ["third 2"]
    assert stored == ["ready", "slow", "slow 1", "third", "third 2"]


@pytest.mark.parametrize("how", ["deleted", "taken"])
async def test_a_turn_that_lost_its_lock_stores_nothing(servers: list[Server], redis_client: Redis, how: str) -> None:
    """The lock key deleted (as when the lease ran out) and the session taken by a message on another
    process, or the key overwritten by another token: the turn's save is refused (503 lock_lost),
    not run again without the lock; nothing of it is stored."""
    one, two = servers
    async with httpx.AsyncClient(timeout=30) as c:
        s = (await c.post(f"{one.url}/api/session", json={"bot": "slow"})).json()
        key = f"lock:session:{s['session_id']}"
        brief = asyncio.ensure_future(chat(c, one, s["token"], "brief"))
        await locked(redis_client, key)
        if how == "deleted":
            await redis_client.delete(key)
            other = await chat(c, two, s["token"], "other")  # takes the free session, commits
            assert other.status_code == 200 and replies(other) == ["other 1"], other.text
        else:
            await redis_client.set(key, "another-turn", px=20_000)
        lost = await brief
        if how == "taken":
            assert await redis_client.get(key) == b"another-turn"  # our unlock left it alone
            await redis_client.delete(key)
        after = await chat(c, one, s["token"], "after")
        stored = await history(c, two, s["token"])
    assert lost.status_code == 503 and lost.json()["error"]["code"] == "lock_lost", lost.text
    assert lost.headers["Retry-After"] == "1"
    assert after.status_code == 200
    if how == "deleted":
        assert replies(after) == ["after 2"] and stored == ["ready", "other", "other 1", "after", "after 2"]
    else:
        assert replies(after) == ["after 1"] and stored == ["ready", "after", "after 1"]


def held_elsewhere(backend: str, session_id: str, data: Path) -> bool:
    """Whether a process holds the session's SQL lock: an advisory lock in pg_locks, or the flock."""
    if backend == "sqlite":
        bucket = hashlib.sha256(session_id.encode()).hexdigest()[:2]
        fd = os.open(data / "gb.db.locks" / f"{bucket}.lock", os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        return bool(conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted").fetchone()[0])


@pytest.mark.parametrize("backend", ["postgres+valkey", "postgres", "sqlite"])
async def test_kill_9_during_a_slow_turn_frees_the_session_within_the_lease(
        backend: str, slow_env: dict[str, str], tmp_path: Path, redis_client: Redis) -> None:
    """The next message goes to a server that runs already (so the wait is not the time a server
    takes to start), the one after to a new server started in the killed one's place."""
    env = dict(slow_env)
    if backend != "postgres+valkey":
        del env["GB_VALKEY_URL"]
    if backend == "sqlite":
        del env["GB_DATABASE_URL"]
    with serving(*(Server(env, tmp_path / f"server{i}.log") for i in range(2))) as (one, two):
        async with httpx.AsyncClient(timeout=30) as c:
            s = (await c.post(f"{one.url}/api/session", json={"bot": "slow"})).json()
            ann = await chat(c, one, s["token"], "Ann")  # acknowledged before the kill
            assert ann.status_code == 200 and replies(ann) == ["Ann 1"]
            slow = asyncio.ensure_future(chat(c, one, s["token"], "slow"))
            key = f"lock:session:{s['session_id']}"
            if backend == "postgres+valkey":
                await locked(redis_client, key)
            await asyncio.sleep(1)  # inside the first WAIT
            if backend != "postgres+valkey":
                assert held_elsewhere(backend, s["session_id"], tmp_path / "data")
            one.kill9()
            killed = time.monotonic()
            left = await redis_client.pttl(key)  # -2 on the SQL locks: no key
            after = await chat(c, two, s["token"], "next")
            answered = time.monotonic()
            with contextlib.suppress(httpx.HTTPError):
                await slow  # its connection died with the server
            one.start()  # a new server process in its place
            again = await chat(c, one, s["token"], "again")
            stored = await history(c, one, s["token"])
    waited = answered - killed
    print(f"\n{backend}: lease left at the kill {left} ms; the next message was answered {waited:.2f} s after the kill")
    assert after.status_code == 200 and replies(after) == ["next 2"], after.text
    assert again.status_code == 200 and replies(again) == ["again 3"], again.text
    assert stored == ["ready", "Ann", "Ann 1", "next", "next 2", "again", "again 3"]  # once each; nothing of "slow"
    if backend == "postgres+valkey":
        assert 0 < left <= LEASE_SECONDS * 1000
        assert left / 1000 - 0.5 < waited < left / 1000 + 1  # the rest of the dead turn's lease, and no more
    else:
        assert left == -2
        assert waited < 1  # the lock went with the process
