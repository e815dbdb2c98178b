"""The I/O keywords: how the runtime answers a dialog's requests within one turn.

SET/GET session variables, the session facts (``GET "session.id"`` ...), bot memory, user
memory (SET USER MEMORY / GET USER MEMORY, REMEMBER / RECALL: :mod:`.user_memory`), the session's
context (USE KB, USE TOOL, suggestions and switchers (:mod:`.suggestions`), SET CONTEXT, SET
ANSWER MODE, system prompt, templates), SAVE into the
bot's storage folder, WAIT's argument, MERGE_SESSION, and the HTTP keywords (``x = GET url``,
POST, PUT, PATCH, DELETE, SET HEADER, CLEAR HEADERS: http_keywords.py makes the requests; the
headers a dialog sets live in the session's context until the dialog ends); the table keywords
(FIND, SAVE to a declared table, INSERT, UPDATE, DELETE, MERGE, FILTER, FIRST, LAST) are answered
by :mod:`.tables`; SET SCHEDULE stores a schedule (:mod:`.schedules`). WAIT itself does not
wait here: the runtime suspends the dialog at it and a timer resumes it
(``DialogRuntime.resume_timer``).
Keywords that need a channel gb does not have yet (TRANSFER_SESSION) fail with a clear
"channel not configured" error; so do SEND MAIL, SEND SMS and SEND TEMPLATE for a bot whose
config.csv does not set their channel up (:mod:`.messaging`). SEND FILE adds a reply that carries
a file (:mod:`.send_file`).

The file keywords (SAVE, LOAD TEMPLATE) turn every refusal and every error of the file system
(a folder where a file is meant, a file where a folder is, no permission, a name too long, a
full disk) into a BasicRuntimeError at the statement's line that names the file as the dialog
wrote it, never a path of the server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import json
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from gb_basic import BasicError, BasicRuntimeError, Request, values
from gb_basic.machine import state_variables
from gb_sessions import MemoryWrite, Message, Session, SessionStore, UserStore, utcnow
from gb_sessions.tables import TableStore

from . import suggestions as sugg
from .assistant import Assistant
from .bots import BotPackage
from .errors import BotConfigError, BotStorageError
from .files import FileStore
from .http_keywords import HttpAccess, HttpPolicy, is_url, shown_url
from .identity import Verification
from .messaging import Messaging
from .schedules import ScheduleKeyword, timing
from .send_file import file_to_send
from .tables import TableKeywords
from .user_memory import memory_key, remember_until

__all__ = ["Fulfiller", "HEADERS", "is_wait", "wait_seconds"]

MAX_FILE_NAME = 1024  # characters of a SAVE file name, folders included (Linux allows 4096 bytes, 255 a part)
HEADERS = "http_headers"  # the session context's slot of SET HEADER's headers: {name: value}
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # what an HTTP header name is made of (RFC 9110)
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})  # the request's framing


def is_wait(request: Request) -> bool:
    """A dialog's ``WAIT n``: the runtime suspends the dialog there until a timer fires."""
    return request.kind == "keyword" and request.data.get("keyword") == "WAIT"


def wait_seconds(request: Request, cap: float, file: str = "<dialog>") -> float:
    """The seconds a ``WAIT`` waits (1 without an argument; fractions allowed).

    Raises:
        BasicRuntimeError: not a number, negative, NaN or infinite, or over `cap` (the bot's
            ``max-wait``), placed at the WAIT's line.
    """
    args = [values.decode(a) for a in request.data.get("args") or []]
    try:
        seconds = float(values.to_number(args[0], "a number of seconds")) if args else 1.0
        if not 0 <= seconds < math.inf:  # NaN fails this too
            raise BasicRuntimeError(f"WAIT needs a number of seconds of 0 or more, got {values.to_str(args[0])}")
        if seconds > cap:
            raise BasicRuntimeError(f"WAIT {values.to_str(args[0])}: more than the bot's max-wait of "
                                    f"{cap:g} seconds")
    except BasicError as exc:
        exc.locate(file=file, line=request.line, column=request.column)
        raise
    return seconds


def _text(v: Any) -> str:
    return values.to_str(values.decode(v))


