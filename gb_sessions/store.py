"""SqlStore: the sessions in PostgreSQL or SQLite, the source of truth.

The turn protocol (lock, limits, version check) is :class:`gb_sessions.base.SessionStore`'s;
this module implements its storage primitives in SQL. The per-session lock is a PostgreSQL
advisory lock or a file lock beside the SQLite database (locks.py). Caching (Valkey) is a
wrapper, :class:`gb_sessions.cache.CachedStore`.

What must not be exceeded by processes writing at once (a bot's max-sessions, a client's new
sessions a minute) is counted inside the write transaction that adds to it: PostgreSQL
serialises those transactions with an advisory transaction lock on the limit's key; SQLite
serialises every writer already, and the count follows the transaction's first write (before
it a SELECT would run outside the transaction).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, delete, func, insert, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gb_basic import jsontext

from .base import Lease, SessionCap, SessionRecord, SessionStore, sessions_full
from .channel_queue import write_turn
from .errors import ConcurrentUpdate, InboxDone, SessionExists
from .locks import FileLock, PostgresLock, advisory_key
from .ratelimit import WINDOW
from .schema import Bot, BotMemory, MessageRow, RateLimitHit, SessionRow, SessionState, TimerRow, UserMemory
from .session import Message, Session, Timer, utcnow
from .sql import aware as _aware
from .sql import unavailable_on_error as _unavailable_on_error

__all__ = ["SqlStore"]

log = logging.getLogger("gb.store")
DIVISION_BY_ZERO = "22012"  # SQLSTATE: the one-statement turn's deliberate failure (see _turn_statement)

S, M, ST, BM, T, H, UM = (cast(Table, t.__table__) for t in (SessionRow, MessageRow, SessionState, BotMemory,
                                                              TimerRow, RateLimitHit, UserMemory))
# PostgreSQL: a channel message's session by its sender, prebuilt (psycopg's parameter style)
_FIND = ("SELECT id FROM sessions WHERE bot_id = %(bot)s AND channel = %(channel)s AND address = %(address)s "
         "AND status = 'active' ORDER BY last_activity DESC LIMIT 1")


class _Over(Exception):
    """A rate-limited key is full: roll the hit back; `wait` seconds until a slot frees."""

    def __init__(self, wait: float) -> None:
        self.wait = wait


def _active(since: dt.datetime, bot_id: str | None, empty_since: dt.datetime | None) -> ColumnElement[bool]:
    """The active sessions of count_active (over sessions joined with session_state)."""
    clause = and_(S.c.last_activity > since, S.c.status == "active")
    if bot_id is not None:
        clause = and_(clause, S.c.bot_id == bot_id)
    if empty_since is not None:
        clause = and_(clause, or_(ST.c.message_count > 0, S.c.last_activity > empty_since))
    return clause


class SqlStore(SessionStore):
    """Sessions in SQL. `engine` is PostgreSQL (psycopg) or SQLite (aiosqlite).

    Args:
        engine: the async engine (migrated: see database.migrate).
        lock_dir: where SQLite's cross-process lock files live (default: beside the database).
    """

    def __init__(self, engine: AsyncEngine, *, lock_dir: Path | None = None) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        if self.sqlite:
            db = Path(str(engine.url.database or "gb.db"))
            self._lock: Callable[[str], contextlib.AbstractAsyncContextManager[None]] = FileLock(
                lock_dir or db.with_name(db.name + ".locks"))
        else:
            self._lock = PostgresLock(engine)
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._bots: set[str] = set()

    # --- primitives ------------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _acquire(self, session_id: uuid.UUID, rate_limit: int | None) -> AsyncIterator[Lease]:
        async with _unavailable_on_error():
            cm = self._lock(str(session_id))
            await cm.__aenter__()
        try:
            if rate_limit:
                await self._check_rate(session_id, rate_limit)
            yield Lease(session_id)
        except BaseException as exc:
            await cm.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        else:
            async with _unavailable_on_error():
                await cm.__aexit__(None, None, None)

    async def _ensure_bot(self, conn: AsyncConnection, bot_id: str) -> None:
        """Insert the bot's row if it is new (remembered once its transaction committed)."""
        if bot_id in self._bots:
            return
        bots = cast(Table, Bot.__table__)
        ins = (pg_insert(bots) if not self.sqlite else sqlite_insert(bots)).values(
            id=bot_id, created_at=utcnow()).on_conflict_do_nothing()
        await conn.execute(ins)
        conn.sync_connection.info.setdefault("gb_new_bots", set()).add(bot_id)  # type: ignore[union-attr]

    async def _serialise(self, conn: AsyncConnection, key: str) -> None:
        """PostgreSQL: the other transactions serialised on `key` wait until this one ends."""
        if not self.sqlite:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_key(key)})

    async def _insert(self, session: Session, cap: SessionCap | None) -> None:
        try:
            await self._insert_new(session, cap)
        except IntegrityError as exc:
            if await self._scalar(select(S.c.id).where(S.c.id == session.id)) is None:
                raise
            raise SessionExists(f"session {session.id} exists already") from exc

    async def _insert_new(self, session: Session, cap: SessionCap | None) -> None:
        async with _unavailable_on_error(), self.engine.begin() as conn:
            if cap is not None:
                await self._serialise(conn, f"sessions-of:{session.bot_id}")
            await self._ensure_bot(conn, session.bot_id)
            new_bots = conn.sync_connection.info.pop("gb_new_bots", set())  # type: ignore[union-attr]
            await conn.execute(insert(S).values(
                id=session.id, user_id=session.user_id, bot_id=session.bot_id, channel=session.channel,
                address=session.address, token_hash=session.token_hash, created_at=session.created_at,
                last_activity=session.last_activity, expires_at=session.expires_at, status=session.status))
            await conn.execute(insert(ST).values(
                session_id=session.id, variables=session.variables, context=session.context,
                dialog=session.dialog, version=0, message_count=session.message_count))
            await self._insert_messages(conn, session)
            await self._write_memory(conn, session)
            await self._write_user_memory(conn, session)
            await self._write_timers(conn, session)
            await write_turn(conn, session)
            if cap is not None:  # after the inserts: SQLite holds its write lock from the first one
                active = int((await conn.execute(
                    select(func.count()).select_from(S.join(ST, ST.c.session_id == S.c.id))
                    .where(_active(cap.idle_since, session.bot_id, cap.empty_since), S.c.id != session.id)
                )).scalar_one())
                if active >= cap.limit:
                    raise sessions_full(session.bot_id, active, cap.limit)  # rolls the insert back
        self._bots |= new_bots  # committed: other requests may skip the insert now

    async def _read(self, session_id: uuid.UUID, *, history_limit: int, with_history: bool, fresh: bool,
                    lease: Lease | None) -> Session | None:
        async with _unavailable_on_error(), self.engine.connect() as conn:
            row = (await conn.execute(
                select(S, ST.c.variables, ST.c.context, ST.c.dialog, ST.c.version, ST.c.message_count)
                .join(ST, ST.c.session_id == S.c.id).where(S.c.id == session_id))).mappings().first()
            if row is None:
                return None
            msgs = (await conn.execute(
                select(M.c.id, M.c.role, M.c.content, M.c.timestamp, M.c.channel, M.c.token_count)
                .where(M.c.session_id == session_id).order_by(M.c.id.desc()).limit(history_limit))).all() \
                if with_history else None
        return Session(
            id=row["id"], bot_id=row["bot_id"], channel=row["channel"], token_hash=row["token_hash"],
            created_at=_aware(row["created_at"]), last_activity=_aware(row["last_activity"]),  # type: ignore[arg-type]
            user_id=row["user_id"], address=row["address"], expires_at=_aware(row["expires_at"]),
            status=row["status"], variables=row["variables"] or {}, context=row["context"] or {},
            dialog=row["dialog"], version=row["version"], message_count=row["message_count"],
            history=[_message(m) for m in reversed(msgs)] if msgs is not None else None,
            history_limit=history_limit)

    async def _write(self, session: Session) -> None:
        if not self.sqlite and not session.memory_writes and not session.user_memory_writes \
                and not session.new_timers and not session.done_timers:
            await self._write_one_statement(session)
            return
        async with _unavailable_on_error(), self.engine.begin() as conn:
            await self._insert_messages(conn, session)
            result = await conn.execute(
                update(ST).where(ST.c.session_id == session.id, ST.c.version == session.version)
                .values(variables=session.variables, context=session.context, dialog=session.dialog,
                        version=session.version + 1, message_count=session.message_count))
            if result.rowcount != 1:
                raise ConcurrentUpdate(f"session {session.id} changed since it was loaded")
            await conn.execute(update(S).where(S.c.id == session.id).values(
                last_activity=session.last_activity, user_id=session.user_id, token_hash=session.token_hash,
                expires_at=session.expires_at, status=session.status, channel=session.channel,
                address=session.address))
            await self._write_memory(conn, session)
            await self._write_user_memory(conn, session)
            await self._write_timers(conn, session)
            await write_turn(conn, session)

    async def _write_one_statement(self, session: Session) -> None:
        """PostgreSQL: the whole turn as ONE statement (atomic on its own, one round trip).

        The state update checks the version; the other parts read its RETURNING, so a stale
        copy changes nothing at all. A channel turn's inbound messages are marked done by a
        part the state update depends on (all of them still "new", or the state update, and so
        everything, changes nothing: InboxDone); should the inbox part have marked some while
        the state update changed nothing (a stale version, or only some of several still new),
        the statement fails on purpose and rolls back whole (see _turn_statement). The new
        messages' and outbox rows' ids come back with it."""
        inbox = sorted(set(session.inbox_done))
        now = utcnow()
        params: dict[str, Any] = {
            "id": session.id, "v": session.version, "variables": jsontext.dumps(session.variables),
            "context": jsontext.dumps(session.context), "dialog": jsontext.dumps(session.dialog),
            "count": session.message_count, "last": session.last_activity, "user": session.user_id,
            "token": session.token_hash, "expires": session.expires_at, "status": session.status, "now": now,
            "channel": session.channel, "address": session.address}
        for i, m in enumerate(session.pending):
            params.update({f"r{i}": m.role, f"c{i}": m.content, f"t{i}": m.timestamp, f"ch{i}": m.channel,
                           f"k{i}": m.token_count})
        for i, item_id in enumerate(inbox):
            params[f"i{i}"] = item_id
        for i, o in enumerate(session.outbox):
            params.update({f"oi{i}": o.inbox_id, f"ob{i}": o.bot_id, f"oc{i}": o.channel, f"oa{i}": o.address,
                           f"op{i}": jsontext.dumps(o.payload), f"os{i}": "inline" if o.inline else "pending"})
        sql = _turn_statement(len(session.pending), len(inbox), len(session.outbox))
        async with _unavailable_on_error(), self._autocommit.connect() as conn:
            try:
                row: Any = (await conn.exec_driver_sql(sql, params)).one()
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) != DIVISION_BY_ZERO:
                    raise
                stored = (await conn.execute(select(ST.c.version).where(ST.c.session_id == session.id))).scalar()
                if stored != session.version:
                    raise ConcurrentUpdate(f"session {session.id} changed since it was loaded") from None
                raise InboxDone(f"inbound message {inbox} was handled already") from None
        changed, new_ids, outbox_ids = row[:3]  # (a 4th column: the undo guard, 1)
        if changed != 1:
            if inbox:  # the inbox part marked none: all of them were handled already
                raise InboxDone(f"inbound message {inbox} was handled already")
            raise ConcurrentUpdate(f"session {session.id} changed since it was loaded")
        for m, row_id in zip(session.pending, new_ids or []):
            m.id = row_id  # ids come from one sequence in insertion order (ORDER BY v.n)
        for o, row_id in zip(session.outbox, outbox_ids or []):
            o.id = row_id

    async def _insert_messages(self, conn: AsyncConnection, session: Session) -> None:
        if not session.pending:
            return
        rows = [{"session_id": session.id, "role": m.role, "content": m.content, "timestamp": m.timestamp,
                 "channel": m.channel, "token_count": m.token_count} for m in session.pending]
        result = await conn.execute(insert(M).returning(M.c.id, sort_by_parameter_order=True), rows)
        for m, row_id in zip(session.pending, result.scalars().all()):
            m.id = row_id

    async def _write_memory(self, conn: AsyncConnection, session: Session) -> None:
        if not session.memory_writes:
            return
        await self._ensure_bot(conn, session.bot_id)
        ins = pg_insert(BM) if not self.sqlite else sqlite_insert(BM)
        for key, value in session.memory_writes.items():
            stmt = ins.values(bot_id=session.bot_id, key=key, value=value)
            await conn.execute(stmt.on_conflict_do_update(index_elements=["bot_id", "key"],
                                                          set_={"value": stmt.excluded.value}))

    async def _write_user_memory(self, conn: AsyncConnection, session: Session) -> None:
        """The turn's user-memory entries, in order (a key written twice keeps the last)."""
        if not session.user_memory_writes:
            return
        await self._ensure_bot(conn, session.bot_id)
        ins = pg_insert(UM) if not self.sqlite else sqlite_insert(UM)
        now = utcnow()
        for w in session.user_memory_writes:
            stmt = ins.values(bot_id=session.bot_id, owner=w.owner, key=w.key, value=w.value,
                              expires_at=w.expires_at, updated_at=now)
            await conn.execute(stmt.on_conflict_do_update(
                index_elements=["bot_id", "owner", "key"],
                set_={"value": stmt.excluded.value, "expires_at": stmt.excluded.expires_at,
                      "updated_at": stmt.excluded.updated_at}))

    async def _write_timers(self, conn: AsyncConnection, session: Session) -> None:
        """The turn's new timers and the deletion of those it fired, in its transaction."""
        if session.new_timers:
            now = utcnow()
            await conn.execute(insert(T), [{"id": t.id, "session_id": t.session_id, "bot_id": t.bot_id,
                                            "kind": t.kind, "due_at": t.due_at, "created_at": now}
                                           for t in session.new_timers])
        if session.done_timers:
            await conn.execute(delete(T).where(T.c.id.in_(session.done_timers)))

    async def _user_messages_since(self, session_id: uuid.UUID, since: dt.datetime, limit: int
                                   ) -> list[dt.datetime]:
        q = (select(M.c.timestamp).where(M.c.session_id == session_id, M.c.role == "user", M.c.timestamp > since)
             .order_by(M.c.id.desc()).limit(limit))
        async with _unavailable_on_error(), self.engine.connect() as conn:
            return [_aware(r.timestamp) for r in (await conn.execute(q)).all()]  # type: ignore[misc]

    async def _hit(self, key: str, limit: int) -> float:
        now = time.time()
        async with _unavailable_on_error(), self.engine.connect() as conn:  # a flood's refusals: one read each
            count, oldest = (await conn.execute(
                select(func.count(), func.min(H.c.at)).where(H.c.key == key, H.c.at > now - WINDOW))).one()
        if count >= limit:  # hits only leave the window as time passes: full now is full
            return max(float(oldest) + WINDOW - now, 0.001)
        try:
            async with _unavailable_on_error(), self.engine.begin() as conn:
                await self._serialise(conn, f"hits:{key}")
                await conn.execute(delete(H).where(H.c.key == key, H.c.at <= now - WINDOW))  # the first write
                await conn.execute(insert(H).values(key=key, at=now))
                count, oldest = (await conn.execute(
                    select(func.count(), func.min(H.c.at)).where(H.c.key == key))).one()
                if count > limit:
                    raise _Over(float(oldest) + WINDOW - now)  # rolls this hit back
        except _Over as over:
            return max(over.wait, 0.001)
        return 0.0

    async def prune_hits(self, before: float) -> int:
        """Delete the rate-limit hits older than `before` (seconds since the epoch); how many."""
        async with _unavailable_on_error(), self.engine.begin() as conn:
            return int((await conn.execute(delete(H).where(H.c.at < before))).rowcount or 0)

    # --- lookups ----------------------------------------------------------------------------------------
    async def delete(self, session_id: uuid.UUID) -> None:
        async with _unavailable_on_error(), self.engine.begin() as conn:
            await conn.execute(delete(UM).where(UM.c.owner == f"session:{session_id}"))  # an anonymous one's
            await conn.execute(delete(T).where(T.c.session_id == session_id))
            await conn.execute(delete(M).where(M.c.session_id == session_id))
            await conn.execute(delete(ST).where(ST.c.session_id == session_id))
            await conn.execute(delete(S).where(S.c.id == session_id))

    async def find_token(self, token_hash: str) -> tuple[uuid.UUID, str] | None:
        async with _unavailable_on_error(), self.engine.connect() as conn:
            row = (await conn.execute(select(S.c.id, S.c.bot_id).where(S.c.token_hash == token_hash))).first()
        return (row.id, row.bot_id) if row is not None else None

    async def find(self, bot_id: str, channel: str, address: str) -> uuid.UUID | None:
        """PostgreSQL: one prebuilt statement in autocommit (every channel message asks this)."""
        if not self.sqlite:
            async with _unavailable_on_error(), self._autocommit.connect() as conn:
                found: uuid.UUID | None = (await conn.exec_driver_sql(
                    _FIND, {"bot": bot_id, "channel": channel, "address": address})).scalar()
            return found
        sid: uuid.UUID | None = await self._scalar(
            select(S.c.id).where(S.c.bot_id == bot_id, S.c.channel == channel, S.c.address == address,
                                 S.c.status == "active").order_by(S.c.last_activity.desc()).limit(1))
        return sid

    async def user_session(self, user_id: uuid.UUID, bot_id: str, *, exclude: uuid.UUID | None = None
                           ) -> uuid.UUID | None:
        q = select(S.c.id).where(S.c.user_id == user_id, S.c.bot_id == bot_id, S.c.status == "active")
        if exclude is not None:
            q = q.where(S.c.id != exclude)
        sid: uuid.UUID | None = await self._scalar(q.order_by(S.c.last_activity.desc()).limit(1))
        return sid

    async def history(self, session_id: uuid.UUID, limit: int | None = None, *, after: int | None = None
                      ) -> list[Message]:
        q = select(M.c.id, M.c.role, M.c.content, M.c.timestamp, M.c.channel, M.c.token_count).where(
            M.c.session_id == session_id)
        if after is not None:
            q = q.where(M.c.id > after)
        q = q.order_by(M.c.id.desc()).limit(limit) if limit else q.order_by(M.c.id)
        async with _unavailable_on_error(), self.engine.connect() as conn:
            rows = (await conn.execute(q)).all()
        msgs = [_message(r) for r in rows]
        return list(reversed(msgs)) if limit else msgs

    async def get_bot_memory(self, bot_id: str, key: str) -> Any:
        return await self._scalar(select(BM.c.value).where(BM.c.bot_id == bot_id, BM.c.key == key))

    async def get_user_memory(self, bot_id: str, owner: str, key: str, now: dt.datetime) -> Any:
        return await self._scalar(select(UM.c.value).where(
            UM.c.bot_id == bot_id, UM.c.owner == owner, UM.c.key == key,
            or_(UM.c.expires_at.is_(None), UM.c.expires_at > now)))

    async def adopt_user_memory(self, bot_id: str, from_owner: str, to_owner: str) -> int:
        """One transaction: the keys `to_owner` lacks move, the others (the user's own values win) go."""
        theirs = select(UM.c.key).where(UM.c.bot_id == bot_id, UM.c.owner == to_owner)
        async with _unavailable_on_error(), self.engine.begin() as conn:
            moved = await conn.execute(update(UM).where(UM.c.bot_id == bot_id, UM.c.owner == from_owner,
                                                        UM.c.key.not_in(theirs.scalar_subquery()))
                                       .values(owner=to_owner))
            await conn.execute(delete(UM).where(UM.c.bot_id == bot_id, UM.c.owner == from_owner))
        return int(moved.rowcount or 0)

    async def prune_user_memory(self, now: dt.datetime) -> int:
        """Delete the user-memory entries that expired before `now` (they read as NULL already); how many."""
        async with _unavailable_on_error(), self.engine.begin() as conn:
            return int((await conn.execute(delete(UM).where(UM.c.expires_at <= now))).rowcount or 0)

    async def count_active(self, since: dt.datetime, bot_id: str | None = None, *,
                           empty_since: dt.datetime | None = None) -> int:
        table = S.join(ST, ST.c.session_id == S.c.id) if empty_since is not None else S
        q = select(func.count()).select_from(table).where(_active(since, bot_id, empty_since))
        return int(await self._scalar(q) or 0)

    async def recent(self, bot_id: str | None = None, limit: int = 20) -> list[SessionRecord]:
        q = (select(S.c.id, S.c.bot_id, S.c.channel, S.c.address, S.c.status, S.c.user_id, S.c.created_at,
                    S.c.last_activity, ST.c.message_count).join(ST, ST.c.session_id == S.c.id)
             .order_by(S.c.last_activity.desc()).limit(limit))
        if bot_id is not None:
            q = q.where(S.c.bot_id == bot_id)
        async with _unavailable_on_error(), self.engine.connect() as conn:
            rows = (await conn.execute(q)).all()
        return [SessionRecord(r.id, r.bot_id, r.channel, r.address, r.status, r.user_id,
                              _aware(r.created_at), _aware(r.last_activity),  # type: ignore[arg-type]
                              r.message_count) for r in rows]

    async def expired(self, now: dt.datetime, limit: int = 1000) -> list[uuid.UUID]:
        async with _unavailable_on_error(), self.engine.connect() as conn:
            rows = (await conn.execute(select(S.c.id).where(S.c.user_id.is_(None), S.c.expires_at.is_not(None),
                                                            S.c.expires_at < now).limit(limit))).all()
        return [r.id for r in rows]

    async def ping(self) -> None:
        await self._scalar(select(literal(1)))

    # --- timers -------------------------------------------------------------------------------------------
    async def claim_timers(self, now: dt.datetime, owner: str, lease_seconds: float, limit: int = 20
                           ) -> list[Timer]:
        """One UPDATE claims the due timers that nobody holds: PostgreSQL skips the rows another
        process is claiming right now (FOR UPDATE SKIP LOCKED); SQLite runs one writer at a time,
        so the condition is checked and the claim written atomically. A read comes first: a
        poll that finds nothing due takes no write lock (SQLite has one for the whole file)."""
        free = or_(T.c.claimed_until.is_(None), T.c.claimed_until < now)
        if await self._scalar(select(T.c.id).where(T.c.due_at <= now, free).limit(1)) is None:
            return []
        due: Any = select(T.c.id).where(T.c.due_at <= now, free).order_by(T.c.due_at).limit(limit)
        if not self.sqlite:
            # computed once (a MATERIALIZED CTE): an IN (subquery) the planner runs again for each
            # row would lock other rows each time and claim more than `limit` (channel_queue's
            # _claim_statement has the story)
            due = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED").select()
        claim = (update(T).where(T.c.id.in_(due.scalar_subquery() if self.sqlite else due), free)
                 .values(claimed_by=owner, claimed_until=now + dt.timedelta(seconds=lease_seconds))
                 .returning(T.c.id, T.c.session_id, T.c.bot_id, T.c.kind, T.c.due_at))
        async with _unavailable_on_error(), self.engine.begin() as conn:
            rows = (await conn.execute(claim)).all()
        return sorted((_timer(r) for r in rows), key=lambda t: t.due_at)

    async def drop_timer(self, timer_id: uuid.UUID) -> None:
        async with _unavailable_on_error(), self.engine.begin() as conn:
            await conn.execute(delete(T).where(T.c.id == timer_id))

    async def timers(self, session_id: uuid.UUID) -> list[Timer]:
        q = (select(T.c.id, T.c.session_id, T.c.bot_id, T.c.kind, T.c.due_at).where(T.c.session_id == session_id)
             .order_by(T.c.due_at))
        async with _unavailable_on_error(), self.engine.connect() as conn:
            return [_timer(r) for r in (await conn.execute(q)).all()]

    async def _scalar(self, q: Any) -> Any:
        async with _unavailable_on_error(), self.engine.connect() as conn:
            return (await conn.execute(q)).scalar()


