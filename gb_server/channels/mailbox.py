"""The email channel's way in: every bot's IMAP mailbox read by one ``gb serve`` process, each
new mail stored in the inbox (then the normal inbound path: dispatch.py turns it into a turn).

Every ``email-poll-seconds`` (default 30) the process that holds the mailbox's lease
(gb_sessions.mailboxes: claimed with a conditional UPDATE, renewed each poll, lapsing
LEASE_SECONDS after a process dies) logs in, SELECTs the folder and fetches the UIDs above its
cursor; where the server has IMAP IDLE (RFC 2177), the poll then waits in IDLE (a third of the
lease at most, so the lease is renewed in time) and a new mail's EXISTS starts the next poll at
once: a mail is read when it arrives, not a poll interval later.

For each mail, in UID order: the inbox row is committed (unique on the Message-ID), the mail is
flagged ``\\Seen``, then the cursor moves past its UID. A process dying between two of those
steps fetches the mail again next time and the inbox stores nothing new: no mail is handled
twice, none is skipped. A new ``UIDVALIDITY`` (the server renumbered the
folder) re-reads it from the start, safely for the same reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import re
import ssl
from typing import TYPE_CHECKING, Any

import aioimaplib
from aioimaplib import STOP_WAIT_SERVER_PUSH

from gb_runtime import ChannelQueue, MailboxStore, UnknownBot, utcnow

from ..base import ApiError
from .email import Email, MailServer, Skipped, read_mail

if TYPE_CHECKING:
    from .base import ChannelRegistry

__all__ = ["MailPoller", "POLL_SECONDS", "LEASE_SECONDS"]

log = logging.getLogger("gb.channels")
POLL_SECONDS = 30.0  # email-poll-seconds' default
LEASE_SECONDS = 120.0  # a mailbox's lease by default (gb serve gives GB_CHANNEL_LEASE_SECONDS): another
# process reads the mailbox this long after its holder died
TICK_SECONDS = 0.1  # how often the poller looks for a mailbox whose poll is due
BATCH = 50  # mails fetched a poll (the rest the next poll: a poll stays well within the lease)
RATE_PER_HOUR = 20.0  # email-rate-per-hour's default
IMAP_TIMEOUT = 30.0  # seconds, each IMAP command
STOP_SECONDS = 10.0  # how long stopping waits for a poll under way


class MailPoller:
    """The mailboxes' polls of one process.

    Args:
        bots: the bot registry (which bots there are).
        channels: the adapters (a bot's Email, when its config.csv turns it on).
        queue: the inbox the mails go into.
        kick: called when mails were stored (the dispatcher looks at once).
        owner: this process's name in the leases (the dispatcher's).
    """

    def __init__(self, bots: Any, channels: ChannelRegistry, queue: ChannelQueue, kick: Any, owner: str, *,
                 lease_seconds: float = LEASE_SECONDS) -> None:
        self.bots = bots
        self.channels = channels
        self.queue = queue
        self.cursors = MailboxStore(queue.engine)
        self.kick = kick
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.fetched = 0  # mails this process fetched (the tests: two processes never both fetch one)
        self._due: dict[str, float] = {}
        self._polls: dict[str, asyncio.Task[None]] = {}
        self._held: dict[str, MailServer] = {}  # bot -> the mailbox whose lease it holds
        self._task: asyncio.Task[None] | None = None
        self._failing: set[str] = set()
        self._idling: set[str] = set()  # the bots whose poll waits in IDLE (stop cuts them off at once)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stop polling; a poll under way ends first, then the leases are given up."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for bot in list(self._idling):  # waiting for news only: nothing is lost by cutting it off
            if bot in self._polls:
                self._polls[bot].cancel()
        if self._polls:
            _, late = await asyncio.wait(list(self._polls.values()), timeout=STOP_SECONDS)
            for task in late:  # a server that does not answer: the mail is fetched again by the next holder
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for bot, server in list(self._held.items()):
            with contextlib.suppress(Exception):
                await self.cursors.release(bot, server.name, self.owner)
        self._held.clear()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                names = self.bots.names()
            except Exception:
                log.exception("email: the bots cannot be listed")
                names = []
            for bot in names:
                if bot in self._polls or self._due.get(bot, 0.0) > loop.time():
                    continue
                self._due[bot] = loop.time() + POLL_SECONDS
                try:  # a bot whose config.csv is broken (an env: unset) is skipped, said once
                    adapter = self._adapter(bot)
                    if adapter is None:
                        continue
                    self._due[bot] = loop.time() + adapter.config.number("email-poll-seconds", POLL_SECONDS)
                except Exception as exc:
                    self._failed(bot, exc)
                    continue
                task = asyncio.ensure_future(self._poll_quietly(bot, adapter))
                self._polls[bot] = task
                task.add_done_callback(functools.partial(self._done, bot))
            await asyncio.sleep(TICK_SECONDS)

    def _failed(self, bot: str, exc: BaseException) -> None:
        """Log a bot's mailbox failing, once until it answers again (each poll tries again)."""
        if bot not in self._failing:
            self._failing.add(bot)
            log.warning("email of bot %s: polling its mailbox failed: %s", bot, _described(exc))

    def _done(self, bot: str, _: asyncio.Task[None]) -> None:
        self._polls.pop(bot, None)

    def _adapter(self, bot: str) -> Email | None:
        try:
            adapter = self.channels.get(bot, Email.name)
        except UnknownBot:
            return None
        return adapter if isinstance(adapter, Email) and adapter.config.has("email-imap-url") else None

    async def _poll_quietly(self, bot: str, adapter: Email) -> None:
        try:
            await self.poll(adapter, idle=True)
            if bot in self._failing:
                self._failing.discard(bot)
                log.info("email of bot %s: the mailbox answers again", bot)
        except Exception as exc:  # logged once until it answers again: the next poll tries again
            self._failed(bot, exc)

    async def poll(self, adapter: Email, *, idle: bool = False) -> int:
        """One poll of the bot's mailbox (when this process holds its lease): the mails stored.
        With `idle`, on a server that has IDLE, it then waits there for news (see the module
        docstring): the next poll comes at once when a mail arrived."""
        server = adapter.imap()
        if server is None:
            return 0
        cursor = await self.cursors.claim(adapter.bot, server.name, self.owner, self.lease_seconds)
        if cursor is None:
            return 0  # another process reads it
        self._held[adapter.bot] = server
        client = await asyncio.wait_for(_connect(server), IMAP_TIMEOUT)
        stored = 0
        try:
            selected = await client.select(_quoted(server.folder))
            if selected.result != "OK":
                raise ApiError(503, "channel_misconfigured", f"bot {adapter.bot}: the folder {server.folder!r} "
                                                             f"cannot be selected: {_lines(selected)}")
            uidvalidity = _uidvalidity(selected)
            last = cursor.last_uid
            if cursor.uidvalidity is not None and cursor.uidvalidity != uidvalidity:
                log.warning("email of bot %s: %s has a new UIDVALIDITY (%s, was %s): reading it again from the "
                            "start (mails already stored are recognised by their Message-ID)", adapter.bot,
                            server.name, uidvalidity, cursor.uidvalidity)
                last = 0
            if cursor.uidvalidity != uidvalidity and not await self.cursors.advance(
                    adapter.bot, server.name, self.owner, uidvalidity, last):
                return 0
            for uid in (await _new_uids(client, last))[:BATCH]:
                if await self._one(adapter, client, server, uidvalidity, uid):
                    stored += 1
                if not await self.cursors.advance(adapter.bot, server.name, self.owner, uidvalidity, uid):
                    log.warning("email of bot %s: the lease of %s passed to another process mid-poll", adapter.bot,
                                server.name)
                    break
            else:
                if idle and client.has_capability("IDLE"):
                    if stored:
                        self.kick()
                        stored = 0
                    wait = min(adapter.config.number("email-poll-seconds", POLL_SECONDS), self.lease_seconds / 3)
                    self._idling.add(adapter.bot)
                    try:
                        if await _idle(client, wait):
                            self._due[adapter.bot] = 0.0  # a mail came: the next poll now
                    finally:
                        self._idling.discard(adapter.bot)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.logout(), 5)
        if stored:
            self.kick()
        return stored

    async def _one(self, adapter: Email, client: aioimaplib.IMAP4, server: MailServer, uidvalidity: int,
                   uid: int) -> bool:
        """Fetch mail `uid`, store it in the inbox (unless it is not a person's message), flag it
        seen; True when it became a new inbound message."""
        raw = await _fetch(client, uid)
        self.fetched += 1
        new = False
        try:
            received = read_mail(raw, adapter.address, f"{uidvalidity}.{uid}@{server.name}",
                                 adapter.config.get("email-authserv-id") or None)
            extra = received.extra
            address = await self.cursors.thread_address(
                adapter.bot, adapter.name, [extra["root"], *extra["references"], *([extra["in_reply_to"]]
                                                                                  if extra["in_reply_to"] else [])])
            address = address or received.address
            if await self._over_rate(adapter, address):
                rate = adapter.config.number("email-rate-per-hour", RATE_PER_HOUR)
                raise Skipped(f"{address} sent more than {rate:g} mails in the last hour")
            _, new = await self.queue.receive(adapter.bot, adapter.name, received.platform_id, address,
                                              received.payload())
            if not new:
                log.info("email of bot %s: mail %s was stored before", adapter.bot, received.platform_id)
        except Skipped as why:
            log.info("email of bot %s: mail UID %s of %s passed over: %s", adapter.bot, uid, server.name, why)
        await client.uid("store", str(uid), "+FLAGS", "(\\Seen)")
        return new

    async def _over_rate(self, adapter: Email, address: str) -> bool:
        rate = adapter.config.number("email-rate-per-hour", RATE_PER_HOUR)
        since = utcnow() - dt.timedelta(hours=1)
        return await self.cursors.received_since(adapter.bot, adapter.name, address, since) >= rate


