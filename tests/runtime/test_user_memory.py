"""User memory (SET USER MEMORY / GET USER MEMORY, REMEMBER / RECALL): per user within a bot,
durable in SQL, REMEMBER's expiry on a clock the test moves; on every store backend."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gb_basic import BasicRuntimeError
from gb_runtime import Inbound
from gb_runtime.user_memory import duration_seconds
from gb_sessions import MemoryWrite, Session, SessionStore, utcnow
from gb_sessions.cleanup import cleanup
from gb_sessions.config import Stores
from gb_sessions.schema import UserMemory
from tests.backends import settled
from tests.helpers.bots import Clock, make_bot, runtime_for, texts

GREETER = ('name = GET USER MEMORY("name")\n'
           'IF name IS NULL THEN\n'
           '  TALK "Who are you?"\n'
           '  HEAR name\n'
           '  SET USER MEMORY "name", name\n'
           '  TALK "Nice to meet you, " + name\n'
           'ELSE\n'
           '  TALK "Welcome back, " + name\n'
           'END IF\n')
CODE = ('c = RECALL "code"\n'
        'IF c IS NULL THEN\n'
        '  REMEMBER "code", 1234, "5 minutes"\n'
        '  REMEMBER "plan" = "pro"\n'  # the corpus' form: no duration, kept until written again
        '  TALK "new code"\n'
        'ELSE\n'
        '  TALK "code " + c\n'
        'END IF\n')


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"  # the PostgreSQL database is shared by the tests


async def test_a_users_memory_follows_the_user_within_the_bot(stores: Stores, tmp_path: Path) -> None:
    root, bot, other_bot = tmp_path / "bots", unique("mem"), unique("mem")
    make_bot(root, bot, {"start": GREETER})
    make_bot(root, other_bot, {"start": GREETER})
    rt = runtime_for(stores, root, tmp_path / "data")
    ann, bob = await stores.users.create(unique("ann")), await stores.users.create(unique("bob"))
    first = await rt.start(bot, user_id=ann.id)
    assert texts(first) == ["Who are you?"]
    assert texts(await rt.handle(Inbound(bot, "Ann", token=first.token))) == ["Nice to meet you, Ann"]
    # another session of the same user (another channel, another runtime: a restart) remembers
    rt2 = runtime_for(stores, root, tmp_path / "data")
    assert texts(await rt2.start(bot, channel="whatsapp", address="+5511999990000", user_id=ann.id)) == [
        "Welcome back, Ann"]
    # another user, another bot, an anonymous session: nothing of Ann's
    assert texts(await rt2.start(bot, user_id=bob.id)) == ["Who are you?"]
    assert texts(await rt2.start(other_bot, user_id=ann.id)) == ["Who are you?"]
    anon = await rt2.start(bot)
    assert texts(anon) == ["Who are you?"]
    # an anonymous session has a memory of its own, which no other session reads
    await rt2.handle(Inbound(bot, "Guest", token=anon.token))
    assert texts(await rt2.start(bot)) == ["Who are you?"]
    async with stores.engine.connect() as conn:
        rows = (await conn.execute(select(UserMemory.owner, UserMemory.key, UserMemory.value)
                                   .where(UserMemory.bot_id == bot).order_by(UserMemory.owner))).all()
    assert sorted((r.owner, r.key, r.value) for r in rows) == sorted(
        [(f"user:{ann.id}", "name", "Ann"), (f"session:{anon.session_id}", "name", "Guest")])
    # the anonymous session's memory goes with the session
    await stores.store.delete(anon.session_id)
    async with stores.engine.connect() as conn:
        left = (await conn.execute(select(UserMemory.owner).where(UserMemory.bot_id == bot))).scalars().all()
    assert left == [f"user:{ann.id}"]


async def test_remember_expires_on_the_clock(stores: Stores, tmp_path: Path) -> None:
    root, bot = tmp_path / "bots", unique("ttl")
    make_bot(root, bot, {"start": CODE})
    clock = Clock()
    rt = runtime_for(stores, root, tmp_path / "data", clock)
    ann = await stores.users.create(unique("ann"))
    assert texts(await rt.start(bot, user_id=ann.id)) == ["new code"]
    clock.advance(minutes=4, seconds=59)
    assert texts(await rt.start(bot, user_id=ann.id)) == ["code 1234"]
    clock.advance(seconds=2)  # 5 minutes and 1 second after REMEMBER: NULL
    assert texts(await rt.start(bot, user_id=ann.id)) == ["new code"]
    async with stores.engine.connect() as conn:
        rows = {r.key: r.expires_at for r in (await conn.execute(
            select(UserMemory.key, UserMemory.expires_at).where(UserMemory.bot_id == bot))).all()}
    assert rows["plan"] is None  # REMEMBER k = v: no expiry
    expires = rows["code"] if rows["code"].tzinfo else rows["code"].replace(tzinfo=dt.UTC)
    assert abs((expires - (clock.now + dt.timedelta(minutes=5))).total_seconds()) < 1
    # the cleanup job deletes what expired (and only that)
    await cleanup(stores, now=clock.now + dt.timedelta(minutes=6))
    async with stores.engine.connect() as conn:
        keys = (await conn.execute(select(UserMemory.key).where(UserMemory.bot_id == bot))).scalars().all()
    assert keys == ["plan"]


async def test_a_turns_own_writes_read_back_and_a_runaway_turn_keeps_none(stores: Stores, tmp_path: Path) -> None:
    root, bot = tmp_path / "bots", unique("own")
    make_bot(root, bot, {"start": 'SET USER MEMORY "a", 1\nREMEMBER "a", 2, 1\na = GET_USER_MEMORY("a")\nTALK a\n'
                                  'HEAR x\nSET USER MEMORY "b", x\nDO WHILE TRUE\nLOOP\n'}, config="max-steps,2000\n")
    rt = runtime_for(stores, root, tmp_path / "data")
    ann = await stores.users.create(unique("ann"))
    s = await rt.start(bot, user_id=ann.id)
    assert texts(s) == ["2"]  # the later write, read back within the turn
    r = await rt.handle(Inbound(bot, "lost", token=s.token))
    assert "too much work" in texts(r)[-1]
    owner = f"user:{ann.id}"
    assert await stores.store.get_user_memory(bot, owner, "a", utcnow()) == 2
    assert await stores.store.get_user_memory(bot, owner, "b", utcnow()) is None  # nothing of the runaway turn


async def test_a_login_makes_the_anonymous_memory_the_users(stores: Stores, tmp_path: Path) -> None:
    root, bot = tmp_path / "bots", unique("login")
    make_bot(root, bot, {"start": 'x = HEAR\nSET USER MEMORY "color", x\nREMEMBER "size", "M", "1 day"\n'
                                  'TALK "noted"\nON LOGIN\n  MERGE_SESSION anonymous_id, user_id\nEND\n'})
    rt = runtime_for(stores, root, tmp_path / "data")
    name = unique("ann")
    user = await stores.users.create(name, "pw-123456")
    earlier = await rt.start(bot, user_id=user.id)
    await rt.handle(Inbound(bot, "blue", token=earlier.token))  # the user's own value: it stays
    anon = await rt.start(bot)
    await rt.handle(Inbound(bot, "green", token=anon.token))
    result = await rt.login(anon.session_id, name, "pw-123456")
    owner, now = f"user:{user.id}", utcnow()
    assert await stores.store.get_user_memory(bot, owner, "color", now) == "blue"
    assert await stores.store.get_user_memory(bot, owner, "size", now) == "M"  # the anonymous one's, moved
    assert await stores.store.get_user_memory(bot, f"session:{anon.session_id}", "size", now) is None
    assert result.session_id == earlier.session_id


@pytest.mark.parametrize(("written", "seconds"), [
    ("30 days", 30 * 86400), ("2 hours", 7200), ("1 hour", 3600), ("10 minutes", 600), ("45s", 45),
    ("1.5 hours", 5400), ("2 weeks", 14 * 86400), ("3 months", 90 * 86400), ("1 year", 365 * 86400),
    ("30 dias", 30 * 86400), ("7", 7 * 86400), (7, 7 * 86400), (0.5, 43200), ("forever", None),
    ("Permanent", None), ("", None), (None, None)])
def test_durations(written: Any, seconds: float | None) -> None:
    assert duration_seconds(written) == seconds


@pytest.mark.parametrize(("written", "message"), [
    ("soon", "is not understood"), ("2 fortnights", "is not understood"), (0, "more than 0"),
    (-3, "more than 0"), ("0 days", "more than 0"), (10**400, "at most 100 years"), ("200 years", "at most 100"),
    (True, "got boolean"), ([1], "got list")])
def test_bad_durations(written: Any, message: str) -> None:
    with pytest.raises(BasicRuntimeError, match=message):
        duration_seconds(written)


async def test_bad_keys_and_durations_fail_with_the_line(stores: Stores, tmp_path: Path) -> None:
    root, bot = tmp_path / "bots", unique("bad")
    make_bot(root, bot, {"start": 'x = HEAR\nIF x = "key" THEN SET USER MEMORY nothing, 1\n'
                                  'IF x = "ttl" THEN REMEMBER "k", 1, "a while"\nTALK "ok"\n'})
    rt = runtime_for(stores, root, tmp_path / "data")
    for answer, line, message in [("key", 2, "SET USER MEMORY needs a key, got NULL"),
                                  ("ttl", 3, "REMEMBER 'k': the duration 'a while' is not understood")]:
        s = await rt.start(bot)
        r = await rt.handle(Inbound(bot, answer, token=s.token))
        assert isinstance(r.error, BasicRuntimeError) and message in str(r.error)
        assert (r.error.file, r.error.line) == ("start.bas", line)


# --- the store primitive, on every SessionStore (memory and the notebook's write-behind store too) ---------


def new_session(bot: str, user_id: uuid.UUID | None = None) -> Session:
    now = utcnow()
    return Session(id=uuid.uuid4(), bot_id=bot, channel="web", token_hash=uuid.uuid4().hex, created_at=now,
                   last_activity=now, user_id=user_id)


async def test_user_memory_in_every_store(store: SessionStore) -> None:
    """A turn's entries are written with it; what reads them back is (bot, owner, key) and the time."""
    bot, other = unique("st"), unique("st")
    owner = f"user:{uuid.uuid4()}"  # what a session of that user writes as (Session.memory_owner)
    s = new_session(bot)
    now = utcnow()
    s.user_memory_writes += [MemoryWrite(owner, "color", "red"),
                             MemoryWrite(owner, "code", 7, now + dt.timedelta(minutes=5))]
    await store.create(s)
    assert s.user_memory_writes == []  # written: nothing pending
    await settled(store)
    assert await store.get_user_memory(bot, owner, "color", now) == "red"
    assert await store.get_user_memory(bot, owner, "code", now + dt.timedelta(minutes=4)) == 7
    assert await store.get_user_memory(bot, owner, "code", now + dt.timedelta(minutes=5)) is None  # expired
    assert await store.get_user_memory(other, owner, "color", now) is None
    assert await store.get_user_memory(bot, f"user:{uuid.uuid4()}", "color", now) is None
    async with store.lock(s.id) as held:
        assert held is not None
        held.user_memory_writes += [MemoryWrite(owner, "color", "blue"), MemoryWrite(owner, "color", {"n": [1]}),
                                    MemoryWrite(owner, "code", 8)]  # the last write of a key wins; no expiry now
        await store.save(held)
    await settled(store)
    assert await store.get_user_memory(bot, owner, "color", now) == {"n": [1]}
    assert await store.get_user_memory(bot, owner, "code", now + dt.timedelta(days=400)) == 8
    anon = new_session(bot)
    assert anon.memory_owner == f"session:{anon.id}"
    assert new_session(bot, uuid.UUID(int=5)).memory_owner == f"user:{uuid.UUID(int=5)}"
    anon.user_memory_writes.append(MemoryWrite(anon.memory_owner, "color", "green"))
    await store.create(anon)
    await settled(store)
    assert await store.get_user_memory(bot, anon.memory_owner, "color", now) == "green"
    await store.delete(anon.id)  # an anonymous session's memory goes with it
    await settled(store)
    assert await store.get_user_memory(bot, anon.memory_owner, "color", now) is None
    assert await store.get_user_memory(bot, owner, "color", now) == {"n": [1]}
    # a login: the anonymous session's entries become the user's, the user's own values win
    anon = new_session(bot)
    anon.user_memory_writes += [MemoryWrite(anon.memory_owner, "color", "pink"),
                                MemoryWrite(anon.memory_owner, "shoe", 42)]
    await store.create(anon)
    await settled(store)
    assert await store.adopt_user_memory(bot, anon.memory_owner, owner) == 1
    assert await store.get_user_memory(bot, owner, "shoe", now) == 42
    assert await store.get_user_memory(bot, owner, "color", now) == {"n": [1]}
    assert await store.get_user_memory(bot, anon.memory_owner, "color", now) is None