def _message(r: Any) -> Message:
    return Message(r.role, r.content, _aware(r.timestamp), r.channel, r.id,  # type: ignore[arg-type]
                   r.token_count)


def _timer(r: Any) -> Timer:
    return Timer(r.id, r.session_id, r.bot_id, r.kind, _aware(r.due_at))  # type: ignore[arg-type]


@functools.lru_cache(maxsize=256)
def _turn_statement(messages: int, inbox: int = 0, outbox: int = 0) -> str:
    """PostgreSQL's one-statement turn for `messages` new messages, `inbox` inbound messages
    marked done and `outbox` outbound ones inserted, in psycopg's parameter style: built once
    per shape and sent as it is (``exec_driver_sql``: no SQLAlchemy compilation on the hottest
    statement; psycopg prepares it on the server after a few runs).

    All or nothing: the inbox part (``ib``) runs first and the state update (``st``) requires
    it to have marked every one of the `inbox` rows; the rest reads ``st``'s RETURNING. The one
    case left, ``ib`` marked some and ``st`` changed nothing (the version was stale, or only some
    of several rows were still new), divides by zero in the final SELECT: the statement fails,
    so PostgreSQL undoes all of it."""
    rows = [f"(%(r{i})s, %(c{i})s, CAST(%(t{i})s AS timestamptz), %(ch{i})s, CAST(%(k{i})s AS integer), {i})"
            for i in range(messages)]
    insert_messages = (
        ", m AS (INSERT INTO messages (session_id, role, content, timestamp, channel, token_count) "
        "SELECT st.session_id, v.role, v.content, v.ts, v.ch, v.tk FROM st, (VALUES " + ", ".join(rows) +
        ") AS v(role, content, ts, ch, tk, n) ORDER BY v.n RETURNING id)") if rows else ""
    ids = "(SELECT array_agg(id ORDER BY id) FROM m)" if rows else "NULL"
    mark_inbox = (
        "WITH ib AS (UPDATE inbox SET status = 'done', done_at = %(now)s, session_id = %(id)s, claimed_by = NULL, "
        "claimed_until = NULL, error = NULL WHERE id IN (" + ", ".join(f"%(i{i})s" for i in range(inbox)) +
        ") AND status = 'new' RETURNING id), ") if inbox else "WITH "
    needs_inbox = f" AND (SELECT count(*) FROM ib) = {inbox}" if inbox else ""
    out = [f"(CAST(%(oi{i})s AS bigint), %(ob{i})s, %(oc{i})s, %(oa{i})s, CAST(%(op{i})s AS jsonb), %(os{i})s, {i})"
           for i in range(outbox)]
    insert_outbox = (
        ", o AS (INSERT INTO outbox (session_id, inbox_id, bot_id, channel, address, payload, status, attempts, "
        "next_attempt_at, created_at) SELECT st.session_id, v.inbox_id, v.bot_id, v.channel, v.address, v.payload, "
        "v.status, 0, %(now)s, %(now)s FROM st, (VALUES " + ", ".join(out) +
        ") AS v(inbox_id, bot_id, channel, address, payload, status, n) ORDER BY v.n RETURNING id)") if out else ""
    outbox_ids = "(SELECT array_agg(id ORDER BY id) FROM o)" if out else "NULL"
    undo = (", 1 / CASE WHEN (SELECT count(*) FROM ib) > 0 AND (SELECT count(*) FROM st) = 0 THEN 0 ELSE 1 END"
            if inbox else "")
    return (
        mark_inbox +
        "st AS (UPDATE session_state SET variables = CAST(%(variables)s AS jsonb), "
        "context = CAST(%(context)s AS jsonb), dialog = CAST(%(dialog)s AS jsonb), version = version + 1, "
        "message_count = %(count)s WHERE session_id = %(id)s AND version = %(v)s" + needs_inbox +
        " RETURNING session_id), "
        "s AS (UPDATE sessions SET last_activity = %(last)s, user_id = %(user)s, token_hash = %(token)s, "
        "expires_at = %(expires)s, status = %(status)s, channel = %(channel)s, address = %(address)s "
        "WHERE id IN (SELECT session_id FROM st))"
        + insert_messages + insert_outbox + f" SELECT (SELECT count(*) FROM st), {ids}, {outbox_ids}{undo}")
