"""New sessions against a real ``gb serve``, on SQLite and on PostgreSQL + Valkey: a flood from
one client is refused (429) after its session-create-rate while other bots and other clients go
on; max-sessions holds with two processes creating sessions at once (rows counted in SQL); a
session nobody wrote to frees its slot after empty-session-seconds."""

from __future__ import annotations

import asyncio
import collections
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from gb_server.base import client_key
from gb_server.settings import ServerSettings
from tests.helpers.bots import make_bot
from tests.helpers.servers import Server, bearer, gb_environ, serving

BACKENDS = ["sqlite", "postgres+valkey"]
ASK = 'TALK "Your name?"\nname = HEAR\nTALK "Hi " + name\n'
SLOW_START = 'n = 0\nFOR i = 1 TO 3000\n  n = n + i\nNEXT\nTALK "hi " + n\n'  # widens a check-then-insert race


def name() -> str:
    return f"b{uuid.uuid4().hex[:8]}"  # PostgreSQL and Valkey are shared by the whole run


@pytest.fixture
def bots(tmp_path: Path) -> Path:
    return tmp_path / "bots"


def environ(backend: str, request: pytest.FixtureRequest, bots: Path, data: Path, **more: str) -> dict[str, str]:
    if backend == "sqlite":
        return gb_environ(bots, data, **more)
    valkey = request.getfixturevalue("redis_url") if backend.endswith("+valkey") else None
    return gb_environ(bots, data, database_url=request.getfixturevalue("pg_database"), valkey_url=valkey, **more)


def sessions_in_sql(env: dict[str, str], bot: str) -> int:
    """The bot's rows in the sessions table, read by SQL directly."""
    url = env.get("GB_DATABASE_URL") or f"sqlite:///{env['GB_DATA_DIR']}/gb.db"
    engine = sa.create_engine(url.replace("+aiosqlite", ""))
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT count(*) FROM sessions WHERE bot_id = :b"), {"b": bot})
            return int(rows.scalar_one())
    finally:
        engine.dispose()


