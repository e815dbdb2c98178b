"""The channels' durable queues in SQL: the ``inbox`` (what webhooks brought) and the ``outbox``
(what turns send to push channels).

The rules they keep (design.md, Channels):

- **In**: a webhook is answered only after :meth:`ChannelQueue.receive` committed its message;
  the row is unique on the platform's message id, so a redelivery stores nothing new. A process
  *claims* a new row (a lease: a dead process lets it lapse, another claims it again), hands it
  to the runtime, and the turn marks it done in its own transaction (:func:`write_turn`): if
  another process handled it first, the turn fails with InboxDone and stores nothing. Rows of
  one address are handled in order: a row is claimed only when no earlier row of its address
  waits.
- **Out**: a turn's messages for a push channel are inserted in the turn's own transaction
  (:func:`write_turn`), then claimed one process at a time (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL; SQLite has one writer), delivered, marked sent; a failure is retried with backoff
  and dead-lettered after the bot's outbox-max-attempts, the platform's error kept. Rows of one
  address leave in order. ``gb outbox`` lists them and replays a dead one.

Both are claimed by a conditional UPDATE (claim_timers' pattern): the condition is checked and
the claim written atomically, and a read comes first so an idle poll takes no write lock (the
dispatcher skips it while its previous round found rows: ``probe=False``).

On PostgreSQL a turn's marks and inserts are parts of the turn's one statement
(store.py's ``_turn_statement``); :func:`write_turn` is the general path's (SQLite, or a turn
with memory writes or timers). Webhooks' inserts are batched on PostgreSQL: those that arrive
while one INSERT is on its way go together in the next (one statement, one commit; each caller
still returns only once its row is committed), so a burst of webhooks costs a few statements,
not one each.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, case, exists, func, insert, literal, or_, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gb_basic import jsontext

from .errors import InboxDone, StoreUnavailable
from .schema import InboxRow, OutboxRow
from .session import Session, utcnow
from .sql import aware as _aware
from .sql import unavailable_on_error as _unavailable_on_error

__all__ = ["ChannelQueue", "InboxItem", "OutboxItem", "write_turn"]

IN, OUT = (cast(Table, t.__table__) for t in (InboxRow, OutboxRow))
CLAIM_BATCH = 20
RECEIVE_BATCH = 100  # webhooks' rows in one INSERT at most


@functools.lru_cache(maxsize=RECEIVE_BATCH)
def _receive_statement(rows: int) -> str:
    """The INSERT of `rows` inbound messages (psycopg's parameter style, sent with
    exec_driver_sql in autocommit: no compilation, no BEGIN/COMMIT round trips); the rows a
    redelivery repeats are skipped, the new ones' keys and ids come back."""
    values = ", ".join(f"(%(b{i})s, %(c{i})s, %(p{i})s, %(a{i})s, CAST(%(j{i})s AS jsonb), 'new', 0, %(now)s, %(now)s)"
                       for i in range(rows))
    return ("INSERT INTO inbox (bot_id, channel, platform_id, address, payload, status, attempts, next_attempt_at, "
            f"received_at) VALUES {values} ON CONFLICT (bot_id, channel, platform_id) DO NOTHING "
            "RETURNING id, bot_id, channel, platform_id")


