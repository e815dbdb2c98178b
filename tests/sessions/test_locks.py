"""The session lock's wait and lease: a busy session is refused after a short wait (session_busy,
Retry-After from the lease), a long turn keeps its Valkey lease, a lost lease refuses the save and
stores nothing, and a killed holder's lock is gone within a lease (at once for the SQL locks).

Over real stores: the contract part over every store, the rest over the SQL backends (two
``Stores`` on one database are two processes' stores) and the Valkey ones (a real Redis client
deletes or takes the lock key)."""

from __future__ import annotations

import asyncio
import math
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from redis.asyncio import Redis

from gb_sessions import CachedStore, LockLost, Session, SessionBusy, SessionStore, StoreUnavailable, ValkeyCache
from gb_sessions.config import Stores, valkey_client
from gb_sessions.database import make_engine
from gb_sessions.locks import LEASE_SECONDS, LOCK_WAIT, LocalLocks, pool_capacity
from gb_sessions.store import SqlStore
from tests.backends import open_backend, settings_for
from tests.helpers import ROOT
from tests.helpers.servers import free_port
from tests.sessions.test_store_contract import new_session


def lock_key(s: Session) -> str:
    return f"lock:session:{s.id}"


async def created(store: SessionStore) -> Session:
    s, _ = new_session()
    await store.create(s)
    return s


