"""DialogRuntime: the one door into a bot. One inbound message in, the bot's replies out.

``handle(inbound)``: find and check the session (token, bot, expiry), apply the rate limit,
then, holding the session's lock (across processes), load it, resume the dialog that waits at
HEAR or start one, answer its requests, save everything in ONE transaction, and only then
return the replies. The kernel, the widget, every channel and the tests call it.

``WAIT n`` suspends a dialog like HEAR does, with a timer row stored in the same transaction;
``resume_timer`` (called by the TimerService of whichever process claims the row) continues it
as a turn of its own. Messages that come while it waits are kept, in order, for the HEARs after
the WAIT (a user who typed ahead), at most MAX_TYPED_AHEAD of them.

``run_schedule`` runs a scheduled dialog (``SET SCHEDULE``; the Scheduler of schedules.py calls
it) in a new session of its own on channel "schedule", which ends with the dialog.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import math
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import httpx

from gb_basic import (
    BasicError,
    BasicRuntimeError,
    BudgetExceeded,
    DialogChanged,
    Finished,
    Machine,
    Program,
    StateUnreadable,
    Suspended,
    jsontext,
    values,
)
from gb_basic.machine import state_variables
from gb_sessions import (
    ChannelQueue,
    ConcurrentUpdate,
    InboxDone,
    Message,
    ScheduleStore,
    Session,
    SessionCap,
    SessionExists,
    SessionRecord,
    SessionStore,
    UserStore,
    memory_owner,
    utcnow,
)
from gb_sessions.base import sessions_full
from gb_sessions.knowledge import KnowledgeIndex
from gb_sessions.tables import TableStore
from gb_sessions.tokens import hash_token, new_token, same_hash
from gb_sessions.usage import TokenLedger

from .assistant import Answer, Assistant, BudgetUsedUp, ToolStep
from .bots import BotConfigError, BotPackage, BotRegistry, BotSettings
from .calls import call_target, call_variables, compile_cached, is_call
from .errors import (
    DialogWaiting,
    InvalidToken,
    SessionEnded,
    SessionExpired,
    SessionNotFound,
    SessionTransferred,
    UnknownBot,
    UnknownDialog,
    UploadTooLarge,
    WrongBot,
)
from .files import FileStore
from .http_keywords import HttpAccess
from .identity import link, proven, verified
from .keywords import Fulfiller, is_wait, recent_history, wait_seconds
from .knowledge import KbPassage, KnowledgeBase
from .llm import LlmClient, LlmConfig, LlmError, LlmStopped
from .messages import Handoff, Inbound, Reply, Result, SessionSummary, Waiting
from .routing import route, session_id_for
from .schedules import SCHEDULE_CHANNEL, ScheduleKeyword
from .suggestions import Suggestion, offered, pick
from .wording import said
from .worker import run_dialog

__all__ = ["DialogRuntime", "compile_cached"]

log = logging.getLogger("gb.dialog")
Listener = Callable[[dict[str, Any]], None]
MAX_RETRIES = 5  # a turn that meets a concurrent update is run again on fresh state
MAX_TYPED_AHEAD = 10  # messages a dialog at a WAIT keeps for after it; past them a 429
TIMER_ORIGIN = "timer"  # the `origin` of the turn event of a timer that fired
SCHEDULE_ORIGIN = "schedule"  # the `origin` of the turn event of a scheduled run
OWNERS_KEPT = 10_000  # tokens whose session and bot a runtime remembers (about 2 MB)


class Events(Protocol):
    """Where committed turns go (``gb_runtime.events.SessionEvents``)."""

    def publish(self, session_id: uuid.UUID, payload: dict[str, Any], *, here: bool = True,
                elsewhere: bool = True) -> None: ...
    def subscribe(self, session_id: uuid.UUID, listener: Listener) -> None: ...
    def unsubscribe(self, session_id: uuid.UUID, listener: Listener) -> None: ...


class DialogRuntime:
    """Runs bots' dialogs against a session store.

    Args:
        store: a SessionStore (SqlStore, CachedStore, WriteBehindStore, MemoryStore).
        bots: the bot packages.
        users: accounts (for login); optional.
        events: where each committed turn is published (live sockets, widgets, other
            processes); optional.
        apologize: a failed dialog also tells the user "something went wrong" (the notebook
            shows the error instead).
        clock: the current time (tests move it).
        tables: the bot tables of the session database (TABLE, FIND, SAVE ...); None: a table
            keyword says there is no database.
        http: the client of the dialogs' HTTP keywords (GET url, POST ...); its owner closes it.
            None: those keywords fail with "not available".
        schedules: where SET SCHEDULE keeps the bots' schedules; None: the statement is only
            checked (``gb run``).
        channels: the channels' inbox and outbox (``gb serve``); None: no channel but the web's.
        knowledge: the knowledge index of the session database; None: one in a private in-memory
            SQLite database (the in-memory store).

    Attributes:
        channel_modes: channel -> "push" or "inline" for the channels the server serves (set
            by it): the replies of a session on one of them are queued in its outbox, in the
            turn's transaction (routing.py).
    """

    def __init__(self, store: SessionStore, bots: BotRegistry, *, users: UserStore | None = None,
                 events: Events | None = None, clock: Callable[[], dt.datetime] = utcnow,
                 apologize: bool = True, tables: TableStore | None = None,
                 http: httpx.AsyncClient | None = None, schedules: ScheduleStore | None = None,
                 channels: ChannelQueue | None = None, llm: LlmClient | None = None,
                 ledger: TokenLedger | None = None, knowledge: KnowledgeIndex | None = None) -> None:
        self.store = store
        self.channels = channels
        self.channel_modes: dict[str, str] = {}
        self.schedules = schedules
        self.tables = tables
        self.http = HttpAccess(http) if http is not None else None
        self.bots = bots
        self.files = FileStore(bots)  # uploads, channel media, SEND FILE (files.py)
        self.users = users
        self.events = events
        self.clock = clock
        self.apologize = apologize
        # the LLM of the bots that configure one (assistant.py); its client is the runtime's own
        # the bots' KBs, searched in the session database's knowledge index (knowledge.py)
        llm = llm or LlmClient()
        self.knowledge = KnowledgeBase(knowledge or KnowledgeIndex(None), llm)
        self.assistant = Assistant(llm, ledger or TokenLedger(None), self._search, clock)
        self.instance = uuid.uuid4().hex  # names this runtime in its events: a listener tells its own turns
        self._sending: set[asyncio.Future[None]] = set()
        # called with the due time after a committed turn that set a timer (the TimerService wakes for it)
        self.timer_set: Callable[[dt.datetime], None] | None = None
        # called with the first occurrence of a schedule a SET SCHEDULE statement stored (the same service wakes)
        self.schedule_set: Callable[[dt.datetime], None] | None = None
        # token hash -> (session id, bot) of recent messages, most recent last. A token never
        # names another session (a new one gets a new token), and every message checks it again
        # under the session's lock (hash, status, expiry), so a copy here saves a lookup a message
        # and is never wrong for long: a session gone or re-tokened refuses it there.
        self._owners: OrderedDict[str, tuple[uuid.UUID, str]] = OrderedDict()
        # (bot, channel, address) -> the session of a channel's address, most recent last (the same rules)
        self._addresses: OrderedDict[tuple[str, str, str], uuid.UUID] = OrderedDict()
    # --- sessions ---------------------------------------------------------------------------------
    async def start(self, bot_name: str, *, channel: str = "web", address: str | None = None,
                    user_id: uuid.UUID | None = None, run_start: bool = True, client: str | None = None,
                    session_id: uuid.UUID | None = None, inbox_id: int | None = None,
                    handled: bool = False, first: str | None = None) -> Result:
        """A new session (with a token, shown once); start.bas runs (unless `run_start` is
        False: a notebook runs what it wants) and its replies come back.

        Args:
            client: who asks, as the front knows it (a web client's address): at most
                `session-create-rate` new sessions a minute each. None (the kernel, a channel's
                verified sender): no such limit.
            session_id: the new session's id (a channel's first message derives it: routing.py).
            inbox_id: the channel's inbound message that starts it (its replies answer it); with
                `handled`, the message is marked done with this start (one that carries no
                text: a call that rings, or the `first` message).
            first: the user's message that opened the conversation, on a channel where the
                user speaks first (WhatsApp, SMS): stored before start.bas runs, and not the
                answer to its HEAR.

        Raises:
            SessionExists: a session of `session_id` exists (nothing is stored).
            UnknownBot: no such bot.
            TooManyNewSessions: `client` started `session-create-rate` sessions in the last minute (429).
            TooManySessions: the bot has `max-sessions` active sessions (503, retry in a minute).
        """
        bot = self.bots.get(bot_name)
        s = bot.settings
        if client is not None:
            await self.store.count_start(bot.name, client, s.session_create_rate)
        now = self.clock()
        cap = SessionCap(s.max_sessions, now - dt.timedelta(minutes=s.session_timeout_minutes),
                         now - dt.timedelta(seconds=s.empty_session_seconds))
        active = await self.store.count_active(cap.idle_since, bot.name, empty_since=cap.empty_since)
        if active >= cap.limit:  # before start.bas runs; the store counts again with the insert
            raise sessions_full(bot.name, active, cap.limit)
        token, token_hash = new_token()
        session = Session(id=session_id or uuid.uuid4(), bot_id=bot.name, channel=channel, token_hash=token_hash,
                          created_at=now, last_activity=now, user_id=user_id, address=address)
        self._configure(session, s)
        result = Result(session.id, bot.name, token=token)
        if first is not None:
            result.received = session.add("user", first, channel=channel, at=now)
        if run_start and "start" in bot.dialog_names():
            await self._run(session, bot, bot.dialog("start"), "start", None, result, fresh_start=True)
        session.expires_at = self._expiry(session, s, now)
        result.suggestions = offered(session.context)
        route(session, result, self.channel_modes, inbox_id=inbox_id, handled=handled)
        await self.store.create(session, cap=cap)
        self._publish(result, None)
        return result

    async def authenticate(self, token: str, bot_name: str | None = None) -> uuid.UUID:
        """The session of a token, checked: exists, not expired, still active, and of bot
        `bot_name` (None: any bot; the token names its session and so its bot).

        Raises:
            InvalidToken, WrongBot, SessionEnded, SessionExpired: the token does not admit.
        """
        session = await self._token_session(token)
        self._check(session, bot_name)
        return session.id

    async def _token_session(self, token: str) -> Session:
        token_hash = hash_token(token)
        owner = await self.store.find_token(token_hash)
        session = await self.store.load(owner[0], history_limit=1, with_history=False) if owner else None
        if session is None or not same_hash(session.token_hash, token_hash):
            raise InvalidToken("unknown session token")
        return session

    def _check(self, session: Session, bot_name: str | None) -> None:
        if bot_name is not None and session.bot_id != bot_name:
            raise WrongBot(f"this token belongs to another bot ({session.bot_id}), not {bot_name}")
        if session.status != "active":
            raise SessionEnded("this session has ended; start a new one")
        if session.expires_at is not None and session.expires_at < self.clock():
            raise SessionExpired("this session has expired; start a new one")

    async def end(self, session_id: uuid.UUID) -> None:
        """End a session (DELETE /api/session): its token stops working, its history stays."""
        async with self.store.lock(session_id) as session:
            if session is None:
                raise SessionNotFound(f"session {session_id} does not exist")
            session.status = "ended"
            await self.store.save(session)

    # --- reading ------------------------------------------------------------------------------------
    async def summary(self, session_id: uuid.UUID) -> SessionSummary:
        """Bot, channel, status, user, message count, last activity and the waiting dialog.

        Raises:
            SessionNotFound: no such session.
        """
        return SessionSummary.of(await self._stored(session_id))

    async def history(self, session_id: uuid.UUID, *, after: int | None = None, limit: int | None = None,
                      roles: tuple[str, ...] = ("user", "assistant")) -> list[Message]:
        """A page of the session's stored messages, oldest first: those after row id `after`,
        or the last `limit`, or all; only the given roles (system notes are left out)."""
        return [m for m in await self.store.history(session_id, limit, after=after) if m.role in roles]

    async def variables(self, session_id: uuid.UUID) -> dict[str, Any]:
        """The session's variables (decoded values), with those of a notebook cell waiting at
        HEAR on top (they become the session's when the cell ends)."""
        session = await self._stored(session_id)
        variables: dict[str, Any] = values.decode(session.variables, -1)
        dialog = session.dialog if type(session.dialog) is dict else {}
        if dialog.get("source") is not None:
            variables.update(state_variables(dialog.get("state")))
        return variables

    async def recent(self, bot: str | None = None, limit: int = 20) -> list[SessionRecord]:
        """The most recent sessions (of one bot, or of all), newest first."""
        return await self.store.recent(bot, limit)

    async def active_sessions(self, idle_minutes: float = 30) -> int:
        """Sessions with a message within `idle_minutes`."""
        return await self.store.count_active(self.clock() - dt.timedelta(minutes=idle_minutes))

    async def session_at(self, bot_name: str, channel: str, address: str) -> uuid.UUID | None:
        """The active session of a channel's address, or None (a channel's start asks first:
        one conversation an address)."""
        return await self.store.find(bot_name, channel, address)

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers (health checks)."""
        await self.store.ping()

    async def stream_ticket(self, session_id: uuid.UUID) -> str:
        """A short-lived credential to open a session's stream where a client can only put it
        in a URL (Direct Line's ``streamUrl``): not the token, valid for TICKET_SECONDS."""
        return make_ticket(session_id, (await self._stored(session_id)).token_hash)

    async def check_ticket(self, ticket: str, session_id: uuid.UUID, bot: str | None = None) -> uuid.UUID:
        """The session a stream ticket opens, checked like a token.

        Raises:
            InvalidToken: forged, malformed, or of another session.
            SessionExpired: the ticket's time is over (get a new one).
            WrongBot, SessionEnded: as for a token.
        """
        parts = ticket.split(".")
        try:
            sid, expiry = uuid.UUID(hex=parts[0]), int(parts[1])
        except (ValueError, IndexError):
            raise InvalidToken("the stream ticket is not valid") from None
        if len(parts) != 3 or sid != session_id:
            raise InvalidToken("the stream ticket is not valid")
        if expiry < time.time():
            raise SessionExpired("the stream ticket has expired; get a new streamUrl")
        session = await self.store.load(sid, history_limit=1, with_history=False, fresh=True)
        if session is None or not hmac.compare_digest(_mac(session.token_hash, f"{parts[0]}.{parts[1]}"), parts[2]):
            raise InvalidToken("the stream ticket is not valid")
        self._check(session, bot)
        return sid

    async def _stored(self, session_id: uuid.UUID) -> Session:
        session = await self.store.load(session_id, with_history=False, fresh=True)  # a notebook's saves land first
        if session is None:
            raise SessionNotFound(f"session {session_id} does not exist")
        return session

    # --- live events ----------------------------------------------------------------------------------
    def subscribe(self, session_id: uuid.UUID, listener: Listener) -> None:
        """Call `listener` with each committed turn of the session, from any process."""
        if self.events is not None:
            self.events.subscribe(session_id, listener)

    def unsubscribe(self, session_id: uuid.UUID, listener: Listener) -> None:
        if self.events is not None:
            self.events.unsubscribe(session_id, listener)

    def _publish(self, result: Result, inbound: Inbound | None, *, origin: str | None = None) -> None:
        """After the commit: the turn as an event ``{type: "turn", session_id, bot, received,
        messages, waiting, origin, runtime}`` for the session's listeners everywhere."""
        if result.waiting is not None and result.waiting.due is not None and self.timer_set is not None:
            self.timer_set(result.waiting.due)
        if self.events is None:
            return
        payload = {"type": "turn", **result.to_dict(), "origin": inbound.origin if inbound else origin,
                   "received": _message_dict(result.received), "runtime": self.instance}
        payload.pop("token", None)
        landing = self.store.landing(result.session_id)
        if landing is None:
            self.events.publish(result.session_id, payload)
            return
        # saved in the background (a notebook): here at once, elsewhere once it is stored, as a
        # server's turn is published only after its commit (never a turn another front cannot see)
        self.events.publish(result.session_id, payload, elsewhere=False)
        task = asyncio.ensure_future(self._publish_when_stored(result.session_id, payload, landing))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _publish_when_stored(self, session_id: uuid.UUID, payload: dict[str, Any],
                                   landing: Awaitable[bool]) -> None:
        if await landing and self.events is not None:
            self.events.publish(session_id, payload, here=False)

    # --- messages -------------------------------------------------------------------------------------
    async def handle(self, inbound: Inbound) -> Result:
        """One user message: the bot's replies, after they are stored (and published).

        Raises:
            InvalidToken, WrongBot, SessionEnded, SessionExpired: the token does not admit.
            UploadTooLarge, RateLimited, VariablesTooLarge, StoreUnavailable, UnknownBot.
        """
        token_hash = hash_token(inbound.token) if inbound.token is not None else None
        try:
            return await self._handle(inbound, token_hash)
        except _StaleAddress:  # the session remembered for the address ended or went: look it up again
            return await self._handle(inbound, token_hash)

    async def _handle(self, inbound: Inbound, token_hash: str | None) -> Result:
        sid, bot, started = await self._session_for(inbound, token_hash)
        if started is not None:
            return started
        s = bot.settings
        if inbound.attachment and int(inbound.attachment.get("size", 0)) > s.max_upload_mb * 1024 * 1024:
            raise UploadTooLarge(f"the file is larger than {s.max_upload_mb} MB")
        async with self.store.lock(sid, rate_limit=s.rate_limit_per_minute, history_limit=s.history_limit) as held:
            session = held
            for attempt in range(MAX_RETRIES):
                if token_hash is None and inbound.address is not None and inbound.session_id is None and \
                        not _at_address(session, inbound):
                    # The copy the lock read may be a cache's that is behind the database: a process
                    # killed between a turn's commit and its write-through (a TRANSFER_SESSION to
                    # this address) leaves it. The database says, before the address is given up.
                    fresh = None if session is None else await self.store.load(
                        sid, history_limit=s.history_limit, fresh=True, with_history=False)
                    if not _at_address(fresh, inbound):
                        self._addresses.pop((bot.name, inbound.channel, inbound.address), None)
                        raise _StaleAddress()
                    session = fresh
                if token_hash is not None and (session is None or not same_hash(session.token_hash, token_hash)):
                    self._owners.pop(token_hash, None)
                    raise InvalidToken("unknown session token")
                if session is None:
                    raise SessionNotFound(f"session {sid} does not exist")
                if token_hash is not None and "transferred" in session.context and session.channel != inbound.channel:
                    raise SessionTransferred(f"this conversation continues on {session.channel} "
                                             "(TRANSFER_SESSION moved it there)")
                self._configure(session, s)
                self._check(session, bot.name)
                result = Result(sid, bot.name, on_delta=_quiet(inbound.on_delta), stop=inbound.stop)
                await self._turn(session, bot, s, inbound, result)
                result.suggestions = offered(session.context)
                route(session, result, self.channel_modes, inbox_id=inbound.inbox_id,
                      handled=inbound.inbox_id is not None)
                try:
                    await self.store.save(session, max_variables_kb=s.max_variables_kb)
                except ConcurrentUpdate:
                    log.info("session %s changed under this turn (attempt %d); running it again on fresh state",
                             sid, attempt + 1)
                    session = await self.store.load(sid, history_limit=s.history_limit, fresh=True,
                                                    with_history=False)
                    continue
                break
            else:
                raise ConcurrentUpdate(f"session {sid} kept changing; try again")
        self._publish(result, inbound)  # after the unlock: a listener may read the session at once
        return result

    async def _session_for(self, inbound: Inbound, token_hash: str | None
                           ) -> tuple[uuid.UUID, BotPackage, Result | None]:
        """The session and bot of a message (a token's is checked again under the lock). A
        channel's message from an address with no session starts one: that message opens the
        conversation (start.bas runs after it), and the start is its turn (the third value)."""
        if token_hash is not None:  # the hash, status and expiry are checked under the lock
            sid, bot_id = await self._owner(token_hash)
            if inbound.bot is not None and bot_id != inbound.bot:
                raise WrongBot(f"this token belongs to another bot ({bot_id}), not {inbound.bot}")
            return sid, self.bots.get(bot_id), None
        if inbound.bot is None:
            raise InvalidToken("a session token is required")
        bot = self.bots.get(inbound.bot)
        if inbound.session_id is not None:
            return inbound.session_id, bot, None
        if inbound.address is not None:
            key = (bot.name, inbound.channel, inbound.address)
            found = self._addresses.get(key)
            if found is not None:
                self._addresses.move_to_end(key)
                return found, bot, None
            found = await self.store.find(bot.name, inbound.channel, inbound.address)
            if found is not None:
                self._remember_address(key, found)
                return found, bot, None
            derived = session_id_for(bot.name, inbound.channel, inbound.address, inbound.platform_id) \
                if inbound.inbox_id is not None and inbound.platform_id is not None else None
            opens = derived is not None and "start" in bot.dialog_names()
            try:
                started = await self.start(bot.name, channel=inbound.channel, address=inbound.address,
                                           session_id=derived, inbox_id=inbound.inbox_id, handled=opens,
                                           first=inbound.text if opens else None)
            except SessionExists:  # another process started it for this very message: go on in it
                assert derived is not None
                if opens:
                    raise InboxDone(f"inbound message {inbound.inbox_id} was handled already") from None
                return derived, bot, None
            self._remember_address(key, started.session_id)
            return started.session_id, bot, started if opens else None
        raise InvalidToken("a session token is required")

    def _remember_address(self, key: tuple[str, str, str], session_id: uuid.UUID) -> None:
        """Remember the session of a channel's address: the next message skips the lookup (and
        is checked under the session's lock: an ended session's entry is dropped there)."""
        self._addresses[key] = session_id
        if len(self._addresses) > OWNERS_KEPT:
            self._addresses.popitem(last=False)

    async def _owner(self, token_hash: str) -> tuple[uuid.UUID, str]:
        """The (session id, bot) a token names: remembered, or looked up in the store.

        Raises:
            InvalidToken: no session has this token.
        """
        owner = self._owners.get(token_hash)
        if owner is not None:
            self._owners.move_to_end(token_hash)
            return owner
        owner = await self.store.find_token(token_hash)
        if owner is None:
            raise InvalidToken("unknown session token")
        self._owners[token_hash] = owner
        if len(self._owners) > OWNERS_KEPT:
            self._owners.popitem(last=False)
        return owner

    async def _load(self, sid: uuid.UUID, s: BotSettings, *, fresh: bool = False,
                    with_history: bool = False) -> Session:
        session = await self.store.load(sid, history_limit=s.history_limit, fresh=fresh, with_history=with_history)
        if session is None:
            raise SessionNotFound(f"session {sid} does not exist")
        self._configure(session, s)
        return session

    def _configure(self, session: Session, s: BotSettings) -> None:
        session.ttl_seconds = s.session_timeout_minutes * 60
        session.history_limit = s.history_limit

    def _expiry(self, session: Session, s: BotSettings, now: dt.datetime) -> dt.datetime | None:
        return now + dt.timedelta(days=s.session_expiry_days) if session.anonymous else None

    async def _turn(self, session: Session, bot: BotPackage, s: BotSettings, inbound: Inbound, result: Result) -> None:
        """Record the user's message, then resume the waiting dialog or start one, or fall back."""
        now = self.clock()
        result.received = session.add("user", inbound.text, channel=inbound.channel, at=now)
        answer: Any = inbound.attachment if inbound.attachment else inbound.text
        chosen = pick(session.context, inbound.text) if not inbound.attachment else None  # a suggestion clicked
        waiting = session.dialog
        if _timer_of(waiting) is not None:
            self._type_ahead(session, answer, result)
        elif waiting:
            await self._resume(session, bot, waiting, answer, result)
        elif chosen is not None and chosen.kind == "tool":
            await self._run_tool(session, bot, chosen, inbound.text, result)
        elif chosen is not None and chosen.kind == "switcher":
            pass  # a toggle, not a question: pick() switched it, the result shows it (no fallback reply)
        elif inbound.attachment:
            pass  # a file no HEAR asked for: stored and recorded as the user's message, nothing to answer
        else:
            await self._open(session, bot, inbound.text, result)
        session.last_activity = now
        session.expires_at = self._expiry(session, s, now)

    async def _open(self, session: Session, bot: BotPackage, text: str, result: Result,
                    queued: list[Any] | None = None) -> None:
        """A message no dialog waits for: start the dialog it names, or answer with the fallback."""
        name = text.strip().lower().replace(" ", "_")
        if name and name in bot.dialog_names():
            await self._run(session, bot, bot.dialog(name), name, None, result, queued=queued)
        else:
            await self._fallback(session, bot, text, result)

    async def _run_tool(self, session: Session, bot: BotPackage, tool: Suggestion, text: str, result: Result) -> None:
        """A tool suggestion clicked while no dialog waits: its dialog starts, the suggestion's
        values in its PARAMs (in order); a tool that is gone is a message like any other."""
        name = (tool.name or "").lower()
        program = bot.dialog(name) if name in bot.dialog_names() else None
        if program is None:
            await self._open(session, bot, text, result)
            return
        given = dict(zip([p.name.lower() for p in program.params], tool.params or []))
        await self._run(session, bot, program, name, None, result, variables=given or None)

    def _type_ahead(self, session: Session, answer: Any, result: Result) -> None:
        """A message while the dialog WAITs: kept for the HEARs after the WAIT (it is in the history already).

        Raises:
            DialogWaiting: MAX_TYPED_AHEAD messages are kept already (429, retry when the WAIT is over).
        """
        dialog = session.dialog or {}
        waiting = Waiting.of_request(dialog.get("waiting"))
        queued = dialog.setdefault("queued", [])
        if len(queued) >= MAX_TYPED_AHEAD:
            due = waiting.due if waiting and waiting.due else self.clock()
            raise DialogWaiting(f"the dialog waits (WAIT, line {waiting.line if waiting else '?'}) until "
                                f"{due.isoformat(timespec='seconds')} and holds {len(queued)} messages for after it "
                                "already; send this one after the wait",
                                retry_after=max(1, math.ceil((due - self.clock()).total_seconds())))
        queued.append(answer)
        result.waiting = waiting

    async def _resume(self, session: Session, bot: BotPackage, waiting: Any, answer: Any, result: Result) -> None:
        """Resume the dialog that waits at HEAR with the answer. One that cannot be resumed (its
        .bas is gone or does not compile now; its saved state is corrupt, of another format, or
        does not decode) is dropped, said ONCE (a reply, and a system note with the reason): the
        session goes on without it, its variables and history kept, the next message starts fresh."""
        name = str(waiting.get("name")) if type(waiting) is dict else "?"
        try:
            if type(waiting) is not dict:
                raise StateUnreadable("the saved dialog is not valid")
            if waiting.get("state") is None:
                raise StateUnreadable("its saved state is missing")
            source = waiting.get("source")  # a notebook cell keeps its own source
            try:
                program = compile_cached(str(source), name) if source is not None else bot.dialog(name)
            except BasicError as exc:
                raise StateUnreadable("its code does not compile now") from exc
            if program is None:
                raise StateUnreadable(f"{name}.bas is gone")
            await self._run(session, bot, program, name, waiting["state"], result, answer=answer, source=source,
                            stack=waiting.get("stack") if type(waiting.get("stack")) is list else None)
        except StateUnreadable as exc:  # raised before the dialog ran: nothing of it happened
            cause = exc.__cause__
            why = f"{exc.reason}: {cause.headline}" if isinstance(cause, BasicError) else exc.reason
            log.warning("session %s: the dialog %s could not be resumed: %s", session.id, name, why)
            session.dialog = None
            session.add("system", f"error: the dialog {name} could not be resumed: {why}")
            self._say(session, result, said("cannot-resume", self._language(session, bot), name=name,
                                            reason=str(exc.reason)))

    async def _fallback(self, session: Session, bot: BotPackage, text: str, result: Result) -> None:
        """A message no dialog handles: the LLM answers it, when the bot has one; else the best
        passage of the session's knowledge bases, else the bot's `fallback` text."""
        try:
            config = self.assistant.config(bot)
        except (BotConfigError, LlmError) as exc:
            self._llm_failed(session, result, exc)
            return
        if config is not None:
            await self._ask_llm(session, bot, config, text, result)
            return
        found = await self._search(session, bot, text, 1)
        if found:
            self._say(session, result, found[0].text)
            return
        public = [n.strip().lower() for n in bot.settings.extra.get("public-dialogs", "").split(",")]
        names = [n for n in bot.dialog_names() if n in public]  # only what the bot offers: not its internals
        language = self._language(session, bot)
        hint = said("you-can-type", language, names=", ".join(names)) if names else ""
        self._say(session, result, bot.settings.extra.get("fallback") or said("not-understood", language) + hint)

    async def _ask_llm(self, session: Session, bot: BotPackage, config: LlmConfig, text: str,
                       result: Result) -> None:
        """The LLM answers a message no dialog handles (with the session's recent history and the
        top passages of its knowledge bases), or calls a tool: its dialog runs, the conversation
        waiting under it on the stack (assistant.py)."""
        history = await recent_history(self.store, session)
        try:
            step = await self.assistant.answer(session, bot, config, text, history, result.on_delta, result.stop)
        except LlmError as exc:
            self._llm_failed(session, result, exc)
            return
        if isinstance(step, Answer):
            self._say(session, result, step.text, token_count=step.tokens)
            return
        await self._run(session, bot, step.program, step.name, None, result, variables=step.variables,
                        source=step.source, stack=[self._llm_frame(step, session, result)])

    @staticmethod
    def _llm_frame(step: ToolStep, session: Session, result: Result) -> dict[str, Any]:
        """The conversation with the model, waiting on the stack while a tool's dialog runs; it
        notes where the tool's replies begin (what the tool said goes back to the model)."""
        return {"llm": step.frame, "turn": session.message_count, "said_from": len(result.replies)}

    async def _search(self, session: Session, bot: BotPackage, question: str, k: int) -> list[KbPassage]:
        """The top `k` passages for `question` of the session's active knowledge bases (USE KB;
        all of the bot's when the session chose none)."""
        kbs = [str(kb) for kb in session.context.get("kb") or bot.kb_names()]
        return await self.knowledge.search(bot, kbs, question, k) if kbs else []

    def _llm_failed(self, session: Session, result: Result, exc: Exception) -> None:
        """The LLM gave no answer (unreachable, an error, too slow, cut off, the budget used up):
        nothing of it is kept; the user hears so, the reason is a system note."""
        log.log(logging.INFO if isinstance(exc, LlmStopped) else logging.WARNING,
                "session %s: the LLM did not answer: %s", session.id, exc)
        session.add("system", f"error: LLM: {exc}")
        key = "llm-stopped" if isinstance(exc, LlmStopped) else "llm-budget" if isinstance(exc, BudgetUsedUp) \
            else "llm-failed"
        self._say(session, result, said(key, self._language(session, None)))

    def _say(self, session: Session, result: Result, text: str, *, choices: list[str] | None = None,
             to: str | None = None, file: dict[str, Any] | None = None, token_count: int | None = None) -> None:
        if to is None:
            message = session.add("assistant", text, token_count=token_count)
        else:
            message = session.add("system", f"TALK TO {to}: {text}")
        result.replies.append(Reply(text, choices=choices, to=to, message=message, file=file))

    # --- running a dialog --------------------------------------------------------------------------------
    def _language(self, session: Session, bot: BotPackage | None) -> str:
        """The language gb speaks to the session's user in: SET LANGUAGE's, else its bot's."""
        chosen = session.context.get("language")
        if chosen:
            return str(chosen)
        try:
            return (bot or self.bots.get(session.bot_id)).settings.language
        except Exception:  # the bot is gone or broken: its replies say so elsewhere
            return "en"

    def _machine(self, program: Program, session: Session, s: BotSettings) -> Machine:
        language = str(session.context.get("language") or s.language)
        return Machine(program, max_steps=s.max_steps, max_seconds=s.max_seconds, hear_tries=s.hear_tries,
                       language=language, max_memory_mb=s.max_memory_mb)

    async def _run(self, session: Session, bot: BotPackage, program: Program | None, name: str,
                   state: dict[str, Any] | None, result: Result, *, answer: Any = None,
                   fresh_start: bool = False, entry: str = "main", variables: dict[str, Any] | None = None,
                   merge: Callable[[Session, str, str], Awaitable[None]] | None = None,
                   source: str | None = None, result_var: str | None = None,
                   queued: list[Any] | None = None, apologize: bool | None = None,
                   stack: list[dict[str, Any]] | None = None) -> None:
        """Run or resume a dialog until it waits at HEAR or WAIT, or ends, answering its requests.

        `variables` (in their stored form) start the dialog; each run of the machine starts on
        the event loop and moves to a worker process if it grows long (see :mod:`.worker`).
        `queued` holds messages typed ahead during a WAIT: they answer its HEARs first.
        `apologize` (default: the runtime's) adds "something went wrong" to a failed run's replies.
        `stack` holds the dialogs that CALLed this one (:mod:`.calls`), the innermost last: when
        it ends, they go on after their CALLs.
        """
        if program is None:
            return
        stack = [dict(f, state={k: v for k, v in f["state"].items() if k != "budget"})
                 if type(f.get("state")) is dict else f for f in stack or []
                 if type(f) is dict and (type(f.get("state")) is dict or type(f.get("llm")) is dict)
                 ]  # kept from an earlier turn: a new budget (an LLM frame has no state: assistant.py)
        machine = self._machine(program, session, bot.settings)
        mark = _Mark(session, result)
        schedule = ScheduleKeyword(bot, self.schedules, name if source is None else None, clock=self.clock,
                                   on_set=self._schedule_noted)
        fulfil = Fulfiller(session, bot, self.store, merge=merge, user_name=await self._user_name(session),
                           dialog=program.name, tables=self.tables, http=self.http, schedule=schedule,
                           clock=self.clock, channels=self.channel_modes, files=self.files,
                           transfer=lambda s, channel, address: self._transfer(s, result, channel, address),
                           users=self.users, assistant=self.assistant)
        apologize = self.apologize if apologize is None else apologize
        whole = (source is None and entry == "main") or bool(stack)  # a dialog of its own (not a cell, not ON LOGIN)
        try:
            if state is None:
                if whole:
                    fulfil.forget_headers()
                r: Suspended | Finished = await run_dialog(machine, None, entry=entry, variables=variables)
            else:
                r = await run_dialog(machine, state, answer)
            while True:
                for out in r.outputs:
                    self._say(session, result, out.text, choices=out.choices, to=out.to)
                if isinstance(r, Finished) and stack and "llm" in stack[-1]:  # a tool's dialog ended
                    back = stack.pop()
                    step = await self._tool_ended(session, bot, back, r.value, result)
                    if step is not None:  # the model calls the next tool (or a parameter is asked)
                        stack.append(self._llm_frame(step, session, result))
                        program, name, source = step.program, step.name, step.source
                        machine = self._machine(program, session, bot.settings)
                        fulfil.dialog = program.name
                        r = await run_dialog(machine, None, variables=step.variables)
                        continue
                    r, source = Finished(r.state, []), None  # the model answered: the conversation is over
                    continue
                if isinstance(r, Finished) and stack:  # a CALLed dialog ended: its caller goes on
                    back = stack.pop()
                    name, source = str(back["name"]), back.get("source")
                    program = self._caller_program(bot, name, source)
                    machine = self._machine(program, session, bot.settings)
                    fulfil.dialog = program.name
                    r = await run_dialog(machine, back["state"], values.encode(r.value))
                    continue
                if isinstance(r, Finished):
                    session.dialog = None
                    result.waiting = None
                    if whole:
                        fulfil.forget_headers()
                    if source is not None:  # a cell: its variables are the session's
                        result.value = r.variables.pop(result_var, None) if result_var else None
                        session.variables = {k: values.encode(v) for k, v in r.variables.items() if v is not None}
                    return
                if r.request.kind == "hear" and queued:  # a message typed during a WAIT answers this HEAR
                    r = await run_dialog(machine, r.state, queued.pop(0))
                    continue
                if is_wait(r.request):
                    if self._suspend_wait(session, bot, program, name, r, result, queued, source):
                        if stack and session.dialog is not None:
                            session.dialog["stack"] = stack
                        return
                    r = await run_dialog(machine, r.state, None)  # WAIT 0 goes on at once
                    continue
                if is_call(r.request):  # CALL "other.bas": run it, this dialog waits on the stack
                    called, args = call_target(bot, r.request, len(stack), program.name)
                    callee = self._caller_program(bot, called, None)
                    frame: dict[str, Any] = {"name": name, "state": r.state}
                    if source is not None:
                        frame["source"] = source
                    stack.append(frame)
                    variables = call_variables(callee, args, r.request, program.name)
                    program, name, source = callee, called, None
                    machine = self._machine(program, session, bot.settings)
                    fulfil.dialog = program.name
                    r = await run_dialog(machine, None, variables=variables)
                    continue
                if r.request.kind == "hear":
                    session.dialog = {"name": name, "state": r.state, "waiting": r.request.to_dict()}
                    if source is not None:
                        session.dialog["source"] = source
                    if stack:
                        session.dialog["stack"] = stack
                    result.waiting = Waiting.of_request(r.request.to_dict())
                    if result.replies and r.request.data.get("choices") and not result.replies[-1].choices:
                        result.replies[-1].choices = list(r.request.data["choices"])
                    return
                fulfil.state = r.state
                value = await fulfil.answer(r.request)
                for text in fulfil.extra_replies:
                    self._say(session, result, text)
                for caption, file in fulfil.sent_files:  # SEND FILE
                    self._say(session, result, caption, file=file)
                fulfil.extra_replies.clear()
                fulfil.sent_files.clear()
                r = await run_dialog(machine, r.state, value)
        except DialogChanged as exc:
            log.info("session %s: %s", session.id, exc.headline)
            session.dialog = None
            if whole:
                fulfil.forget_headers()
            self._say(session, result, said("dialog-changed", self._language(session, bot), name=name))
        except BudgetExceeded as exc:  # a runaway turn: nothing of it is kept, the dialog waits where it did
            log.warning("session %s, dialog %s: %s", session.id, name, exc.headline)
            mark.restore(session, result)
            session.add("system", f"error: {exc.headline}")
            result.error = exc
            result.waiting = Waiting.of_request((session.dialog or {}).get("waiting"))
            if apologize:
                self._say(session, result, said("too-much-work", self._language(session, bot)))
        except BasicError as exc:
            log.warning("session %s, dialog %s: %s", session.id, name, exc.headline)
            for out in getattr(exc, "outputs", []):
                self._say(session, result, out.text)
            session.dialog = None
            if whole:
                fulfil.forget_headers()
            session.add("system", f"error: {exc.headline}")
            result.error = exc
            if apologize:
                self._say(session, result, said("went-wrong", self._language(session, bot)))

    async def _tool_ended(self, session: Session, bot: BotPackage, frame: dict[str, Any], value: Any,
                          result: Result) -> ToolStep | None:
        """A dialog the LLM's conversation waited on ended with `value`: the model's next step, a
        tool to run (returned), or its answer (said here; None)."""
        start = int(frame.get("said_from") or 0) if frame.get("turn") == session.message_count else 0
        said = [r.content for r in result.replies[start:] if r.to is None]
        try:
            step = await self.assistant.went_on(session, bot, frame["llm"], values.encode(value), said,
                                                result.on_delta, result.stop)
        except (LlmError, BotConfigError) as exc:
            self._llm_failed(session, result, exc)
            return None
        if isinstance(step, ToolStep):
            return step
        self._say(session, result, step.text, token_count=step.tokens)
        return None

    def _caller_program(self, bot: BotPackage, name: str, source: str | None) -> Program:
        """The program of a dialog a CALL runs or goes back to (its notebook source, or the bot's dialog).

        Raises:
            BasicRuntimeError: its .bas is gone.
        """
        program = compile_cached(source, name) if source is not None else bot.dialog(name)
        if program is None:
            raise BasicRuntimeError(f"CALL: the dialog {name} is gone")
        return program

    def _suspend_wait(self, session: Session, bot: BotPackage, program: Program, name: str, r: Suspended,
                      result: Result, queued: list[Any] | None, source: str | None) -> bool:
        """A WAIT: suspend the dialog with a timer stored with this turn (True), or go on at
        once for ``WAIT 0`` (False).

        Raises:
            BasicRuntimeError: the seconds are not a number of 0 or more, or over max-wait.
        """
        seconds = wait_seconds(r.request, bot.settings.max_wait_seconds, program.name)
        if seconds == 0:
            return False
        due = self.clock() + dt.timedelta(seconds=seconds)
        timer = session.schedule("wait", due)
        waiting = {"kind": "wait", "line": r.request.line, "column": r.request.column, "seconds": seconds,
                   "timer": str(timer.id), "due": due.isoformat()}
        session.dialog = {"name": name, "state": r.state, "waiting": waiting}
        if queued:
            session.dialog["queued"] = list(queued)
        if source is not None:
            session.dialog["source"] = source
        result.waiting = Waiting.of_request(waiting)
        return True

    # --- timers --------------------------------------------------------------------------------------
    async def resume_timer(self, session_id: uuid.UUID, timer_id: uuid.UUID | None = None) -> Result | None:
        """A due timer fires: the dialog waiting on it goes on after its WAIT, as a turn of its
        own under the session's lock (the WAIT answered with nothing, messages typed ahead
        answering its HEARs); its replies are stored and published like any turn's (origin
        "timer"), and the timer's row is deleted in that turn's commit, so it fires once.

        Called by the TimerService of the process that claimed the timer; `timer_id` None fires
        whichever timer the dialog waits on (``gb run``, which shares its store with nobody).

        Returns:
            The turn, or None when the session no longer waits on that timer, or has ended (the
            row is deleted).
        """
        result: Result | None = None
        try:
            async with self._held(session_id) as (session, bot):
                fired = _timer_of(session.dialog)
                if fired is not None and timer_id in (None, fired) and session.status == "active":
                    result = Result(session_id, bot.name)
                    await self._after_wait(session, bot, fired, result)
                    if session.channel == SCHEDULE_CHANNEL:
                        _end_unattended(session, result)
                    result.suggestions = offered(session.context)
                    await self._commit(session, bot, result)
        except (SessionNotFound, UnknownBot) as exc:
            log.warning("timer %s of session %s: %s; dropped", timer_id, session_id, exc)
        if result is None:
            if timer_id is not None:
                await self.store.drop_timer(timer_id)
            return None
        self._publish(result, None, origin=TIMER_ORIGIN)
        return result

    # --- schedules -----------------------------------------------------------------------------------
    def _schedule_noted(self, due: dt.datetime) -> None:
        if self.schedule_set is not None:
            self.schedule_set(due)

    async def run_schedule(self, bot_name: str, dialog: str, *, session_id: uuid.UUID | None = None,
                           param: str | None = None) -> Result | None:
        """Run a scheduled dialog from its start in a new session of its own: channel
        "schedule", address the dialog's name, no token anyone holds, no limit of max-sessions
        (the bot's own work). Its TALKs are the session's messages; the session ends with the
        dialog (a WAIT keeps it open to its timer; a HEAR ends it with an error: nobody is
        there to answer). Stored in one transaction, then published (origin "schedule").

        Args:
            session_id: the new session's id (the Scheduler derives it from the occurrence).
            param: the value of the dialog's first PARAM (a job of the dialog), if any.

        Returns:
            The run (its `error` set when the dialog failed), or None when a session of that
            id exists already: the occurrence ran (its process died before recording it).

        Raises:
            UnknownBot, UnknownDialog: no such bot or dialog.
            BasicSyntaxError: the dialog does not compile.
        """
        bot = self.bots.get(bot_name)
        program = bot.dialog(dialog)
        if program is None:
            raise UnknownDialog(f"bot {bot.name} has no dialog {dialog} (it has: {', '.join(bot.dialog_names())})")
        sid = session_id or uuid.uuid4()
        if session_id is not None and await self.store.load(sid, history_limit=1, with_history=False) is not None:
            return None
        now = self.clock()
        session = Session(id=sid, bot_id=bot.name, channel=SCHEDULE_CHANNEL, token_hash=new_token()[1],
                          created_at=now, last_activity=now, address=dialog.lower())
        self._configure(session, bot.settings)
        result = Result(sid, bot.name)
        variables = {program.params[0].name.lower(): param} if param is not None and program.params else None
        await self._run(session, bot, program, dialog.lower(), None, result, variables=variables, apologize=False)
        _end_unattended(session, result)
        route(session, result, self.channel_modes)  # its TALK TO "telegram:42", ... leave through the outbox
        session.expires_at = self._expiry(session, bot.settings, now)
        await self.store.create(session)
        self._publish(result, None, origin=SCHEDULE_ORIGIN)
        return result

    async def _after_wait(self, session: Session, bot: BotPackage, timer_id: uuid.UUID, result: Result) -> None:
        dialog = session.dialog or {}
        session.done_timers.append(timer_id)
        name, source = str(dialog.get("name")), dialog.get("source")
        queued: list[Any] = list(dialog.get("queued") or [])
        state = {k: v for k, v in dialog["state"].items() if k != "budget"}  # a turn of its own: a new budget
        program = compile_cached(source, name) if source is not None else bot.dialog(name)
        if program is None:
            session.dialog = None
            self._say(session, result, f"The dialog {name} is gone; starting over.")
        else:
            stack = dialog.get("stack") if type(dialog.get("stack")) is list else None
            await self._run(session, bot, program, name, state, result, source=source, queued=queued, stack=stack)
        if _timer_of(session.dialog) == timer_id:  # a runaway run went back to the WAIT: its timer is spent
            session.dialog = result.waiting = None
        while queued and session.dialog is None:  # typed ahead and left when the dialog ended
            answer = queued.pop(0)
            await self._open(session, bot, answer if isinstance(answer, str) else "", result, queued)

    async def _user_name(self, session: Session) -> str | None:
        if session.user_id is None or self.users is None:
            return None
        user = await self.users.get(session.user_id)
        return user.username if user else None

    # --- notebook cells -------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _held(self, session_id: uuid.UUID, *, with_history: bool = False
                    ) -> AsyncIterator[tuple[Session, BotPackage]]:
        """A session under its lock, with its bot (configured by the bot's settings)."""
        async with self.store.lock(session_id, with_history=with_history) as session:
            if session is None:
                raise SessionNotFound(f"session {session_id} does not exist")
            bot = self.bots.get(session.bot_id)
            self._configure(session, bot.settings)
            yield session, bot

    async def _commit(self, session: Session, bot: BotPackage, result: Result | None = None) -> None:
        """Save a turn that is not a user's message (a timer's, a cell's), its replies queued
        for the session's channel like any turn's."""
        if result is not None:
            route(session, result, self.channel_modes)
        session.last_activity = self.clock()
        await self.store.save(session, max_variables_kb=bot.settings.max_variables_kb)

    async def run_source(self, session_id: uuid.UUID, source: str, name: str, *,
                         result_var: str | None = None) -> Result:
        """Run BASIC source (a notebook cell) in a session: the session's variables are its
        variables, before and after; a HEAR suspends it like any dialog, and the next message
        (``handle``) resumes it. A dialog that waited is replaced. `result_var` names a variable
        whose final value comes back as ``result.value`` (an expression cell) instead of staying.

        Raises:
            BasicSyntaxError: the source does not compile (nothing runs, nothing is stored).
        """
        program = compile_cached(source, name)
        async with self._held(session_id) as (session, bot):
            result = Result(session_id, bot.name)
            session.dialog = None
            await self._run(session, bot, program, name, None, result, source=source, result_var=result_var,
                            variables=session.variables)
            result.suggestions = offered(session.context)
            await self._commit(session, bot, result)
            result.variables = dict(session.variables)
        self._publish(result, None)
        return result

    async def start_dialog(self, session_id: uuid.UUID, name: str) -> Result:
        """Run one of the bot's dialogs (a .bas of its package) in a session, from its start.

        Raises:
            UnknownDialog: the bot has no such dialog.
        """
        async with self._held(session_id) as (session, bot):
            program = bot.dialog(name)
            if program is None:
                raise UnknownDialog(f"bot {bot.name} has no dialog {name} (it has: {', '.join(bot.dialog_names())})")
            result = Result(session_id, bot.name)
            session.dialog = None
            await self._run(session, bot, program, name.lower(), None, result)
            result.suggestions = offered(session.context)
            await self._commit(session, bot, result)
        self._publish(result, None)
        return result

    # --- handoff -------------------------------------------------------------------------------------
    async def _transfer(self, session: Session, result: Result, channel: str, address: str | None) -> None:
        """TRANSFER_SESSION: the conversation (its variables, history and waiting HEAR) goes on at
        `address` on `channel`; the turn's later replies go there, and the first message from
        that address resumes it. Its old channel's address stops reaching it (a message from
        there starts a conversation of its own; the web's token is refused with
        SessionTransferred), until a TRANSFER_SESSION brings it back.

        The address: the one given, or the user's on that channel (user_identities). A session
        with a user moves only to an address linked to that user or proved in this conversation
        (VERIFY CODE): a number or an email typed in a chat is no proof that whoever answers
        there is that user. An anonymous session holds
        nothing it did not type itself, and may move to an address it gives.

        Raises:
            BasicRuntimeError: no address to go to, one not the user's, or the web without a token.
        """
        if channel == "web":
            if session.token_hash is None:
                raise BasicRuntimeError("TRANSFER_SESSION web: this conversation has no web token to reach it "
                                        "(it did not start on the web)")
            address = None
        elif address is None:
            address = await self.users.address_of(session.user_id, channel) \
                if session.user_id is not None and self.users is not None else None
            if address is None:
                raise BasicRuntimeError(f"TRANSFER_SESSION {channel}: no {channel} address is known for this "
                                        f"conversation; give one (TRANSFER_SESSION \"{channel}\", address) or link "
                                        "it to the user")
        elif session.user_id is not None and not verified(session, channel, address):
            owner = await self.users.by_identity(channel, address) if self.users is not None else None
            if owner is None or owner.id != session.user_id:
                raise BasicRuntimeError(f"TRANSFER_SESSION {channel}: {address} is not a verified {channel} "
                                        "address of this conversation's user (SEND CODE and VERIFY CODE "
                                        "prove it)")
        if (channel, address) == (session.channel, session.address):
            return
        was, was_address = session.channel, session.address
        result.handoffs.append(Handoff(len(result.replies), channel, address, was, was_address))
        session.add("system", f"TRANSFER_SESSION {channel}" + (f" to {address}" if address else ""))
        session.context["transferred"] = {"from": was, "to": channel}
        session.channel, session.address = channel, address
        if was_address is not None:
            self._addresses.pop((session.bot_id, was, was_address), None)

    # --- login ---------------------------------------------------------------------------------------
    async def login(self, session_id: uuid.UUID, username: str, password: str) -> Result:
        """Log a session's user in: a NEW token, ON LOGIN runs (MERGE_SESSION merges the
        anonymous session into the user's), the anonymous session's user memory becomes the
        user's, and the result names the session to continue."""
        if self.users is None:
            raise InvalidToken("logins are not configured")
        user = await self.users.authenticate(username, password)
        async with self._held(session_id, with_history=True) as (session, bot):
            await self._link_proven(self.users, session, user.id)
            result = Result(session.id, bot.name)
            merged: list[Session] = []

            async def merge(s: Session, anonymous_id: str, user_id: str) -> None:
                merged.append(await self._merge(s, anonymous_id, user_id))

            program = self._login_program(bot)
            waiting = session.dialog  # the conversation in progress continues after the login
            if program is not None:
                await self._run(session, bot, program, "on login", None, result, entry="on login", merge=merge,
                                variables={"anonymous_id": str(session.id), "user_id": str(user.id),
                                           "user_name": user.username})
            if session.dialog is None:
                session.dialog = waiting
            target = merged[-1] if merged else session
            if target is not session and waiting is not None:
                target.dialog = waiting
            if target is session:
                session.user_id = user.id
            token, token_hash = new_token()
            target.token_hash = token_hash
            target.expires_at = None
            target.last_activity = self.clock()
            await self.store.save(session)
            if target is not session:
                await self.store.save(target)
            # what the bot remembered of the anonymous user is the user's now (their own values win)
            await self.store.adopt_user_memory(bot.name, memory_owner(None, session.id),
                                               memory_owner(user.id, session.id))
            result.session_id, result.token = target.id, token
            result.suggestions = offered(target.context)
        self._publish(result, None)  # ON LOGIN's replies reach the session's live listeners
        return result

    async def _link_proven(self, users: UserStore, session: Session, user_id: uuid.UUID) -> None:
        """A login proves the addresses of the conversation it happens in: its channel's own
        (a WhatsApp number, a Telegram chat: the login came from there) and those it verified
        with a code (VERIFY CODE). Each is linked to the user (user_identities); one that is
        another user's stays theirs."""
        addresses = proven(session)
        if session.address is not None and session.channel != "web":
            addresses.append((session.channel, session.address))
        for channel, address in addresses:
            if not await link(users, user_id, channel, address):
                log.info("login of user %s: %s address %s is another user's; not linked", user_id, channel, address)

    def _login_program(self, bot: BotPackage) -> Program | None:
        for name in ["start", *bot.dialog_names()]:
            program = bot.dialog(name) if name in bot.dialog_names() else None
            if program is not None and "on login" in program.units:
                return program
        return None

    async def _merge(self, session: Session, anonymous_id: str, user_id: str) -> Session:
        """MERGE_SESSION: the anonymous session's history and variables move into the user's
        newest session with this bot (or the anonymous session becomes the user's)."""
        uid = uuid.UUID(user_id)
        anon_id = uuid.UUID(anonymous_id)
        if anon_id != session.id:
            raise BasicError("MERGE_SESSION: only the session that logs in can be merged")
        target_id = await self.store.user_session(uid, session.bot_id, exclude=session.id)
        if target_id is None:
            session.user_id = uid
            return session
        target = await self._load(target_id, self.bots.get(session.bot_id).settings, fresh=True)
        for m in session.history or []:
            target.add(m.role, m.content, channel=m.channel, at=m.timestamp)
        target.variables.update(session.variables)
        session.status = "ended"
        session.user_id = uid
        return target


def _at_address(session: Session | None, inbound: Inbound) -> bool:
    """Whether `session` is the active conversation of the inbound message's channel address."""
    return (session is not None and session.status == "active" and session.address == inbound.address
            and session.channel == inbound.channel)


class _StaleAddress(Exception):
    """The session remembered for a channel's address is not its active one any more."""


def _quiet(on_delta: Callable[[str], Awaitable[None]] | None) -> Callable[[str], Awaitable[None]] | None:
    """A front's delta callback that cannot fail the turn (a socket gone while the answer streams:
    the answer is stored all the same, and the front catches up from the history)."""
    if on_delta is None:
        return None

    async def deliver(text: str) -> None:
        try:
            await on_delta(text)
        except Exception as exc:  # the front's problem, not the turn's
            log.debug("an answer's delta was not delivered: %s", exc)

    return deliver




class _Mark:
    """A session and a result as they were before a dialog ran, to go back to (a runaway turn)."""

    def __init__(self, session: Session, result: Result) -> None:
        # variables, dialog and memory writes are replaced, never changed in place: a shallow copy
        # holds them; the context's lists are appended to (USE KB ...): it is copied whole (small)
        self.variables, self.dialog = dict(session.variables), session.dialog
        self.memory_writes, self.context = dict(session.memory_writes), jsontext.dumps(session.context)
        self.user_memory_writes = len(session.user_memory_writes)  # appended to: what came after goes
        self.pending, self.replies = len(session.pending), len(result.replies)
        self.history = len(session.history) if session.history is not None else None

    def restore(self, session: Session, result: Result) -> None:
        session.variables, session.dialog = self.variables, self.dialog
        session.memory_writes, session.context = self.memory_writes, jsontext.loads(self.context)
        del session.user_memory_writes[self.user_memory_writes:]
        dropped = session.pending[self.pending:]
        del session.pending[self.pending:], result.replies[self.replies:]
        if session.history is not None:
            session.history[:] = [m for m in session.history if not any(m is d for d in dropped)]


def _end_unattended(session: Session, result: Result) -> None:
    """A scheduled run after its turn: ended when its dialog is over; a dialog at a HEAR is
    ended with an error (nobody answers a scheduled run); one at a WAIT goes on with its timer."""
    dialog = session.dialog
    if dialog is not None and _timer_of(dialog) is None:
        waiting = dialog.get("waiting") if type(dialog) is dict else None
        where = waiting if type(waiting) is dict else {}
        error = BasicRuntimeError("HEAR in a scheduled run: nobody is there to answer, so the run ends here",
                                  file=f"{dialog.get('name')}.bas", line=int(where.get("line") or 0),
                                  column=int(where.get("column") or 0))
        log.warning("session %s: %s", session.id, error.headline)
        session.add("system", f"error: {error.headline}")
        session.dialog = None
        result.error, result.waiting = error, None
    if session.dialog is None:
        session.status = "ended"


def _timer_of(dialog: dict[str, Any] | None) -> uuid.UUID | None:
    """The timer a session's dialog waits on (at a WAIT), or None."""
    waiting = dialog.get("waiting") if type(dialog) is dict else None
    if type(waiting) is not dict or waiting.get("kind") != "wait":
        return None
    try:
        return uuid.UUID(str(waiting.get("timer")))
    except ValueError:  # not a timer this runtime stored: the dialog cannot be resumed (see _resume)
        return None


def _message_dict(message: Message | None) -> dict[str, Any] | None:
    return message.to_dict() if message is not None else None


# --- stream tickets ---------------------------------------------------------------------------------
TICKET_SECONDS = 300  # how long a ticket opens a socket


def _mac(token_hash: str, message: str) -> str:
    digest = hmac.new(token_hash.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_ticket(session_id: uuid.UUID, token_hash: str, now: float | None = None) -> str:
    """``<session>.<expiry>.<HMAC-SHA256 keyed by the token's stored hash>``: stateless, any
    process checks it; a new token (a login) invalidates the tickets of the old one."""
    body = f"{session_id.hex}.{int((now or time.time()) + TICKET_SECONDS)}"
    return f"{body}.{_mac(token_hash, body)}"