class Fulfiller:
    """Answers the requests of one turn of one session.

    Args:
        session: the session (changes are saved with the turn).
        bot: the bot package (KBs, tools, templates, storage).
        store: for bot memory reads.
        merge: callback for MERGE_SESSION(anonymous_id, user_id) -> the message to log.
        user_name: what ``GET "session.user"`` answers.
        dialog: the running dialog's file name (where a failed request's error points).
        tables: the bot tables of the session database (None: no database, ``gb run``).
        http: the way out for the HTTP keywords (None: they fail, "not available").
        schedule: SET SCHEDULE's way to the bot's schedules (None: the statement is checked
            and noted in the session's context only).
        clock: the current time (REMEMBER's expiry; tests move it).
        files: the bots' file storage (SEND FILE); None: SEND FILE fails, "not available".
        transfer: TRANSFER_SESSION's way to move the conversation (the runtime's handoff).
        users: accounts (VERIFY CODE links a verified address to the logged-in user).
        assistant: the bots' LLM (``x = LLM prompt``); None: LLM fails, "no LLM configured".

    Attributes:
        state: the suspended state of the request being answered, when the host sets it (the
            runtime does): SET SCHEDULE reads the dialog's PARAM from it.
        extra_replies: texts a request adds to the replies (LOAD TEMPLATE's first message); the
            host says them and clears the list.
        sent_files: (caption, file object) of each SEND FILE: the host says each as a reply that
            carries the file (``Reply.file``) and clears the list.
    """

    def __init__(self, session: Session, bot: BotPackage, store: SessionStore, *,
                 merge: Callable[[Session, str, str], Awaitable[None]] | None = None,
                 user_name: str | None = None, dialog: str | None = None,
                 tables: TableStore | None = None, http: HttpAccess | None = None,
                 schedule: ScheduleKeyword | None = None, clock: Callable[[], dt.datetime] = utcnow,
                 channels: Mapping[str, str] | None = None, files: FileStore | None = None,
                 transfer: Callable[[Session, str, str | None], Awaitable[None]] | None = None,
                 users: UserStore | None = None, assistant: Assistant | None = None) -> None:
        self.session = session
        self.assistant = assistant
        self.transfer = transfer
        self.messaging = Messaging(session, bot, channels or {})
        self.verification = Verification(session, self.messaging, users, bot.name, clock)
        self.clock = clock
        self.dialog = dialog
        self.bot = bot
        self.store = store
        self.merge = merge
        self.user_name = user_name
        self.http = http
        self.http_requests = 0  # HTTP keywords run so far for this message (http-max-requests)
        self.extra_replies: list[str] = []
        self.files = files
        self.sent_files: list[tuple[str, dict[str, Any]]] = []
        self.tables = TableKeywords(bot, tables)
        self.schedule = schedule
        self.state: dict[str, Any] | None = None
        self._request: Request | None = None

    async def answer(self, request: Request) -> Any:
        """The value a suspended dialog resumes with.

        Raises:
            BasicRuntimeError: the request failed (an unknown keyword, a missing argument, a
                channel that is not configured ...), placed at the request's line and column.
        """
        self._request = request
        try:
            return await self._answer(request)
        except BasicError as exc:
            exc.locate(file=self.dialog or exc.file, line=request.line, column=request.column)
            raise

    async def _answer(self, request: Request) -> Any:
        data = request.data
        if request.kind == "set":
            self.session.variables[str(data["name"]).lower()] = data["value"]
            return None
        if request.kind == "get":
            return await self.http_get([values.decode(data["key"])])
        handler = _KEYWORDS.get(str(data["keyword"]))
        if handler is None:
            raise BasicRuntimeError(f"keyword {data['keyword']} is not supported")
        return await handler(self, [values.decode(a) for a in data.get("args") or []])

    def get(self, key: str) -> Any:
        s = self.session
        low = key.lower()
        if low == "session.id":
            return str(s.id)
        if low == "session.message_count":
            return s.message_count
        if low == "session.channel":
            return s.channel
        if low == "session.user":
            return self.user_name
        if low == "session.bot":
            return s.bot_id
        return s.variables.get(low)

    async def history(self) -> list[Message]:
        """The session's recent messages, this turn's included (at most the history limit)."""
        return await recent_history(self.store, self.session)

    def _need(self, keyword: str, args: list[Any], n: int) -> None:
        if len(args) < n:
            raise BasicRuntimeError(f"{keyword} expects {n} argument(s), got {len(args)}")

    def _context_list(self, slot: str) -> list[str]:
        items: list[str] = self.session.context.setdefault(slot, [])
        return items

    # --- memory ---------------------------------------------------------------------------------
    async def set_bot_memory(self, args: list[Any]) -> None:
        self._need("SET BOT MEMORY", args, 2)
        self.session.memory_writes[values.to_str(args[0])] = values.encode(args[1])

    async def get_bot_memory(self, args: list[Any]) -> Any:
        self._need("GET BOT MEMORY", args, 1)
        key = values.to_str(args[0])
        if key in self.session.memory_writes:
            return self.session.memory_writes[key]
        return await self.store.get_bot_memory(self.session.bot_id, key)

    # --- context ----------------------------------------------------------------------------------
    async def use_kb(self, args: list[Any]) -> None:
        self._need("USE KB", args, 1)
        name = values.to_str(args[0])
        if name not in self.bot.kb_names():
            raise BasicRuntimeError(f"knowledge base {name!r} not found in bot {self.bot.name} "
                                    f"(it has: {', '.join(self.bot.kb_names()) or 'none'})")
        kbs = self._context_list("kb")
        if name not in kbs:
            kbs.append(name)

    async def clear_kb(self, args: list[Any]) -> None:
        self.session.context["kb"] = []

    async def use_tool(self, args: list[Any]) -> None:
        """``USE TOOL name`` / ``ADD TOOL name``: a tool (another .bas of the bot) for this session's
        LLM; the name may be written as a path (``ADD_TOOL ".gbdialog/support.bas"``).

        Raises:
            BasicRuntimeError: the bot has no such dialog.
        """
        self._need("USE TOOL", args, 1)
        name = self._tool_name(args[0])
        tools = self._context_list("tools")
        if name not in tools:
            tools.append(name)

    def _tool_name(self, arg: Any) -> str:
        """A tool's dialog name from ``"qr"``, ``"qr.bas"`` or ``".gbdialog/qr.bas"``."""
        written = values.to_str(arg).strip()
        name = written.replace("\\", "/").rsplit("/", 1)[-1]
        name = name[:-4] if name.lower().endswith(".bas") else name
        if name.lower() not in self.bot.dialog_names():
            raise BasicRuntimeError(f"tool {written!r} not found in bot {self.bot.name} "
                                    f"(its dialogs: {', '.join(self.bot.dialog_names()) or 'none'})")
        return name

    async def remove_tool(self, args: list[Any]) -> None:
        """``REMOVE TOOL name``: the tool is no longer this session's (nothing when it was not)."""
        self._need("REMOVE TOOL", args, 1)
        written = values.to_str(args[0]).strip().replace("\\", "/").rsplit("/", 1)[-1]
        name = (written[:-4] if written.lower().endswith(".bas") else written).lower()
        self.session.context["tools"] = [t for t in self._context_list("tools") if str(t).lower() != name]

    async def clear_tools(self, args: list[Any]) -> None:
        self.session.context["tools"] = []

    async def add_suggestion(self, args: list[Any]) -> None:
        """``ADD SUGGESTION text`` or ``ADD SUGGESTION context AS text`` (see :mod:`.suggestions`)."""
        self._need("ADD SUGGESTION", args, 1)
        if len(args) == 1:
            suggestion = sugg.make("ADD SUGGESTION", "text", args[0])
        else:
            suggestion = sugg.make("ADD SUGGESTION", "context", args[-1], args[0])
        sugg.add(self.session.context, "ADD SUGGESTION", suggestion)

    async def add_suggestion_tool(self, args: list[Any]) -> None:
        """``ADD SUGGESTION TOOL name AS text`` (args: name, text) or ``... name WITH a, b AS text``
        (args: name, [a, b], text): a button that runs the bot's tool, its PARAMs from the values.

        Raises:
            BasicRuntimeError: the bot has no such dialog; the text is missing.
        """
        self._need("ADD SUGGESTION TOOL", args, 2)
        name = self._tool_name(args[0])
        params = None
        if len(args) > 2:
            given = args[1]
            params = [values.encode(v) for v in (given if isinstance(given, list) else args[1:-1])]
        sugg.add(self.session.context, "ADD SUGGESTION TOOL",
                 sugg.make("ADD SUGGESTION TOOL", "tool", args[-1], name, params))

    async def add_switcher(self, args: list[Any]) -> None:
        """``ADD SWITCHER name AS text`` (or ``ADD SWITCHER text``): a button that toggles a switcher."""
        self._need("ADD SWITCHER", args, 1)
        name = args[0] if len(args) > 1 else None
        sugg.add(self.session.context, "ADD SWITCHER", sugg.make("ADD SWITCHER", "switcher", args[-1], name))

    async def clear_suggestions(self, args: list[Any]) -> None:
        sugg.clear(self.session.context, switchers=False)

    async def clear_switchers(self, args: list[Any]) -> None:
        sugg.clear(self.session.context, switchers=True)

    async def set_context(self, args: list[Any]) -> None:
        """``SET CONTEXT name AS text`` (a named context, which a context suggestion selects) or
        ``SET CONTEXT text`` (the context named "default"); NULL removes it. Kept in the
        session's ``context["contexts"]`` for the LLM."""
        self._need("SET CONTEXT", args, 1)
        name = "default" if len(args) == 1 else values.to_str(args[0]).strip()
        if not name:
            raise BasicRuntimeError("SET CONTEXT needs a name for the context, got an empty text")
        contexts = self.session.context.get("contexts")
        kept = dict(contexts) if isinstance(contexts, dict) else {}
        if args[-1] is None:
            kept.pop(name, None)
        else:
            kept[name] = values.encode(args[-1])
        self.session.context["contexts"] = kept

    async def set_answer_mode(self, args: list[Any]) -> None:
        """``SET ANSWER MODE mode`` (``"document"``, ``"direct"`` ...): how the LLM answers in this
        session, kept as written in ``context["answer_mode"]``; NULL or "" goes back to the bot's."""
        self._need("SET ANSWER MODE", args, 1)
        mode = values.to_str(args[0]).strip() if args[0] is not None else ""
        if len(mode) > 100:
            raise BasicRuntimeError(f"SET ANSWER MODE: a mode of {len(mode):,} characters (at most 100)")
        if mode:
            self.session.context["answer_mode"] = mode
        else:
            self.session.context.pop("answer_mode", None)

    async def system_prompt(self, args: list[Any]) -> None:
        self.session.context["system_prompt"] = values.to_str(args[0]) if args else None

    async def llm(self, args: list[Any]) -> str:
        """``x = LLM prompt``: the bot's LLM answers the prompt under the session's system prompt
        and contexts; the tokens it took are noted with the turn (a system message's token_count).

        Raises:
            BasicRuntimeError: no LLM configured, the day's budget used up, or the call failed.
        """
        self._need("LLM", args, 1)
        if self.assistant is None:
            raise BasicRuntimeError("LLM: no LLM configured (gb run has none)")
        text, tokens = await self.assistant.ask(self.session, self.bot, values.to_str(args[0]))
        self.session.add("system", f"LLM: {tokens} tokens", token_count=tokens)
        return text

    async def set_language(self, args: list[Any]) -> None:
        self._need("SET LANGUAGE", args, 1)
        self.session.context["language"] = values.to_str(args[0])

    async def set_schedule(self, args: list[Any]) -> None:
        """``SET SCHEDULE cron | date [, dialog [, job]]``: a schedule of this dialog or of
        another (:class:`.schedules.ScheduleKeyword`). Where there is nowhere to keep it (``gb
        run``, a notebook cell scheduling itself) the timing is checked and noted in the
        session's context (``schedule``).

        Raises:
            BasicRuntimeError: not a cron expression nor a date, no such dialog.
        """
        self._need("SET SCHEDULE", args, 1)
        line = self._request.line if self._request is not None else 0
        stored = self.schedule is not None and await self.schedule.set(
            args, line=line, file=self.dialog or "<dialog>", variables=state_variables(self.state))
        if not stored:
            timing(args[0], self.bot.settings.timezone)
            self.session.context["schedule"] = values.to_str(args[0])

    async def load_template(self, args: list[Any]) -> None:
        self._need("LOAD TEMPLATE", args, 1)
        name = values.to_str(args[0])
        try:
            t = self.bot.template(name)
        except BotConfigError as exc:  # its message names the file: from the package, not the server's disk
            raise BasicRuntimeError(str(exc).replace(f"{self.bot.path.parent}/", "")) from None
        except OSError as exc:
            raise BasicRuntimeError(f"LOAD TEMPLATE {_shown(name)}: the template cannot be read "
                                    f"({exc.strerror or type(exc).__name__})") from None
        except (KeyError, ValueError) as exc:
            raise BasicRuntimeError(str(exc).strip("'\"")) from None
        ctx = self.session.context
        for slot in ("kb", "tools"):
            for item in t.get(slot) or []:
                if item not in ctx.setdefault(slot, []):
                    ctx[slot].append(item)
        if t.get("system_prompt"):
            ctx["system_prompt"] = t["system_prompt"]
        ctx["template"] = name
        if t.get("message"):
            self.extra_replies.append(str(t["message"]))

    # --- tables -----------------------------------------------------------------------------------------
    async def find(self, args: list[Any]) -> Any:
        return await self.tables.find(args)

    async def find_all(self, args: list[Any]) -> Any:
        return await self.tables.find_all(args)

    async def insert(self, args: list[Any]) -> Any:
        return await self.tables.insert(args)

    async def update(self, args: list[Any]) -> Any:
        return await self.tables.update(args)

    async def merge_rows(self, args: list[Any]) -> Any:
        return await self.tables.merge(args)

    async def filter(self, args: list[Any]) -> Any:
        return self.tables.filter(args)

    async def first(self, args: list[Any]) -> Any:
        return self.tables.first(args)

    async def last(self, args: list[Any]) -> Any:
        return self.tables.last(args)

    # --- HTTP --------------------------------------------------------------------------------------------
    async def fetch(self, method: str, url: str, data: Any = None) -> Any:
        """One HTTP keyword: the answer's value (stored form), with this session's headers.

        Raises:
            BasicRuntimeError: over the bot's http-max-requests for this message, no HTTP here,
                or the request was refused or failed (see HttpAccess.request).
        """
        policy = HttpPolicy.of(self.bot.settings)
        self.http_requests += 1
        if self.http_requests > policy.max_requests:
            raise BasicRuntimeError(f"{method} {shown_url(url)}: more than {policy.max_requests} HTTP requests "
                                    "in one message (http-max-requests in config.csv)")
        if self.http is None:
            raise BasicRuntimeError(f"{method} {shown_url(url)}: HTTP requests are not available here "
                                    "(the runtime has no HTTP client)")
        headers = self.session.context.get(HEADERS)
        return await self.http.request(method, url, data, headers if isinstance(headers, dict) else {}, policy)

    def _url(self, keyword: str, args: list[Any]) -> str:
        self._need(keyword, args, 1)
        if not isinstance(args[0], str):
            raise BasicRuntimeError(f"{keyword} needs a URL (text), got {values.type_name(args[0])}")
        return args[0]

    async def http_get(self, args: list[Any]) -> Any:
        """``x = GET key``: a web request when `key` is an http:// or https:// URL, else the
        session variable or fact it names (``GET "session.history"`` ...)."""
        self._need("GET", args, 1)
        if is_url(args[0]):
            return await self.fetch("GET", args[0])
        key = values.to_str(args[0])
        if key.lower() == "session.history":
            return "\n".join(f"{m.role}: {m.content}" for m in await self.history())
        return self.get(key)

    async def http_post(self, args: list[Any]) -> Any:
        return await self.fetch("POST", self._url("POST", args), args[1] if len(args) > 1 else None)

    async def http_put(self, args: list[Any]) -> Any:
        return await self.fetch("PUT", self._url("PUT", args), args[1] if len(args) > 1 else None)

    async def http_patch(self, args: list[Any]) -> Any:
        return await self.fetch("PATCH", self._url("PATCH", args), args[1] if len(args) > 1 else None)

    async def delete(self, args: list[Any]) -> Any:
        """``DELETE url [, data]`` (a first argument that is an http:// or https:// URL), else
        ``DELETE table, filter`` (the bot's tables: :meth:`delete_rows`)."""
        self._need("DELETE", args, 1)
        if is_url(args[0]):
            return await self.fetch("DELETE", args[0], args[1] if len(args) > 1 else None)
        return await self.delete_rows(args)

    async def delete_rows(self, args: list[Any]) -> Any:
        """``DELETE table, filter``: rows of the bot's tables."""
        return await self.tables.delete(args)

    async def set_header(self, args: list[Any]) -> None:
        """``SET HEADER name, value``: sent with every HTTP keyword of this dialog after it (NULL
        removes it); a name set again in any case replaces the old one.

        Raises:
            BasicRuntimeError: the name is not a header name, or one gb sets itself (Host,
                Content-Length, Transfer-Encoding, Connection), or the value has a line break.
        """
        self._need("SET HEADER", args, 2)
        name, value = values.to_str(args[0]).strip(), args[1]
        if not _TOKEN.fullmatch(name):
            raise BasicRuntimeError(f"SET HEADER {_shown(name)}: not a header name (letters, digits and "
                                    "!#$%&'*+-.^_`|~ only)")
        if name.lower() in _OWN_HEADERS:
            raise BasicRuntimeError(f"SET HEADER {name}: gb sets this header itself")
        text = values.to_str(value)
        if any(c in text for c in "\r\n\0"):
            raise BasicRuntimeError(f"SET HEADER {name}: the value has a line break or a NUL, which a header "
                                    "cannot hold")
        headers = self.session.context.get(HEADERS)
        kept = {k: v for k, v in headers.items() if k.lower() != name.lower()} if isinstance(headers, dict) else {}
        if value is not None:
            kept[name] = text
        self.session.context[HEADERS] = kept

    async def clear_headers(self, args: list[Any]) -> None:
        self.session.context.pop(HEADERS, None)

    def forget_headers(self) -> None:
        """The headers of SET HEADER go: the runtime calls this when a dialog of its own (not a
        notebook cell, not ON LOGIN) starts and when it ends, finished or failed, so that a
        bearer token is neither kept nor sent by another dialog."""
        self.session.context.pop(HEADERS, None)

    # --- files, time, sessions ------------------------------------------------------------------------
    async def save(self, args: list[Any]) -> Any:
        """``SAVE table, ...`` into a declared table (:mod:`.tables`: the row's key), else
        ``SAVE name, value`` into a file (:meth:`save_file`)."""
        if args and await self.tables.is_table(args[0]):
            return await self.tables.save(args)
        await self.save_file(args)
        return None

    async def save_file(self, args: list[Any]) -> None:
        """``SAVE name, value``: the value (text, or JSON) into the bot's storage folder, under
        `name` (folders are created).

        Raises:
            BasicRuntimeError: the name is refused (empty, absolute, outside the storage, too
                long, a lone surrogate, a folder's) or the file system refused the write.
        """
        self._need("SAVE", args, 2)
        name = values.to_str(args[0])
        path = self._storage_path("SAVE", name)
        content = args[1]
        text = content if isinstance(content, str) else json.dumps(values.encode(content), ensure_ascii=False)
        where = _surrogate(text)
        if where is not None:
            raise BasicRuntimeError(f"SAVE {_shown(name)}: the text has a lone surrogate (\\u{ord(text[where]):04x}) "
                                    f"at position {where}, which a UTF-8 file cannot hold")
        try:
            await asyncio.to_thread(_write, path, text)
        except OSError as exc:
            raise BasicRuntimeError(f"SAVE {_shown(name)}: {self._os_problem(path, exc)}") from None

    def _storage_path(self, keyword: str, name: str) -> Path:
        """The file `name` names in the bot's storage (BasicRuntimeError when it is refused)."""
        if len(name) > MAX_FILE_NAME:
            raise BasicRuntimeError(f"{keyword} refused: the file name has {len(name):,} characters "
                                    f"(at most {MAX_FILE_NAME:,})")
        where = _surrogate(name)
        if where is not None:
            raise BasicRuntimeError(f"{keyword} refused: the file name has a lone surrogate "
                                    f"(\\u{ord(name[where]):04x}) at position {where}")
        if name.replace("\\", "/").endswith("/"):
            raise BasicRuntimeError(f"{keyword} refused: {_shown(name)} names a folder, not a file")
        try:
            return self.bot.safe_path(name)
        except BotStorageError as exc:
            raise BasicRuntimeError(f"{keyword} refused: {exc}") from None
        except OSError as exc:  # the storage folder itself cannot be made
            raise BasicRuntimeError(f"{keyword} {_shown(name)}: the bot's storage is not available "
                                    f"({exc.strerror or type(exc).__name__})") from None

    def _os_problem(self, path: Path, exc: OSError) -> str:
        """What went wrong writing `path`, in the dialog's terms (no path of the server)."""
        base = self.bot.storage_dir.resolve()
        if isinstance(exc, IsADirectoryError):
            return f"{_shown(_relative(path, base))} is a folder"
        if isinstance(exc, (NotADirectoryError, FileExistsError)):
            for parent in reversed(path.parents):
                if parent.is_relative_to(base) and parent != base and parent.exists() and not parent.is_dir():
                    return f"{_shown(_relative(parent, base))} is a file, not a folder"
        if isinstance(exc, PermissionError):
            return "the bot's storage does not allow this write (permission denied)"
        reasons = {errno.ENAMETOOLONG: "the file name is too long (at most 255 bytes between slashes)",
                   errno.ENOSPC: "the bot's storage is full", errno.EDQUOT: "the bot's storage is full",
                   errno.EROFS: "the bot's storage is read-only"}
        return reasons.get(exc.errno or 0) or f"the file cannot be written ({exc.strerror or type(exc).__name__})"

    async def wait(self, args: list[Any]) -> None:
        """Checked only: the runtime suspends the dialog at a WAIT before it gets here; a host
        that answers WAIT within a turn (the golden tests) continues at once."""
        wait_seconds(Request("keyword", 0, 0, {"keyword": "WAIT", "args": [values.encode(a) for a in args]}),
                     self.bot.settings.max_wait_seconds)

    async def merge_session(self, args: list[Any]) -> None:
        self._need("MERGE SESSION", args, 2)
        if self.merge is None:
            raise BasicRuntimeError("MERGE_SESSION only runs in an ON LOGIN handler")
        await self.merge(self.session, values.to_str(args[0]), values.to_str(args[1]))

    async def transfer_session(self, args: list[Any]) -> None:
        """``TRANSFER_SESSION channel[, address]``: the conversation goes on at the user's address
        on that channel (the runtime's handoff: the turn's later replies go there)."""
        self._need("TRANSFER SESSION", args, 1)
        channel = self.messaging.configured("TRANSFER_SESSION", values.to_str(args[0]), allow_web=True)
        address = values.to_str(args[1]).strip() if len(args) > 1 and args[1] is not None else None
        if self.transfer is None:
            raise BasicRuntimeError("TRANSFER_SESSION: this conversation cannot move (it runs outside a server)")
        await self.transfer(self.session, channel, address or None)

    async def send_code(self, args: list[Any]) -> None:
        self.verification.send_code(args)

    async def verify_code(self, args: list[Any]) -> bool:
        return await self.verification.verify_code(args)

    async def send_file(self, args: list[Any]) -> None:
        """``SEND FILE file[, caption]``: a reply that carries the file (:mod:`.send_file`); its
        text is the caption, or the file's name.

        Raises:
            BasicRuntimeError: no file storage here, or the argument names no file of the bot.
        """
        self._need("SEND FILE", args, 1)
        if self.files is None:
            raise BasicRuntimeError("SEND FILE: files are not available here (the runtime has no file storage)")
        file = await file_to_send(self.files, self.bot, args[0])
        caption = values.to_str(args[1]) if len(args) > 1 and args[1] is not None else ""
        self.sent_files.append((caption or str(file["name"]), file))

    async def send_template(self, args: list[Any]) -> None:
        self.messaging.send_template(args)

    async def send_sms(self, args: list[Any]) -> None:
        self.messaging.send_sms(args)

    async def send_mail(self, args: list[Any]) -> None:
        """``SEND MAIL to, subject, body[, attachments]`` (and SEND EMAIL): an outbound mail of this
        turn (:mod:`.messaging`); `attachments` is a file (HEAR AS FILE's, a path of the bot, a
        URL) or an array of them.

        Raises:
            BasicRuntimeError: no email channel for the bot, a bad address, a file not the bot's.
        """
        files: list[dict[str, Any]] = []
        if len(args) > 3 and args[3] is not None:
            if self.files is None:
                raise BasicRuntimeError("SEND MAIL: attachments are not available here (the runtime has no file "
                                        "storage)")
            for item in args[3] if isinstance(args[3], list) else [args[3]]:
                files.append(await file_to_send(self.files, self.bot, item))
        self.messaging.send_mail(args, files)

    # --- user memory ------------------------------------------------------------------------------------
    async def set_user_memory(self, args: list[Any]) -> None:
        """``SET USER MEMORY key, value``: this user's, within the bot, until written again."""
        self._need("SET USER MEMORY", args, 2)
        self._remember("SET USER MEMORY", args[0], args[1], None)

    async def remember(self, args: list[Any]) -> None:
        """``REMEMBER key, value[, duration]`` (``"30 days"``, ``"2 hours"``, a number of days,
        ``"forever"``): this user's, within the bot; past the duration it reads as NULL."""
        self._need("REMEMBER", args, 2)
        key = memory_key("REMEMBER", args[0])
        until = remember_until(key, args[2] if len(args) > 2 else None, self.clock())
        self._remember("REMEMBER", key, args[1], until)

    def _remember(self, keyword: str, key: Any, value: Any, until: dt.datetime | None) -> None:
        entry = MemoryWrite(self.session.memory_owner, memory_key(keyword, key), values.encode(value), until)
        self.session.user_memory_writes.append(entry)  # written with this turn, in its transaction

    async def get_user_memory(self, args: list[Any]) -> Any:
        """``GET USER MEMORY(key)`` / ``RECALL key``: this user's value, NULL when absent or expired."""
        self._need("GET USER MEMORY", args, 1)
        key = memory_key("GET USER MEMORY", args[0])
        owner, now = self.session.memory_owner, self.clock()
        for w in reversed(self.session.user_memory_writes):  # this turn's own writes first
            if (w.owner, w.key) == (owner, key):
                return w.value if w.live(now) else None
        return await self.store.get_user_memory(self.session.bot_id, owner, key, now)


