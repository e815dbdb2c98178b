"""The write-behind store (the notebook's) over a real SQLite database: what only it does."""

from __future__ import annotations

import uuid

import pytest

from gb_sessions import ConcurrentUpdate, LostUpdate, Session, WriteBehindStore, utcnow
from gb_sessions.base import Lease
from gb_sessions.config import Stores
from gb_sessions.tokens import new_token


async def make(stores: Stores) -> Session:
    now = utcnow()
    s = Session(id=uuid.uuid4(), bot_id="nb", channel="notebook", token_hash=new_token()[1], created_at=now,
                last_activity=now)
    await stores.store.create(s)
    return s


async def test_saves_in_the_background_coalesced_in_order(sqlite_stores: Stores) -> None:
    stores = sqlite_stores
    s = await make(stores)
    wb = WriteBehindStore(stores.store)
    for i in range(5):
        got = await wb.load(s.id, with_history=False)
        got.add("user", f"m{i}")
        got.variables["i"] = i
        got.memory_writes[f"k{i}"] = i
        await wb.save(got)
    await wb.flush()
    stored = await stores.store.load(s.id, fresh=True)
    assert stored.variables == {"i": 4}
    assert [m.content for m in await stores.store.history(s.id)] == [f"m{i}" for i in range(5)]
    assert [await wb.get_bot_memory("nb", f"k{i}") for i in range(5)] == list(range(5))


async def test_a_change_made_elsewhere_is_reported_not_overwritten(sqlite_stores: Stores) -> None:
    stores = sqlite_stores
    s = await make(stores)
    wb = WriteBehindStore(stores.store)
    mine = await wb.load(s.id, with_history=False)
    other = await stores.store.load(s.id, fresh=True)  # another process (a web chat)
    other.variables["who"] = "web"
    await stores.store.save(other)
    mine.variables["who"] = "notebook"
    await wb.save(mine)
    again = await wb.load(s.id, fresh=True, with_history=False)
    assert again.variables == {"who": "web"}
    assert wb.warnings and "not saved" in wb.warnings[0]


async def test_a_failed_background_save_refuses_every_copy_lent_before_it(sqlite_stores: Stores) -> None:
    """Found in review: a failure must not switch the version check off for the next cell."""
    stores = sqlite_stores
    s = await make(stores)
    wb = WriteBehindStore(stores.store)
    async with wb.lock(s.id) as a:  # cell A
        assert a is not None
        a.variables["a"] = "A"
        await wb.save(a)
    web = await stores.store.load(s.id, fresh=True)  # a web chat commits meanwhile
    assert web is not None
    web.variables["web"] = "yes"
    await stores.store.save(web)
    b = await wb._read(s.id, history_limit=50, with_history=False, fresh=False, lease=Lease(s.id))
    assert b is not None  # cell B was lent the hot copy (based on A) before A's save failed
    with pytest.raises(LostUpdate):
        await wb.flush()
    b.variables["b"] = "B"
    with pytest.raises(ConcurrentUpdate):  # based on a chain that failed: refused, not written
        await wb.save(b)
    stored = await stores.store.load(s.id, fresh=True)
    assert stored is not None and stored.variables == {"web": "yes"}  # the web turn kept, nothing of A or B
    again = await wb.load(s.id, with_history=False)  # a fresh read ends the failed chain
    assert again is not None and again.variables == {"web": "yes"}
    async with wb.lock(s.id) as c:
        assert c is not None
        c.variables["c"] = "C"
        await wb.save(c)
    await wb.flush()
    stored = await stores.store.load(s.id, fresh=True)
    assert stored is not None and stored.variables == {"web": "yes", "c": "C"}


async def test_a_read_while_a_save_is_queued_does_not_reset_the_version(sqlite_stores: Stores) -> None:
    stores = sqlite_stores
    s = await make(stores)
    wb = WriteBehindStore(stores.store)
    for i in range(3):
        async with wb.lock(s.id) as cell:
            assert cell is not None
            cell.variables["i"] = i
            await wb.save(cell)
        summary = await wb.load(s.id, with_history=False, fresh=True)  # the widget reads between cells
        assert summary is not None
    await wb.flush()
    stored = await stores.store.load(s.id, fresh=True)
    assert stored is not None and stored.variables == {"i": 2} and stored.version == 3
    assert wb.warnings == []


async def test_landing_says_when_and_whether_a_background_save_is_stored(sqlite_stores: Stores) -> None:
    """What the runtime waits for before it tells other processes about a notebook's turn."""
    stores = sqlite_stores
    s = await make(stores)
    assert stores.store.landing(s.id) is None  # a store that writes at once: nothing to wait for
    wb = WriteBehindStore(stores.store)
    assert wb.landing(s.id) is None
    async with wb.lock(s.id) as cell:
        assert cell is not None
        cell.add("user", "stored?")
        await wb.save(cell)
    landing = wb.landing(s.id)
    assert landing is not None
    assert [m.content for m in await stores.store.history(s.id)] == []  # not yet
    assert await landing is True
    assert [m.content for m in await stores.store.history(s.id)] == ["stored?"]
    assert wb.landing(s.id) is None
    async with wb.lock(s.id) as stale:
        assert stale is not None
        other = await stores.store.load(s.id, fresh=True)
        assert other is not None
        await stores.store.save(other)  # another process commits first
        await wb.save(stale)
    landing = wb.landing(s.id)
    assert landing is not None and await landing is False
