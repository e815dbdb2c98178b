"""One contract suite, run over every store: {SQLite, PostgreSQL} x {no cache, Valkey}, the in-memory
store and the write-behind store (tests/backends.py); the users and SQL parts over the SQL ones."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import select, text

from gb_sessions import (
    AuthenticationFailed,
    CachedStore,
    ConcurrentUpdate,
    RateLimited,
    Session,
    SessionStore,
    VariablesTooLarge,
    utcnow,
)
from gb_sessions.config import Stores
from gb_sessions.schema import User
from gb_sessions.tokens import hash_token, new_token
from gb_sessions.users import UserExists
from tests.backends import settled


def new_session(bot: str = "default", **kw: object) -> tuple[Session, str]:
    token, token_hash = new_token()
    now = utcnow()
    s = Session(id=uuid.uuid4(), bot_id=bot, channel="web", token_hash=token_hash, created_at=now,
                last_activity=now, expires_at=now + dt.timedelta(days=7), **kw)  # type: ignore[arg-type]
    return s, token


async def test_create_load_roundtrip(store: SessionStore) -> None:
    s, _ = new_session(variables={"name": "Ann", "n": 3, "l": [1, {"a": None}]},
                       context={"kb": ["policies"]}, dialog={"name": "start", "state": {"frames": []}})
    s.add("assistant", "Hello!")
    await store.create(s)
    got = await store.load(s.id)
    assert got is not None
    assert (got.bot_id, got.channel, got.token_hash, got.status) == ("default", "web", s.token_hash, "active")
    assert got.variables == {"name": "Ann", "n": 3, "l": [1, {"a": None}]}
    assert got.context == {"kb": ["policies"]}
    assert got.dialog == {"name": "start", "state": {"frames": []}}
    assert [(m.role, m.content) for m in got.history] == [("assistant", "Hello!")]
    assert got.last_activity.tzinfo is not None
    assert abs((got.last_activity - s.last_activity).total_seconds()) < 1
    assert await store.load(uuid.uuid4()) is None


async def test_save_is_one_turn_in_order_and_bumps_the_version(store: SessionStore) -> None:
    s, _ = new_session()
    await store.create(s)
    for i in range(3):
        got = await store.load(s.id)
        assert got is not None
        got.add("user", f"q{i}")
        got.add("assistant", f"a{i}")
        got.variables["i"] = i
        await store.save(got)
    final = await store.load(s.id)
    assert final is not None and final.version == 3 and final.variables == {"i": 2} and final.message_count == 3
    assert [m.content for m in await store.history(s.id)] == ["q0", "a0", "q1", "a1", "q2", "a2"]


async def test_an_answers_token_count_is_kept_with_its_message(store: SessionStore) -> None:
    s, _ = new_session()
    await store.create(s)
    got = await store.load(s.id)
    assert got is not None
    got.add("user", "what is a session?")
    got.add("assistant", "A session is one conversation.", token_count=123)
    await store.save(got)
    await settled(store)
    stored = await store.history(s.id)
    assert [(m.content, m.token_count) for m in stored] == [
        ("what is a session?", None), ("A session is one conversation.", 123)]
    again = await store.load(s.id, fresh=True)
    assert again is not None and [m.token_count for m in again.history] == [None, 123]


async def test_history_limit_keeps_the_last_messages_in_context_and_all_in_sql(store: SessionStore) -> None:
    s, _ = new_session()
    for i in range(60):
        s.add("user", f"m{i}")
    await store.create(s)
    got = await store.load(s.id, history_limit=50)
    assert got is not None
    assert [m.content for m in got.history] == [f"m{i}" for i in range(10, 60)]
    assert len(await store.history(s.id)) == 60


async def test_a_stale_copy_cannot_overwrite_a_newer_one(store: SessionStore) -> None:
    s, _ = new_session()
    await store.create(s)
    a = await store.load(s.id, fresh=True)
    b = await store.load(s.id, fresh=True)
    assert a is not None and b is not None
    a.variables["x"] = "a"
    await store.save(a)
    b.variables["x"] = "b"
    b.add("user", "lost?")
    with pytest.raises(ConcurrentUpdate):  # at the save, or at the flush of a write-behind store
        await store.save(b)
        await settled(store)
    got = await store.load(s.id, fresh=True)
    assert got is not None and got.variables == {"x": "a"}
    assert [m.content for m in await store.history(s.id)] == []


async def test_variables_over_the_limit_are_refused_and_nothing_is_lost(store: SessionStore) -> None:
    s, _ = new_session(variables={"keep": "me"})
    await store.create(s)
    got = await store.load(s.id)
    assert got is not None
    got.variables["big"] = "x" * (1024 * 1024)
    got.add("user", "a huge message")
    with pytest.raises(VariablesTooLarge) as exc:
        await store.save(got, max_variables_kb=1024)
    assert exc.value.status == 413 and "1,024 KB" in exc.value.message
    again = await store.load(s.id, fresh=True)
    assert again is not None and again.variables == {"keep": "me"} and again.version == 0
    assert await store.history(s.id) == []


async def test_token_lookup_and_delete(store: SessionStore) -> None:
    s, token = new_session()
    await store.create(s)
    assert await store.find_token(hash_token(token)) == (s.id, "default")
    assert await store.find_token(hash_token("forged")) is None
    await store.delete(s.id)
    assert await store.load(s.id) is None
    assert await store.find_token(hash_token(token)) is None
    assert await store.history(s.id) == []


async def test_bot_memory_is_per_bot_and_shared_by_its_sessions(store: SessionStore) -> None:
    bot = f"b{uuid.uuid4().hex[:8]}"
    s1, _ = new_session(bot)
    s1.memory_writes["last_visit"] = "monday"
    await store.create(s1)
    s2, _ = new_session(bot)
    await store.create(s2)
    other, _ = new_session(bot + "x")
    await store.create(other)
    assert await store.get_bot_memory(bot, "last_visit") == "monday"
    assert await store.get_bot_memory(bot + "x", "last_visit") is None
    got = await store.load(s2.id)
    assert got is not None
    got.memory_writes["last_visit"] = {"when": "tuesday"}
    await store.save(got)
    assert await store.get_bot_memory(bot, "last_visit") == {"when": "tuesday"}


async def test_the_lock_serialises_turns_of_one_session_only(store: SessionStore) -> None:
    s, _ = new_session()
    other, _ = new_session()
    await store.create(s)
    await store.create(other)
    inside, overlaps = 0, 0

    async def turn(sid: uuid.UUID) -> None:
        nonlocal inside, overlaps
        async with store.lock(sid):
            inside += 1
            overlaps = max(overlaps, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(turn(s.id) for _ in range(8)))
    assert overlaps == 1
    async with store.lock(s.id):  # another session is not blocked by this one
        await asyncio.wait_for(turn(other.id), timeout=5)


async def test_counts_and_expiry(store: SessionStore) -> None:
    bot = f"c{uuid.uuid4().hex[:8]}"
    now = utcnow()
    old, _ = new_session(bot)
    old.last_activity = now - dt.timedelta(hours=1)
    old.expires_at = now - dt.timedelta(minutes=1)
    await store.create(old)
    fresh, _ = new_session(bot)
    fresh.add("user", "hi")
    await store.create(fresh)
    assert await store.count_active(now - dt.timedelta(minutes=30), bot) == 1
    assert [r.id for r in await store.recent(bot)] == [fresh.id, old.id]
    assert (await store.recent(bot))[0].message_count == 1 and (await store.recent(bot))[0].bot_id == bot
    assert [m.content for m in await store.history(fresh.id, after=0)] == ["hi"]
    assert old.id in await store.expired(now)
    assert fresh.id not in await store.expired(now)


async def test_rate_limit_refuses_the_61st_message_in_a_minute(store: SessionStore) -> None:
    s, _ = new_session()
    await store.create(s)
    for _ in range(60):
        async with store.lock(s.id, rate_limit=60):
            got = await store.load(s.id, fresh=True)
            assert got is not None
            got.add("user", "x")
            await store.save(got)
    with pytest.raises(RateLimited) as exc:
        async with store.lock(s.id, rate_limit=60):
            pass
    assert exc.value.status == 429 and exc.value.retry_after is not None and 1 <= exc.value.retry_after <= 60
    async with store.lock(s.id):  # the lock was not kept by the refused turn
        assert len(await store.history(s.id)) == 60


async def test_users_passwords_and_identities(stores: Stores) -> None:
    name = f"ann{uuid.uuid4().hex[:6]}"
    user = await stores.users.create(name, "s3cret!", email="ann@example.com")
    assert (await stores.users.authenticate(name, "s3cret!")).id == user.id
    with pytest.raises(AuthenticationFailed):
        await stores.users.authenticate(name, "wrong")
    with pytest.raises(AuthenticationFailed):
        await stores.users.authenticate("nobody-" + name, "s3cret!")
    with pytest.raises(UserExists):
        await stores.users.create(name, "again")
    async with stores.engine.connect() as conn:
        users = User.__table__
        stored = (await conn.execute(select(users.c.password_hash).where(users.c.id == user.id))).scalar()
    assert stored.startswith("$argon2") and "s3cret" not in stored
    await stores.users.link(user.id, "whatsapp", f"+55119{uuid.uuid4().int % 10**8:08d}")
    phone = f"+1555{uuid.uuid4().int % 10**7:07d}"
    await stores.users.link(user.id, "sms", phone)
    found = await stores.users.by_identity("sms", phone)
    assert found is not None and found.id == user.id


async def test_cache_keys_hold_the_seeds_json(cached_stores: Stores) -> None:
    stores = cached_stores
    assert isinstance(stores.store, CachedStore)
    s, _ = new_session(variables={"user_name": "Ann"})
    s.add("user", "hello")
    await stores.store.create(s)
    assert stores.redis is not None
    assert json.loads(await stores.redis.get(f"session:{s.id}:variables")) == {"user_name": "Ann"}
    assert json.loads(await stores.redis.get(f"session:{s.id}:context")) == {}
    assert await stores.redis.get(f"session:{s.id}:last_activity")
    msgs = await stores.redis.lrange(f"session:{s.id}:messages", 0, -1)
    assert [json.loads(m)["content"] for m in msgs] == ["hello"]
    ttl = await stores.redis.ttl(f"session:{s.id}:variables")
    assert 0 < ttl <= 1800


async def test_a_cold_cache_restores_from_sql(cached_stores: Stores) -> None:
    stores = cached_stores
    s, _ = new_session(variables={"a": 1})
    await stores.store.create(s)
    assert stores.redis is not None
    await stores.redis.delete(*[k async for k in stores.redis.scan_iter(f"session:{s.id}:*")])
    got = await stores.store.load(s.id)
    assert got is not None and got.variables == {"a": 1}
    assert json.loads(await stores.redis.get(f"session:{s.id}:variables")) == {"a": 1}  # restored into the cache


async def test_the_seeds_inspection_queries_run_as_written(pg_stores: Stores) -> None:
    stores = pg_stores
    s, _ = new_session()
    s.add("user", "hello")
    s.add("assistant", "hi!")
    await stores.store.create(s)
    async with stores.engine.connect() as conn:
        active = (await conn.execute(text(
            "SELECT id, user_id, last_activity \n"
            "FROM sessions \n"
            "WHERE last_activity > NOW() - INTERVAL '30 minutes';"))).all()
        assert s.id in [r.id for r in active]
        rows = (await conn.execute(text(
            "SELECT role, content, timestamp\n"
            "FROM messages\n"
            f"WHERE session_id = '{s.id}'\n"
            "ORDER BY timestamp;"))).all()
    assert [(r.role, r.content) for r in rows] == [("user", "hello"), ("assistant", "hi!")]


async def test_concurrent_first_sessions_of_a_new_bot(store: SessionStore) -> None:
    """The bot's row is known to exist only once its transaction committed (found by bench/server.py)."""
    bot = f"new{uuid.uuid4().hex[:8]}"
    sessions = [new_session(bot)[0] for _ in range(8)]
    await asyncio.gather(*(store.create(s) for s in sessions))
    for s in sessions:
        assert await store.load(s.id, fresh=True) is not None


