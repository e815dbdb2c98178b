"""What goes into the runtime (Inbound), what comes out (Reply, Result, Suggestion), and what a
front sees of a session (SessionSummary, DialogState, Waiting): typed, so no front reads stored dicts."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from gb_basic import Request
from gb_sessions import Message, Session

from .suggestions import Suggestion, offered

__all__ = ["Inbound", "Reply", "Result", "Handoff", "Suggestion", "Waiting", "DialogState", "SessionSummary"]


@dataclass
class Inbound:
    """One message for a bot. The session comes from `token` (web, API), from `session_id`
    (a trusted caller such as the notebook kernel) or from (`channel`, `address`).

    `bot` None means the bot of the token's session. `origin` is an opaque name of the
    sender (a socket, a kernel): the session event of this turn carries it, so the sender can
    skip its own echo. `inbox_id` is the channel's stored inbound message this is (its turn marks
    it done, so it is handled once; its replies go to the channel's outbox), `platform_id` the
    platform's own id of it. `on_delta`, from a front that shows an answer as it is generated
    (the web chat's socket, the notebook widget), gets the pieces of an LLM's answer as they come;
    the finished answer is a reply like any other. `stop`, set by the front (the web chat's stop
    button), stops the LLM answer being generated for this message: nothing of it is kept, and
    the bot says it was stopped."""

    bot: str | None
    text: str
    channel: str = "web"
    token: str | None = None
    session_id: uuid.UUID | None = None
    address: str | None = None
    attachment: dict[str, Any] | None = None
    origin: str | None = None
    inbox_id: int | None = None
    platform_id: str | None = None  # the platform's id of the inbound message (`inbox_id`'s)
    on_delta: Callable[[str], Awaitable[None]] | None = field(default=None, repr=False, compare=False)
    stop: asyncio.Event | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Waiting:
    """What a dialog waits for: the HEAR's variable, its type (or MENU), the menu's choices, line;
    `kind` is "hear" (the user's next message) or "wait" (a WAIT: the dialog goes on by itself at
    `due`, and messages that come before are answers typed ahead)."""

    variable: str | None
    type: str | None
    choices: list[str] | None
    line: int | None
    kind: str = "hear"
    due: dt.datetime | None = None

    @classmethod
    def of_request(cls, request: dict[str, Any] | None) -> Waiting | None:
        """From a suspended machine's HEAR request (``Request.to_dict()``) or a WAIT's waiting
        (``{kind: "wait", line, due}``), or None."""
        if not request:
            return None
        if request.get("kind") == "wait":
            return cls(None, None, None, request.get("line"), "wait", dt.datetime.fromisoformat(request["due"]))
        choices = [str(c) for c in request["choices"]] if request.get("choices") else None
        return cls(request.get("var"), request.get("type") or ("MENU" if choices else None), choices,
                   request.get("line"))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Waiting:
        """Inverse of :meth:`to_dict` (a turn event's ``waiting``)."""
        due = d.get("due")
        return cls(d.get("variable"), d.get("type"), d.get("choices"), d.get("line"), d.get("kind") or "hear",
                   dt.datetime.fromisoformat(due) if due else None)

    def describe(self) -> str:
        """One line for people: ``HEAR name AS EMAIL, line 3``, ``WAIT until 12:00:05 UTC, line 2``."""
        if self.kind == "wait" and self.due is not None:
            return f"WAIT until {self.due.astimezone(dt.UTC):%H:%M:%S} UTC, line {self.line or 0}"
        return Request("hear", self.line or 0, 0, {"var": self.variable, "type": self.type if self.type != "MENU"
                                                   else None, "choices": self.choices}).describe()

    def to_dict(self) -> dict[str, Any]:
        """The API's shape: ``{variable, type, choices, line, kind, due}`` (`due` for a WAIT)."""
        return {"variable": self.variable, "type": self.type, "choices": self.choices, "line": self.line,
                "kind": self.kind, "due": self.due.isoformat() if self.due else None}


@dataclass(frozen=True)
class DialogState:
    """The dialog a session is in: its name, what it waits for, and whether it is a notebook cell."""

    name: str
    waiting: Waiting | None
    cell: bool

    @classmethod
    def of(cls, dialog: dict[str, Any] | None) -> DialogState | None:
        """From a session's stored dialog, or None when no dialog waits."""
        if not dialog or not dialog.get("state"):
            return None
        return cls(str(dialog.get("name")), Waiting.of_request(dialog.get("waiting")), dialog.get("source") is not None)


@dataclass(frozen=True)
class SessionSummary:
    """A session as a front sees it (``DialogRuntime.summary``)."""

    id: uuid.UUID
    bot: str
    channel: str
    status: str
    user_id: uuid.UUID | None
    address: str | None
    created_at: dt.datetime
    last_activity: dt.datetime
    message_count: int
    dialog: DialogState | None
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def waiting(self) -> Waiting | None:
        return self.dialog.waiting if self.dialog else None

    @classmethod
    def of(cls, s: Session) -> SessionSummary:
        return cls(s.id, s.bot_id, s.channel, s.status, s.user_id, s.address, s.created_at, s.last_activity,
                   s.message_count, DialogState.of(s.dialog), offered(s.context))

    def to_dict(self) -> dict[str, Any]:
        """The API's shape (``GET /api/session``), with the suggestions the bot offers now."""
        return {"session_id": str(self.id), "bot": self.bot, "channel": self.channel, "status": self.status,
                "created_at": self.created_at.isoformat(), "last_activity": self.last_activity.isoformat(),
                "message_count": self.message_count, "waiting": self.waiting.to_dict() if self.waiting else None,
                "suggestions": [x.to_dict() for x in self.suggestions]}


@dataclass
class Reply:
    """One outbound message. `to` is set for TALK TO (another address). `message` is the stored
    message it became: its row id and timestamp once the turn is saved.

    `file` is set by SEND FILE: the file the message carries (its `content` is the caption, or
    the file's name), as ``{"id", "name", "type", "size", "url"}`` (see gb_runtime.files):
    `id` is the stored file's (None for a URL the dialog gave, which gb does not store), `type`
    its MIME type (sniffed from the content of a stored file), `size` in bytes (None for a URL),
    `url` path-absolute (``/<bot>/files/<id>``: a front joins it to its public address) or the
    dialog's http(s) URL. ``to_dict()`` carries it as ``"file"``: the channels read that."""

    content: str
    role: str = "assistant"
    choices: list[str] | None = None
    to: str | None = None
    message: Message | None = field(default=None, repr=False, compare=False)
    file: dict[str, Any] | None = None

    @property
    def id(self) -> int | None:
        """The stored message's row id (None until saved, or where saves are in the background)."""
        return self.message.id if self.message is not None else None

    @property
    def timestamp(self) -> dt.datetime | None:
        return self.message.timestamp if self.message is not None else None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.choices:
            d["choices"] = self.choices
        if self.to:
            d["to"] = self.to
        if self.file is not None:
            d["file"] = {k: self.file.get(k) for k in ("id", "name", "type", "size", "url")}
        if self.message is not None:
            if self.message.id is not None:
                d["id"] = self.message.id
            d["timestamp"] = self.message.timestamp.isoformat()
        return d


@dataclass(frozen=True)
class Handoff:
    """A TRANSFER_SESSION within a turn: the replies from index `at` on are the new channel's
    (`channel`, at `address`; None for the web, whose token reaches the session), those before
    it the channel the conversation was on (`was`, at `was_address`)."""

    at: int
    channel: str
    address: str | None
    was: str
    was_address: str | None


@dataclass
class Result:
    """The outcome of one message: the replies, what the dialog now waits for, and the
    suggestions the bot offers after it (the session's, as the turn left them: a front shows
    them with the last reply, in place of those it showed before; see :mod:`.suggestions`).

    `received` is the user's message as stored (row id and timestamp once saved)."""

    session_id: uuid.UUID
    bot: str
    replies: list[Reply] = field(default_factory=list)
    waiting: Waiting | None = None
    token: str | None = None  # set when a session starts or a login issues a new token
    error: Exception | None = None  # a dialog that failed (the replies say so to the user)
    value: Any = None  # run_source: the value of the expression of an expression cell
    variables: dict[str, Any] | None = None  # run_source: the session's variables after the cell
    received: Message | None = None
    suggestions: list[Suggestion] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)  # TRANSFER_SESSION, in the order they ran
    # the front's callback for an LLM answer's pieces as they come (Inbound.on_delta), during the turn only
    on_delta: Callable[[str], Awaitable[None]] | None = field(default=None, repr=False, compare=False)
    stop: asyncio.Event | None = field(default=None, repr=False, compare=False)  # Inbound.stop, during the turn

    def to_dict(self) -> dict[str, Any]:
        """The API's reply shape: ``{session_id, bot, messages, waiting, suggestions}`` (and the
        token once)."""
        d: dict[str, Any] = {"session_id": str(self.session_id), "bot": self.bot,
                             "messages": [r.to_dict() for r in self.replies],
                             "waiting": self.waiting.to_dict() if self.waiting else None,
                             "suggestions": [x.to_dict() for x in self.suggestions]}
        if self.token:
            d["token"] = self.token
        return d
