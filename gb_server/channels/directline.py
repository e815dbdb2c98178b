"""A Direct Line 3.0 subset, so Microsoft's ``botframework-webchat`` talks to a gb bot unchanged.

Mounted under ``/v3/directline`` (the default bot) and ``/<bot>/v3/directline``; give Web Chat
``createDirectLine({token, domain: "https://<host>/v3/directline"})``.

* ``POST tokens/generate`` (no secret: it is the public door, like ``POST /api/session``) starts a
  gb session on channel ``directline`` and **runs start.bas right away**: its replies are stored
  and are the first activities the client receives. Body (optional) ``{"user": {"id"}}``.
  Answer ``{conversationId, token, expires_in}``; the token is gb's session token. It counts in
  the bot's ``session-create-rate`` for the client's address with ``POST /api/session`` (429).
* ``POST tokens/refresh`` (Bearer) -> the same token (gb tokens do not rotate) and a new lifetime.
* ``POST conversations`` (Bearer) -> 201 ``{conversationId, token, expires_in, streamUrl}``;
  ``GET conversations/{id}?watermark=`` (Bearer) -> the same with a fresh ``streamUrl`` (reconnects).
* ``GET conversations/{id}/activities?watermark=`` (Bearer) -> ``{activities, watermark}``, built
  from the session's stored messages; a message's SQL row id is its watermark position.
* ``POST conversations/{id}/activities`` (Bearer) a ``message`` activity -> one gb turn -> ``{id}``;
  the user's activity comes back (the echo Web Chat waits for, with its ``channelData``), then the
  bot's replies: the last one of a turn carries a menu's choices and then the session's suggestions
  (ADD SUGGESTION, ADD SWITCHER) as ``suggestedActions`` of type ``imBack`` (a click sends the
  button's value as the user's message). Other activity types are acknowledged.
  A reply of SEND FILE carries the file as ``attachments: [{contentType, contentUrl, name}]``
  (contentUrl absolute: GB_PUBLIC_URL or the allowed request host, joined to ``/<bot>/files/<id>``).
* WebSocket ``conversations/{id}/stream?watermark=&t=<ticket>``: frames ``{activities, watermark}``
  after each turn and an empty frame every 20 s. The official client opens ``streamUrl`` as given,
  so the credential must be in the URL (Direct Line's own protocol): it is NOT the session token
  but a stream ticket, ``<session>.<expiry>.<HMAC-SHA256 keyed by the token's stored hash>``,
  valid for 5 minutes to open a socket, stateless (any process checks it).

Errors keep gb's shape ``{"error": {"code", "message"}}`` (that is Direct Line's shape too) with
Direct Line's codes: 401 ``Unauthorized`` (missing, unknown or other bot's token), 403
``TokenExpired`` (the client reports ExpiredToken), 404 ``NotFound`` (unknown or ended
conversation: the client reports Ended), 400 ``BadArgument``/``BadSyntax``, 429 ``TooManyRequests``.

Process-local: the client's ``from``/``channelData`` of each activity and the menus' choices and
suggestions are remembered in memory (the messages table keeps only text); after a restart or on
another process activities are rebuilt from the stored text with ``from: {id: <the
conversation's user>}`` and the current menu's choices and the session's suggestions (they are
in its stored context) on the last bot message.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import OrderedDict
from typing import Any

import tornado.ioloop
import tornado.web
import tornado.websocket

from gb_runtime import Inbound, Message, Result

from ..app import Context
from ..base import ApiError, BaseHandler, allowed_origin, error_of, to_json
from ..socket import WIRE_FACTOR, StrictProtocol, over_cap

__all__ = ["directline_routes", "DirectLineState"]

PREFIX = r"/(?:(?P<bot>[A-Za-z0-9_-]+)/)?v3/directline"
CONV = r"(?P<cid>[0-9a-fA-F-]{32,36})"
CHANNEL = "directline"
EXPIRES_IN = 1800  # seconds; the client refreshes at half of it
KEEPALIVE_MS = 20_000
MAX_REMEMBERED = 10_000  # conversations whose activity details this process remembers
MAX_WATERMARK = 2**62  # past any row id, within SQL's BIGINT: a larger one is clamped, not a 500

CODES = {400: "BadArgument", 401: "Unauthorized", 403: "TokenExpired", 404: "NotFound", 405: "BadArgument",
         409: "Conflict", 413: "MessageSizeTooBig", 429: "TooManyRequests"}


def directline_routes(ctx: Context) -> list[Any]:
    """Tornado routes of the Direct Line subset, to add to ``make_app``'s list."""
    kw: dict[str, Any] = {"ctx": ctx, "dl": DirectLineState()}
    return [
        (rf"{PREFIX}/tokens/generate", TokenGenerate, kw),
        (rf"{PREFIX}/tokens/refresh", TokenRefresh, kw),
        (rf"{PREFIX}/conversations", Conversations, kw),
        (rf"{PREFIX}/conversations/{CONV}", Conversation, kw),
        (rf"{PREFIX}/conversations/{CONV}/activities", Activities, kw),
        (rf"{PREFIX}/conversations/{CONV}/stream", Stream, kw),
    ]