def cpu_seconds(pid: int) -> float:
    """CPU time a process used so far (user + system; Linux /proc), for the printed numbers."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture
def second_client() -> Iterator[httpx.AsyncHTTPTransport]:
    """Connections from another address (127.0.0.2: all of 127/8 is this machine's)."""
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    yield transport


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.timeout(300)
async def test_a_flood_from_one_client_is_refused_after_its_rate_and_nobody_else_is(
        backend: str, request: pytest.FixtureRequest, bots: Path, tmp_path: Path,
        second_client: httpx.AsyncHTTPTransport) -> None:
    flood, other = name(), name()
    make_bot(bots, flood, create_rate=None)  # the defaults: session-create-rate 20 a minute, max-sessions 1000
    make_bot(bots, other)
    env = environ(backend, request, bots, tmp_path / "data")
    with Server(env, tmp_path / "server.log") as server:
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
        async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as c:
            async def start(i: int) -> httpx.Response:  # a forged X-Forwarded-For each: not believed
                return await c.post(f"/{flood}/api/session", headers={"X-Forwarded-For": f"10.0.{i // 250}.{i % 250}",
                                                                      "X-Real-Ip": f"10.1.{i // 250}.{i % 250}"})

            began, cpu = time.monotonic(), cpu_seconds(server.pid)
            responses = await asyncio.gather(*(start(i) for i in range(1100)))
            elapsed, cpu = time.monotonic() - began, cpu_seconds(server.pid) - cpu
            statuses = collections.Counter(r.status_code for r in responses)
            print(f"\n[{backend}] 1,100 POST /{flood}/api/session from one client in {elapsed:.2f} s "
                  f"(the server's CPU: {cpu:.2f} s): {statuses[201]} created, {statuses[429]} refused (429)")
            assert statuses[201] + statuses[429] == 1100, statuses
            assert 20 <= statuses[201] <= 20 * max(1, int(elapsed // 60) + 1)  # a sliding minute admits 20
            refused = next(r for r in responses if r.status_code == 429)
            assert refused.json()["error"]["code"] == "too_many_new_sessions"
            assert "session-create-rate" in refused.json()["error"]["message"]
            assert 1 <= int(refused.headers["Retry-After"]) <= 60
            assert sessions_in_sql(env, flood) == statuses[201]  # a refusal stores nothing

            r = await c.post(f"/{other}/api/session")  # the same client, another bot
            assert r.status_code == 201, r.text
            chat = await c.post("/api/chat", json={"message": "x"}, headers=bearer(r.json()["token"]))
            assert chat.status_code == 200, chat.text
        async with httpx.AsyncClient(base_url=server.url, transport=second_client, timeout=30) as c2:
            r = await c2.post(f"/{flood}/api/session")  # another client, the flooded bot
            assert r.status_code == 201, r.text


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "postgres+valkey"])
@pytest.mark.timeout(300)
async def test_max_sessions_holds_with_two_processes_creating_at_once(
        backend: str, request: pytest.FixtureRequest, bots: Path, tmp_path: Path) -> None:
    bot = name()
    make_bot(bots, bot, {"start": SLOW_START}, config="max-sessions,10\nsession-create-rate,100000\n")
    env = environ(backend, request, bots, tmp_path / "data")
    with serving(Server(env, tmp_path / "one.log"), Server(env, tmp_path / "two.log")) as (one, two):
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(limits=limits, timeout=60) as c:
            began = time.monotonic()
            responses = await asyncio.gather(*(c.post(f"{(one, two)[i % 2].url}/{bot}/api/session")
                                               for i in range(200)))
            elapsed = time.monotonic() - began
    statuses = collections.Counter(r.status_code for r in responses)
    rows = sessions_in_sql(env, bot)
    print(f"\n[{backend}] 200 POST /api/session at once over 2 processes, max-sessions 10, in {elapsed:.2f} s: "
          f"{statuses[201]} created, {statuses[503]} refused (503), {rows} rows in SQL")
    assert statuses == {201: 10, 503: 190}, statuses
    assert rows == 10
    refused = next(r for r in responses if r.status_code == 503)
    assert refused.json()["error"]["code"] == "too_many_sessions" and refused.headers["Retry-After"]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_session_nobody_wrote_to_frees_its_slot_soon(
        backend: str, request: pytest.FixtureRequest, bots: Path, tmp_path: Path) -> None:
    bot = name()
    make_bot(bots, bot, {"start": ASK}, config="max-sessions,2\nempty-session-seconds,1\n")
    env = environ(backend, request, bots, tmp_path / "data")
    with Server(env, tmp_path / "server.log") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
            talked = (await c.post(f"/{bot}/api/session")).json()
            r = await c.post("/api/chat", json={"message": "Ann"}, headers=bearer(talked["token"]))
            assert r.json()["messages"][-1]["content"] == "Hi Ann"
            assert (await c.post(f"/{bot}/api/session")).status_code == 201  # nobody writes to this one
            r = await c.post(f"/{bot}/api/session")
            assert r.status_code == 503 and r.json()["error"]["code"] == "too_many_sessions", r.text
            await asyncio.sleep(1.5)  # past empty-session-seconds
            assert (await c.post(f"/{bot}/api/session")).status_code == 201, "the empty session's slot is free"
            r = await c.post(f"/{bot}/api/session")  # the one with a message still counts, and the new one
            assert r.status_code == 503, r.text
    assert sessions_in_sql(env, bot) == 3


async def test_behind_a_trusted_proxy_the_client_is_its_forwarded_address(bots: Path, tmp_path: Path) -> None:
    """GB_TRUSTED_PROXIES=127.0.0.1: X-Forwarded-For names the client; what a client writes left
    of the address the proxy saw is not believed. Direct Line's door counts with the API's."""
    bot = name()
    make_bot(bots, bot, config="session-create-rate,2\n")
    env = gb_environ(bots, tmp_path / "data", GB_TRUSTED_PROXIES="127.0.0.1, ::1")
    with Server(env, tmp_path / "server.log") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
            def via(forwarded: str) -> dict[str, str]:
                return {"X-Forwarded-For": forwarded}

            assert (await c.post(f"/{bot}/api/session", headers=via("192.0.2.1"))).status_code == 201
            r = await c.post(f"/{bot}/v3/directline/tokens/generate", headers=via("192.0.2.1"))
            assert r.status_code == 200, r.text
            r = await c.post(f"/{bot}/v3/directline/tokens/generate", headers=via("192.0.2.1"))
            assert r.status_code == 429 and r.json()["error"]["code"] == "TooManyRequests" and r.headers["Retry-After"]
            r = await c.post(f"/{bot}/api/session", headers=via("198.51.100.3, 192.0.2.1"))  # a forged left part
            assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_new_sessions"
            assert (await c.post(f"/{bot}/api/session", headers=via("192.0.2.2"))).status_code == 201
            assert (await c.post(f"/{bot}/api/session")).status_code == 201  # the proxy itself, as a client


def test_client_key() -> None:
    trusted = ServerSettings.from_env({"GB_TRUSTED_PROXIES": "10.0.0.0/8,::1"}).trusted_proxies
    assert client_key("203.0.113.4", "192.0.2.1", trusted) == "203.0.113.4"  # not a trusted peer
    assert client_key("10.1.2.3", "192.0.2.9, 192.0.2.1, 10.0.0.7", trusted) == "192.0.2.1"
    assert client_key("10.1.2.3", None, trusted) == "10.1.2.3"
    assert client_key("10.1.2.3", "10.0.0.1, 10.0.0.2", trusted) == "10.0.0.1"  # all proxies: the first
    assert client_key("2001:db8:1:2:aaaa::1", None, ()) == "2001:db8:1:2::/64"  # one host has a /64
    assert client_key("2001:db8:1:2:bbbb::9", None, ()) == "2001:db8:1:2::/64"
    assert client_key("::ffff:192.0.2.5", None, ()) == "192.0.2.5"
    assert client_key("::1", "192.0.2.8", trusted) == "192.0.2.8"
    with pytest.raises(ValueError, match="GB_TRUSTED_PROXIES"):
        ServerSettings.from_env({"GB_TRUSTED_PROXIES": "proxy.example"})
