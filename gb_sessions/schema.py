"""SQLAlchemy 2 models. Table and column names are the seed's, so its inspection SQL runs as written.

``sessions`` (who, which bot, when), ``messages`` (the history), ``session_state`` (variables,
context, the waiting dialog), ``bots``, ``bot_memory``, ``users``, ``user_identities``,
``timers`` (the due times of waiting dialogs), ``schedules`` (``SET SCHEDULE``: when a
dialog runs on its own), ``rate_limit_hits`` (what a sliding window limits without Valkey: new
sessions per client) and ``user_memory`` (SET USER MEMORY and REMEMBER: per user within a bot,
with an optional expiry), ``inbox`` and ``outbox`` (the channels' durable messages: what a
webhook brought, stored before it is acknowledged; what a turn sends to a push channel, stored in
the turn's transaction and delivered after it), ``mailboxes`` (the email channel's IMAP cursor
per mailbox, and the lease of the one process that reads it).
Schema changes are Alembic migrations (gb_sessions/migrations).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "Bot", "User", "UserIdentity", "SessionRow", "MessageRow", "SessionState", "BotMemory",
           "TimerRow", "ScheduleRow", "RateLimitHit", "UserMemory", "InboxRow", "OutboxRow", "MailboxRow"]

Json = JSON().with_variant(JSONB(), "postgresql")
Time = DateTime(timezone=True)


class Base(DeclarativeBase):
    pass


class Bot(Base):
    __tablename__ = "bots"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(Time)


class User(Base):
    __tablename__ = "users"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    username: Mapped[str] = mapped_column(String(200), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Time)


class UserIdentity(Base):
    """A channel address (email, phone, Teams id) that belongs to a user."""

    __tablename__ = "user_identities"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(50))
    address: Mapped[str] = mapped_column(String(320))
    __table_args__ = (Index("ix_user_identities_channel_address", "channel", "address", unique=True),)


class SessionRow(Base):
    __tablename__ = "sessions"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id"))
    channel: Mapped[str] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(Time)
    last_activity: Mapped[dt.datetime] = mapped_column(Time, index=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(Time, index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    __table_args__ = (Index("ix_sessions_bot_channel_address", "bot_id", "channel", "address"),)


class MessageRow(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    timestamp: Mapped[dt.datetime] = mapped_column(Time)
    channel: Mapped[str] = mapped_column(String(50))
    token_count: Mapped[int | None] = mapped_column(Integer)  # an LLM's answer: its tokens (0009_llm_usage)
    __table_args__ = (Index("ix_messages_session_id_id", "session_id", "id"),)


class SessionState(Base):
    __tablename__ = "session_state"
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    variables: Mapped[dict[str, Any]] = mapped_column(Json)
    context: Mapped[dict[str, Any]] = mapped_column(Json)
    dialog: Mapped[dict[str, Any] | None] = mapped_column(Json)
    version: Mapped[int] = mapped_column(Integer)
    message_count: Mapped[int] = mapped_column(Integer)


class BotMemory(Base):
    """Per-bot memory shared by all of the bot's sessions (SET_BOT_MEMORY / GET_BOT_MEMORY)."""

    __tablename__ = "bot_memory"
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    value: Mapped[Any] = mapped_column(Json)


class TimerRow(Base):
    """A due time of a session (``WAIT n``): written in the turn that set it, claimed by one
    process at a time (`claimed_by` until `claimed_until`: a lease a dead process lets lapse),
    deleted in the turn that fires it."""

    __tablename__ = "timers"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    bot_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[dt.datetime] = mapped_column(Time, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(Time)
    created_at: Mapped[dt.datetime] = mapped_column(Time)
    __table_args__ = (Index("ix_timers_session_id", "session_id"),)


class ScheduleRow(Base):
    """When a dialog of a bot runs on its own (``SET SCHEDULE``): a cron expression (`kind`
    "cron") or one moment (`kind` "once"), one row per (bot, dialog, job): `job` is "" or the
    value `param` the dialog's first PARAM gets, with the moment before it for a one-off. `next_due` is the
    next occurrence (UTC; None when disabled); a process that claims it (`claimed_by` until
    `claimed_until`, a lease it renews while the run lasts) moves `next_due` on and runs
    `running_due`; `version` makes every claim a compare-and-set. `origin` "file": declared at
    the top of the dialog's file (the bot's load keeps it in step with the file); "dialog": set
    by a SET SCHEDULE statement as a dialog ran."""

    __tablename__ = "schedules"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    bot_id: Mapped[str] = mapped_column(String(100))
    dialog: Mapped[str] = mapped_column(String(200))
    job: Mapped[str] = mapped_column(String(300))
    param: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(10))
    cron: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(10))
    place: Mapped[str | None] = mapped_column(String(300))
    enabled: Mapped[bool] = mapped_column(Boolean)
    next_due: Mapped[dt.datetime | None] = mapped_column(Time, index=True)
    running_due: Mapped[dt.datetime | None] = mapped_column(Time)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(Time)
    last_run: Mapped[dt.datetime | None] = mapped_column(Time)
    last_result: Mapped[str | None] = mapped_column(String(10))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_session: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    runs: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(Time)
    updated_at: Mapped[dt.datetime] = mapped_column(Time)
    __table_args__ = (Index("ix_schedules_bot_dialog_job", "bot_id", "dialog", "job", unique=True),)