class DirectLineState:
    """What this process remembers of Direct Line conversations (details the store does not keep)."""

    def __init__(self, limit: int = MAX_REMEMBERED) -> None:
        self.limit = limit
        self._extras: OrderedDict[uuid.UUID, dict[int, dict[str, Any]]] = OrderedDict()
        self._users: OrderedDict[uuid.UUID, dict[str, Any]] = OrderedDict()

    def remember(self, sid: uuid.UUID, row: int, extra: dict[str, Any]) -> None:
        rows = self._extras.setdefault(sid, {})
        rows[row] = extra
        self._extras.move_to_end(sid)
        while len(self._extras) > self.limit:
            self._extras.popitem(last=False)

    def extra(self, sid: uuid.UUID, row: int) -> dict[str, Any] | None:
        return self._extras.get(sid, {}).get(row)

    def set_user(self, sid: uuid.UUID, user: dict[str, Any]) -> None:
        self._users[sid] = user
        self._users.move_to_end(sid)
        while len(self._users) > self.limit:
            self._users.popitem(last=False)

    def user(self, sid: uuid.UUID) -> dict[str, Any]:
        return self._users.get(sid) or {"id": "user", "role": "user"}


# --- activities ------------------------------------------------------------------------------------
def _iso(t: dt.datetime) -> str:
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def activity_id(sid: uuid.UUID, row: int) -> str:
    return f"{sid}|{row:010d}"


def suggested(choices: list[str], suggestions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Bot Framework ``suggestedActions``: a menu's choices, then the suggestions (a value the menu
    has already is not offered twice)."""
    actions = [{"type": "imBack", "title": c, "value": c} for c in choices]
    seen = set(choices)
    for s in suggestions or []:
        if s["value"] not in seen:
            seen.add(s["value"])
            actions.append({"type": "imBack", "title": s["text"], "value": s["value"]})
    return {"actions": actions}


def to_activity(dl: DirectLineState, sid: uuid.UUID, bot: str, msg: Message) -> dict[str, Any]:
    row = int(msg.id or 0)
    extra = dl.extra(sid, row) or {}
    act: dict[str, Any] = {"type": "message", "id": activity_id(sid, row), "timestamp": _iso(msg.timestamp),
                           "channelId": CHANNEL, "conversation": {"id": str(sid)}, "text": msg.content}
    bot_account = {"id": bot, "name": bot, "role": "bot"}
    if msg.role == "user":
        act["from"] = extra.get("from") or dl.user(sid)
        act["recipient"] = bot_account
        for key in ("channelData", "locale", "localTimestamp", "entities"):
            if key in extra:
                act[key] = extra[key]
    else:
        act["from"] = bot_account
        act["recipient"] = dl.user(sid)
        act["textFormat"] = "markdown"
        if extra.get("choices") or extra.get("suggestions"):
            act["suggestedActions"] = {**suggested(extra.get("choices") or [], extra.get("suggestions")),
                                       "to": [dl.user(sid)["id"]]}
        file = extra.get("file")
        if isinstance(file, dict):  # SEND FILE: a Bot Framework attachment (the text is the caption)
            act["attachments"] = [{"contentType": file.get("type") or "application/octet-stream",
                                   "contentUrl": file.get("url"), "name": file.get("name")}]
    return act


def parse_watermark(raw: str | None) -> int:
    """A client's watermark: a message row id (0 for none, for "undefined", for garbage)."""
    try:
        return min(max(0, int(raw or 0)), MAX_WATERMARK)
    except ValueError:  # DirectLineJS sends "undefined" before it has seen a watermark
        return 0


