"""The session store: the turn protocol in one place, storage primitives in the backends.

One turn of a conversation is::

    async with store.lock(session_id, rate_limit=60) as session:  # one turn at a time, across processes
        ...                                     # run the dialog; session.add(...) messages
        await store.save(session)               # ONE transaction: messages, state, last_activity

:class:`SessionStore` owns the algorithm: the rate limit checked under the lock, the limit on
the variables' size, the version check that refuses a stale copy (ConcurrentUpdate, nothing
written), and what a committed turn means for the copy in hand. A backend implements the
storage primitives (``_acquire``, ``_insert``, ``_read``, ``_write``, ``_user_messages_since``,
``_hit``) and the lookups, the timers' among them (``claim_timers``, ``drop_timer``, ``timers``: a
turn's new and fired timers are written by ``_insert``/``_write`` in the turn's transaction).
Backends: :class:`~gb_sessions.store.SqlStore` (PostgreSQL or SQLite, the
source of truth) and :class:`~gb_sessions.memory.MemoryStore` (tests, ``gb run``). Wrappers
are stores too and implement the same primitives over an inner store:
:class:`~gb_sessions.cache.CachedStore` (Valkey, write-through after the commit) and
:class:`~gb_sessions.writebehind.WriteBehindStore` (the notebook: saves in the background).
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

from .errors import TooManySessions, VariablesTooLarge
from .ratelimit import WINDOW, limited, starts_limited
from .session import Message, Session, Timer, utcnow

__all__ = ["SessionStore", "SessionRecord", "SessionCap", "Lease", "variables_size", "sessions_full"]


def variables_size(variables: dict[str, Any]) -> int:
    """Bytes the variables take as JSON (what max-variables-kb limits)."""
    return len(json.dumps(variables, ensure_ascii=False, separators=(",", ":")).encode())


@dataclass(frozen=True)
class SessionRecord:
    """A session as a listing shows it (``recent``): no state, no history."""

    id: uuid.UUID
    bot_id: str
    channel: str
    address: str | None
    status: str
    user_id: uuid.UUID | None
    created_at: dt.datetime
    last_activity: dt.datetime
    message_count: int


@dataclass(frozen=True)
class SessionCap:
    """At most `limit` active sessions per bot (max-sessions). Active: status active, a last
    activity after `idle_since` and, for a session that has no user message yet, after
    `empty_since` (a flood of sessions nobody talks to frees its slots soon)."""

    limit: int
    idle_since: dt.datetime
    empty_since: dt.datetime | None = None


def sessions_full(bot_id: str, active: int, limit: int) -> TooManySessions:
    """The 503 of a bot whose `limit` active sessions are taken."""
    return TooManySessions(f"bot {bot_id} has {active} active sessions, its limit (max-sessions) is {limit}; "
                           "try again in a minute", retry_after=60)


class Lease:
    """A held session lock. A backend may keep with it what it read together with the lock
    (`state`) and what to write when it is released (`write`)."""

    __slots__ = ("session_id", "state", "write")

    def __init__(self, session_id: uuid.UUID, state: Any = None) -> None:
        self.session_id = session_id
        self.state = state
        self.write: Any = None


class SessionStore(abc.ABC):
    """The turn protocol over a storage backend (see the module docstring)."""

    # --- the algorithm ------------------------------------------------------------------------------
    async def create(self, session: Session, *, max_variables_kb: int | None = None,
                     cap: SessionCap | None = None) -> None:
        """Insert a new session (its bot's row the first time) with its first messages. With a
        `cap`, only if its bot has fewer active sessions: counted in the insert's own
        transaction, so processes creating sessions at once never exceed it.

        Raises:
            VariablesTooLarge: over `max_variables_kb` (nothing is written).
            TooManySessions: the bot has `cap.limit` active sessions (nothing is written).
            StoreUnavailable: the database cannot be reached.
        """
        self._check_size(session, max_variables_kb)
        await self._insert(session, cap)
        session.version = -1
        session.committed()  # version 0, nothing pending

    async def save(self, session: Session, *, max_variables_kb: int | None = None) -> None:
        """Write this turn in one transaction; the session's version must be the stored one.
        Stored messages get their row ids (``Message.id``) where the backend knows them now.

        Raises:
            VariablesTooLarge: the variables exceed `max_variables_kb` (nothing is written).
            ConcurrentUpdate: the stored session changed since it was loaded (nothing is written).
            StoreUnavailable: the database cannot be reached.
        """
        self._check_size(session, max_variables_kb)
        await self._write(session)
        session.committed()

    @contextlib.asynccontextmanager
    async def lock(self, session_id: uuid.UUID, *, rate_limit: int | None = None, history_limit: int = 50,
                   with_history: bool = False) -> AsyncIterator[Session | None]:
        """Hold a session for one turn (in all processes) and yield it, loaded (None when it does
        not exist). First refuse the turn if the session sent `rate_limit` messages in the
        last minute.

        Raises:
            RateLimited: over `rate_limit` (429, with Retry-After).
            StoreUnavailable: the lock could not be taken in time, or the database is down.
        """
        async with self._acquire(session_id, rate_limit) as lease:
            session = await self._read(session_id, history_limit=history_limit, with_history=with_history,
                                       fresh=False, lease=lease)
            if session is not None:
                session.lease = lease
            try:
                yield session
            finally:
                if session is not None:
                    session.lease = None

    async def count_start(self, bot_id: str, client: str, limit: int) -> None:
        """Count a new session of `bot_id` asked for by `client` (a client's address), or refuse
        it: `client` started `limit` sessions of this bot in the last minute (all processes).

        Raises:
            TooManyNewSessions: over `limit` (429, with Retry-After; the refusal is not counted).
            StoreUnavailable: the database cannot be reached.
        """
        wait = await self._hit(f"start:{bot_id}:{client}", limit)
        if wait > 0:
            raise starts_limited(limit, wait)

    def landing(self, session_id: uuid.UUID) -> Awaitable[bool] | None:
        """None when what was saved of the session is in the source of truth; else an awaitable
        that answers whether it got there (a store that writes in the background)."""
        return None

    async def load(self, session_id: uuid.UUID, *, history_limit: int = 50, fresh: bool = False,
                   with_history: bool = True) -> Session | None:
        """The session with its state (and its last `history_limit` messages), or None.
        `fresh` skips every copy but the source of truth."""
        return await self._read(session_id, history_limit=history_limit, with_history=with_history, fresh=fresh,
                                lease=None)

    def _check_size(self, session: Session, max_variables_kb: int | None) -> None:
        if max_variables_kb is None:
            return
        size = variables_size(session.variables)
        if size > max_variables_kb * 1024:
            raise VariablesTooLarge(f"the session's variables take {size:,} bytes, more than the "
                                    f"limit of {max_variables_kb:,} KB; nothing of this message was saved")

    async def _check_rate(self, session_id: uuid.UUID, limit: int) -> None:
        """The rate limit from the stored user messages (backends without a shared counter)."""
        now = utcnow()
        stamps = await self._user_messages_since(session_id, now - dt.timedelta(seconds=WINDOW), limit)
        if len(stamps) >= limit:
            raise limited(limit, WINDOW - (now - min(stamps)).total_seconds())

    # --- storage primitives (backends) ----------------------------------------------------------------
    @abc.abstractmethod
    def _acquire(self, session_id: uuid.UUID, rate_limit: int | None
                 ) -> contextlib.AbstractAsyncContextManager[Lease]:
        """Exclusive access to a session across processes; checks `rate_limit` once held."""

    @abc.abstractmethod
    async def _insert(self, session: Session, cap: SessionCap | None) -> None:
        """Write a new session: identity, state (version 0), pending messages, memory writes
        (bot and user memory);
        with a `cap`, raise ``sessions_full`` instead when the bot has `cap.limit` other active
        sessions, counted atomically with the insert (across processes)."""

    @abc.abstractmethod
    async def _read(self, session_id: uuid.UUID, *, history_limit: int, with_history: bool, fresh: bool,
                    lease: Lease | None) -> Session | None:
        """The stored session; `lease` is the lock it is read under, if any."""

    @abc.abstractmethod
    async def _write(self, session: Session) -> None:
        """Write a turn if the stored version is ``session.version``, else raise ConcurrentUpdate."""

    @abc.abstractmethod
    async def _user_messages_since(self, session_id: uuid.UUID, since: dt.datetime, limit: int
                                   ) -> list[dt.datetime]:
        """Timestamps of the session's user messages after `since` (at most `limit`)."""

    @abc.abstractmethod
    async def _hit(self, key: str, limit: int) -> float:
        """Record a hit of `key` unless it has `limit` hits in the last WINDOW seconds (in all
        processes, atomically): 0 when recorded, else the seconds until its oldest hit leaves."""

    # --- lookups (backends) ----------------------------------------------------------------------------
    @abc.abstractmethod
    async def delete(self, session_id: uuid.UUID) -> None:
        """Delete a session with its messages and state."""

    @abc.abstractmethod
    async def find_token(self, token_hash: str) -> tuple[uuid.UUID, str] | None:
        """The session a token hash belongs to, and that session's bot: (session id, bot id)."""

    @abc.abstractmethod
    async def find(self, bot_id: str, channel: str, address: str) -> uuid.UUID | None:
        """The newest active session of a channel address (a phone, an email) with a bot."""

    @abc.abstractmethod
    async def user_session(self, user_id: uuid.UUID, bot_id: str, *, exclude: uuid.UUID | None = None
                           ) -> uuid.UUID | None:
        """A user's newest active session with a bot (where ON LOGIN merges into)."""

    @abc.abstractmethod
    async def history(self, session_id: uuid.UUID, limit: int | None = None, *, after: int | None = None
                      ) -> list[Message]:
        """The session's messages, oldest first: all, the last `limit`, or those whose row id
        is greater than `after`."""

    @abc.abstractmethod
    async def get_bot_memory(self, bot_id: str, key: str) -> Any:
        """A bot-memory value (shared by the bot's sessions), or None."""

    @abc.abstractmethod
    async def get_user_memory(self, bot_id: str, owner: str, key: str, now: dt.datetime) -> Any:
        """A user-memory value of `owner` (``Session.memory_owner``) within a bot, in its stored
        form; None when absent or expired at `now`. Entries are written with the turns
        (``Session.user_memory_writes``)."""

    @abc.abstractmethod
    async def adopt_user_memory(self, bot_id: str, from_owner: str, to_owner: str) -> int:
        """Move `from_owner`'s user memory within a bot to `to_owner` (an anonymous session's to
        its user's, on login), in one transaction; a key `to_owner` has already keeps its value.
        Returns how many entries moved."""

    @abc.abstractmethod
    async def count_active(self, since: dt.datetime, bot_id: str | None = None, *,
                           empty_since: dt.datetime | None = None) -> int:
        """Active sessions with a message after `since` (the others are idle); with `empty_since`,
        a session without a user message only if its last activity is after `empty_since`."""

    @abc.abstractmethod
    async def recent(self, bot_id: str | None = None, limit: int = 20) -> list[SessionRecord]:
        """The most recent sessions (of one bot, or of all), newest first."""

    @abc.abstractmethod
    async def expired(self, now: dt.datetime, limit: int = 1000) -> list[uuid.UUID]:
        """Anonymous sessions whose expiry passed."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise StoreUnavailable unless the source of truth answers."""

    # --- timers (backends): rows with a due time, written and deleted by the turns -------------------
    @abc.abstractmethod
    async def claim_timers(self, now: dt.datetime, owner: str, lease_seconds: float, limit: int = 20
                           ) -> list[Timer]:
        """Claim up to `limit` timers due at `now` for `owner`, earliest first, atomically: a
        timer claimed here is claimed by no other process until `lease_seconds` have passed (then
        a claim whose process died lapses, and the timer can be claimed again)."""

    @abc.abstractmethod
    async def drop_timer(self, timer_id: uuid.UUID) -> None:
        """Delete a timer outside a turn (one whose dialog no longer waits on it)."""

    @abc.abstractmethod
    async def timers(self, session_id: uuid.UUID) -> list[Timer]:
        """The session's stored timers, earliest first."""
