"""The channels' inbox and outbox (gb_sessions/channel_queue.py) on every SQL backend: a message
stored once however often it is delivered, claims that exclude each other and keep an
address's order, a turn that marks its message done or stores nothing, outbound rows written
with the turn, retries, dead letters and replays."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import event

from gb_sessions import ChannelQueue, ConcurrentUpdate, InboxDone, Outgoing, Session, SessionExists, utcnow
from gb_sessions.config import Stores
from gb_sessions.tokens import new_token
from tests.helpers.prereqs import unavailable

# The bot of these rows: none of the server tests' bots. A server test that later runs on the same
# database (pytest-xdist runs the files of one process in any order) claims what is left here and
# fails it as an unknown bot; as "default" it ran the rows' turns and sent their replies to its
# stand-in platforms (a Twilio test saw "Hello! What is your name?" go to one of these addresses).
BOT = "queue-tests"


def new_session(channel: str, address: str | None) -> tuple[Session, str]:
    token, token_hash = new_token()
    now = utcnow()
    return Session(id=uuid.uuid4(), bot_id=BOT, channel=channel, token_hash=token_hash, created_at=now,
                   last_activity=now, address=address), token


def address() -> str:
    return "55" + str(uuid.uuid4().int)[:11]


async def nothing_pending(q: ChannelQueue, *sessions: Session) -> None:
    """Dead-letter what these sessions left pending: a server test on the same database would
    otherwise claim it (and dead-letter it later, BOT being none of its bots)."""
    for s in sessions:
        for o in await q.outbox(session_id=s.id, status="pending"):
            await q.dead(o.id, "test: left pending")


async def test_a_message_delivered_again_is_stored_once(stores: Stores) -> None:
    q, who = stores.channels, address()
    first = await q.receive(BOT, "whatsapp", "wamid.1" + who, who, {"text": "oi"})
    again = await asyncio.gather(*(q.receive(BOT, "whatsapp", "wamid.1" + who, who, {"text": "oi"})
                                   for _ in range(5)))
    assert first[1] is True and all(a == (first[0], False) for a in again)
    other_bot = await q.receive("other", "whatsapp", "wamid.1" + who, who, {"text": "oi"})
    assert other_bot[1] is True and other_bot[0] != first[0]


async def test_claims_exclude_each_other_and_keep_each_address_in_order(stores: Stores) -> None:
    q, a, b = stores.channels, address(), address()
    ids = [(await q.receive(BOT, "sms", f"SM{i}{a}", a if i % 2 == 0 else b, {"text": str(i)}))[0]
           for i in range(4)]
    one, two = await asyncio.gather(q.claim_inbox("one", 30, ids=ids), q.claim_inbox("two", 30, ids=ids))
    claimed = sorted(i.id for i in [*one, *two])
    assert claimed == [ids[0], ids[1]]  # the first of each address, each by one process only
    assert await q.claim_inbox("three", 30, ids=ids) == []  # the rest wait behind them
    await q.inbox_failed(ids[0], "test: failed for good")
    assert [i.id for i in await q.claim_inbox("three", 30, ids=ids)] == [ids[2]]


async def test_a_lapsed_claim_is_taken_again_and_counts_as_an_attempt(stores: Stores) -> None:
    q, a = stores.channels, address()
    item_id, _ = await q.receive(BOT, "sms", "SMx" + a, a, {"text": "x"})
    (first,) = await q.claim_inbox("dead-process", 1.0, ids=[item_id])
    assert await q.claim_inbox("other", 30, ids=[item_id]) == []
    await asyncio.sleep(1.1)
    (again,) = await q.claim_inbox("other", 30, ids=[item_id])
    assert (first.attempts, again.attempts) == (1, 2)


async def test_the_turn_marks_its_message_done_and_a_second_turn_of_it_stores_nothing(stores: Stores) -> None:
    q, a = stores.channels, address()
    item_id, _ = await q.receive(BOT, "whatsapp", "wamid.t" + a, a, {"text": "hi"})
    s1, _ = new_session("whatsapp", a)
    s2, _ = new_session("whatsapp", a)
    await stores.store.create(s1)
    await stores.store.create(s2)
    for s in (s1, s2):
        s.add("user", "hi")
        s.inbox_done.append(item_id)
        s.outbox.append(Outgoing("whatsapp", a, {"content": "hello"}, BOT, item_id))
    await stores.store.save(s1)
    with pytest.raises(InboxDone):
        await stores.store.save(s2)
    assert (await q.inbox(item_id)).status == "done"  # type: ignore[union-attr]
    rows = await q.outbox(inbox_id=item_id)
    assert [(o.session_id, o.payload, o.status) for o in rows] == [(s1.id, {"content": "hello"}, "pending")]
    assert [m.content for m in await stores.store.history(s2.id)] == []  # nothing of the second turn
    await nothing_pending(q, s1)


async def test_a_turn_whose_inbound_messages_are_not_all_new_or_whose_version_is_stale_writes_nothing(
        stores: Stores) -> None:
    """PostgreSQL's one-statement turn: the inbox part marks what is still new, so these are the
    cases its deliberate failure has to undo (the general path rolls its transaction back)."""
    q, a = stores.channels, address()
    first, _ = await q.receive(BOT, "whatsapp", "wamid.p1" + a, a, {"text": "one"})
    second, _ = await q.receive(BOT, "whatsapp", "wamid.p2" + a, a, {"text": "two"})
    other, _ = new_session("whatsapp", a)
    await stores.store.create(other)
    other.inbox_done.append(first)
    await stores.store.save(other)  # the first is done, by another turn
    s, _ = new_session("whatsapp", a)
    await stores.store.create(s)
    s.add("user", "one and two")
    s.inbox_done.extend([first, second])
    s.outbox.append(Outgoing("whatsapp", a, {"content": "both"}, BOT, second))
    with pytest.raises(InboxDone):
        await stores.store.save(s)
    assert (await q.inbox(second)).status == "new"  # type: ignore[union-attr]
    s.inbox_done.remove(first)
    s.version -= 1  # a stale copy: its turn must not mark the message done either
    with pytest.raises(ConcurrentUpdate):
        await stores.store.save(s)
    assert (await q.inbox(second)).status == "new"  # type: ignore[union-attr]
    assert await q.outbox(session_id=s.id) == [] and await stores.store.history(s.id) == []
    s.version += 1
    await stores.store.save(s)
    assert (await q.inbox(second)).status == "done"  # type: ignore[union-attr]
    assert [m.content for m in await stores.store.history(s.id)] == ["one and two"]
    await nothing_pending(q, s)


@pytest.mark.parametrize("stores", ["postgres", "postgres+valkey"], indirect=True)
async def test_on_postgresql_a_channel_turn_is_one_statement_and_gets_its_outbox_ids(stores: Stores) -> None:
    q, a = stores.channels, address()
    item_id, _ = await q.receive(BOT, "whatsapp", "wamid.one" + a, a, {"text": "hi"})
    s, _ = new_session("whatsapp", a)
    await stores.store.create(s)
    s.add("user", "hi")
    s.add("assistant", "hello")
    s.inbox_done.append(item_id)
    outgoing = [Outgoing("whatsapp", a, {"content": f"r{i}"}, BOT, item_id) for i in range(3)]
    s.outbox.extend(outgoing)
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(stores.engine.sync_engine, "before_cursor_execute", seen)
    try:
        await stores.store.save(s)
    finally:
        event.remove(stores.engine.sync_engine, "before_cursor_execute", seen)
    assert len(statements) == 1 and "INSERT INTO outbox" in statements[0]
    rows = await q.outbox(inbox_id=item_id)
    assert [(o.id, o.payload, o.status) for o in rows] == [(g.id, g.payload, "pending") for g in outgoing]
    assert (await q.inbox(item_id)).session_id == s.id  # type: ignore[union-attr]
    await nothing_pending(q, s)


async def test_a_session_id_taken_is_session_exists_and_writes_nothing(stores: Stores) -> None:
    s, _ = new_session("sms", address())
    await stores.store.create(s)
    twin, _ = new_session("sms", s.address)
    twin.id = s.id
    twin.add("assistant", "a second greeting")
    with pytest.raises(SessionExists):
        await stores.store.create(twin)
    assert [m.content for m in await stores.store.history(s.id)] == []


async def test_outbound_retry_dead_replay_and_delivery_status(stores: Stores) -> None:
    q, a = stores.channels, address()
    s, _ = new_session("whatsapp", a)
    s.outbox.extend(Outgoing("whatsapp", a, {"content": f"m{i}"}, BOT) for i in range(2))
    await stores.store.create(s)
    first, second = (o.id for o in await q.outbox(session_id=s.id))
    assert first is not None and second is not None
    (claimed,) = [o for o in await q.claim_outbox("p", 30) if o.address == a]  # the second waits behind it
    assert claimed.id == first and claimed.attempts == 1
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.2)
    await q.retry(first, "503: down", soon)
    assert [o for o in await q.claim_outbox("p", 30) if o.address == a] == []  # not due yet, and in order
    await asyncio.sleep(0.25)
    (claimed,) = [o for o in await q.claim_outbox("p", 30) if o.address == a]
    assert claimed.id == first and claimed.attempts == 2
    await q.dead(first, "400: bad request")
    (nxt,) = [o for o in await q.claim_outbox("p", 30) if o.address == a]
    assert nxt.id == second  # a dead letter no longer holds the address back
    await q.sent(second, "wamid.OUT2" + a)
    assert await q.delivery("whatsapp", "wamid.OUT2" + a, "read") is True
    assert await q.delivery("whatsapp", "wamid.nobody", "read") is False
    replayed = await q.replay(first)
    assert replayed is not None and (replayed.status, replayed.attempts) == ("pending", 0)
    rows = {o.id: o for o in await q.outbox(session_id=s.id)}
    assert rows[first].error == "400: bad request" and rows[second].delivery == "read"
    assert (await q.counts()).get("sent", 0) >= 1
    await nothing_pending(q, s)


async def test_a_batch_is_marked_sent_at_once_each_with_its_platform_id(stores: Stores) -> None:
    q, a, b = stores.channels, address(), address()
    s, _ = new_session("whatsapp", a)
    s.outbox.extend([Outgoing("whatsapp", a, {"content": "to a"}, BOT),
                     Outgoing("whatsapp", b, {"content": "to b"}, BOT)])
    await stores.store.create(s)
    first = [o for o in await q.claim_outbox("p", 30) if o.session_id == s.id]
    again = [o for o in await q.claim_outbox("p", 30, probe=False) if o.session_id == s.id]
    assert len(first) == 2 and again == []  # claimed once, with or without the read first
    await q.sent_many([(first[0].id, "wamid.A" + a), (first[1].id, None)])
    rows = await q.outbox(session_id=s.id)
    assert [(o.status, o.platform_id) for o in rows] == [("sent", "wamid.A" + a), ("sent", None)]
    assert all(o.sent_at is not None for o in rows)


async def test_webhooks_at_once_are_stored_once_each_in_a_few_statements(stores: Stores) -> None:
    q, senders = stores.channels, [address() for _ in range(40)]
    earlier = await q.receive(BOT, "whatsapp", "wamid.pre" + senders[0], senders[0], {"text": "earlier"})
    inserts: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO INBOX"):
            inserts.append(statement)

    event.listen(stores.engine.sync_engine, "before_cursor_execute", count)
    try:
        got = await asyncio.gather(
            *(q.receive(BOT, "whatsapp", f"wamid.b{i}.{s}", s, {"text": f"m{i}"}) for i, s in enumerate(senders)),
            q.receive(BOT, "whatsapp", f"wamid.b0.{senders[0]}", senders[0], {"text": "m0"}),  # twice at once
            q.receive(BOT, "whatsapp", "wamid.pre" + senders[0], senders[0], {"text": "earlier"}))  # again
    finally:
        event.remove(stores.engine.sync_engine, "before_cursor_execute", count)
    assert [new for _, new in got] == [True] * 40 + [False, False]
    assert len({row_id for row_id, _ in got[:40]}) == 40
    assert got[40][0] == got[0][0] and got[41][0] == earlier[0]
    for i, s in enumerate(senders):
        item = await q.inbox(got[i][0])
        assert item is not None and (item.address, item.payload["text"]) == (s, f"m{i}")
    if stores.engine.dialect.name == "postgresql":
        assert len(inserts) <= 4, len(inserts)  # the webhooks that came while one INSERT ran went in the next


async def test_a_row_the_database_refuses_fails_only_its_own_webhook(pg_stores: Stores) -> None:
    q = pg_stores.channels
    good = [q.receive(BOT, "whatsapp", f"wamid.g{uuid.uuid4().hex}", address(), {"text": "ok"})
            for _ in range(6)]
    bad = q.receive(BOT, "whatsapp", f"wamid.x{uuid.uuid4().hex}", "5" * 400, {"text": "too long an address"})
    results = await asyncio.gather(*good, bad, return_exceptions=True)
    assert all(isinstance(r, tuple) and r[1] is True for r in results[:6]), results
    assert isinstance(results[6], Exception) and "too long" in str(results[6])


async def test_latest_payload_is_the_newest_inbound_message_of_the_address(stores: Stores) -> None:
    q, who, other = stores.channels, address(), address()
    bot = "latest-" + uuid.uuid4().hex[:8]  # no server's dispatcher handles it (no such bot)
    assert await q.latest_payload(bot, "teams", who) is None
    await q.receive(bot, "teams", "a1" + who, who, {"text": "first", "extra": {"n": 1}})
    await q.receive(bot, "teams", "a2" + who, who, {"text": "second", "extra": {"n": 2}})
    await q.receive(bot, "teams", "a3" + other, other, {"text": "someone else's"})
    await q.receive(bot, "whatsapp", "a4" + who, who, {"text": "another channel's"})
    await q.receive(bot, "teams", "a2" + who, who, {"text": "the second, delivered again"})  # stores nothing
    assert await q.latest_payload(bot, "teams", who) == {"text": "second", "extra": {"n": 2}}
    assert await q.latest_payload(bot, "teams", other) == {"text": "someone else's"}


# --- PostgreSQL: claims that no plan makes quadratic -------------------------------------------------------

# Rows of the queue table under test: `addresses` addresses with two waiting rows each (the second
# behind the first), inserted address by address.
_FILL = {
    "inbox": ("INSERT INTO inbox (bot_id, channel, platform_id, address, payload, status, attempts, next_attempt_at, "
              "received_at) SELECT 'default', 'whatsapp', 'wamid.' || n, 'a' || (n / 2), '{}', 'new', 0, now(), now() "
              "FROM generate_series(0, %(rows)s - 1) AS n ORDER BY n"),
    "outbox": ("INSERT INTO outbox (bot_id, channel, address, payload, status, attempts, next_attempt_at, created_at) "
               "SELECT 'default', 'whatsapp', 'a' || (n / 2), '{}', 'pending', 0, now(), now() "
               "FROM generate_series(0, %(rows)s - 1) AS n ORDER BY n"),
}


@pytest.fixture
async def stale_pg(tmp_path: Path) -> AsyncIterator[Stores]:
    """A PostgreSQL database of its own whose queue tables were ANALYZEd empty: the planner
    believes they hold no row (as a new deployment's queues are while they fill)."""
    from gb_sessions.config import StoreSettings
    from tests.conftest import PG_ADMIN
    from tests.helpers.stores import create_database, drop_database, opened

    name = f"gb_test_claims_{uuid.uuid4().hex[:10]}"
    try:
        url = create_database(PG_ADMIN, name)
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL is not reachable: {exc}")
    try:
        async with opened(StoreSettings(url, None, tmp_path)) as stores:
            async with stores.engine.connect() as conn:
                await conn.exec_driver_sql("ANALYZE inbox, outbox")
                await conn.commit()
            yield stores
    finally:
        drop_database(PG_ADMIN, name)


@pytest.mark.parametrize(("table", "waiting"), [("inbox", "new"), ("outbox", "pending")])
async def test_on_postgresql_a_claim_costs_its_batch_not_the_queue_even_when_the_planner_thinks_it_empty(
        stale_pg: Stores, table: str, waiting: str) -> None:
    """bench/channels.py found a claim of 40 rows taking 4.7 s: with the statistics of an empty
    table, PostgreSQL planned "no earlier waiting row of the address" as an anti join that read
    every waiting row for each candidate, and ran the IN (subquery) once per outer row. Here
    4,000 waiting rows (2 per address) behind such statistics: a claim of 20 reads each waiting
    row at most once (about 3 pages a row: 12,000), and claims 20. The NOT EXISTS form read 4.4
    million pages in 2.3 s, and claimed 2,000 rows: its LIMIT ... SKIP LOCKED subquery, run again
    for each outer row, gave other rows each time."""
    from gb_sessions.channel_queue import _claim_statement

    q, rows = stale_pg.channels, 4000
    async with stale_pg.engine.connect() as conn:
        await conn.exec_driver_sql(_FILL[table], {"rows": rows})
        await conn.commit()
        plan_sql = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + _claim_statement(table, waiting, by_ids=False,
                                                                                   probe=False)
        now = utcnow()
        params = {"now": now, "ids": None, "limit": 20, "owner": "explain",
                  "until": now + dt.timedelta(seconds=30)}
        plan = (await conn.exec_driver_sql(plan_sql, params)).scalar_one()
        await conn.rollback()  # EXPLAIN ANALYZE claimed them: undone
    top = plan[0]["Plan"]
    pages = top["Shared Hit Blocks"] + top["Shared Read Blocks"]
    assert top["Actual Rows"] == 20 and pages < 5 * rows, (pages, plan)
    # and the claim itself: the first row of each of 20 addresses, oldest first
    claim = q.claim_inbox if table == "inbox" else q.claim_outbox
    got = await claim("p", 30, limit=20)
    assert [item.address for item in got] == [f"a{n}" for n in range(20)]
    assert [item.id for item in got] == sorted(item.id for item in got)
    assert len({item.id for item in await claim("p2", 30, limit=20)} & {item.id for item in got}) == 0