async def activities_after(ctx: Context, dl: DirectLineState, sid: uuid.UUID, bot: str,
                           watermark: int) -> tuple[list[dict[str, Any]], int]:
    """The conversation's activities after `watermark` (a message row id), and the new watermark."""
    fresh = await ctx.runtime.history(sid, after=watermark)
    acts = [to_activity(dl, sid, bot, m) for m in fresh]
    if acts and fresh[-1].role == "assistant" and "suggestedActions" not in acts[-1] \
            and dl.extra(sid, int(fresh[-1].id or 0)) is None:
        # nothing remembered (a restart, another process): the menu the dialog waits at now, and
        # the session's suggestions now
        summary = await ctx.runtime.summary(sid)
        choices = summary.waiting.choices if summary.waiting and summary.waiting.choices else []
        offered = [x.to_dict() for x in summary.suggestions]
        if choices or offered:
            acts[-1]["suggestedActions"] = {**suggested(choices, offered), "to": [dl.user(sid)["id"]]}
    last = max([int(m.id or 0) for m in fresh] + [watermark])
    return acts, last


def remember_turn(dl: DirectLineState, result: Result, user_extra: dict[str, Any] | None,
                  files_base: str = "") -> int | None:
    """Attach the client's activity details, the menus' choices, the files of SEND FILE (their
    path-absolute URLs joined to `files_base`, ``https://host``) and (on the turn's last reply)
    the suggestions to the stored rows of a turn (the result knows their ids); the user
    message's row id (None for start.bas's turn)."""
    sid = result.session_id
    user_row = result.received.id if result.received is not None else None
    if user_row is not None:
        dl.remember(sid, user_row, user_extra or {})
    shown = [r for r in result.replies if r.to is None and r.id is not None]
    for reply in shown:
        extra: dict[str, Any] = {"choices": reply.choices} if reply.choices else {}
        if reply.file is not None:
            url = str(reply.file.get("url") or "")
            extra["file"] = {**reply.file, "url": files_base + url if url.startswith("/") else url}
        if reply is shown[-1] and result.suggestions:
            extra["suggestions"] = [x.to_dict() for x in result.suggestions]
        dl.remember(sid, reply.id or 0, extra)
    return user_row


def dl_error(error: ApiError) -> ApiError:
    """gb's error in Direct Line's conventions: its codes, 403 for an expired token (the client
    reports ExpiredToken), 404 for an ended or unknown conversation (the client reports Ended)."""
    status = error.status
    if error.code == "session_expired":
        status = 403
    elif error.code in ("session_ended", "session_not_found", "unknown_bot"):
        status = 404
    code = "BadSyntax" if error.code == "bad_json" else CODES.get(status, "ServiceError")
    return ApiError(status, code, error.message, error.retry_after)