def _write(path: Path, text: str) -> None:
    """Write `text` into `path`, its folders made first (in a worker thread: disk I/O)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


def _surrogate(text: str) -> int | None:
    """The position of the first lone surrogate in `text` (UTF-8 cannot encode it), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def _relative(path: Path, base: Path) -> str:
    return path.relative_to(base).as_posix() if path.is_relative_to(base) else path.name


def _shown(name: str, limit: int = 80) -> str:
    """A file name as a message quotes it (a long one cut)."""
    return repr(name if len(name) <= limit else name[:limit] + "...")


async def recent_history(store: SessionStore, session: Session) -> list[Message]:
    """The session's recent messages, this turn's included (at most its history limit): the
    loaded history, or the stored one with this turn's messages after it."""
    if session.history is not None:
        return session.history
    stored = await store.history(session.id, limit=session.history_limit)
    return (stored + session.pending)[-session.history_limit:]


async def _call_outside_a_session(_fulfiller: Fulfiller, args: list[Any]) -> Any:
    """``CALL "other.bas"``: the DialogRuntime runs the other dialog (gb_runtime.calls); a host
    without dialogs of a bot to call fails it."""
    target = values.to_str(args[0]) if args else "?"
    raise BasicRuntimeError(f"CALL {target}: another dialog runs only in a session of the bot (gb serve)")