@asynccontextmanager
async def second_process(stores: Stores, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    """Another set of stores on the same database (and Valkey) as `stores`: another process's."""
    kind = next(v for k, v in request.node.callspec.params.items() if k in ("stores", "cached_stores", "pg_stores"))
    async with open_backend(kind, request, tmp_path) as other:
        yield other


@asynccontextmanager
async def held_in_background(store: SessionStore, s: Session) -> AsyncIterator[asyncio.Event]:
    """Hold the session's lock in another task until the event is set (or the block ends)."""
    inside, done = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with store.lock(s.id):
            inside.set()
            await done.wait()

    task = asyncio.ensure_future(hold())
    await asyncio.wait_for(inside.wait(), 10)
    try:
        yield done
    finally:
        done.set()
        await task


def test_the_wait_outlasts_a_lease() -> None:
    """The first message after a crash waits out the dead holder's lease and is answered."""
    assert 1 < LEASE_SECONDS < LOCK_WAIT < 10


# --- every store ------------------------------------------------------------------------------------


async def test_a_busy_session_is_refused_after_the_wait(store: SessionStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LocalLocks, "wait", 0.3)
    s = await created(store)
    async with held_in_background(store, s):
        started = time.monotonic()
        with pytest.raises(SessionBusy) as exc:
            async with store.lock(s.id):
                raise AssertionError("two turns of one session at once")
        waited = time.monotonic() - started
    assert 0.25 <= waited < 3, waited
    assert (exc.value.status, exc.value.code) == (503, "session_busy")
    assert exc.value.retry_after is not None and exc.value.retry_after >= 1
    assert f"try again in {exc.value.retry_after} s" in exc.value.message
    async with store.lock(s.id) as got:  # free again once the holder is done
        assert got is not None
        got.add("user", "after")
        await store.save(got)


async def test_a_message_that_waits_gets_the_session_when_its_holder_is_done(store: SessionStore) -> None:
    s = await created(store)
    got: list[Session | None] = []

    async def second() -> None:
        async with store.lock(s.id) as session:
            got.append(session)

    async with held_in_background(store, s):
        waiter = asyncio.ensure_future(second())
        await asyncio.sleep(0.3)
        assert not waiter.done()  # waiting, not refused
    await asyncio.wait_for(waiter, LOCK_WAIT)
    assert got[0] is not None and got[0].id == s.id


# --- two processes on one database --------------------------------------------------------------------


async def test_another_process_is_refused_after_the_wait_with_the_leases_retry_after(
        stores: Stores, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        redis_url: str) -> None:
    """Valkey: Retry-After is the rest of the holder's lease (its key's PTTL, in whole seconds); the
    SQL locks have no lease (a dead holder's lock goes at once), so 1 s."""
    monkeypatch.setattr(LocalLocks, "wait", 0.5)
    s = await created(stores.store)
    redis = Redis.from_url(redis_url)
    try:
        async with second_process(stores, request, tmp_path) as other, held_in_background(stores.store, s):
            await asyncio.sleep(0.5)  # some of the lease gone
            before = await redis.pttl(lock_key(s))
            started = time.monotonic()
            with pytest.raises(SessionBusy) as exc:
                async with other.store.lock(s.id):
                    raise AssertionError("two processes in one session at once")
            waited = time.monotonic() - started
            after = await redis.pttl(lock_key(s))
    finally:
        await redis.aclose()
    assert 0.45 <= waited < 3, waited
    assert (exc.value.status, exc.value.code) == (503, "session_busy")
    if isinstance(stores.store, CachedStore):
        low, high = sorted((math.ceil(before / 1000), math.ceil(after / 1000)))
        assert low <= exc.value.retry_after <= high, (before, after, exc.value.retry_after)
        assert exc.value.retry_after >= 3  # a 5 s lease renewed every 1.7 s: not a constant 1
    else:
        assert (before, after) == (-2, -2)  # no Valkey key at all
        assert exc.value.retry_after == 1


async def test_a_killed_holders_lock_goes_with_it(stores: Stores, request: pytest.FixtureRequest,
                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """kill -9 of a process that holds a session's lock: an advisory lock (its connection) and a
    file lock (its descriptor) go at once; a Valkey lock when its lease ends, within the wait, so
    the next message is answered without a refusal."""
    s = await created(stores.store)
    settings = settings_for(request.node.callspec.params["stores"], request, tmp_path)
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.sessions.lock_holder", settings.database_url, settings.valkey_url or "",
        str(tmp_path), str(s.id), stdout=asyncio.subprocess.PIPE, cwd=str(ROOT))
    try:
        assert holder.stdout is not None
        assert await asyncio.wait_for(holder.stdout.readline(), 60) == b"held\n"
        with monkeypatch.context() as m, pytest.raises(SessionBusy):  # held, across processes
            m.setattr(LocalLocks, "wait", 0.3)
            async with stores.store.lock(s.id):
                pass
    finally:
        holder.kill()
        await holder.wait()
    started = time.monotonic()
    async with stores.store.lock(s.id) as got:  # the default wait
        waited = time.monotonic() - started
        assert got is not None
    print(f"\n{request.node.callspec.params['stores']}: the lock was ours {waited:.2f} s after the kill")
    if isinstance(stores.store, CachedStore):
        assert 1 < waited < LEASE_SECONDS + 0.5, waited  # the rest of the dead holder's lease
    else:
        assert waited < 1, waited


# --- the Valkey lease ---------------------------------------------------------------------------------------

LEASE = 1.5  # seconds: a short lease for these tests (renewed every 0.5 s)


@pytest.fixture
def short_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ValkeyCache, "lease", LEASE)
    monkeypatch.setattr(LocalLocks, "wait", 0.2)


async def test_a_long_turn_keeps_its_lease(cached_stores: Stores, request: pytest.FixtureRequest, tmp_path: Path,
                                           redis_client: Redis, short_lease: None) -> None:
    store = cached_stores.store
    s = await created(store)
    async with second_process(cached_stores, request, tmp_path) as other:
        async with store.lock(s.id) as held:
            assert held is not None
            token = await redis_client.get(lock_key(s))
            for _ in range(10):  # 5 s: more than three leases
                await asyncio.sleep(0.5)
                assert await redis_client.get(lock_key(s)) == token
                assert 0 < await redis_client.pttl(lock_key(s)) <= LEASE * 1000
            with pytest.raises(SessionBusy):
                async with other.store.lock(s.id):
                    pass
            held.add("user", "long")
            await store.save(held)
        assert await redis_client.exists(lock_key(s)) == 0  # released, the keeper stopped with it
        await asyncio.sleep(LEASE)
        assert await redis_client.exists(lock_key(s)) == 0
        async with other.store.lock(s.id) as got:
            assert got is not None and got.version == 1
    assert [m.content for m in await store.history(s.id)] == ["long"]


