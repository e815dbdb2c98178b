"""The email channel's IMAP cursors in SQL (table ``mailboxes``), and the inbox and outbox
lookups that thread its conversations.

A bot's mailbox is read by one process at a time: :meth:`MailboxStore.claim` takes (or
renews) its lease with one conditional UPDATE, the pattern of the queues' claims, so two
``gb serve`` processes on one database never both fetch it. The cursor is the mailbox's
``UIDVALIDITY`` and the highest UID stored in the inbox; it moves (:meth:`advance`) only after
a mail's inbox row is committed, and only while the lease is still this process's: a process
dying between the two fetches that mail again, and the inbox (unique on Message-ID) stores it once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from .schema import InboxRow, MailboxRow, OutboxRow
from .session import utcnow
from .sql import unavailable_on_error

__all__ = ["MailboxCursor", "MailboxStore"]

MB, IN, OUT = (cast(Table, t.__table__) for t in (MailboxRow, InboxRow, OutboxRow))


@dataclass(frozen=True)
class MailboxCursor:
    """Where the last poll of a mailbox stopped: its UIDVALIDITY (None before the first poll)
    and the highest UID already in the inbox."""

    uidvalidity: int | None
    last_uid: int


class MailboxStore:
    """The mailboxes' cursors and leases of one database (PostgreSQL or SQLite)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"

    def _key(self, bot_id: str, mailbox: str) -> Any:
        return (MB.c.bot_id == bot_id) & (MB.c.mailbox == mailbox)

    async def claim(self, bot_id: str, mailbox: str, owner: str, lease_seconds: float) -> MailboxCursor | None:
        """Take or renew the lease of the mailbox for `owner`: its cursor, or None while
        another process holds it (its lease not yet lapsed)."""
        now = utcnow()
        values = {"bot_id": bot_id, "mailbox": mailbox, "uidvalidity": None, "last_uid": 0}
        ins = (sqlite_insert(MB) if self.sqlite else pg_insert(MB)).values(**values)
        first = ins.on_conflict_do_nothing(index_elements=["bot_id", "mailbox"])
        take = (update(MB).where(self._key(bot_id, mailbox),
                                 or_(MB.c.claimed_by == owner, MB.c.claimed_until.is_(None), MB.c.claimed_until < now))
                .values(claimed_by=owner, claimed_until=now + dt.timedelta(seconds=lease_seconds))
                .returning(MB.c.uidvalidity, MB.c.last_uid))
        async with unavailable_on_error(), self.engine.begin() as conn:
            await conn.execute(first)
            row = (await conn.execute(take)).first()
        return MailboxCursor(row.uidvalidity, int(row.last_uid)) if row is not None else None

    async def advance(self, bot_id: str, mailbox: str, owner: str, uidvalidity: int, last_uid: int) -> bool:
        """Move the cursor (the mail of UID `last_uid` is in the inbox); False when the lease is
        no longer `owner`'s (the poll stops: another process reads the mailbox now)."""
        async with unavailable_on_error(), self.engine.begin() as conn:
            done = await conn.execute(update(MB).where(self._key(bot_id, mailbox), MB.c.claimed_by == owner)
                                      .values(uidvalidity=uidvalidity, last_uid=last_uid, polled_at=utcnow()))
        return bool(done.rowcount)

    async def release(self, bot_id: str, mailbox: str, owner: str) -> None:
        """Give the lease up (the process stops): another process may read the mailbox at once."""
        async with unavailable_on_error(), self.engine.begin() as conn:
            await conn.execute(update(MB).where(self._key(bot_id, mailbox), MB.c.claimed_by == owner)
                               .values(claimed_by=None, claimed_until=None))

    async def cursor(self, bot_id: str, mailbox: str) -> MailboxCursor | None:
        """The mailbox's cursor as stored (None before its first poll)."""
        async with unavailable_on_error(), self.engine.connect() as conn:
            row = (await conn.execute(select(MB.c.uidvalidity, MB.c.last_uid).where(self._key(bot_id, mailbox))
                                      )).first()
        return MailboxCursor(row.uidvalidity, int(row.last_uid)) if row is not None else None

    # --- threads --------------------------------------------------------------------------------------
    async def thread_address(self, bot_id: str, channel: str, message_ids: list[str]) -> str | None:
        """The address of the conversation a mail of `message_ids` (its thread's root first)
        belongs to: the inbound or outbound message of the bot with one of those ids, or None."""
        if not message_ids:
            return None
        async with unavailable_on_error(), self.engine.connect() as conn:
            for t in (IN, OUT):
                address = (await conn.execute(select(t.c.address).where(
                    t.c.bot_id == bot_id, t.c.channel == channel, t.c.platform_id.in_(message_ids))
                    .order_by(t.c.id).limit(1))).scalar()
                if address is not None:
                    return str(address)
        return None

    async def received_since(self, bot_id: str, channel: str, address: str, since: dt.datetime) -> int:
        """How many messages of `address` the inbox took since `since` (the per-address rate limit)."""
        async with unavailable_on_error(), self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(IN).where(
                IN.c.bot_id == bot_id, IN.c.channel == channel, IN.c.address == address,
                IN.c.received_at >= since))).scalar_one())

    async def last_payload(self, bot_id: str, channel: str, address: str) -> dict[str, Any] | None:
        """The payload of the newest message of `address` in the inbox (what a reply threads on), or None."""
        async with unavailable_on_error(), self.engine.connect() as conn:
            payload = (await conn.execute(select(IN.c.payload).where(
                IN.c.bot_id == bot_id, IN.c.channel == channel, IN.c.address == address)
                .order_by(IN.c.id.desc()).limit(1))).scalar()
        return dict(payload) if payload is not None else None

    async def payload(self, inbox_id: int) -> dict[str, Any] | None:
        """The payload of inbound message `inbox_id`, or None."""
        async with unavailable_on_error(), self.engine.connect() as conn:
            payload = (await conn.execute(select(IN.c.payload).where(IN.c.id == inbox_id))).scalar()
        return dict(payload) if payload is not None else None