def body_user(body: dict[str, Any]) -> str | None:
    """The user id of an optional ``{"user": {"id": "..."}}`` (a 400 for another shape)."""
    user = body.get("user")
    if user is None:
        return None
    if not isinstance(user, dict) or not isinstance(user.get("id", ""), str):
        raise ApiError(400, "bad_request", '"user" must be {"id": "..."}')
    uid = user.get("id")
    return uid if isinstance(uid, str) else None


# the activity's fields gb reads or echoes, and what each must be when present
_ACTIVITY_FIELDS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "id": (str, "a string"), "timestamp": (str, "a string"), "localTimestamp": (str, "a string"),
    "locale": (str, "a string"), "text": ((str, type(None)), "a string"), "from": (dict, "an object"),
    "entities": (list, "an array"), "suggestedActions": (dict, "an object")}


def check_activity(act: dict[str, Any]) -> None:
    """A 400 for a field of the activity that has the wrong type (``from``'s id, name, role too)."""
    for key, (kind, what) in _ACTIVITY_FIELDS.items():
        if key in act and not isinstance(act[key], kind):
            raise ApiError(400, "bad_request", f'an activity\'s "{key}" must be {what}')
    sender = act.get("from") or {}
    for key in ("id", "name", "role"):
        if key in sender and not isinstance(sender[key], str):
            raise ApiError(400, "bad_request", f'an activity\'s "from.{key}" must be a string')


# --- handlers ---------------------------------------------------------------------------------------
class DirectLineHandler(BaseHandler):
    """Direct Line's error codes, CORS for its headers, the conversation behind a Bearer token."""

    def initialize(self, ctx: Context, dl: DirectLineState | None = None) -> None:
        super().initialize(ctx)
        self.dl = dl or DirectLineState()

    def cors(self) -> None:
        super().cors()
        if self._headers.get("Access-Control-Allow-Origin"):  # the header botframework-webchat sends
            self.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, x-ms-bot-agent")

    def map_error(self, error: ApiError) -> ApiError:
        return dl_error(error)

    def public_base(self) -> str:
        """``ws(s)://host`` of handed-out URLs: GB_PUBLIC_URL, else the request's host if allowed
        (a Host header is the client's to choose: a ticket must not travel to its host)."""
        public = self.ctx.settings.public_url
        if public is not None:
            return public.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        host = self.request.host
        if host.rsplit(":", 1)[0].strip("[]").lower() not in self.ctx.settings.allowed_hosts:
            raise ApiError(400, "host_not_allowed", f"this server does not hand out URLs for host {host!r}: "
                                                    "set GB_PUBLIC_URL (or GB_ALLOWED_HOSTS)")
        return f"{'wss' if self.request.protocol == 'https' else 'ws'}://{host}"

    def files_base(self) -> str:
        """``http(s)://host`` for the URLs of SEND FILE's files: GB_PUBLIC_URL, else the request's
        host if allowed; else "" (the URL stays path-absolute)."""
        public = self.ctx.settings.public_url
        if public is not None:
            return public
        host = self.request.host
        if host.rsplit(":", 1)[0].strip("[]").lower() not in self.ctx.settings.allowed_hosts:
            return ""
        return f"{self.request.protocol}://{host}"

    def base_path(self, bot: str | None) -> str:
        return f"/{bot}/v3/directline" if bot else "/v3/directline"

    async def conversation(self, bot: str | None, cid: str | None = None) -> tuple[str, uuid.UUID, str]:
        """The bot, the session and the token of the request (Bearer), checked against `cid`."""
        name = self.bot_name(bot)
        token = self.bearer()
        sid = await self.ctx.runtime.authenticate(token, name)
        if cid is not None and cid.lower() != str(sid):
            raise ApiError(404, "not_found", f"no conversation {cid} for this token")
        return name, sid, token

    async def conversation_info(self, bot: str | None, sid: uuid.UUID, token: str) -> dict[str, Any]:
        base = self.public_base()
        watermark = self.get_query_argument("watermark", None)
        query = f"watermark={parse_watermark(watermark)}&" if watermark and watermark.isdigit() else ""
        ticket = await self.ctx.runtime.stream_ticket(sid)
        stream = f"{base}{self.base_path(bot)}/conversations/{sid}/stream?{query}t={ticket}"
        return {"conversationId": str(sid), "token": token, "expires_in": EXPIRES_IN, "streamUrl": stream}