@functools.lru_cache(maxsize=16)
def _claim_statement(table: str, waiting: str, *, by_ids: bool, probe: bool) -> str:
    """PostgreSQL's claim of `table`'s rows in status `waiting` (psycopg's parameter style, sent
    with exec_driver_sql): due, nobody's (or their lease lapsed), each the first waiting row of
    its address, oldest first, at most %(limit)s, locked with SKIP LOCKED, then claimed; `probe`:
    the same test, reading one id and claiming nothing. `by_ids`: only rows of %(ids)s.

    Written so that no plan can make it quadratic. A queue starts empty and fills faster than
    ANALYZE follows, and the planner, told a table holds one row, made the NOT EXISTS form an
    anti join that scanned every waiting row of the table for each candidate, and ran the
    IN (subquery) once per outer row: 4.7 s for 40 rows under bench/channels.py. Here "first of
    its address" is a scalar subquery (a per-row index probe of the address's partial index:
    min(id) of its waiting rows is its own), the rows to claim are a MATERIALIZED CTE, computed
    once, and the UPDATE finds them by primary key (an array of their ids). Whatever the plan,
    a claim reads each waiting row at most once. The status is written into the SQL (not bound),
    so that a prepared statement's generic plan uses the partial indexes of the waiting rows."""
    free = (f"t.status = '{waiting}' AND t.next_attempt_at <= %(now)s "
            "AND (t.claimed_until IS NULL OR t.claimed_until < %(now)s) "
            f"AND t.id = (SELECT min(e.id) FROM {table} AS e WHERE e.bot_id = t.bot_id AND e.channel = t.channel "
            f"AND e.address = t.address AND e.status = '{waiting}')")
    if by_ids:
        free += " AND t.id = ANY(CAST(%(ids)s AS bigint[]))"
    if probe:
        return f"SELECT t.id FROM {table} AS t WHERE {free} LIMIT 1"
    return (f"WITH due AS MATERIALIZED (SELECT t.id FROM {table} AS t WHERE {free} ORDER BY t.id LIMIT %(limit)s "
            "FOR UPDATE OF t SKIP LOCKED) "
            f"UPDATE {table} AS t SET claimed_by = %(owner)s, claimed_until = %(until)s, attempts = t.attempts + 1 "
            f"WHERE t.id = ANY(ARRAY(SELECT id FROM due)) AND t.status = '{waiting}' "
            "AND (t.claimed_until IS NULL OR t.claimed_until < %(now)s) RETURNING t.*")


# PostgreSQL: a batch of sends marked sent in one prebuilt statement (their platform ids beside them).
_SENT_STATEMENT = (
    "UPDATE outbox AS t SET status = 'sent', platform_id = v.platform_id, sent_at = %(now)s, claimed_by = NULL, "
    "claimed_until = NULL, error = NULL FROM unnest(CAST(%(ids)s AS bigint[]), CAST(%(platform_ids)s AS text[])) "
    "AS v(id, platform_id) WHERE t.id = v.id")


_Key = tuple[str, str, str]  # (bot, channel, the platform's message id)
_Waiting = tuple[_Key, str, str, "asyncio.Future[tuple[int, bool]]"]  # a row for the next INSERT: key, address, payload


def _fail(items: list[_Waiting], exc: BaseException) -> None:
    for *_, done in items:
        if not done.done():
            done.set_exception(exc)


@dataclass(frozen=True)
class InboxItem:
    """An inbound message as stored: `payload` holds its text, choice, attachment and sender."""

    id: int
    bot_id: str
    channel: str
    platform_id: str
    address: str
    payload: dict[str, Any]
    status: str
    attempts: int
    received_at: dt.datetime
    error: str | None = None
    session_id: uuid.UUID | None = None


@dataclass(frozen=True)
class OutboxItem:
    """An outbound message as stored (see schema.OutboxRow)."""

    id: int
    session_id: uuid.UUID | None
    inbox_id: int | None
    bot_id: str
    channel: str
    address: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    created_at: dt.datetime
    error: str | None = None
    platform_id: str | None = None
    delivery: str | None = None
    sent_at: dt.datetime | None = None


def _inbox(r: Any) -> InboxItem:
    return InboxItem(r.id, r.bot_id, r.channel, r.platform_id, r.address, r.payload, r.status, r.attempts,
                     _aware(r.received_at), r.error, r.session_id)  # type: ignore[arg-type]


def _outbox(r: Any) -> OutboxItem:
    return OutboxItem(r.id, r.session_id, r.inbox_id, r.bot_id, r.channel, r.address, r.payload, r.status,
                      r.attempts, _aware(r.next_attempt_at), _aware(r.created_at),  # type: ignore[arg-type]
                      r.error, r.platform_id, r.delivery, _aware(r.sent_at))