async def _connect(server: MailServer) -> aioimaplib.IMAP4:
    """A logged-in IMAP client of the mailbox.

    Raises:
        ApiError: 503 when the server refuses the login (the config's credentials).
    """
    if server.tls:
        client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(host=server.host, port=server.port, timeout=IMAP_TIMEOUT,
                                                        ssl_context=ssl.create_default_context())
    else:
        client = aioimaplib.IMAP4(host=server.host, port=server.port, timeout=IMAP_TIMEOUT)
    await client.wait_hello_from_server()
    response = await client.login(server.user or "", server.password or "")
    if response.result != "OK":
        with contextlib.suppress(Exception):
            await client.logout()
        raise ApiError(503, "channel_misconfigured", f"the IMAP server {server.host}:{server.port} refused the "
                                                     f"login of {server.user}: {_lines(response)}")
    return client


async def _idle(client: aioimaplib.IMAP4, seconds: float) -> bool:
    """Wait in IDLE up to `seconds` for the server to say the folder has a new mail (EXISTS): True
    when it did, False when the time is up."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    idle = await client.idle_start(timeout=seconds + IMAP_TIMEOUT)
    try:
        while (left := end - loop.time()) > 0:
            try:
                news = await client.wait_server_push(timeout=left)
            except TimeoutError:
                return False
            if news == STOP_WAIT_SERVER_PUSH:
                return False
            if any(b"EXISTS" in bytes(line) for line in news if isinstance(line, bytes | bytearray)):
                return True
        return False
    finally:
        client.idle_done()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(idle, 5)


async def _new_uids(client: aioimaplib.IMAP4, last: int) -> list[int]:
    """The UIDs above `last`, in order (``n:*`` also names the highest UID when none is above n)."""
    response = await client.uid_search(f"UID {last + 1}:*", charset=None)
    if response.result != "OK":
        raise ApiError(503, "imap_failed", f"UID SEARCH failed: {_lines(response)}")
    uids: set[int] = set()
    for line in response.lines:
        text = bytes(line).decode("ascii", "replace") if isinstance(line, bytes | bytearray) else str(line)
        if text.upper().startswith("SEARCH"):
            text = text[6:]
        uids.update(int(t) for t in text.split() if t.isdigit())
    return sorted(u for u in uids if u > last)


async def _fetch(client: aioimaplib.IMAP4, uid: int) -> bytes:
    """The whole mail of `uid` (BODY.PEEK: fetching alone does not flag it seen)."""
    response = await client.uid("fetch", str(uid), "(BODY.PEEK[])")
    if response.result != "OK":
        raise ApiError(503, "imap_failed", f"UID FETCH {uid} failed: {_lines(response)}")
    literals = [bytes(line) for line in response.lines if isinstance(line, bytearray)]
    if not literals:
        raise ApiError(503, "imap_failed", f"UID FETCH {uid} brought no message")
    return max(literals, key=len)


def _uidvalidity(response: Any) -> int:
    for line in response.lines:
        text = bytes(line).decode("ascii", "replace") if isinstance(line, bytes | bytearray) else str(line)
        found = re.search(r"\[UIDVALIDITY (\d+)\]", text, re.I)
        if found:
            return int(found.group(1))
    raise ApiError(503, "imap_failed", "the IMAP server's SELECT gave no UIDVALIDITY")


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lines(response: Any) -> str:
    return " ".join(bytes(x).decode("utf-8", "replace") if isinstance(x, bytes | bytearray) else str(x)
                    for x in response.lines)[:300]


def _described(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        return exc.message if hasattr(exc, "message") else str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