# --- timers (WAIT): rows written and deleted by the turns, claimed once ---------------------------------
def mine(timers: list, s: Session) -> list:
    """The timers of session `s` among those claimed (the PostgreSQL database is shared by the tests)."""
    return [t for t in timers if t.session_id == s.id]


async def test_a_timer_is_stored_with_its_turn_claimed_once_and_deleted_by_the_turn_that_fires_it(
        store: SessionStore) -> None:
    s, _ = new_session()
    await store.create(s)
    async with store.lock(s.id) as got:
        assert got is not None
        got.add("assistant", "wait for it")
        timer = got.schedule("wait", utcnow() + dt.timedelta(seconds=30))
        await store.save(got)
    assert got.new_timers == []  # committed: nothing pending
    stored = await store.timers(s.id)
    assert [(t.id, t.kind, t.bot_id) for t in stored] == [(timer.id, "wait", "default")]
    assert abs((stored[0].due_at - timer.due_at).total_seconds()) < 0.001
    now = utcnow()
    assert mine(await store.claim_timers(now, "early", 30), s) == []  # not due yet
    due = timer.due_at + dt.timedelta(seconds=1)
    assert [t.id for t in mine(await store.claim_timers(due, "one", 30), s)] == [timer.id]
    assert mine(await store.claim_timers(due, "two", 30), s) == []  # claimed: no other process gets it
    async with store.lock(s.id) as got:
        assert got is not None
        got.done_timers.append(timer.id)
        got.add("assistant", "done waiting")
        await store.save(got)
    assert await store.timers(s.id) == []
    assert [m.content for m in await store.history(s.id)] == ["wait for it", "done waiting"]