class TokenGenerate(DirectLineHandler):
    """``POST tokens/generate``: a new conversation (start.bas runs now) and its token."""

    async def post(self, bot: str | None = None) -> None:
        name = self.bot_name(bot)
        user = body_user(self.json_body())
        result = await self.ctx.turns.start(name, CHANNEL, self.client())
        if user is not None:
            self.dl.set_user(result.session_id, {"id": user, "role": "user"})
        remember_turn(self.dl, result, None, self.files_base())
        self.send_json({"conversationId": str(result.session_id), "token": result.token, "expires_in": EXPIRES_IN})


class TokenRefresh(DirectLineHandler):
    """``POST tokens/refresh``: gb tokens do not rotate; the same token, a new lifetime."""

    async def post(self, bot: str | None = None) -> None:
        _, sid, token = await self.conversation(bot)
        self.send_json({"conversationId": str(sid), "token": token, "expires_in": EXPIRES_IN})


class Conversations(DirectLineHandler):
    """``POST conversations`` (Bearer): the token's conversation and its stream URL."""

    async def post(self, bot: str | None = None) -> None:
        _, sid, token = await self.conversation(bot)
        user = body_user(self.json_body())
        if user is not None:
            self.dl.set_user(sid, {"id": user, "role": "user"})
        self.send_json(await self.conversation_info(bot, sid, token), 201)


class Conversation(DirectLineHandler):
    """``GET conversations/{id}?watermark=`` (Bearer): a fresh stream URL (the client's reconnect)."""

    async def get(self, bot: str | None = None, cid: str = "") -> None:
        _, sid, token = await self.conversation(bot, cid)
        self.send_json(await self.conversation_info(bot, sid, token))


class Activities(DirectLineHandler):
    """``GET`` (polling) and ``POST`` (send) a conversation's activities."""

    async def get(self, bot: str | None = None, cid: str = "") -> None:
        name, sid, _ = await self.conversation(bot, cid)
        acts, last = await activities_after(self.ctx, self.dl, sid, name,
                                            parse_watermark(self.get_query_argument("watermark", None)))
        self.send_json({"activities": acts, "watermark": str(last)})

    async def post(self, bot: str | None = None, cid: str = "") -> None:
        name, sid, token = await self.conversation(bot, cid)
        act = self.json_body()
        kind = act.get("type")
        if not isinstance(kind, str):
            raise ApiError(400, "bad_request", 'an activity needs a "type"')
        check_activity(act)
        if kind != "message":  # typing, event, conversationUpdate: acknowledged, not a turn
            self.send_json({"id": f"{sid}|{kind}-{uuid.uuid4().hex[:12]}"})
            return
        text = act.get("text")
        if text is None:
            value = act.get("value")
            text = value if isinstance(value, str) else ""
        sender = act.get("from")
        extra: dict[str, Any] = {k: act[k] for k in ("channelData", "locale", "localTimestamp", "entities")
                                 if k in act}
        if isinstance(sender, dict) and isinstance(sender.get("id"), str):
            extra["from"] = {"id": sender["id"], "role": "user",
                             **({"name": sender["name"]} if isinstance(sender.get("name"), str) else {})}
            self.dl.set_user(sid, {"id": sender["id"], "role": "user"})
        result = await self.ctx.turns.message(Inbound(name, text, channel=CHANNEL, token=token))
        row = remember_turn(self.dl, result, extra, self.files_base())
        self.send_json({"id": activity_id(sid, row or 0)})


