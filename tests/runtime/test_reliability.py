"""Valkey stopped in the middle of a conversation: served from SQL, correct, logged; then back."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from gb_runtime import Inbound
from gb_sessions import CachedStore, Session, utcnow
from gb_sessions.config import Stores
from tests.helpers.bots import ECHO, make_bot, runtime_for, runtime_with_bot, texts
from tests.helpers.servers import free_port

REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
               "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]

COUNTER = 'DO\n  x = HEAR\n  GET n\n  IF n IS NULL THEN n = 0\n  SET n = n + 1\n  TALK x + " " + n\nLOOP\n'


def redis_up() -> bool:
    return subprocess.run(["redis-cli", "-p", "6379", "ping"], capture_output=True, text=True).stdout.strip() == "PONG"


async def start_redis() -> None:
    if not redis_up():
        subprocess.run(REDIS_START, check=True, capture_output=True)
    for _ in range(100):
        if redis_up():
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("redis did not come back")


@pytest.mark.outage
async def test_valkey_stopped_mid_conversation(cached_stores: Stores, tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    assert shutil.which("redis-server") and shutil.which("redis-cli")
    stores = cached_stores
    rt = runtime_with_bot(stores, tmp_path, "rel", {"start": COUNTER})
    s = await rt.start("rel")
    for i in range(3):
        await rt.handle(Inbound("rel", f"m{i}", token=s.token))
    try:
        subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True)
        assert not redis_up()
        with caplog.at_level(logging.WARNING, logger="gb.store"):
            for i in range(3, 6):  # no errors while Valkey is down
                r = await rt.handle(Inbound("rel", f"m{i}", token=s.token))
                assert [x.content for x in r.replies] == [f"m{i} {i + 1}"]
        assert any("valkey unavailable" in rec.getMessage() for rec in caplog.records)
    finally:
        await start_redis()
    for i in range(6, 8):  # Valkey is back, empty: restored from SQL
        r = await rt.handle(Inbound("rel", f"m{i}", token=s.token))
        assert [x.content for x in r.replies] == [f"m{i} {i + 1}"]
    history = [m.content for m in await stores.store.history(s.session_id)]
    assert history == [x for i in range(8) for x in (f"m{i}", f"m{i} {i + 1}")]
    assert stores.redis is not None and await stores.redis.get(f"session:{s.session_id}:variables")


async def test_an_outage_of_valkey_is_one_warning_not_one_per_message(tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    """Valkey unreachable (nothing listens on the port): every message is served from SQL, and the
    log says so once, not 698 times in 5 s."""
    from gb_runtime.events import SessionEvents
    from gb_sessions.config import StoreSettings, open_stores

    stores = await open_stores(StoreSettings(f"sqlite+aiosqlite:///{tmp_path / 'gb.db'}",
                                             f"redis://127.0.0.1:{free_port()}/0", tmp_path))
    events = SessionEvents.for_storage(stores.redis, tmp_path)
    try:
        await events.start()
        make_bot(tmp_path / "bots", "echo", {"start": ECHO}, config="rate-limit,1000\n")
        rt = runtime_for(stores, tmp_path / "bots", tmp_path / "data", events=events)
        s = await rt.start("echo")
        with caplog.at_level(logging.WARNING):
            for i in range(50):
                r = await rt.handle(Inbound("echo", f"m{i}", token=s.token))
                assert texts(r) == [f"echo m{i}"]
        warnings = [rec for rec in caplog.records if rec.levelno >= logging.WARNING and rec.name.startswith("gb")]
        assert 1 <= len(warnings) <= 4, [rec.getMessage() for rec in warnings]
    finally:
        await events.stop()
        await stores.close()


async def test_valkey_coming_back_is_one_line(cached_stores: Stores, caplog: pytest.LogCaptureFixture) -> None:
    store = cached_stores.store
    assert isinstance(store, CachedStore)
    store.cache._down("lock", ConnectionError("refused"))  # as a failed call records an outage
    s = Session(id=uuid.uuid4(), bot_id="back", channel="web", token_hash=uuid.uuid4().hex, created_at=utcnow(),
                last_activity=utcnow())
    await store.create(s)
    with caplog.at_level(logging.WARNING, logger="gb.store"):
        for _ in range(3):
            async with store.lock(s.id):
                pass
    back = [rec.getMessage() for rec in caplog.records if "valkey is back" in rec.getMessage()]
    assert len(back) == 1


async def test_a_cache_behind_the_database_does_not_lose_a_transferred_conversation(cached_stores: Stores,
                                                                                   tmp_path: Path) -> None:
    """A process killed between a turn's commit and its write-through to Valkey leaves a cached
    copy behind the database. When that turn moved the conversation (TRANSFER_SESSION) to a
    WhatsApp number, the number's next message found the session in SQL, the lock read the old
    copy (still on email) and the message failed for good ("_StaleAddress", every retry):
    tests/server/test_handoff_durable.py under load. The database now decides."""
    store = cached_stores.store
    assert isinstance(store, CachedStore)
    bot = f"stale-{uuid.uuid4().hex[:8]}"  # no other test's: a reply left in the outbox is nobody's to send
    rt = runtime_with_bot(cached_stores, tmp_path, bot, {"start": 'HEAR x\nTALK "got " + x\n'})
    opened = await rt.start(bot, channel="email", address="ana@example.com")
    number = "55119" + str(uuid.uuid4().int)[:8]
    moved = await store.load(opened.session_id, fresh=True, with_history=False)
    assert moved is not None
    moved.channel, moved.address = "whatsapp", number  # what the transfer's turn committed ...
    await store.inner.save(moved)  # ... in SQL only: the process died before its write-through
    stale = await store.cache.get(opened.session_id, 50, with_history=False)
    assert stale is not None and stale.channel == "email"
    r = await rt.handle(Inbound(bot, "yes", channel="whatsapp", address=number))
    assert r.session_id == opened.session_id and texts(r) == ["got yes"]
    cached = await store.cache.get(opened.session_id, 50, with_history=False)
    assert cached is not None and (cached.channel, cached.address) == ("whatsapp", number)