@pytest.mark.parametrize("how", ["deleted", "taken"])
async def test_a_lost_lease_refuses_the_save_and_stores_nothing(cached_stores: Stores, redis_client: Redis,
                                                                short_lease: None, how: str) -> None:
    store = cached_stores.store
    s = await created(store)
    async with store.lock(s.id) as held:
        assert held is not None
        held.add("user", "lost")
        held.variables["x"] = 1
        if how == "deleted":  # the lease ran out (as after a long pause)
            await redis_client.delete(lock_key(s))
        else:  # and another turn took the session
            await redis_client.set(lock_key(s), "another-turn", px=20_000)
        await asyncio.sleep(LEASE / 3 * 2)  # the keeper's next renewal finds it
        with pytest.raises(LockLost) as exc:
            await store.save(held)
    assert (exc.value.status, exc.value.code, exc.value.retry_after) == (503, "lock_lost", 1)
    assert "nothing of it was saved" in exc.value.message
    stored = await store.load(s.id, fresh=True)
    assert stored is not None and stored.version == 0 and stored.variables == {}
    assert await store.history(s.id) == [] and (await store.load(s.id)).variables == {}  # nor in the cache
    if how == "taken":  # our unlock left the other turn's lock alone
        assert await redis_client.get(lock_key(s)) == b"another-turn"
        await redis_client.delete(lock_key(s))


@pytest.mark.parametrize("taken", [False, True])
async def test_a_turn_that_held_the_event_loop_checks_its_lease_at_the_save(cached_stores: Stores,
                                                                           redis_client: Redis, short_lease: None,
                                                                           taken: bool) -> None:
    """A turn that kept the event loop busy (a long computation) past its keeper's renewals: the
    save renews the lease itself, and refuses when it is gone."""
    store = cached_stores.store
    s = await created(store)
    async with store.lock(s.id) as held:
        assert held is not None
        held.add("user", "busy loop")
        if taken:
            await redis_client.set(lock_key(s), "another-turn", px=20_000)
        time.sleep(LEASE * 0.8)  # blocks the loop: no renewal runs
        if taken:
            with pytest.raises(LockLost):
                await store.save(held)
        else:
            await store.save(held)
            assert 0.9 * LEASE * 1000 < await redis_client.pttl(lock_key(s))  # renewed by the save
    assert [m.content for m in await store.history(s.id)] == ([] if taken else ["busy loop"])
    await redis_client.delete(lock_key(s))


async def test_valkey_unreachable_for_a_whole_lease_loses_it(cached_stores: Stores, short_lease: None) -> None:
    store = cached_stores.store
    assert isinstance(store, CachedStore)
    cache = store.cache
    s = await created(store)
    unreachable = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2, socket_timeout=0.2)
    try:
        async with store.lock(s.id) as held:  # a short outage: a renewal fails, the next one gets through
            assert held is not None
            real, cache.client = cache.client, unreachable
            await asyncio.sleep(LEASE * 0.4)
            cache.client = real
            await asyncio.sleep(LEASE * 0.5)
            held.add("user", "kept")
            await store.save(held)
        async with store.lock(s.id) as held:  # unreachable for more than a lease
            assert held is not None
            real, cache.client = cache.client, unreachable
            await asyncio.sleep(LEASE * 1.4)
            cache.client = real
            held.add("user", "lost")
            with pytest.raises(LockLost) as exc:
                await store.save(held)
            assert "Valkey did not answer" in exc.value.message
    finally:
        await unreachable.aclose()
    assert [m.content for m in await store.history(s.id)] == ["kept"]


