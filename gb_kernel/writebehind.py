"""A write-behind wrapper for the notebook's store: the cell's reply does not wait for SQL.

A kernel talks to one session at a time and runs one cell at a time, so it keeps the session
it last saved in memory ("hot") and writes each turn to SQL in the background, one save after
the other, in order. The reply of a ``TALK "x"`` cell then costs what a ``print("x")`` costs.

What this trades: a kernel that dies (kill -9) within about 50 ms of a cell (WRITE_DELAY,
plus the save itself) loses that cell's changes; a shutdown or restart flushes first. A save
that finds the session changed by another process (an attached web chat) is not retried: the
next cell says so and continues from the stored state. The server never uses this wrapper:
there a reply leaves only after its commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import uuid
from typing import Any

from gb_sessions import ConcurrentUpdate, Message, Session, SessionError, VariablesTooLarge
from gb_sessions.store import SessionStore, variables_size

__all__ = ["WriteBehindStore", "LostUpdate", "WRITE_DELAY"]

log = logging.getLogger("gb.kernel")
WRITE_DELAY = 0.05  # seconds between a cell's end and the start of its save (cells in between join it)


class LostUpdate(SessionError):
    """The last cell's changes could not be saved: the session changed elsewhere."""

    status, code = 409, "lost_update"


def _snapshot(session: Session) -> Session:
    """A copy the writer can save while the kernel goes on changing the session (JSON-only
    values: a JSON round trip copies them faster than deepcopy)."""
    return dataclasses.replace(
        session, variables=json.loads(json.dumps(session.variables)), context=json.loads(json.dumps(session.context)),
        dialog=json.loads(json.dumps(session.dialog)), pending=list(session.pending),
        memory_writes=json.loads(json.dumps(session.memory_writes)), history=None)


class WriteBehindStore:
    """Wraps a SessionStore: loads from the hot copy, saves in the background.

    One writer task writes, per session, the newest state together with every message not
    written yet: a burst of cells becomes one save, so no backlog grows however fast cells
    come, and the cell never waits for SQL."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self.hot: dict[uuid.UUID, Session] = {}
        self.base: dict[uuid.UUID, int] = {}  # the version in SQL, as far as this process knows
        self.next: dict[uuid.UUID, Session] = {}  # what the writer writes next, per session
        self.writer: asyncio.Task[None] | None = None
        self.scheduled: asyncio.TimerHandle | None = None
        self.failure: Exception | None = None
        self.warnings: list[str] = []  # for the kernel to show: a cell whose changes were lost

    def lock(self, session_id: uuid.UUID, *, rate_limit: int | None = None
             ) -> contextlib.AbstractAsyncContextManager[None]:
        return self.inner.lock(session_id, rate_limit=rate_limit)

    def _start(self) -> None:
        self.scheduled = None
        if self.next and (self.writer is None or self.writer.done()):
            self.writer = asyncio.ensure_future(self._write())

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

    async def load(self, session_id: uuid.UUID, *, history_limit: int = 50, fresh: bool = False,
                   with_history: bool = True) -> Session | None:
        session = self.hot.get(session_id)
        if session is not None and not fresh and not with_history and self.failure is None:
            session.history_limit = history_limit
            return session
        try:
            await self.flush()
        except LostUpdate as exc:
            self.warnings.append(exc.message + "; continuing from the stored session")
        loaded = await self.inner.load(session_id, history_limit=history_limit, fresh=True,
                                       with_history=with_history)
        self.hot.pop(session_id, None)
        if loaded is not None:
            self.base[session_id] = loaded.version
        return loaded

    async def save(self, session: Session, *, max_variables_kb: int | None = None) -> None:
        """Check the limits now; the writer writes it (with earlier unwritten messages) soon."""
        if max_variables_kb is not None:
            size = variables_size(session.variables)
            if size > max_variables_kb * 1024:
                self.hot.pop(session.id, None)  # the next load reads the stored state again
                raise VariablesTooLarge(f"the session's variables take {size:,} bytes, more than the limit of "
                                        f"{max_variables_kb:,} KB; nothing of this cell was saved")
        snapshot = _snapshot(session)
        earlier = self.next.get(session.id)
        if earlier is not None:  # not written yet: keep its messages and memory writes, in order
            snapshot.pending = earlier.pending + snapshot.pending
            snapshot.memory_writes = {**earlier.memory_writes, **snapshot.memory_writes}
        self.base.setdefault(session.id, session.version)
        self.next[session.id] = snapshot
        session.version += 1
        session.pending.clear()
        session.memory_writes.clear()
        self.hot[session.id] = session
        if (self.writer is None or self.writer.done()) and self.scheduled is None:
            # start after the cell's reply has left: the save does not compete with it
            self.scheduled = asyncio.get_running_loop().call_later(WRITE_DELAY, self._start)

    async def _write(self) -> None:
        while self.next:  # what came while writing is written next (a later state, more messages)
            sid, snapshot = next(iter(self.next.items()))
            del self.next[sid]
            snapshot.version = self.base.get(sid, snapshot.version)
            try:
                await self.inner.save(snapshot)
                self.base[sid] = snapshot.version
            except (ConcurrentUpdate, SessionError) as exc:
                log.warning("session %s: a cell's changes were not saved: %s", sid, exc)
                self.failure = exc
                self.hot.pop(sid, None)
                self.base.pop(sid, None)

    async def history(self, session_id: uuid.UUID, limit: int | None = None) -> list[Message]:
        await self.flush()
        return await self.inner.history(session_id, limit)

    # Every other read goes to SQL after the background saves: it must see them.
    async def get_bot_memory(self, bot_id: str, key: str) -> Any:
        await self.flush()
        return await self.inner.get_bot_memory(bot_id, key)

    async def session_id_for_token(self, token_hash: str) -> uuid.UUID | None:
        await self.flush()
        return await self.inner.session_id_for_token(token_hash)

    async def find(self, bot_id: str, channel: str, address: str) -> uuid.UUID | None:
        await self.flush()
        return await self.inner.find(bot_id, channel, address)

    async def count_active(self, since: dt.datetime, bot_id: str | None = None) -> int:
        await self.flush()
        return await self.inner.count_active(since, bot_id)

    async def count_user_messages(self, session_id: uuid.UUID, since: dt.datetime) -> int:
        await self.flush()
        return await self.inner.count_user_messages(session_id, since)

    async def create(self, session: Session) -> None:
        await self.flush()
        await self.inner.create(session)
        self.base[session.id] = session.version

    async def delete(self, session_id: uuid.UUID) -> None:
        await self.flush()
        self.hot.pop(session_id, None)
        await self.inner.delete(session_id)