async def test_a_claim_lapses_after_its_lease(store: SessionStore) -> None:
    s, _ = new_session()
    timer = s.schedule("wait", utcnow())
    await store.create(s)  # a timer set by the session's first turn (start.bas) is stored with it
    at = timer.due_at + dt.timedelta(seconds=1)
    assert [t.id for t in mine(await store.claim_timers(at, "died", 10), s)] == [timer.id]
    assert mine(await store.claim_timers(at + dt.timedelta(seconds=9), "other", 10), s) == []
    again = mine(await store.claim_timers(at + dt.timedelta(seconds=11), "other", 10), s)
    assert [t.id for t in again] == [timer.id]  # the first claimer died: the timer fires late, once
    await store.delete(s.id)  # no due timer left for the other tests on the shared database


async def test_concurrent_claims_get_a_timer_once(store: SessionStore) -> None:
    sessions, timers = [], []
    for _ in range(5):
        s, _ = new_session()
        timers.append(s.schedule("wait", utcnow()).id)
        await store.create(s)
        sessions.append(s)
    at = utcnow() + dt.timedelta(seconds=1)
    claims = await asyncio.gather(*(store.claim_timers(at, f"p{i}", 30, limit=2) for i in range(5)))
    ids = [t.id for claim in claims for s in sessions for t in mine(claim, s)]
    assert sorted(ids) == sorted(timers)  # each claimed by one claimer only
    for s in sessions:
        await store.delete(s.id)


async def test_a_refused_turn_stores_no_timer_and_a_deleted_session_keeps_none(store: SessionStore) -> None:
    s, _ = new_session()
    await store.create(s)
    a = await store.load(s.id, fresh=True)
    b = await store.load(s.id, fresh=True)
    assert a is not None and b is not None
    await store.save(a)
    b.schedule("wait", utcnow())
    with pytest.raises(ConcurrentUpdate):  # at the save, or at the flush of a write-behind store
        await store.save(b)
        await settled(store)
    assert await store.timers(s.id) == []  # nothing is scheduled that is not stored
    async with store.lock(s.id) as got:
        assert got is not None
        timer = got.schedule("wait", utcnow() + dt.timedelta(hours=1))
        await store.save(got)
    assert [t.id for t in await store.timers(s.id)] == [timer.id]
    await store.drop_timer(timer.id)
    assert await store.timers(s.id) == []
    async with store.lock(s.id) as got:
        assert got is not None
        got.schedule("wait", utcnow() + dt.timedelta(hours=1))
        await store.save(got)
    await store.delete(s.id)
    assert await store.timers(s.id) == []