class Stream(tornado.websocket.WebSocketHandler):
    """``conversations/{id}/stream?t=<ticket>&watermark=``: ``{activities, watermark}`` frames."""

    def initialize(self, ctx: Context, dl: DirectLineState | None = None) -> None:
        self.ctx = ctx
        self.dl = dl or DirectLineState()
        self.sid: uuid.UUID | None = None
        self.bot = "default"
        self.watermark = 0
        self.keepalive: tornado.ioloop.PeriodicCallback | None = None
        self.flushing = False
        self.again = False

    def check_origin(self, origin: str) -> bool:
        return allowed_origin(origin, self.request.host, self.ctx.settings.cors_origins)

    def get_websocket_protocol(self) -> tornado.websocket.WebSocketProtocol | None:
        """A text frame that is not UTF-8 closes with 1007 and its reason (see socket.StrictProtocol)."""
        return StrictProtocol.instead_of(super().get_websocket_protocol(), self)

    async def prepare(self) -> None:
        """Check the ticket before the upgrade: a refused stream is a plain HTTP error."""
        kwargs = self.path_kwargs
        try:
            self.bot = self.ctx.runtime.bots.get(kwargs.get("bot") or "default").name
            ticket = self.get_query_argument("t", "")
            if not ticket:
                raise ApiError(401, "missing_token", "the stream URL needs its t= ticket")
            try:
                cid = uuid.UUID(kwargs.get("cid") or "")
            except ValueError:
                raise ApiError(404, "not_found", "no such conversation") from None
            self.sid = await self.ctx.runtime.check_ticket(ticket, cid, self.bot)
        except Exception as exc:  # every refusal (and a failure) is a plain HTTP error before the upgrade
            error = dl_error(error_of(exc))
            self.set_status(error.status)
            self.set_header("Content-Type", "application/json; charset=utf-8")
            self.finish(to_json({"error": {"code": error.code, "message": error.message}}))
        self.watermark = parse_watermark(self.get_query_argument("watermark", None))

    async def open(self, *args: Any, **kwargs: Any) -> None:
        assert self.sid is not None
        self.ctx.metrics.socket_opened()
        self.ctx.runtime.subscribe(self.sid, self.notify)
        self.keepalive = tornado.ioloop.PeriodicCallback(self.ping_empty, KEEPALIVE_MS)
        self.keepalive.start()
        await self.send_new()

    def on_close(self) -> None:
        if self.keepalive is not None:
            self.keepalive.stop()
        if self.sid is not None:
            self.ctx.metrics.socket_closed()
            self.ctx.runtime.unsubscribe(self.sid, self.notify)

    @property
    def max_message_size(self) -> int:
        """Bytes of a frame tornado reads at most (see socket.ChatSocket.max_message_size)."""
        return WIRE_FACTOR * self.ctx.settings.max_body_bytes

    def on_message(self, message: str | bytes) -> None:
        """The client's pings are empty strings; nothing else is expected on this socket (a frame
        over the body cap closes it with 1009, once read)."""
        if over_cap(message, self.ctx.settings.max_body_bytes):
            self.close(1009, "message too big")

    def ping_empty(self) -> None:
        if self.ws_connection is not None:
            self.write_message("")

    def notify(self, payload: dict[str, Any]) -> None:
        """A turn of this session was committed (here or by gb's own API): send what is new."""
        tornado.ioloop.IOLoop.current().add_callback(self.send_new)

    async def send_new(self) -> None:
        if self.flushing:  # one at a time; a notification meanwhile means one more
            self.again = True
            return
        self.flushing = True
        try:
            while True:
                self.again = False
                if self.sid is None or self.ws_connection is None:
                    return
                acts, last = await activities_after(self.ctx, self.dl, self.sid, self.bot, self.watermark)
                if acts and self.ws_connection is not None:
                    self.watermark = last
                    self.write_message(to_json({"activities": acts, "watermark": str(last)}))
                if not self.again:
                    return
        except tornado.websocket.WebSocketClosedError:
            return
        finally:
            self.flushing = False