async def write_turn(conn: AsyncConnection, session: Session) -> None:
    """The turn's channel effects, in its transaction: the inbound messages it handled marked
    done (all of them, or InboxDone rolls the turn back) and its outbound messages inserted
    (their row ids set on them)."""
    now = utcnow()
    if session.inbox_done:
        done = await conn.execute(update(IN).where(IN.c.id.in_(session.inbox_done), IN.c.status == "new")
                                  .values(status="done", done_at=now, session_id=session.id, claimed_by=None,
                                          claimed_until=None, error=None))
        if done.rowcount != len(set(session.inbox_done)):
            raise InboxDone(f"inbound message {session.inbox_done} was handled already")
    if session.outbox:
        rows = [{"session_id": session.id, "inbox_id": o.inbox_id, "bot_id": o.bot_id, "channel": o.channel,
                 "address": o.address, "payload": o.payload, "status": "inline" if o.inline else "pending",
                 "attempts": 0, "next_attempt_at": now, "created_at": now} for o in session.outbox]
        result = await conn.execute(insert(OUT).returning(OUT.c.id, sort_by_parameter_order=True), rows)
        for o, row_id in zip(session.outbox, result.scalars().all()):
            o.id = row_id


def _in_order(t: Table, waiting: str) -> Any:
    """No earlier row of the same bot, channel and address still waits (rows of one address go in order)."""
    e = t.alias("earlier")
    return ~exists().where(e.c.bot_id == t.c.bot_id, e.c.channel == t.c.channel, e.c.address == t.c.address,
                           e.c.status == _const(waiting), e.c.id < t.c.id)


def _const(status: str) -> Any:
    """A status written into the SQL, not bound: the planner then knows the claim reads only
    rows the waiting rows' partial indexes hold (a bound value's generic plan could not use them)."""
    return literal(status, literal_execute=True)


