"""The session store: the SessionStore protocol and SqlStore over PostgreSQL or SQLite.

The SQL database is the source of truth. One turn of a conversation is::

    async with store.lock(session_id):        # one turn per session at a time, across processes
        session = await store.load(session_id)
        ...                                    # run the dialog; session.add(...) messages
        await store.save(session)              # ONE transaction: messages, state, last_activity

``save`` checks the version it loaded: a stale copy raises ConcurrentUpdate instead of
losing an update. Caching (Valkey) is a wrapper, :class:`gb_sessions.cache.CachedStore`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol, cast

from sqlalchemy import Table, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .errors import ConcurrentUpdate, StoreUnavailable, VariablesTooLarge
from .locks import FileLock, PostgresLock
from .ratelimit import WINDOW, limited
from .schema import Bot, BotMemory, MessageRow, SessionRow, SessionState
from .session import Message, Session, utcnow

__all__ = ["SessionStore", "SqlStore", "variables_size"]

log = logging.getLogger("gb.store")

S, M, ST, BM = (cast(Table, t.__table__) for t in (SessionRow, MessageRow, SessionState, BotMemory))


class SessionStore(Protocol):
    """What the runtime needs from a store; SqlStore implements it, CachedStore wraps it."""

    async def create(self, session: Session) -> None: ...
    async def load(self, session_id: uuid.UUID, *, history_limit: int = 50, fresh: bool = False,
                   with_history: bool = True) -> Session | None: ...
    async def save(self, session: Session, *, max_variables_kb: int | None = None) -> None: ...
    async def delete(self, session_id: uuid.UUID) -> None: ...
    def lock(self, session_id: uuid.UUID, *, rate_limit: int | None = None
             ) -> contextlib.AbstractAsyncContextManager[None]: ...
    async def session_id_for_token(self, token_hash: str) -> uuid.UUID | None: ...
    async def find(self, bot_id: str, channel: str, address: str) -> uuid.UUID | None: ...
    async def history(self, session_id: uuid.UUID, limit: int | None = None) -> list[Message]: ...
    async def get_bot_memory(self, bot_id: str, key: str) -> Any: ...
    async def count_active(self, since: dt.datetime, bot_id: str | None = None) -> int: ...
    async def count_user_messages(self, session_id: uuid.UUID, since: dt.datetime) -> int: ...


def variables_size(variables: dict[str, Any]) -> int:
    """Bytes the variables take as JSON (what max-variables-kb limits)."""
    return len(json.dumps(variables, ensure_ascii=False, separators=(",", ":")).encode())


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives naive datetimes back: they are UTC."""
    if t is not None and t.tzinfo is None:
        return t.replace(tzinfo=dt.UTC)
    return t


@contextlib.asynccontextmanager
async def _unavailable_on_error() -> AsyncIterator[None]:
    """Translate 'cannot reach the database' into StoreUnavailable (503, retry)."""
    try:
        yield
    except (OperationalError, DBAPIError, OSError) as exc:
        if isinstance(exc, DBAPIError) and not exc.connection_invalidated and not _is_connection_error(exc):
            raise
        log.warning("database unavailable: %s", exc)
        raise StoreUnavailable("the database is unavailable, try again shortly", retry_after=2) from exc


def _is_connection_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("connection", "could not connect", "terminating", "server closed",
                                   "the database system is", "database is locked", "admin shutdown"))


