"""The session as the runtime sees it: identity, state, recent history, changes of this turn."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Message", "MemoryWrite", "Outgoing", "Session", "Timer", "memory_owner", "utcnow"]


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC (what every timestamp here is)."""
    return dt.datetime.now(dt.UTC)


@dataclass
class Message:
    """One message of a conversation. `role` is user, assistant or system."""

    role: str
    content: str
    timestamp: dt.datetime
    channel: str
    id: int | None = None
    token_count: int | None = None  # an LLM's answer: the tokens (prompt and completion) it took

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (with the row id once the message is stored)."""
        d: dict[str, Any] = {"role": self.role, "content": self.content, "timestamp": self.timestamp.isoformat(),
                             "channel": self.channel}
        if self.id is not None:
            d["id"] = self.id
        if self.token_count is not None:
            d["token_count"] = self.token_count
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Message:
        """Inverse of :meth:`to_dict`."""
        return cls(d["role"], d["content"], dt.datetime.fromisoformat(d["timestamp"]), d["channel"], d.get("id"),
                   d.get("token_count"))


@dataclass(frozen=True)
class Timer:
    """A due time of a session (a ``WAIT``), a row in SQL: written with the turn that set it,
    fired once by whichever server process claims it first, deleted with the turn it fires."""

    id: uuid.UUID
    session_id: uuid.UUID
    bot_id: str
    kind: str  # "wait"
    due_at: dt.datetime


@dataclass(frozen=True)
class MemoryWrite:
    """A user-memory entry set during a turn (SET USER MEMORY, REMEMBER), written with the turn.

    `owner` is :func:`memory_owner` of the session; `value` is in its stored (JSON) form;
    `expires_at` None keeps it until it is written again."""

    owner: str
    key: str
    value: Any
    expires_at: dt.datetime | None = None

    def live(self, now: dt.datetime) -> bool:
        """Whether the entry still reads at `now` (an entry reads as NULL from its expiry on)."""
        return self.expires_at is None or now < self.expires_at


@dataclass
class Outgoing:
    """A message for a push channel (WhatsApp, Telegram, SMS) or an inline one (voice), a row of
    the ``outbox`` written in the SAME transaction as the turn that produced it, and delivered
    after that commit (gb_server/channels/dispatch.py): nothing leaves that is not stored, and
    nothing stored is lost.

    `payload` is what to send, in gb's own terms (``{"content", "choices", "file", "template",
    "suggestions"}``); the channel's adapter renders it in the platform's forms. `inline` rows
    (voice) are not pushed: the webhook's own HTTP response carries them. `inbox_id` is the
    inbound message they answer (None for a timer's, a schedule's or a TALK TO's)."""

    channel: str
    address: str
    payload: dict[str, Any]
    bot_id: str
    inbox_id: int | None = None
    inline: bool = False
    id: int | None = None


def memory_owner(user_id: uuid.UUID | None, session_id: uuid.UUID) -> str:
    """Whose user memory a session reads and writes: its user's (``user:<uuid>``), shared by all
    of that user's sessions with the bot; an anonymous session's own (``session:<uuid>``)."""
    return f"user:{user_id}" if user_id is not None else f"session:{session_id}"


@dataclass
class Session:
    """A persistent conversation: who, which bot, its variables, context and waiting dialog.

    `history` holds the most recent messages (up to the bot's history limit), oldest first,
    when the session was loaded with them (None otherwise: the store's ``history`` has them);
    `pending` the messages added during this turn, written by the next ``save``;
    `memory_writes` the bot-memory keys set during this turn (saved in the same transaction);
    `user_memory_writes` the user-memory entries set during this turn, in order (saved likewise);
    `new_timers` the timers set and `done_timers` the ids of the timers fired during this turn
    (inserted and deleted in the same transaction); `outbox` the messages for push channels
    this turn produced (:class:`Outgoing`, inserted in the same transaction); `inbox_done` the
    inbound messages this turn handled (marked done in the same transaction: a message another
    process handled already makes the save fail with InboxDone, so it is handled once).
    `version` increases with every save: a save of a stale copy fails with ConcurrentUpdate.
    `lease` is set on the copy ``SessionStore.lock`` yields: the lock it was loaded under (a
    store may finish that copy's save when the lock is released); never stored.
    """

    id: uuid.UUID
    bot_id: str
    channel: str
    token_hash: str
    created_at: dt.datetime
    last_activity: dt.datetime
    user_id: uuid.UUID | None = None
    address: str | None = None
    expires_at: dt.datetime | None = None
    status: str = "active"
    variables: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    dialog: dict[str, Any] | None = None
    version: int = 0
    message_count: int = 0
    history: list[Message] | None = field(default_factory=list)
    pending: list[Message] = field(default_factory=list)
    memory_writes: dict[str, Any] = field(default_factory=dict)
    user_memory_writes: list[MemoryWrite] = field(default_factory=list)
    ttl_seconds: int = 1800
    history_limit: int = 50
    lease: Any = field(default=None, repr=False, compare=False)
    new_timers: list[Timer] = field(default_factory=list)
    done_timers: list[uuid.UUID] = field(default_factory=list)
    outbox: list[Outgoing] = field(default_factory=list)
    inbox_done: list[int] = field(default_factory=list)

    @property
    def anonymous(self) -> bool:
        """True until the session is linked to a user account."""
        return self.user_id is None

    @property
    def memory_owner(self) -> str:
        """Whose user memory this session reads and writes (see :func:`memory_owner`)."""
        return memory_owner(self.user_id, self.id)

    def add(self, role: str, content: str, *, channel: str | None = None, at: dt.datetime | None = None,
            token_count: int | None = None) -> Message:
        """Record a message of this turn; it is saved with the session."""
        msg = Message(role, content, at or utcnow(), channel or self.channel, token_count=token_count)
        self.pending.append(msg)
        if self.history is not None:
            self.history.append(msg)
            if len(self.history) > self.history_limit:
                del self.history[: len(self.history) - self.history_limit]
        if role == "user":
            self.message_count += 1
        return msg

    def schedule(self, kind: str, due_at: dt.datetime) -> Timer:
        """Set a timer of this session; it is stored with this turn (never before)."""
        timer = Timer(uuid.uuid4(), self.id, self.bot_id, kind, due_at)
        self.new_timers.append(timer)
        return timer

    def committed(self) -> None:
        """Called by the store once this turn is written: a new version, nothing pending."""
        self.version += 1
        self.pending.clear()
        self.memory_writes.clear()
        self.user_memory_writes.clear()
        self.new_timers.clear()
        self.done_timers.clear()
        self.outbox.clear()
        self.inbox_done.clear()