class ChannelQueue:
    """The inbox and the outbox of one database (PostgreSQL or SQLite)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._received: list[_Waiting] = []  # rows waiting for the next INSERT
        self._inserting: asyncio.Task[None] | None = None

    # --- inbox ------------------------------------------------------------------------------------------
    async def receive(self, bot_id: str, channel: str, platform_id: str, address: str,
                      payload: dict[str, Any]) -> tuple[int, bool]:
        """Store an inbound message, committed when this returns: its row id, and False when the
        platform had delivered it before (nothing new stored)."""
        if not self.sqlite:
            done: asyncio.Future[tuple[int, bool]] = asyncio.get_running_loop().create_future()
            self._received.append(((bot_id, channel, platform_id), address, jsontext.dumps(payload), done))
            if self._inserting is None or self._inserting.done():
                self._inserting = asyncio.ensure_future(self._insert_received())
            return await done
        now = utcnow()
        ins = sqlite_insert(IN).values(
            bot_id=bot_id, channel=channel, platform_id=platform_id, address=address, payload=payload,
            status="new", attempts=0, next_attempt_at=now, received_at=now)
        stmt = ins.on_conflict_do_nothing(index_elements=["bot_id", "channel", "platform_id"]).returning(IN.c.id)
        async with _unavailable_on_error(), self.engine.begin() as conn:
            new_id = (await conn.execute(stmt)).scalar()
        if new_id is not None:
            return int(new_id), True
        return await self._stored_id((bot_id, channel, platform_id)), False

    async def _stored_id(self, key: _Key) -> int:
        """The row id of a message delivered before."""
        bot_id, channel, platform_id = key
        async with _unavailable_on_error(), self.engine.connect() as conn:
            return int((await conn.execute(select(IN.c.id).where(
                IN.c.bot_id == bot_id, IN.c.channel == channel, IN.c.platform_id == platform_id))).scalar_one())

    async def _insert_received(self) -> None:
        """PostgreSQL: insert what webhooks handed to receive, RECEIVE_BATCH rows a statement,
        until none waits; each caller gets its row's id (or its error). A batch the database
        refuses for one bad row is inserted again row by row, so only that row's caller fails."""
        batch: list[_Waiting] = []
        try:
            while self._received:
                batch, self._received = self._received[:RECEIVE_BATCH], self._received[RECEIVE_BATCH:]
                try:
                    results: list[tuple[int, bool] | None] = list(await self._insert_batch(batch))
                except StoreUnavailable as exc:  # the database is down: every caller's 503
                    _fail(batch, exc)
                    continue
                except Exception as exc:
                    if len(batch) == 1:
                        _fail(batch, exc)
                        continue
                    results = []
                    for item in batch:
                        try:
                            results.extend(await self._insert_batch([item]))
                        except Exception as one:
                            _fail([item], one)
                            results.append(None)
                for (*_, done), result in zip(batch, results):
                    if result is not None and not done.done():
                        done.set_result(result)
                batch = []
        except BaseException as exc:  # cancelled (the loop closing): nobody is left waiting for ever
            _fail(batch + self._received, StoreUnavailable("the server is stopping; try again", retry_after=2))
            self._received = []
            if not isinstance(exc, Exception):
                raise

    async def _insert_batch(self, batch: list[_Waiting]) -> list[tuple[int, bool]]:
        params: dict[str, Any] = {"now": utcnow()}
        for i, ((bot_id, channel, platform_id), address, payload, _) in enumerate(batch):
            params.update({f"b{i}": bot_id, f"c{i}": channel, f"p{i}": platform_id, f"a{i}": address,
                           f"j{i}": payload})
        async with _unavailable_on_error(), self._autocommit.connect() as conn:
            rows = (await conn.exec_driver_sql(_receive_statement(len(batch)), params)).all()
        new = {(r.bot_id, r.channel, r.platform_id): int(r.id) for r in rows}
        results: list[tuple[int, bool]] = []
        ids: dict[_Key, int] = {}
        for key, *_ in batch:
            if key in ids:  # the same message twice in one batch: the first one is the new one
                results.append((ids[key], False))
            elif key in new:
                ids[key] = new[key]
                results.append((ids[key], True))
            else:  # delivered before
                ids[key] = await self._stored_id(key)
                results.append((ids[key], False))
        return results

    async def claim_inbox(self, owner: str, lease_seconds: float, *, ids: list[int] | None = None,
                          limit: int = CLAIM_BATCH, probe: bool = True) -> list[InboxItem]:
        """Claim new inbound messages nobody holds, due and first of their address (or only
        those of `ids`, when they are); each claim counts as an attempt. `probe`: read first
        and claim only when there is something (an idle poll then takes no write lock); a
        caller whose previous claim found rows passes False (one statement, not two)."""
        return [_inbox(r) for r in await self._claim(IN, "new", owner, lease_seconds, limit, probe, ids)]

    async def inbox_retry(self, item_id: int, error: str, at: dt.datetime) -> None:
        """Handling failed for now (the store, a rate limit): claimable again from `at`."""
        await self._set(IN, item_id, claimed_by=None, claimed_until=None, error=error, next_attempt_at=at)

    async def inbox_failed(self, item_id: int, error: str) -> None:
        """Handling failed for good: the row stays, "failed", with the error (nothing was stored of it)."""
        await self._set(IN, item_id, status="failed", claimed_by=None, claimed_until=None, error=error,
                        done_at=utcnow())

    async def inbox(self, item_id: int) -> InboxItem | None:
        async with _unavailable_on_error(), self.engine.connect() as conn:
            r = (await conn.execute(select(IN).where(IN.c.id == item_id))).first()
        return _inbox(r) if r is not None else None

    async def last_inbound(self, bot_id: str, channel: str, address: str) -> dt.datetime | None:
        """When the address last wrote to the bot on the channel (WhatsApp's 24-hour window)."""
        async with _unavailable_on_error(), self.engine.connect() as conn:
            at = (await conn.execute(select(func.max(IN.c.received_at)).where(
                IN.c.bot_id == bot_id, IN.c.channel == channel, IN.c.address == address))).scalar()
        return _aware(at)

    # --- outbox -----------------------------------------------------------------------------------------
    async def claim_outbox(self, owner: str, lease_seconds: float, *, limit: int = CLAIM_BATCH,
                           probe: bool = True) -> list[OutboxItem]:
        """Claim pending messages nobody holds, due and first of their address (`probe`: as
        claim_inbox's)."""
        return [_outbox(r) for r in await self._claim(OUT, "pending", owner, lease_seconds, limit, probe, None)]

    async def _claim(self, t: Table, waiting: str, owner: str, lease_seconds: float, limit: int, probe: bool,
                     ids: list[int] | None) -> list[Any]:
        """Claim rows of `t` in status `waiting` nobody holds, due and first of their address
        (and among `ids`, when given), oldest first: one conditional UPDATE (claim_timers' pattern),
        each claim an attempt; `probe`: read first, so an idle poll takes no write lock."""
        now = utcnow()
        if not self.sqlite:
            return await self._claim_postgres(t.name, waiting, owner, lease_seconds, limit, probe, ids, now)
        free = and_(t.c.status == _const(waiting), t.c.next_attempt_at <= now,
                    or_(t.c.claimed_until.is_(None), t.c.claimed_until < now), _in_order(t, waiting))
        if ids is not None:
            free = and_(free, t.c.id.in_(ids))
        if probe and not await self._any(t, free):
            return []
        due = select(t.c.id).where(free).order_by(t.c.id).limit(limit)
        claim = (update(t).where(t.c.id.in_(due.scalar_subquery()), t.c.status == _const(waiting),
                                 or_(t.c.claimed_until.is_(None), t.c.claimed_until < now))
                 .values(claimed_by=owner, claimed_until=now + dt.timedelta(seconds=lease_seconds),
                         attempts=t.c.attempts + 1)
                 .returning(*t.c))
        async with _unavailable_on_error(), self.engine.begin() as conn:
            rows = (await conn.execute(claim)).all()
        return sorted(rows, key=lambda r: r.id)

    async def _claim_postgres(self, table: str, waiting: str, owner: str, lease_seconds: float, limit: int,
                              probe: bool, ids: list[int] | None, now: dt.datetime) -> list[Any]:
        """_claim on PostgreSQL: the prebuilt statements of _claim_statement, in autocommit (one
        statement each, no BEGIN and COMMIT round trips)."""
        params: dict[str, Any] = {"now": now, "ids": ids}
        by_ids = ids is not None
        async with _unavailable_on_error(), self._autocommit.connect() as conn:
            if probe and (await conn.exec_driver_sql(
                    _claim_statement(table, waiting, by_ids=by_ids, probe=True), params)).first() is None:
                return []
            params.update(limit=limit, owner=owner, until=now + dt.timedelta(seconds=lease_seconds))
            rows = (await conn.exec_driver_sql(_claim_statement(table, waiting, by_ids=by_ids, probe=False),
                                               params)).all()
        return sorted(rows, key=lambda r: r.id)

    async def sent(self, item_id: int, platform_id: str | None) -> None:
        """Delivered: the platform accepted it (its message id kept, for its delivery statuses)."""
        await self._set(OUT, item_id, status="sent", platform_id=platform_id, sent_at=utcnow(), claimed_by=None,
                        claimed_until=None, error=None)

    async def sent_many(self, delivered: list[tuple[int, str | None]]) -> None:
        """Delivered, a batch at once (one UPDATE): each (row id, the platform's message id).

        The dispatcher calls it after its batch's sends: a process that dies between a send and
        this write leaves those rows claimed, and after the lease another process sends them again
        (at most that batch's messages; one by one, with :meth:`sent`, the edge is the same, one
        message wide: delivery is at least once either way)."""
        if not delivered:
            return
        ids = [item_id for item_id, _ in delivered]
        if not self.sqlite:
            async with _unavailable_on_error(), self._autocommit.connect() as conn:
                await conn.exec_driver_sql(_SENT_STATEMENT, {"now": utcnow(), "ids": ids,
                                                             "platform_ids": [p for _, p in delivered]})
            return
        platform_ids = {item_id: platform_id for item_id, platform_id in delivered}
        async with _unavailable_on_error(), self.engine.begin() as conn:
            await conn.execute(update(OUT).where(OUT.c.id.in_(ids)).values(
                status="sent", platform_id=case(platform_ids, value=OUT.c.id, else_=literal(None)),
                sent_at=utcnow(), claimed_by=None, claimed_until=None, error=None))

    async def keep_payload(self, item_id: int, payload: dict[str, Any]) -> None:
        """Replace an outbound message's payload (a send that went in part keeps how far it got)."""
        await self._set(OUT, item_id, payload=payload)

    async def retry(self, item_id: int, error: str, at: dt.datetime) -> None:
        """Not delivered this time: pending again from `at`, the platform's answer kept."""
        await self._set(OUT, item_id, claimed_by=None, claimed_until=None, error=error, next_attempt_at=at)

    async def dead(self, item_id: int, error: str) -> None:
        """Not deliverable: dead-lettered with the platform's answer (``gb outbox retry`` replays it)."""
        await self._set(OUT, item_id, status="dead", claimed_by=None, claimed_until=None, error=error)

    async def replay(self, item_id: int) -> OutboxItem | None:
        """A dead (or sent) message pending again, its attempts reset; None when there is no such row."""
        async with _unavailable_on_error(), self.engine.begin() as conn:
            r = (await conn.execute(update(OUT).where(OUT.c.id == item_id, OUT.c.status != "inline")
                                    .values(status="pending", attempts=0, next_attempt_at=utcnow(),
                                            claimed_by=None, claimed_until=None)
                                    .returning(*OUT.c))).first()
        return _outbox(r) if r is not None else None

    async def delivery(self, channel: str, platform_id: str, status: str, error: str | None = None) -> bool:
        """Record the platform's status of a sent message (sent, delivered, read, failed); False
        when no message of this channel has that id."""
        values: dict[str, Any] = {"delivery": status[:20]}
        if error:
            values["error"] = error
        async with _unavailable_on_error(), self.engine.begin() as conn:
            done = await conn.execute(update(OUT).where(OUT.c.channel == channel, OUT.c.platform_id == platform_id)
                                      .values(**values))
        return bool(done.rowcount)

    async def outbox(self, *, status: str | None = None, bot_id: str | None = None, inbox_id: int | None = None,
                     session_id: uuid.UUID | None = None, limit: int = 100) -> list[OutboxItem]:
        """Outbound messages, oldest first (filtered by status, bot, inbound message, session)."""
        q = select(OUT)
        for column, value in (("status", status), ("bot_id", bot_id), ("inbox_id", inbox_id),
                              ("session_id", session_id)):
            if value is not None:
                q = q.where(OUT.c[column] == value)
        async with _unavailable_on_error(), self.engine.connect() as conn:
            rows = (await conn.execute(q.order_by(OUT.c.id.desc()).limit(limit))).all()
        return [_outbox(r) for r in reversed(rows)]

    async def counts(self) -> dict[str, int]:
        """How many outbound messages are in each status."""
        async with _unavailable_on_error(), self.engine.connect() as conn:
            rows = (await conn.execute(select(OUT.c.status, func.count()).group_by(OUT.c.status))).all()
        return {r[0]: int(r[1]) for r in rows}

    async def _any(self, t: Table, where: Any) -> bool:
        async with _unavailable_on_error(), self.engine.connect() as conn:
            return (await conn.execute(select(t.c.id).where(where).limit(1))).first() is not None

    async def _set(self, t: Table, item_id: int, **values: Any) -> None:
        async with _unavailable_on_error(), self.engine.begin() as conn:
            await conn.execute(update(t).where(t.c.id == item_id).values(**values))

    async def latest_payload(self, bot_id: str, channel: str, address: str) -> dict[str, Any] | None:
        """The payload of the address's newest inbound message on the channel, or None (it never
        wrote): what a channel that replies to a conversation it must name again (Teams: its
        serviceUrl and conversation reference, from the verified activity) kept of it."""
        async with _unavailable_on_error(), self.engine.connect() as conn:
            payload = (await conn.execute(select(IN.c.payload).where(
                IN.c.bot_id == bot_id, IN.c.channel == channel, IN.c.address == address)
                .order_by(IN.c.id.desc()).limit(1))).scalar()
        return cast("dict[str, Any] | None", payload)