class SqlStore:
    """Sessions in SQL. `engine` is PostgreSQL (psycopg) or SQLite (aiosqlite).

    Args:
        engine: the async engine (migrated: see database.migrate).
        max_variables_kb: default limit when a session has none of its own.
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

    # --- locking ----------------------------------------------------------------------------
    def lock(self, session_id: uuid.UUID, *, rate_limit: int | None = None
             ) -> contextlib.AbstractAsyncContextManager[None]:
        """Hold the session for one turn (all processes); first refuse it if the session sent
        `rate_limit` messages in the last minute (RateLimited, 429)."""
        return self._guarded_lock(session_id, rate_limit)

    @contextlib.asynccontextmanager
    async def _guarded_lock(self, session_id: uuid.UUID, rate_limit: int | None) -> AsyncIterator[None]:
        async with _unavailable_on_error():
            cm = self._lock(str(session_id))
            await cm.__aenter__()
        try:
            if rate_limit:
                await self._check_rate(session_id, rate_limit)
            yield
        except BaseException as exc:
            await cm.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        else:
            async with _unavailable_on_error():
                await cm.__aexit__(None, None, None)

    # --- create / load ----------------------------------------------------------------------------
    async def ensure_bot(self, conn: AsyncConnection, bot_id: str) -> None:
        """Insert the bot's row if it is new (remembered once its transaction committed)."""
        if bot_id in self._bots:
            return
        bots = cast(Table, Bot.__table__)
        ins = (pg_insert(bots) if not self.sqlite else sqlite_insert(bots)).values(
            id=bot_id, created_at=utcnow()).on_conflict_do_nothing()
        await conn.execute(ins)
        conn.sync_connection.info.setdefault("gb_new_bots", set()).add(bot_id)  # type: ignore[union-attr]

    async def create(self, session: Session) -> None:
        """Insert a new session (and its bot, first time) with empty state."""
        async with _unavailable_on_error(), self.engine.begin() as conn:
            await self.ensure_bot(conn, session.bot_id)
            new_bots = conn.sync_connection.info.pop("gb_new_bots", set())  # type: ignore[union-attr]
            await conn.execute(insert(S).values(
                id=session.id, user_id=session.user_id, bot_id=session.bot_id, channel=session.channel,
                address=session.address, token_hash=session.token_hash, created_at=session.created_at,
                last_activity=session.last_activity, expires_at=session.expires_at, status=session.status))
            await conn.execute(insert(ST).values(
                session_id=session.id, variables=session.variables, context=session.context,
                dialog=session.dialog, version=0, message_count=0))
            await self._insert_messages(conn, session)
            await self._write_memory(conn, session)
        self._bots |= new_bots  # committed: other requests may skip the insert now
        session.version = 0
        session.pending.clear()
        session.memory_writes.clear()

    async def load(self, session_id: uuid.UUID, *, history_limit: int = 50, fresh: bool = False,
                   with_history: bool = True) -> Session | None:
        """The session with its state (and its last `history_limit` messages), or None; always fresh."""
        async with _unavailable_on_error(), self.engine.connect() as conn:
            row = (await conn.execute(
                select(S, ST.c.variables, ST.c.context, ST.c.dialog, ST.c.version, ST.c.message_count)
                .join(ST, ST.c.session_id == S.c.id).where(S.c.id == session_id))).mappings().first()
            if row is None:
                return None
            msgs = (await conn.execute(
                select(M.c.id, M.c.role, M.c.content, M.c.timestamp, M.c.channel)
                .where(M.c.session_id == session_id).order_by(M.c.id.desc()).limit(history_limit))).all() \
                if with_history else None
        session = Session(
            id=row["id"], bot_id=row["bot_id"], channel=row["channel"], token_hash=row["token_hash"],
            created_at=_aware(row["created_at"]), last_activity=_aware(row["last_activity"]),  # type: ignore[arg-type]
            user_id=row["user_id"], address=row["address"], expires_at=_aware(row["expires_at"]),
            status=row["status"], variables=row["variables"] or {}, context=row["context"] or {},
            dialog=row["dialog"], version=row["version"], message_count=row["message_count"],
            history=[Message(m.role, m.content, _aware(m.timestamp), m.channel, m.id)  # type: ignore[arg-type]
                     for m in reversed(msgs)] if msgs is not None else None,
            history_limit=history_limit)
        return session

    # --- save ----------------------------------------------------------------------------------------
    async def save(self, session: Session, *, max_variables_kb: int | None = None) -> None:
        """Write this turn in one transaction; the session's version must be the stored one.

        Raises:
            VariablesTooLarge: the variables exceed `max_variables_kb` (nothing is written).
            ConcurrentUpdate: the stored session changed since it was loaded.
            StoreUnavailable: the database cannot be reached.
        """
        if max_variables_kb is not None:
            size = variables_size(session.variables)
            if size > max_variables_kb * 1024:
                raise VariablesTooLarge(f"the session's variables take {size:,} bytes, more than the "
                                        f"limit of {max_variables_kb:,} KB; nothing of this message was saved")
        if not self.sqlite and not session.memory_writes:
            await self._save_one_statement(session)
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
                expires_at=session.expires_at, status=session.status))
            await self._write_memory(conn, session)
        session.version += 1
        session.pending.clear()
        session.memory_writes.clear()

    async def _save_one_statement(self, session: Session) -> None:
        """PostgreSQL: the whole turn as ONE statement (atomic on its own, one round trip).

        The state update checks the version; the other two parts read its RETURNING, so a
        stale copy changes nothing at all."""
        params: dict[str, Any] = {
            "id": session.id, "v": session.version, "variables": json.dumps(session.variables),
            "context": json.dumps(session.context), "dialog": json.dumps(session.dialog),
            "count": session.message_count, "last": session.last_activity, "user": session.user_id,
            "token": session.token_hash, "expires": session.expires_at, "status": session.status}
        rows = []
        for i, m in enumerate(session.pending):
            rows.append(f"(:r{i}, :c{i}, CAST(:t{i} AS timestamptz), :ch{i}, {i})")
            params.update({f"r{i}": m.role, f"c{i}": m.content, f"t{i}": m.timestamp, f"ch{i}": m.channel})
        insert_messages = (
            ", m AS (INSERT INTO messages (session_id, role, content, timestamp, channel) "
            "SELECT st.session_id, v.role, v.content, v.ts, v.ch FROM st, (VALUES " + ", ".join(rows) +
            ") AS v(role, content, ts, ch, n) ORDER BY v.n)") if rows else ""
        sql = text(
            "WITH st AS (UPDATE session_state SET variables = CAST(:variables AS jsonb), "
            "context = CAST(:context AS jsonb), dialog = CAST(:dialog AS jsonb), version = version + 1, "
            "message_count = :count WHERE session_id = :id AND version = :v RETURNING session_id), "
            "s AS (UPDATE sessions SET last_activity = :last, user_id = :user, token_hash = :token, "
            "expires_at = :expires, status = :status WHERE id IN (SELECT session_id FROM st))"
            + insert_messages + " SELECT count(*) FROM st")
        async with _unavailable_on_error(), self._autocommit.connect() as conn:
            changed = (await conn.execute(sql, params)).scalar()
        if changed != 1:
            raise ConcurrentUpdate(f"session {session.id} changed since it was loaded")
        session.version += 1
        session.pending.clear()

    async def _insert_messages(self, conn: AsyncConnection, session: Session) -> None:
        if session.pending:
            await conn.execute(insert(M), [
                {"session_id": session.id, "role": m.role, "content": m.content, "timestamp": m.timestamp,
                 "channel": m.channel} for m in session.pending])

    async def _write_memory(self, conn: AsyncConnection, session: Session) -> None:
        if not session.memory_writes:
            return
        await self.ensure_bot(conn, session.bot_id)
        ins = pg_insert(BM) if not self.sqlite else sqlite_insert(BM)
        for key, value in session.memory_writes.items():
            stmt = ins.values(bot_id=session.bot_id, key=key, value=value)
            await conn.execute(stmt.on_conflict_do_update(index_elements=["bot_id", "key"],
                                                          set_={"value": stmt.excluded.value}))

    # --- lookups ----------------------------------------------------------------------------------------
    async def delete(self, session_id: uuid.UUID) -> None:
        """Delete a session with its messages and state."""
        async with _unavailable_on_error(), self.engine.begin() as conn:
            await conn.execute(delete(M).where(M.c.session_id == session_id))
            await conn.execute(delete(ST).where(ST.c.session_id == session_id))
            await conn.execute(delete(S).where(S.c.id == session_id))

    async def session_id_for_token(self, token_hash: str) -> uuid.UUID | None:
        """The session a token hash belongs to."""
        async with _unavailable_on_error(), self.engine.connect() as conn:
            sid: uuid.UUID | None = (await conn.execute(
                select(S.c.id).where(S.c.token_hash == token_hash))).scalar()
            return sid

    async def find(self, bot_id: str, channel: str, address: str) -> uuid.UUID | None:
        """The newest open session of a channel address (a phone, an email) with a bot."""
        async with _unavailable_on_error(), self.engine.connect() as conn:
            sid: uuid.UUID | None = (await conn.execute(
                select(S.c.id).where(S.c.bot_id == bot_id, S.c.channel == channel, S.c.address == address,
                                     S.c.status == "active")
                .order_by(S.c.last_activity.desc()).limit(1))).scalar()
            return sid

    async def history(self, session_id: uuid.UUID, limit: int | None = None) -> list[Message]:
        """Every message of a session (or the last `limit`), oldest first."""
        q = select(M.c.id, M.c.role, M.c.content, M.c.timestamp, M.c.channel).where(M.c.session_id == session_id)
        q = q.order_by(M.c.id.desc()).limit(limit) if limit else q.order_by(M.c.id)
        async with _unavailable_on_error(), self.engine.connect() as conn:
            rows = (await conn.execute(q)).all()
        msgs = [Message(r.role, r.content, _aware(r.timestamp), r.channel, r.id) for r in rows]  # type: ignore[arg-type]
        return list(reversed(msgs)) if limit else msgs

    async def get_bot_memory(self, bot_id: str, key: str) -> Any:
        """A bot-memory value (shared by the bot's sessions), or None."""
        async with _unavailable_on_error(), self.engine.connect() as conn:
            return (await conn.execute(select(BM.c.value).where(BM.c.bot_id == bot_id, BM.c.key == key))).scalar()

    async def count_active(self, since: dt.datetime, bot_id: str | None = None) -> int:
        """Sessions with a message after `since` (the others are idle)."""
        q = select(func.count()).select_from(S).where(S.c.last_activity > since, S.c.status == "active")
        if bot_id is not None:
            q = q.where(S.c.bot_id == bot_id)
        async with _unavailable_on_error(), self.engine.connect() as conn:
            return int((await conn.execute(q)).scalar() or 0)

    async def _check_rate(self, session_id: uuid.UUID, limit: int) -> None:
        since = utcnow() - dt.timedelta(seconds=WINDOW)
        q = (select(M.c.timestamp).where(M.c.session_id == session_id, M.c.role == "user", M.c.timestamp > since)
             .order_by(M.c.id.desc()).limit(limit))
        async with _unavailable_on_error(), self.engine.connect() as conn:
            stamps = [_aware(r.timestamp) for r in (await conn.execute(q)).all()]
        if len(stamps) >= limit:
            oldest = min(t for t in stamps if t is not None)
            raise limited(limit, WINDOW - (utcnow() - oldest).total_seconds())

    async def count_user_messages(self, session_id: uuid.UUID, since: dt.datetime) -> int:
        """User messages of a session after `since` (rate limiting without Valkey)."""
        async with _unavailable_on_error(), self.engine.connect() as conn:
            return int((await conn.execute(
                select(func.count()).select_from(M).where(M.c.session_id == session_id, M.c.role == "user",
                                                          M.c.timestamp > since))).scalar() or 0)

    async def recent(self, bot_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The bot's most recent sessions: id, channel, address, status, last_activity."""
        q = (select(S.c.id, S.c.channel, S.c.address, S.c.status, S.c.last_activity).where(S.c.bot_id == bot_id)
             .order_by(S.c.last_activity.desc()).limit(limit))
        async with _unavailable_on_error(), self.engine.connect() as conn:
            return [dict(r._mapping) for r in (await conn.execute(q)).all()]

    async def user_session(self, user_id: uuid.UUID, bot_id: str, *, exclude: uuid.UUID | None = None
                           ) -> uuid.UUID | None:
        """A user's newest active session with a bot (where ON LOGIN merges into)."""
        q = select(S.c.id).where(S.c.user_id == user_id, S.c.bot_id == bot_id, S.c.status == "active")
        if exclude is not None:
            q = q.where(S.c.id != exclude)
        async with _unavailable_on_error(), self.engine.connect() as conn:
            sid: uuid.UUID | None = (await conn.execute(q.order_by(S.c.last_activity.desc()).limit(1))).scalar()
            return sid

    async def expired(self, now: dt.datetime, limit: int = 1000) -> list[uuid.UUID]:
        """Anonymous sessions whose expiry passed."""
        async with _unavailable_on_error(), self.engine.connect() as conn:
            rows = (await conn.execute(select(S.c.id).where(S.c.user_id.is_(None), S.c.expires_at.is_not(None),
                                                            S.c.expires_at < now).limit(limit))).all()
        return [r.id for r in rows]
