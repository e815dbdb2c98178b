"""The write-behind store (the notebook's) over a real SQLite database: what only it does."""

from __future__ import annotations

import uuid

from gb_sessions import Session, WriteBehindStore, utcnow
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
