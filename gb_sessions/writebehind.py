"""A write-behind wrapper for the notebook's store: the cell's reply does not wait for SQL.

A kernel talks to one session at a time and runs one cell at a time, so it keeps the session
it last saved in memory ("hot") and writes each turn to SQL in the background, one save after
the other, in order. The reply of a ``TALK "x"`` cell then costs what a ``print("x")`` costs.

What this trades: a kernel that dies (kill -9) within about 50 ms of a cell (WRITE_DELAY,
plus the save itself) loses that cell's changes; a shutdown or restart flushes first. A save
that finds the session changed by another process (an attached web chat) is not retried: the
next cell says so and continues from the stored state. The background save does not take the
session's lock (a read inside the next cell's turn may wait for it): a server turn on the same
session that loaded before the save and commits after it meets ConcurrentUpdate and runs again
on the new state. The server never uses this wrapper: there a reply leaves only after its commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import Any

from .base import Lease, SessionCap, SessionRecord, SessionStore
from .errors import ConcurrentUpdate, SessionError
from .session import Message, Session, Timer

__all__ = ["WriteBehindStore", "LostUpdate", "WRITE_DELAY"]

log = logging.getLogger("gb.store")
FAILED = -1  # the `latest` version of a session whose background save failed
WRITE_DELAY = 0.05  # seconds between a cell's end and the start of its save (cells in between join it)


class LostUpdate(ConcurrentUpdate):
    """The last cell's changes could not be saved: the session changed elsewhere."""

    status, code = 409, "lost_update"


def _snapshot(session: Session) -> Session:
    """A copy the writer can save while the kernel goes on changing the session (JSON-only
    values: a JSON round trip copies them faster than deepcopy)."""
    return dataclasses.replace(
        session, variables=json.loads(json.dumps(session.variables)), context=json.loads(json.dumps(session.context)),
        dialog=json.loads(json.dumps(session.dialog)), pending=list(session.pending),
        memory_writes=json.loads(json.dumps(session.memory_writes)), history=None, lease=None,
        user_memory_writes=[dataclasses.replace(w, value=json.loads(json.dumps(w.value)))
                            for w in session.user_memory_writes],
        new_timers=list(session.new_timers), done_timers=list(session.done_timers),
        outbox=[dataclasses.replace(o, payload=json.loads(json.dumps(o.payload))) for o in session.outbox],
        inbox_done=list(session.inbox_done))


