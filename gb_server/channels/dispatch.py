"""The channels' two loops in every ``gb serve`` process: the inbox's turns and the outbox's deliveries.

**Inbox.** A stored inbound message (webhook.py committed it before answering the platform) is
claimed (a lease of LEASE_SECONDS), turned into an :class:`~gb_runtime.Inbound` with its
``inbox_id`` and handled through the one turn path (``Turns.message``): the turn marks it done in
its own transaction, so it is handled once, even when a process dies after the acknowledgement
(its lease lapses and another process claims it) or two processes get to it (InboxDone: the
second stores nothing). Up to INBOX_IN_FLIGHT turns run at once, claimed as places free. A
refusal that time can mend (the store down, the session busy, a rate limit) is retried later;
another one fails the message for good, its error kept.

**Outbox.** A pending outbound message (written in its turn's transaction) is claimed, sent
by its channel's adapter (a send lasts at most half the lease), and marked sent with the
platform's id (the sends of a claimed batch that are done are marked together every
MARK_SECONDS: a process dying between a send and its mark has that message sent again after
the lease, at least once, as a single message's mark would; up to BATCHES_IN_FLIGHT batches are
sent at once, so a slow platform holds back only its own); a failure is retried after
:func:`~.base.backoff` (``outbox-retry-seconds`` of the bot, default 2, doubling, at most 300)
and dead-lettered after ``outbox-max-attempts`` (default 10) or at once when retrying cannot
help, with the platform's answer kept. Messages of one address leave in order (the queue claims
only the first waiting one of each).

Both loops poll every POLL_SECONDS and wake at once when this process stored something
(``kick``); a round after one that found rows claims without reading first. The dispatcher
remembers when each address last wrote (the newest inbound message it claimed of it: WhatsApp's
24-hour window, answered without a query while it is open; ``last_wrote``). Several processes
share one database's queues: the claims are atomic (``FOR UPDATE SKIP LOCKED`` on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from gb_runtime import (
    ChannelQueue,
    Inbound,
    InboxDone,
    InboxItem,
    OutboxItem,
    RateLimited,
    Refusal,
    SessionBusy,
    SessionExists,
    StoreUnavailable,
    UnknownBot,
    utcnow,
)

from ..base import ApiError
from .base import ChannelRegistry, DeliveryFailed, backoff
from .http import PlatformError

if TYPE_CHECKING:
    from ..turns import Turns

__all__ = ["Dispatcher", "POLL_SECONDS", "LEASE_SECONDS"]

log = logging.getLogger("gb.channels")
POLL_SECONDS = 0.5
LEASE_SECONDS = 60.0  # a claimed message is another process's to take after this long
INBOX_ATTEMPTS = 10  # claims of an inbound message before it fails for good
STOP_SECONDS = 10.0
BATCHES_IN_FLIGHT = 4  # outbox batches a process sends at once
INBOX_IN_FLIGHT = 100  # inbound messages a process handles at once (bench/channels.py: 40 left the inbox behind)
MARK_TRIES = 6  # writes of a batch's sent marks before giving up (about 6 s in all)
MARK_SECONDS = 0.05  # how often a batch's finished sends are marked sent (one write for those done)
REMEMBERED_ADDRESSES = 10_000  # (bot, channel, address) -> when it last wrote, the most recent ones


class Dispatcher:
    """The inbox and outbox loops of one process.

    Args:
        turns: the one turn path (its runtime handles the messages).
        queue: the inbox and outbox.
        channels: the adapters (for sending, typing, fetching files).
    """

    def __init__(self, turns: Turns, queue: ChannelQueue, channels: ChannelRegistry, *,
                 poll_seconds: float = POLL_SECONDS, lease_seconds: float = LEASE_SECONDS) -> None:
        self.turns = turns
        self.queue = queue
        self.channels = channels
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake_in = asyncio.Event()
        self._wake_out = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._running: set[asyncio.Future[Any]] = set()
        self.handled = 0
        self.delivered = 0
        self._stopping = False
        self._batches: set[asyncio.Future[Any]] = set()
        self._handling: set[asyncio.Future[Any]] = set()  # the inbound messages' turns running
        self._found = {"in": False, "out": False}  # the previous round of that loop claimed rows
        self._wrote: OrderedDict[tuple[str, str, str], dt.datetime] = OrderedDict()
        channels.dispatcher = self

    # --- life ----------------------------------------------------------------------------------------
    def start(self) -> None:
        if not self._tasks:
            self._tasks = [asyncio.ensure_future(self._loop(self._wake_in, self._inbox_round)),
                           asyncio.ensure_future(self._loop(self._wake_out, self._outbox_round))]

    async def stop(self) -> None:
        """Stop claiming; what is being handled or sent finishes first (STOP_SECONDS at most:
        the rest is claimed again by the next process after its lease). The loops end between
        two rounds, not inside one: a database call is never cut off (aiosqlite's thread would
        answer a loop that is gone)."""
        self._stopping = True
        self.kick()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=STOP_SECONDS)
            for task in late:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._tasks = []
        if self._running:
            await asyncio.wait(self._running, timeout=STOP_SECONDS)

    def kick(self) -> None:
        """Something was stored here: look at the queues now."""
        self._wake_in.set()
        self._wake_out.set()

    async def _loop(self, wake: asyncio.Event, round_: Any) -> None:
        down = False
        while not self._stopping:
            wake.clear()
            try:
                busy = await round_()
                down = False
            except StoreUnavailable as exc:
                if not down:
                    log.warning("channel queues: %s", exc)
                down, busy = True, False
            except Exception:
                log.exception("channel queue round failed")
                busy = False
            if busy or self._stopping:
                continue  # a full batch: there may be more right away
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self.poll_seconds)

    def _spawn(self, coro: Any) -> asyncio.Future[Any]:
        task: asyncio.Future[Any] = asyncio.ensure_future(coro)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    # --- inbox ---------------------------------------------------------------------------------------
    async def _inbox_round(self) -> bool:
        """Claim as many messages as there is room for (INBOX_IN_FLIGHT handled at once, claimed
        once a quarter of it is free) and start their turns: a slow turn holds back only its own
        place, not a whole batch's next claim."""
        while INBOX_IN_FLIGHT - len(self._handling) < INBOX_IN_FLIGHT // 4:
            await asyncio.wait(self._handling, return_when=asyncio.FIRST_COMPLETED)
        room = INBOX_IN_FLIGHT - len(self._handling)
        items = await self.queue.claim_inbox(self.owner, self.lease_seconds, limit=room,
                                             probe=not self._found["in"])
        self._found["in"] = bool(items)
        for item in items:
            task = self._spawn(self.handle(item))
            self._handling.add(task)
            task.add_done_callback(self._handling.discard)
        return len(items) >= room

    async def handle_now(self, ids: list[int]) -> None:
        """Handle these stored inbound messages now, in this request (an inline channel's
        webhook answers with their replies); one another process holds is waited for."""
        for item_id in ids:
            for _ in range(int(self.lease_seconds * 10)):
                claimed = await self.queue.claim_inbox(self.owner, self.lease_seconds, ids=[item_id])
                if claimed:
                    await self.handle(claimed[0])
                    break
                item = await self.queue.inbox(item_id)
                if item is None or item.status != "new":
                    break
                await asyncio.sleep(0.1)

    def wrote(self, bot_id: str, channel: str, address: str, at: dt.datetime) -> None:
        """The address wrote to the bot on the channel at `at` (kept if newer than what is known)."""
        key = (bot_id, channel, address)
        known = self._wrote.pop(key, None)
        self._wrote[key] = at if known is None or at > known else known
        if len(self._wrote) > REMEMBERED_ADDRESSES:
            self._wrote.popitem(last=False)

    def last_wrote(self, bot_id: str, channel: str, address: str) -> dt.datetime | None:
        """When the address last wrote, as far as this process knows (the newest inbound message of
        it this dispatcher claimed); None when it does not know. Another process may have handled
        a newer one: a caller refusing on this answer asks the queue first (last_inbound)."""
        return self._wrote.get((bot_id, channel, address))

    async def handle(self, item: InboxItem) -> None:
        """One claimed inbound message through the turn path (see the module docstring)."""
        payload = item.payload
        self.wrote(item.bot_id, item.channel, item.address, item.received_at)
        try:
            attachment = await self._attachment(item)
            adapter = self.channels.get(item.bot_id, item.channel)
            if adapter is not None:
                await adapter.typing(item.address)
            if payload.get("start"):  # a call that rings, a user added: the conversation starts, no message
                if not await self._open(item):
                    await self.turns.ctx.runtime.start(item.bot_id, channel=item.channel, address=item.address,
                                                       session_id=_start_id(item), inbox_id=item.id, handled=True)
            else:
                text = str(payload.get("text") or "")  # a file's caption, else "[file] name" as the web's upload
                if not text and attachment is not None:
                    text = f"[file] {attachment.get('name') or 'file'}"
                await self.turns.message(Inbound(bot=item.bot_id, text=text, channel=item.channel,
                                                 address=item.address, attachment=attachment, inbox_id=item.id,
                                                 platform_id=item.platform_id, origin=f"channel:{item.channel}"))
            self.handled += 1
        except (InboxDone, SessionExists):
            log.info("inbound %s (%s %s) was handled by another process", item.id, item.channel, item.platform_id)
        except (StoreUnavailable, SessionBusy, RateLimited) as exc:
            if item.attempts >= INBOX_ATTEMPTS:
                await self.queue.inbox_failed(item.id, f"{type(exc).__name__}: {exc}")
            else:
                wait = exc.retry_after if exc.retry_after is not None else backoff(item.attempts, 2.0)
                await self.queue.inbox_retry(item.id, f"{type(exc).__name__}: {exc}",
                                             utcnow() + dt.timedelta(seconds=wait))
        except DeliveryFailed as exc:  # a file the platform would not give (yet)
            if exc.retry and item.attempts < INBOX_ATTEMPTS:
                wait = exc.retry_after if exc.retry_after is not None else backoff(item.attempts, 2.0)
                await self.queue.inbox_retry(item.id, exc.message, utcnow() + dt.timedelta(seconds=wait))
            else:
                await self.queue.inbox_failed(item.id, f"DeliveryFailed: {exc.message}")
        except (Refusal, UnknownBot, ApiError) as exc:  # refused for good (a text too long, a bot gone)
            log.warning("inbound %s (%s of bot %s) failed: %s", item.id, item.channel, item.bot_id, exc)
            await self.queue.inbox_failed(item.id, f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            log.exception("inbound %s (%s of bot %s) failed", item.id, item.channel, item.bot_id)
            if item.attempts >= INBOX_ATTEMPTS:
                await self.queue.inbox_failed(item.id, f"{type(exc).__name__}: {exc}")
            else:
                await self.queue.inbox_retry(item.id, f"{type(exc).__name__}: {exc}",
                                             utcnow() + dt.timedelta(seconds=backoff(item.attempts, 2.0)))
        self._wake_out.set()

    async def _open(self, item: InboxItem) -> bool:
        """A start row of an address whose conversation is open already (Teams adds a user to a
        chat that has one): nothing to start, the row fails with why (one session an address)."""
        open_id = await self.turns.ctx.runtime.session_at(item.bot_id, item.channel, item.address)
        if open_id is None:
            return False
        await self.queue.inbox_failed(item.id, f"not started: the conversation of {item.address} is open already "
                                               f"(session {open_id})")
        return True

    async def _attachment(self, item: InboxItem) -> dict[str, Any] | None:
        """The message's first file, fetched from the platform and stored in the bot's storage
        (the HEAR AS FILE variable's object), or None."""
        refs = item.payload.get("attachments") or []
        if not refs:
            return None
        adapter = self.channels.get(item.bot_id, item.channel)
        if adapter is None:
            raise DeliveryFailed(f"the {item.channel} channel of bot {item.bot_id} is not configured", retry=False)
        data, name, declared = await adapter.fetch(refs[0])
        files = getattr(self.turns.ctx.runtime, "files", None)
        if files is None:
            return {"name": name or "file", "type": declared or "application/octet-stream", "size": len(data)}
        stored: dict[str, Any] = await files.save(item.bot_id, data, name, declared)
        return stored

    # --- outbox --------------------------------------------------------------------------------------
    async def _outbox_round(self) -> bool:
        """Claim a batch and start sending it; up to BATCHES_IN_FLIGHT batches at once, so one slow
        platform (or address) does not hold the others' messages back. Rows in flight stay
        claimed (their lease), and an address's next row waits until its earlier one is sent."""
        if len(self._batches) >= BATCHES_IN_FLIGHT:
            await asyncio.wait(self._batches, return_when=asyncio.FIRST_COMPLETED)
        items = await self.queue.claim_outbox(self.owner, self.lease_seconds, probe=not self._found["out"])
        self._found["out"] = bool(items)
        if items:  # stop() lets a batch finish its sends and their writes (_running)
            batch = self._spawn(self._deliver_batch(items))
            self._batches.add(batch)
            batch.add_done_callback(self._batches.discard)
        return len(items) >= 20

    async def _deliver_batch(self, items: list[OutboxItem]) -> None:
        """Send a claimed batch side by side; the sends that went through are marked sent
        together every MARK_SECONDS (one write for those done by then), so a slow send delays
        only its own mark, never long enough for the others' leases to lapse."""
        sends: dict[asyncio.Future[tuple[bool, str | None]], OutboxItem] = {
            asyncio.ensure_future(self._send(item)): item for item in items}
        pending: set[asyncio.Future[tuple[bool, str | None]]] = set(sends)
        while pending:
            done, pending = await asyncio.wait(pending, timeout=MARK_SECONDS)
            delivered: list[tuple[OutboxItem, str | None]] = []
            for task in done:
                item = sends[task]
                if task.exception() is not None:  # left claimed: sent again after its lease
                    log.error("outbound %s to %s %s failed", item.id, item.channel, item.address,
                              exc_info=task.exception())
                elif task.result()[0]:
                    delivered.append((item, task.result()[1]))
            if delivered:
                await self._sent(delivered)

    async def deliver(self, item: OutboxItem) -> None:
        """Send one claimed outbound message and mark it sent (see the module docstring)."""
        ok, platform_id = await self._send(item)
        if ok:
            await self._sent([(item, platform_id)])

    async def _sent(self, delivered: list[tuple[OutboxItem, str | None]]) -> None:
        """Mark these delivered, in one write; tried again (it is idempotent) while the database
        does not take it: a mark given up leaves delivered messages to be sent again after their lease."""
        marks = [(item.id, platform_id) for item, platform_id in delivered]
        for attempt in range(MARK_TRIES):
            try:
                await self.queue.sent_many(marks)
                break
            except Exception as exc:
                if attempt == MARK_TRIES - 1:
                    raise
                log.warning("marking %d delivered messages sent failed (%s); trying again", len(marks), exc)
                await asyncio.sleep(0.2 * 2 ** attempt)
        for item, _ in delivered:
            self.delivered += 1
            self.turns.ctx.metrics.channel_out.labels(item.channel, "sent").inc()

    async def _send(self, item: OutboxItem) -> tuple[bool, str | None]:
        """Send one claimed outbound message: (True, the platform's id) when it was accepted; a
        failure is handled here (retried later or dead-lettered) and gives (False, None)."""
        try:
            adapter = self.channels.get(item.bot_id, item.channel)
        except UnknownBot as exc:
            await self.queue.dead(item.id, str(exc))
            return False, None
        if adapter is None:
            await self.queue.dead(item.id, f"the {item.channel} channel of bot {item.bot_id} is not configured "
                                           "(its keys are not in config.csv)")
            return False, None
        try:  # never longer than half the lease: a send is over before another process may claim it
            return True, await asyncio.wait_for(adapter.send(item), self.lease_seconds / 2)
        except TimeoutError:
            failure = DeliveryFailed(f"{item.channel} did not answer within {self.lease_seconds / 2:.0f} s "
                                     "(it may have got the message: it is sent again)", retry=True)
        except DeliveryFailed as exc:
            failure = exc
        except PlatformError as exc:
            failure = DeliveryFailed(f"{item.channel} could not be reached: {exc.message}", retry=exc.retry)
        await self._failed(item, adapter.config.number("outbox-max-attempts", 10),
                           adapter.config.number("outbox-retry-seconds", 2.0), failure)
        return False, None

    async def _failed(self, item: OutboxItem, max_attempts: float, base: float, exc: DeliveryFailed) -> None:
        if not exc.retry or item.attempts >= max_attempts:
            log.warning("outbound %s to %s %s dead after %d attempts: %s", item.id, item.channel, item.address,
                        item.attempts, exc.message)
            await self.queue.dead(item.id, exc.message)
            self.turns.ctx.metrics.channel_out.labels(item.channel, "dead").inc()
            return
        self.turns.ctx.metrics.channel_out.labels(item.channel, "retry").inc()
        wait = max(exc.retry_after or 0.0, backoff(item.attempts, base))
        log.info("outbound %s to %s %s: %s; again in %.1f s", item.id, item.channel, item.address, exc.message, wait)
        await self.queue.retry(item.id, exc.message, utcnow() + dt.timedelta(seconds=wait))


def _start_id(item: InboxItem) -> uuid.UUID:
    from gb_runtime.routing import session_id_for

    return session_id_for(item.bot_id, item.channel, item.address, item.platform_id)
