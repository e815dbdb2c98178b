"""MemoryStore: the sessions of one process in memory (golden tests, ``gb run``).

It is a backend like SqlStore: the turn protocol is the base's, and every copy goes through
JSON on the way in and out, so what a dialog stores behaves as it does in SQL (a value JSON
cannot hold fails here too). Nothing survives the process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import itertools
import json
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from .base import Lease, SessionCap, SessionRecord, SessionStore, sessions_full
from .errors import ConcurrentUpdate, SessionExists
from .locks import LocalLocks
from .ratelimit import WINDOW
from .session import MemoryWrite, Message, Outgoing, Session, Timer

__all__ = ["MemoryStore"]


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _counts(s: Session, since: dt.datetime, empty_since: dt.datetime | None) -> bool:
    """Whether an active session is in count_active's count (the SQL store's rule)."""
    return s.last_activity > since and (empty_since is None or s.message_count > 0 or s.last_activity > empty_since)


class MemoryStore(SessionStore):
    """Sessions, messages and bot memory in dicts of this process."""

    def __init__(self) -> None:
        self.sessions: dict[uuid.UUID, Session] = {}
        self.messages: dict[uuid.UUID, list[Message]] = {}
        self.bot_memory: dict[tuple[str, str], Any] = {}
        self.user_memory: dict[tuple[str, str, str], MemoryWrite] = {}  # (bot, owner, key)
        self.timer_rows: dict[uuid.UUID, tuple[Timer, str | None, dt.datetime | None]] = {}  # (timer, owner, until)
        self._ids = itertools.count(1)
        self._locks = LocalLocks()
        self._hits: dict[str, deque[float]] = {}
        self.outbox: list[Outgoing] = []  # what the turns queued for push channels (nothing delivers them here)

    def _stored(self, session: Session) -> Session:
        return dataclasses.replace(
            session, variables=_copy(session.variables), context=_copy(session.context), dialog=_copy(session.dialog),
            history=None, pending=[], memory_writes={}, user_memory_writes=[], lease=None, new_timers=[],
            done_timers=[], outbox=[], inbox_done=[])

    def _append(self, session: Session) -> None:
        stored = self.messages.setdefault(session.id, [])
        for m in session.pending:
            m.id = next(self._ids)
            stored.append(dataclasses.replace(m))
        for key, value in session.memory_writes.items():
            self.bot_memory[(session.bot_id, key)] = _copy(value)
        for w in session.user_memory_writes:
            self.user_memory[(session.bot_id, w.owner, w.key)] = dataclasses.replace(w, value=_copy(w.value))
        for t in session.new_timers:
            self.timer_rows[t.id] = (t, None, None)
        for timer_id in session.done_timers:
            self.timer_rows.pop(timer_id, None)
        for out in session.outbox:
            out.id = next(self._ids)
            self.outbox.append(dataclasses.replace(out, payload=_copy(out.payload)))

    # --- primitives ------------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _acquire(self, session_id: uuid.UUID, rate_limit: int | None) -> AsyncIterator[Lease]:
        async with self._locks.hold(str(session_id), self._locks.deadline()):
            if rate_limit:
                await self._check_rate(session_id, rate_limit)
            yield Lease(session_id)

    async def _insert(self, session: Session, cap: SessionCap | None) -> None:
        if session.id in self.sessions:
            raise SessionExists(f"session {session.id} exists already")
        if cap is not None:  # no await between the count and the insert: atomic in this process
            active = sum(1 for s in self._active(session.bot_id) if _counts(s, cap.idle_since, cap.empty_since))
            if active >= cap.limit:
                raise sessions_full(session.bot_id, active, cap.limit)
        self._append(session)
        self.sessions[session.id] = dataclasses.replace(self._stored(session), version=0)

    async def _read(self, session_id: uuid.UUID, *, history_limit: int, with_history: bool, fresh: bool,
                    lease: Lease | None) -> Session | None:
        stored = self.sessions.get(session_id)
        if stored is None:
            return None
        history = [dataclasses.replace(m) for m in self.messages.get(session_id, [])[-history_limit:]] \
            if with_history else None
        return dataclasses.replace(self._stored(stored), history=history, history_limit=history_limit)

    async def _write(self, session: Session) -> None:
        stored = self.sessions.get(session.id)
        if stored is None or stored.version != session.version:
            raise ConcurrentUpdate(f"session {session.id} changed since it was loaded")
        new = self._stored(session)
        self._append(session)
        self.sessions[session.id] = dataclasses.replace(new, version=session.version + 1)

    async def _user_messages_since(self, session_id: uuid.UUID, since: dt.datetime, limit: int
                                   ) -> list[dt.datetime]:
        stamps = [m.timestamp for m in self.messages.get(session_id, []) if m.role == "user" and m.timestamp > since]
        return stamps[-limit:]

    async def _hit(self, key: str, limit: int) -> float:
        now = time.time()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - WINDOW:
            hits.popleft()
        if len(hits) >= limit:
            return max(hits[0] + WINDOW - now, 0.001)
        hits.append(now)
        return 0.0

    # --- lookups ----------------------------------------------------------------------------------------
    async def delete(self, session_id: uuid.UUID) -> None:
        self.sessions.pop(session_id, None)
        self.messages.pop(session_id, None)
        owner = f"session:{session_id}"  # an anonymous session's user memory goes with it
        for k in [k for k in self.user_memory if k[1] == owner]:
            del self.user_memory[k]
        for t in [t for t, _, _ in self.timer_rows.values() if t.session_id == session_id]:
            del self.timer_rows[t.id]

    def _active(self, bot_id: str | None = None) -> list[Session]:
        found = [s for s in self.sessions.values() if s.status == "active" and bot_id in (None, s.bot_id)]
        return sorted(found, key=lambda s: s.last_activity, reverse=True)

    async def find_token(self, token_hash: str) -> tuple[uuid.UUID, str] | None:
        return next(((s.id, s.bot_id) for s in self.sessions.values() if s.token_hash == token_hash), None)

    async def find(self, bot_id: str, channel: str, address: str) -> uuid.UUID | None:
        return next((s.id for s in self._active(bot_id) if (s.channel, s.address) == (channel, address)), None)

    async def user_session(self, user_id: uuid.UUID, bot_id: str, *, exclude: uuid.UUID | None = None
                           ) -> uuid.UUID | None:
        return next((s.id for s in self._active(bot_id) if s.user_id == user_id and s.id != exclude), None)

    async def history(self, session_id: uuid.UUID, limit: int | None = None, *, after: int | None = None
                      ) -> list[Message]:
        msgs = [dataclasses.replace(m) for m in self.messages.get(session_id, [])
                if after is None or (m.id or 0) > after]
        return msgs[-limit:] if limit else msgs

    async def get_bot_memory(self, bot_id: str, key: str) -> Any:
        return _copy(self.bot_memory.get((bot_id, key)))

    async def get_user_memory(self, bot_id: str, owner: str, key: str, now: dt.datetime) -> Any:
        entry = self.user_memory.get((bot_id, owner, key))
        return _copy(entry.value) if entry is not None and entry.live(now) else None

    async def adopt_user_memory(self, bot_id: str, from_owner: str, to_owner: str) -> int:
        moved = 0
        for bot, owner, key in [k for k in self.user_memory if k[:2] == (bot_id, from_owner)]:
            entry = self.user_memory.pop((bot, owner, key))
            if (bot, to_owner, key) not in self.user_memory:
                self.user_memory[(bot, to_owner, key)] = dataclasses.replace(entry, owner=to_owner)
                moved += 1
        return moved

    async def count_active(self, since: dt.datetime, bot_id: str | None = None, *,
                           empty_since: dt.datetime | None = None) -> int:
        return sum(1 for s in self._active(bot_id) if _counts(s, since, empty_since))

    async def recent(self, bot_id: str | None = None, limit: int = 20) -> list[SessionRecord]:
        found = sorted((s for s in self.sessions.values() if bot_id in (None, s.bot_id)),
                       key=lambda s: s.last_activity, reverse=True)[:limit]
        return [SessionRecord(s.id, s.bot_id, s.channel, s.address, s.status, s.user_id, s.created_at,
                              s.last_activity, s.message_count) for s in found]

    async def expired(self, now: dt.datetime, limit: int = 1000) -> list[uuid.UUID]:
        return [s.id for s in self.sessions.values()
                if s.user_id is None and s.expires_at is not None and s.expires_at < now][:limit]

    async def ping(self) -> None:
        return None

    # --- timers -------------------------------------------------------------------------------------------
    async def claim_timers(self, now: dt.datetime, owner: str, lease_seconds: float, limit: int = 20
                           ) -> list[Timer]:
        free = sorted((t for t, _, until in self.timer_rows.values()
                       if t.due_at <= now and (until is None or until < now)), key=lambda t: t.due_at)[:limit]
        for t in free:
            self.timer_rows[t.id] = (t, owner, now + dt.timedelta(seconds=lease_seconds))
        return free

    async def drop_timer(self, timer_id: uuid.UUID) -> None:
        self.timer_rows.pop(timer_id, None)

    async def timers(self, session_id: uuid.UUID) -> list[Timer]:
        return sorted((t for t, _, _ in self.timer_rows.values() if t.session_id == session_id), key=lambda t: t.due_at)