class WriteBehindStore(SessionStore):
    """Wraps a SessionStore: reads the hot copy, saves in the background.

    One writer task writes, per session, the newest state together with every message not
    written yet: a burst of cells becomes one save, so no backlog grows however fast cells
    come, and the cell never waits for SQL. The hot copy is lent to one turn (a read takes
    it) and comes back with that turn's save: a turn that fails to save leaves nothing hot,
    and the next read gets the stored session."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self.hot: dict[uuid.UUID, Session] = {}
        self.base: dict[uuid.UUID, int] = {}  # the version in SQL, as far as this process knows
        self.latest: dict[uuid.UUID, int] = {}  # the version after the last save queued here
        self.next: dict[uuid.UUID, Session] = {}  # what the writer writes next, per session
        self.writer: asyncio.Task[None] | None = None
        self.scheduled: asyncio.TimerHandle | None = None
        self.failure: Exception | None = None
        self.warnings: list[str] = []  # for the kernel to show: a cell whose changes were lost
        self.landed: dict[uuid.UUID, asyncio.Future[bool]] = {}  # the latest queued or running save's outcome

    def _start(self) -> None:
        self.scheduled = None
        if self.next and (self.writer is None or self.writer.done()):
            self.writer = asyncio.ensure_future(self._write_all())

    async def flush(self) -> None:
        """Wait until every background save is in SQL; raise LostUpdate for a failed one."""
        if self.scheduled is not None:
            self.scheduled.cancel()
            self._start()
        while self.writer is not None and not self.writer.done():
            await asyncio.shield(self.writer)
        if self.failure is not None:
            failure, self.failure = self.failure, None
            raise LostUpdate(f"the last cell's changes were not saved: {failure}") from failure

    def landing(self, session_id: uuid.UUID) -> Awaitable[bool] | None:
        outcome = self.landed.get(session_id)
        return asyncio.shield(outcome) if outcome is not None else None

    def forget(self, session_id: uuid.UUID) -> None:
        """Drop the hot copy of a session another process changed: the next read gets the stored one."""
        self.hot.pop(session_id, None)

    async def _flushed(self) -> None:
        """Flush before a read of the inner store; a lost update becomes a warning."""
        try:
            await self.flush()
        except LostUpdate as exc:
            self.warnings.append(exc.message + "; continuing from the stored session")

    # --- primitives ------------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _acquire(self, session_id: uuid.UUID, rate_limit: int | None) -> AsyncIterator[Lease]:
        """The inner store's lock; the rate limit counted here from the stored messages, after the
        background saves (``_user_messages_since`` flushes them first)."""
        async with self.inner._acquire(session_id, None) as lease:
            if rate_limit:
                await self._check_rate(session_id, rate_limit)
            yield lease

    async def _insert(self, session: Session, cap: SessionCap | None) -> None:
        await self._flushed()
        await self.inner._insert(session, cap)
        self.base[session.id] = self.latest[session.id] = 0

    async def _read(self, session_id: uuid.UUID, *, history_limit: int, with_history: bool, fresh: bool,
                    lease: Lease | None) -> Session | None:
        """Under a lock, the hot copy itself is lent to the turn (its save brings it back); a plain
        read gets a copy of it; else the stored session, once the background saves are in."""
        hot = self.hot.get(session_id)
        if hot is not None and not fresh and not with_history and self.failure is None:
            if lease is None:
                return dataclasses.replace(_snapshot(hot), pending=[], memory_writes={}, user_memory_writes=[],
                                           new_timers=[], done_timers=[], outbox=[], inbox_done=[],
                                           history_limit=history_limit)
            del self.hot[session_id]
            hot.history_limit = history_limit
            return hot
        await self._flushed()
        loaded = await self.inner._read(session_id, history_limit=history_limit, with_history=with_history,
                                        fresh=True, lease=None)
        if loaded is not None and session_id not in self.next:
            # the stored copy starts the chain again (saves that were coalesced numbered it apart);
            # a save queued during the read keeps its own
            self.hot.pop(session_id, None)
            self.base[session_id] = self.latest[session_id] = loaded.version
        return loaded

    async def _write(self, session: Session) -> None:
        """Queue the turn; the writer writes it (with earlier unwritten messages) soon. A copy
        older than the last save queued here is refused now, as SQL would refuse it."""
        latest = self.latest.get(session.id)
        if latest == FAILED:
            raise LostUpdate(f"session {session.id}: an earlier cell's changes were not saved; "
                             "this copy is based on them")
        if latest is not None and session.version != latest:
            raise ConcurrentUpdate(f"session {session.id} changed since it was loaded")
        self.latest[session.id] = session.version + 1
        snapshot = _snapshot(session)
        earlier = self.next.get(session.id)
        if earlier is not None:  # not written yet: keep its messages, memory writes and timers, in order
            snapshot.pending = earlier.pending + snapshot.pending
            snapshot.memory_writes = {**earlier.memory_writes, **snapshot.memory_writes}
            snapshot.user_memory_writes = earlier.user_memory_writes + snapshot.user_memory_writes
            snapshot.new_timers = earlier.new_timers + snapshot.new_timers
            snapshot.done_timers = earlier.done_timers + snapshot.done_timers
            snapshot.outbox = earlier.outbox + snapshot.outbox
            snapshot.inbox_done = earlier.inbox_done + snapshot.inbox_done
        self.base.setdefault(session.id, session.version)
        if session.id not in self.next:  # a new save to wait for (one queued already covers this one)
            self.landed[session.id] = asyncio.get_running_loop().create_future()
        self.next[session.id] = snapshot
        self.hot[session.id] = session  # committed() by the caller: the version after this save
        if (self.writer is None or self.writer.done()) and self.scheduled is None:
            # start after the cell's reply has left: the save does not compete with it
            self.scheduled = asyncio.get_running_loop().call_later(WRITE_DELAY, self._start)

    async def _write_all(self) -> None:
        while self.next:  # what came while writing is written next (a later state, more messages)
            sid, snapshot = next(iter(self.next.items()))
            del self.next[sid]
            outcome = self.landed.get(sid)
            landed = False
            snapshot.version = self.base.get(sid, snapshot.version)
            try:
                # Not under the session's lock: the turn that queued this save may still hold it, and
                # reads inside a turn (bot memory, history) flush. The version check refuses a save
                # over a newer copy; a server turn that loaded before this save runs again on the new
                # state (the trade documented at the top).
                await self.inner.save(snapshot)
                self.base[sid] = snapshot.version
                landed = True
            except Exception as exc:  # the writer must go on with the other sessions whatever happened
                if isinstance(exc, SessionError):
                    log.warning("session %s: a cell's changes were not saved: %s", sid, exc)
                else:
                    log.exception("session %s: a cell's changes were not saved", sid)
                self.failure = exc
                self.hot.pop(sid, None)
                self.base.pop(sid, None)
                self.latest[sid] = FAILED  # every copy lent before the failure is refused
            finally:
                if outcome is not None and not outcome.done():
                    outcome.set_result(landed)
                if self.landed.get(sid) is outcome and sid not in self.next:
                    del self.landed[sid]

    async def _user_messages_since(self, session_id: uuid.UUID, since: dt.datetime, limit: int
                                   ) -> list[dt.datetime]:
        await self._flushed()
        return await self.inner._user_messages_since(session_id, since, limit)

    async def _hit(self, key: str, limit: int) -> float:
        return await self.inner._hit(key, limit)

    # --- lookups: each goes to the inner store after the background saves (it must see them) ------------
    async def delete(self, session_id: uuid.UUID) -> None:
        await self._flushed()
        self.hot.pop(session_id, None)
        await self.inner.delete(session_id)

    async def history(self, session_id: uuid.UUID, limit: int | None = None, *, after: int | None = None
                      ) -> list[Message]:
        await self._flushed()
        return await self.inner.history(session_id, limit, after=after)

    async def get_bot_memory(self, bot_id: str, key: str) -> Any:
        await self._flushed()
        return await self.inner.get_bot_memory(bot_id, key)

    async def get_user_memory(self, bot_id: str, owner: str, key: str, now: dt.datetime) -> Any:
        await self._flushed()
        return await self.inner.get_user_memory(bot_id, owner, key, now)

    async def adopt_user_memory(self, bot_id: str, from_owner: str, to_owner: str) -> int:
        await self._flushed()
        return await self.inner.adopt_user_memory(bot_id, from_owner, to_owner)

    async def find_token(self, token_hash: str) -> tuple[uuid.UUID, str] | None:
        await self._flushed()
        return await self.inner.find_token(token_hash)

    async def find(self, bot_id: str, channel: str, address: str) -> uuid.UUID | None:
        await self._flushed()
        return await self.inner.find(bot_id, channel, address)

    async def user_session(self, user_id: uuid.UUID, bot_id: str, *, exclude: uuid.UUID | None = None
                           ) -> uuid.UUID | None:
        await self._flushed()
        return await self.inner.user_session(user_id, bot_id, exclude=exclude)

    async def count_active(self, since: dt.datetime, bot_id: str | None = None, *,
                           empty_since: dt.datetime | None = None) -> int:
        await self._flushed()
        return await self.inner.count_active(since, bot_id, empty_since=empty_since)

    async def recent(self, bot_id: str | None = None, limit: int = 20) -> list[SessionRecord]:
        await self._flushed()
        return await self.inner.recent(bot_id, limit)

    async def expired(self, now: dt.datetime, limit: int = 1000) -> list[uuid.UUID]:
        await self._flushed()
        return await self.inner.expired(now, limit)

    async def ping(self) -> None:
        await self.inner.ping()

    async def claim_timers(self, now: dt.datetime, owner: str, lease_seconds: float, limit: int = 20
                           ) -> list[Timer]:
        await self._flushed()
        return await self.inner.claim_timers(now, owner, lease_seconds, limit)

    async def drop_timer(self, timer_id: uuid.UUID) -> None:
        await self._flushed()
        await self.inner.drop_timer(timer_id)

    async def timers(self, session_id: uuid.UUID) -> list[Timer]:
        await self._flushed()
        return await self.inner.timers(session_id)
