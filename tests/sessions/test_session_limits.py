"""The limits on new sessions, over every store: a bot's max-sessions (counted with the insert,
so sessions created at once never exceed it), a session nobody wrote to leaving the count, and
a client's new sessions a minute (``count_start``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid

import pytest
from redis.asyncio import Redis

from gb_sessions import (
    CachedStore,
    SessionCap,
    SessionStore,
    TooManyNewSessions,
    TooManySessions,
    ValkeyCache,
    utcnow,
)
from gb_sessions.config import Stores
from gb_sessions.ratelimit import limited, starts_limited
from tests.backends import settled
from tests.sessions.test_store_contract import new_session


def cap(limit: int, *, empty_seconds: float | None = None) -> SessionCap:
    now = utcnow()
    return SessionCap(limit, now - dt.timedelta(minutes=30),
                      now - dt.timedelta(seconds=empty_seconds) if empty_seconds is not None else None)


def bot_name() -> str:
    return f"lim{uuid.uuid4().hex[:8]}"  # PostgreSQL and Valkey are shared by the whole run


async def test_a_full_bot_refuses_its_next_session_and_another_bot_still_accepts(store: SessionStore) -> None:
    full, other = bot_name(), bot_name()
    for _ in range(2):
        s, _ = new_session(full)
        await store.create(s, cap=cap(2))
    refused, _ = new_session(full)
    with pytest.raises(TooManySessions) as exc:
        await store.create(refused, cap=cap(2))
    assert exc.value.status == 503 and exc.value.code == "too_many_sessions" and exc.value.retry_after
    assert full in exc.value.message and "max-sessions" in exc.value.message
    await settled(store)
    assert await store.load(refused.id) is None and await store.find_token(refused.token_hash) is None
    assert await store.count_active(utcnow() - dt.timedelta(minutes=30), full) == 2
    s, _ = new_session(other)
    await store.create(s, cap=cap(2))  # one bot's limit is its own
    assert await store.load(s.id) is not None


async def test_sessions_created_at_once_never_exceed_the_cap(store: SessionStore) -> None:
    bot = bot_name()
    first, _ = new_session(bot)
    await store.create(first)  # the bot's row exists: every insert below races on the count alone

    async def create() -> bool:
        s, _ = new_session(bot)
        try:
            await store.create(s, cap=cap(5))
        except TooManySessions:
            return False
        return True

    created = await asyncio.gather(*(create() for _ in range(30)))
    await settled(store)
    assert sum(created) == 4  # with the first one: 5
    assert await store.count_active(utcnow() - dt.timedelta(minutes=30), bot) == 5


async def test_a_session_nobody_wrote_to_leaves_the_count_after_empty_since(store: SessionStore) -> None:
    bot = bot_name()
    now = utcnow()
    empty, _ = new_session(bot)
    empty.created_at = empty.last_activity = now - dt.timedelta(minutes=3)
    await store.create(empty)
    talked, _ = new_session(bot)
    talked.created_at = talked.last_activity = now - dt.timedelta(minutes=3)
    talked.add("user", "hello")
    await store.create(talked)
    idle = now - dt.timedelta(minutes=30)
    assert await store.count_active(idle, bot) == 2
    assert await store.count_active(idle, bot, empty_since=now - dt.timedelta(minutes=2)) == 1
    assert await store.count_active(idle, bot, empty_since=now - dt.timedelta(minutes=5)) == 2
    s, _ = new_session(bot)
    await store.create(s, cap=SessionCap(2, idle, now - dt.timedelta(minutes=2)))  # the empty one's slot
    s, _ = new_session(bot)
    with pytest.raises(TooManySessions):
        await store.create(s, cap=SessionCap(2, idle, now - dt.timedelta(minutes=2)))


async def test_a_client_over_its_new_sessions_a_minute_is_refused_with_retry_after(store: SessionStore) -> None:
    bot, other = bot_name(), bot_name()
    for _ in range(3):
        await store.count_start(bot, "192.0.2.1", 3)
    with pytest.raises(TooManyNewSessions) as exc:
        await store.count_start(bot, "192.0.2.1", 3)
    assert exc.value.status == 429 and exc.value.code == "too_many_new_sessions"
    assert exc.value.retry_after is not None and 1 <= exc.value.retry_after <= 60
    assert "3 sessions in the last minute" in exc.value.message and "session-create-rate" in exc.value.message
    await store.count_start(bot, "192.0.2.2", 3)  # another client
    await store.count_start(other, "192.0.2.1", 3)  # another bot


def test_retry_after_is_never_more_than_the_window() -> None:
    # A hit's clock is read before its script runs: under load a later-read hit can be recorded
    # first, so the oldest entry is newer than `now` and the wait computes past 60 s.
    assert starts_limited(20, 60.4).retry_after == 60
    assert limited(20, 61.0).retry_after == 60
    assert limited(20, 0.2).retry_after == 1 and limited(20, 59.2).retry_after == 60


async def test_a_client_s_new_sessions_at_once_never_exceed_its_limit(store: SessionStore) -> None:
    bot = bot_name()

    async def start() -> bool:
        try:
            await store.count_start(bot, "198.51.100.7", 4)
        except TooManyNewSessions:
            return False
        return True

    admitted = await asyncio.gather(*(start() for _ in range(40)))
    assert sum(admitted) == 4
    with pytest.raises(TooManyNewSessions):  # the refused ones were not counted, nor forgotten
        await store.count_start(bot, "198.51.100.7", 4)


async def test_without_valkey_the_client_limit_is_counted_in_sql(stores: Stores) -> None:
    """A CachedStore whose Valkey does not answer counts in SQL, and the count is the SQL store's."""
    bot = bot_name()
    dead = Redis.from_url("redis://127.0.0.1:1", socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        down = CachedStore(stores.sql, ValkeyCache(dead))
        for _ in range(2):
            await down.count_start(bot, "203.0.113.5", 2)
        with pytest.raises(TooManyNewSessions):
            await stores.sql.count_start(bot, "203.0.113.5", 2)
    finally:
        await dead.aclose()


async def test_old_hits_are_pruned(stores: Stores) -> None:
    bot = bot_name()
    await stores.sql.prune_hits(time.time() - 60)  # earlier tests' old hits (the database is the run's)
    await stores.sql.count_start(bot, "203.0.113.9", 1)
    assert await stores.sql.prune_hits(time.time() - 60) == 0  # in its window: kept
    assert await stores.sql.prune_hits(time.time() + 1) >= 1
    await stores.sql.count_start(bot, "203.0.113.9", 1)  # the window is empty again
