"""Valkey stopped in the middle of a conversation: served from SQL, correct, logged; then back."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from gb_runtime import Inbound
from gb_sessions.config import Stores
from tests.helpers.bots import runtime_with_bot

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