def keepers() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if getattr(t.get_coro(), "__qualname__", "") == "CachedStore._keep"]


async def test_the_keeper_stops_with_the_lock(cached_stores: Stores, redis_client: Redis, short_lease: None) -> None:
    """After the unlock nothing renews the key: a lock put back by hand afterwards expires on its own."""
    store = cached_stores.store
    s = await created(store)
    async with store.lock(s.id):
        token = await redis_client.get(lock_key(s))
        assert keepers() == []  # a timer until the first renewal is due
        await asyncio.sleep(LEASE / 2)
        assert len(keepers()) == 1
    await asyncio.sleep(0)  # the cancelled keeper ends
    assert keepers() == []
    await redis_client.set(lock_key(s), token, px=300)  # as if still ours: a running keeper would renew it
    await asyncio.sleep(LEASE)
    assert await redis_client.exists(lock_key(s)) == 0


async def test_the_default_wait_is_lock_wait(pg_stores: Stores, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """The default wait, measured: LOCK_WAIT, then refused (PostgreSQL's lock_timeout; Valkey's polling)."""
    s = await created(pg_stores.store)
    async with second_process(pg_stores, request, tmp_path) as other, held_in_background(pg_stores.store, s):
        started = time.monotonic()
        with pytest.raises(SessionBusy):
            async with other.store.lock(s.id):
                pass
        waited = time.monotonic() - started
    assert LOCK_WAIT - 0.1 <= waited < LOCK_WAIT + 1.5, waited


# --- bursts bigger than the pools --------------------------------------------------------------------

async def turns_at_once(store: SessionStore, n: int) -> None:
    """`n` turns at once, each on a session of its own: lock, load, add a message, save."""
    sessions = [await created(store) for _ in range(n)]

    async def turn(s: Session) -> None:
        async with store.lock(s.id):
            got = await store.load(s.id, fresh=True)
            assert got is not None
            got.add("user", "hello")
            await store.save(got)

    await asyncio.gather(*(turn(s) for s in sessions))
    for s in sessions:
        assert [m.content for m in await store.history(s.id)] == ["hello"]


async def test_more_turns_than_pooled_connections_all_finish_on_the_sql_lock(pg_stores: Stores) -> None:
    # Each turn holds its advisory lock's connection and needs another to read and write: with
    # every pooled connection a lock's, all of them would wait for the pool's timeout and fail.
    url = pg_stores.engine.url.render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=4, max_overflow=0, pool_timeout=3)
    try:
        store = SqlStore(engine)
        assert pool_capacity(engine) == 4
        started = time.monotonic()
        await turns_at_once(store, 40)
        assert time.monotonic() - started < 3  # nobody waited out the pool's timeout
    finally:
        await engine.dispose()


async def test_more_turns_than_valkey_connections_wait_for_one_and_never_leave_valkey(pg_stores: Stores,
                                                                                      redis_url: str) -> None:
    # A pool that refused past its size ("Too many connections") made the cache take Valkey for
    # down, and every turn then fell back to the SQL lock.
    client = valkey_client(redis_url, connections=3)
    cache = ValkeyCache(client)
    try:
        await turns_at_once(CachedStore(pg_stores.sql, cache), 40)
        assert cache._down_since is None and cache._down_logged == 0.0
    finally:
        await client.aclose()


async def test_no_pooled_connection_free_in_time_is_a_503_not_a_crash(pg_stores: Stores) -> None:
    url = pg_stores.engine.url.render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.3)
    try:
        store = SqlStore(engine)
        s = await created(store)
        async with engine.connect():  # the pool's one connection, held
            with pytest.raises(StoreUnavailable) as exc:
                await store.load(s.id, fresh=True)
        assert exc.value.status == 503 and exc.value.retry_after == 2 and "busy" in exc.value.message
        assert await store.load(s.id, fresh=True) is not None  # given back: served again
    finally:
        await engine.dispose()