class RateLimitHit(Base):
    """One hit of a rate-limited key (``start:<bot>:<client>``) at `at` (seconds since the epoch);
    hits older than the window are deleted as the key is hit again, and by the cleanup job."""

    __tablename__ = "rate_limit_hits"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    key: Mapped[str] = mapped_column(String(400))
    at: Mapped[float] = mapped_column(Float)
    __table_args__ = (Index("ix_rate_limit_hits_key_at", "key", "at"), Index("ix_rate_limit_hits_at", "at"))


class UserMemory(Base):
    """One user's memory within one bot (SET USER MEMORY / GET USER MEMORY, REMEMBER / RECALL).

    `owner` is ``user:<uuid>`` for a session with a user account, ``session:<uuid>`` for an
    anonymous session (its memory lives as long as the session). `expires_at` None: kept until
    written again; else the entry reads as NULL from then on and the cleanup job deletes it."""

    __tablename__ = "user_memory"
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id"), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    value: Mapped[Any] = mapped_column(Json)
    expires_at: Mapped[dt.datetime | None] = mapped_column(Time, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(Time)
    __table_args__ = (Index("ix_user_memory_owner", "owner"),)


QUEUE_FILLFACTOR = 70  # room in each page of the queues, for a claim's update to stay on its page (HOT)


def _waiting_indexes(table: str, waiting: str, address: tuple[str, ...]) -> tuple[Index, Index]:
    """A queue's claim reads only its waiting rows, oldest first, and whether an earlier row of
    the same address still waits: two partial indexes of the waiting rows, so a claim costs the
    same however many handled rows the table keeps (over the whole table the planner walked
    the primary key past every done row: 2 ms a claim at 20,000 of them, and growing)."""
    where = text(f"status = '{waiting}'")
    return (Index(f"ix_{table}_{waiting}", "id", postgresql_where=where, sqlite_where=where),
            Index(f"ix_{table}_{waiting}_address", *address, "id", postgresql_where=where, sqlite_where=where))


class InboxRow(Base):
    """One inbound message of a channel (a webhook's), committed before the webhook is answered.

    Unique on (bot, channel, the platform's message id: ``wamid``, ``update_id``, ``MessageSid``),
    so a redelivery stores nothing new. `status` "new" until a turn handles it ("done", in that
    turn's own transaction) or it fails for good ("failed", `error` kept); a process claims a new
    one (`claimed_by` until `claimed_until`, a lease a dead process lets lapse) to handle it.
    `payload` is the message in gb's terms (text, choice, attachment, the sender's name)."""

    __tablename__ = "inbox"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    bot_id: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(50))
    platform_id: Mapped[str] = mapped_column(String(300))
    address: Mapped[str] = mapped_column(String(320))
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(Time)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(Time)
    error: Mapped[str | None] = mapped_column(Text)
    session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    received_at: Mapped[dt.datetime] = mapped_column(Time)
    done_at: Mapped[dt.datetime | None] = mapped_column(Time)
    __table_args__ = (Index("ix_inbox_platform", "bot_id", "channel", "platform_id", unique=True),
                      Index("ix_inbox_address", "bot_id", "channel", "address", "id"),
                      *_waiting_indexes("inbox", "new", ("bot_id", "channel", "address")),
                      {"postgresql_with": {"fillfactor": QUEUE_FILLFACTOR}})


class OutboxRow(Base):
    """One message for a channel, written in the transaction of the turn that produced it.

    `status`: "pending" until delivered ("sent", with the platform's id), retried with backoff
    (`attempts`, `next_attempt_at`, `error` the platform's last answer) and "dead" after the
    bot's outbox-max-attempts or an error retrying cannot mend; "inline" rows (voice) are the
    webhook response's own and never pushed. `delivery` is the platform's later status of a sent
    message (WhatsApp's sent/delivered/read/failed). One process at a time holds a row
    (`claimed_by` until `claimed_until`)."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    inbox_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    bot_id: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(50))
    address: Mapped[str] = mapped_column(String(320))
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(Time)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(Time)
    error: Mapped[str | None] = mapped_column(Text)
    platform_id: Mapped[str | None] = mapped_column(String(300))
    delivery: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(Time)
    sent_at: Mapped[dt.datetime | None] = mapped_column(Time)
    __table_args__ = (Index("ix_outbox_inbox", "inbox_id"),
                      Index("ix_outbox_platform", "channel", "platform_id"),
                      *_waiting_indexes("outbox", "pending", ("channel", "address")),
                      {"postgresql_with": {"fillfactor": QUEUE_FILLFACTOR}})


class MailboxRow(Base):
    """The email channel's place in one IMAP mailbox of a bot: the mailbox's ``UIDVALIDITY`` and
    the highest UID already stored in the inbox (the next poll fetches the UIDs above it; a new
    UIDVALIDITY starts again from 0, the inbox's Message-ID de-duplicating what was stored).
    One process at a time reads a mailbox (`claimed_by` until `claimed_until`, a lease renewed
    each poll: two ``gb serve`` never both fetch). `mailbox` names it without credentials
    (``user@host:port/INBOX``)."""

    __tablename__ = "mailboxes"
    bot_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(300), primary_key=True)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(Time)
    polled_at: Mapped[dt.datetime | None] = mapped_column(Time)