_KEYWORDS: dict[str, Callable[[Fulfiller, list[Any]], Awaitable[Any]]] = {
    "CALL": _call_outside_a_session,
    "SET BOT MEMORY": Fulfiller.set_bot_memory, "GET BOT MEMORY": Fulfiller.get_bot_memory,
    "USE KB": Fulfiller.use_kb, "CLEAR KB": Fulfiller.clear_kb, "USE TOOL": Fulfiller.use_tool,
    "ADD TOOL": Fulfiller.use_tool, "CLEAR TOOLS": Fulfiller.clear_tools,
    "REMOVE TOOL": Fulfiller.remove_tool,
    "ADD SUGGESTION": Fulfiller.add_suggestion, "ADD SUGGESTION TOOL": Fulfiller.add_suggestion_tool,
    "CLEAR SUGGESTIONS": Fulfiller.clear_suggestions, "ADD SWITCHER": Fulfiller.add_switcher,
    "CLEAR SWITCHERS": Fulfiller.clear_switchers, "SET ANSWER MODE": Fulfiller.set_answer_mode,
    "SET CONTEXT": Fulfiller.set_context, "SYSTEM PROMPT": Fulfiller.system_prompt,
    "SET LANGUAGE": Fulfiller.set_language, "SET SCHEDULE": Fulfiller.set_schedule,
    "LOAD TEMPLATE": Fulfiller.load_template, "SAVE": Fulfiller.save, "WAIT": Fulfiller.wait,
    "MERGE SESSION": Fulfiller.merge_session, "TRANSFER SESSION": Fulfiller.transfer_session,
    "SEND CODE": Fulfiller.send_code, "VERIFY CODE": Fulfiller.verify_code,
    "SEND MAIL": Fulfiller.send_mail, "SEND EMAIL": Fulfiller.send_mail, "SEND TEMPLATE": Fulfiller.send_template,
    "SEND SMS": Fulfiller.send_sms,
    "SEND FILE": Fulfiller.send_file, "LLM": Fulfiller.llm,
    "SET USER MEMORY": Fulfiller.set_user_memory, "GET USER MEMORY": Fulfiller.get_user_memory,
    "REMEMBER": Fulfiller.remember, "RECALL": Fulfiller.get_user_memory,
    "FIND": Fulfiller.find, "FIND ALL": Fulfiller.find_all, "INSERT": Fulfiller.insert,
    "INSERT INTO": Fulfiller.insert, "UPDATE": Fulfiller.update, "DELETE": Fulfiller.delete,
    "MERGE": Fulfiller.merge_rows, "FILTER": Fulfiller.filter, "FIRST": Fulfiller.first, "LAST": Fulfiller.last,
    "POST": Fulfiller.http_post, "PUT": Fulfiller.http_put, "PATCH": Fulfiller.http_patch,
    "SET HEADER": Fulfiller.set_header, "CLEAR HEADERS": Fulfiller.clear_headers,
}


