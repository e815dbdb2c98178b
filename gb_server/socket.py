"""The web chat's WebSocket: the token in the first message (never in the URL), replies live.

Client -> server: ``{"type": "hello", "token"}`` first, then ``{"type": "message", "text"}``.
Server -> client: ``{"type": "ready", "session_id", "messages", "waiting", "suggestions", "origin"}``
(the history: the catch-up after a reload or a reconnect; `origin` names this socket: an upload
that sends it as X-GB-Origin is not echoed back here, see files.py), ``{"type": "reply", "messages", "waiting",
"suggestions"}`` (the suggestions the bot offers after the turn: see gb_runtime.suggestions) (with
``"echo"``, the user's text, when the turn came from elsewhere: another tab, the API, a
notebook attached to the session), ``{"type": "error", "error": {"code", "message"}}``, and while
an LLM's answer to this socket's message is generated, ``{"type": "delta", "session_id", "text"}``
for each piece of it (the reply frame after them holds the whole answer, as stored; a failed
answer's reply says so instead). ``{"type": "stop"}`` stops the answer being generated for this
socket's message (the stop button): nothing of it is kept and the reply says it was stopped; with
no answer being generated it does nothing. Closing the socket does not stop an answer: it is
stored, and a reload shows it.

A socket's frames are worked on one after another, in order, off the frame reader (up to
MAX_QUEUED waiting, then it is not read), so a ``stop`` is read while the turn before it runs.

A frame the server cannot take gets an error frame and the socket stays open: not JSON, nested
too deep, a number out of range (``bad_json``, see ``base.parse_json``), a binary frame
(``bad_frame``), a frame over GB_MAX_BODY_KB (``frame_too_large``). One over WIRE_FACTOR times
that is not read: tornado closes the socket with 1009 (message too big); a text frame that is not
UTF-8 closes it with 1007 (RFC 6455 7.4.1). None is logged as a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from asyncio import Future
from typing import Any

import tornado.websocket

from gb_runtime import Inbound

from .api import history_payload
from .app import Context
from .base import ApiError, allowed_origin, error_of, parse_json, to_json

__all__ = ["ChatSocket", "reply_frame", "over_cap", "StrictProtocol", "WIRE_FACTOR"]

MAX_QUEUED = 8  # frames a socket may have waiting for the turn before them; then it is not read
WIRE_FACTOR = 4  # frames up to this many times the body cap are read (and refused with a frame), not cut off


def over_cap(frame: str | bytes, cap: int) -> bool:
    """Whether a frame has more than `cap` bytes (as UTF-8; a short one is not encoded to know:
    a character takes at most 4 bytes)."""
    if isinstance(frame, bytes):
        return len(frame) > cap
    return len(frame) > cap // 4 and len(frame.encode("utf-8")) > cap


def reply_frame(event: dict[str, Any]) -> dict[str, Any]:
    """A committed turn (the runtime's event, or a Result's dict) as the socket's reply frame."""
    frame = {"type": "reply", "session_id": event.get("session_id"), "messages": event.get("messages", []),
             "waiting": event.get("waiting"), "suggestions": event.get("suggestions") or []}
    received = event.get("received")
    if received:
        frame["echo"] = received.get("content")
    return frame


class StrictProtocol(tornado.websocket.WebSocketProtocol13):
    """Tornado's protocol, but a text frame that is not UTF-8 closes with 1007 and its reason
    (tornado drops the connection without a word)."""

    def _handle_message(self, opcode: int, data: bytes) -> Future[None] | None:
        if opcode == 0x1 and not self._frame_compressed:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.close(1007, f"a text frame must be UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})")
                return None
        return super()._handle_message(opcode, data)

    @classmethod
    def instead_of(cls, protocol: tornado.websocket.WebSocketProtocol | None,
                   handler: tornado.websocket.WebSocketHandler) -> tornado.websocket.WebSocketProtocol | None:
        """For a handler's ``get_websocket_protocol``: this protocol in place of tornado's 13."""
        if isinstance(protocol, tornado.websocket.WebSocketProtocol13):
            return cls(handler, False, protocol.params)
        return protocol


class ChatSocket(tornado.websocket.WebSocketHandler):
    """One browser tab's live connection to one session."""

    def initialize(self, ctx: Context) -> None:
        self.ctx = ctx
        self.token: str | None = None
        self.session_id: uuid.UUID | None = None
        self.bot: str | None = None
        self.origin = f"ws-{uuid.uuid4().hex}"
        self.early: list[dict[str, Any]] | None = None  # events that came before "ready" was sent
        self.turns: Future[None] | None = None  # the work of this socket's last frame (frames run in order)
        self.queued = 0  # frames taken and not done
        self.stop: asyncio.Event | None = None  # set to stop the LLM answer of the turn running

    def check_origin(self, origin: str) -> bool:
        return allowed_origin(origin, self.request.host, self.ctx.settings.cors_origins)

    def get_websocket_protocol(self) -> tornado.websocket.WebSocketProtocol | None:
        """Tornado's protocol 13 with the 1007 close of :class:`StrictProtocol`."""
        return StrictProtocol.instead_of(super().get_websocket_protocol(), self)

    @property
    def max_message_size(self) -> int:
        """Bytes of a frame tornado reads at most (over it: 1009 and the connection dropped, so a
        client still sending may see only a reset); the cap itself is checked in on_message."""
        return WIRE_FACTOR * self.ctx.settings.max_body_bytes

    def open(self, bot: str | None = None) -> None:
        self.bot = bot
        self.ctx.metrics.socket_opened()

    def on_close(self) -> None:
        self.ctx.metrics.socket_closed()
        if self.session_id is not None:
            self.ctx.runtime.unsubscribe(self.session_id, self.on_event)

    def push(self, payload: dict[str, Any]) -> None:
        if self.ws_connection is not None:
            self.write_message(to_json(payload))

    def on_event(self, event: dict[str, Any]) -> None:
        """A turn of this session committed by anyone but this socket (held back until "ready")."""
        if event.get("origin") == self.origin:
            return
        if self.early is not None:
            self.early.append(event)
            return
        self.push(reply_frame(event))

    async def on_message(self, raw: str | bytes) -> None:
        msg: Any = None
        problem: Exception | None = None
        try:
            if isinstance(raw, bytes):
                raise ApiError(400, "bad_frame", "frames must be text (JSON), not binary")
            cap = self.ctx.settings.max_body_bytes
            if over_cap(raw, cap):
                raise ApiError(413, "frame_too_large", f"a frame is larger than {cap // 1024} KB")
            msg = parse_json(raw, "a message")
        except Exception as exc:
            problem = exc
        if problem is None and isinstance(msg, dict) and msg.get("type") == "stop":
            if self.stop is not None:  # now, not after the turn it stops
                self.stop.set()
            return
        if self.queued >= MAX_QUEUED and self.turns is not None:  # stop reading frames until the turns catch up
            with contextlib.suppress(Exception):
                await asyncio.shield(self.turns)
        self.queued += 1
        self.turns = asyncio.ensure_future(self._in_order(self.turns, msg, problem))

    async def _in_order(self, before: Future[None] | None, msg: Any, problem: Exception | None) -> None:
        """A frame's work, after the work of the frame before it (replies keep the frames' order)."""
        if before is not None:
            with contextlib.suppress(Exception):
                await before
        self.stop = asyncio.Event()
        try:
            if problem is not None:
                raise problem
            kind = msg.get("type") if isinstance(msg, dict) else None
            if kind == "hello":
                await self.hello(msg)
            elif kind == "message":
                await self.message(msg, self.stop)
            else:
                self.error("bad_request", 'expected {"type": "hello"}, {"type": "message"} or {"type": "stop"}')
        except Exception as exc:  # every failure becomes an error frame; the socket stays open
            error = error_of(exc)
            if error.status >= 500 and error.code == "internal_error":
                self.log_exception(type(exc), exc, exc.__traceback__)
            self.error(error.code, error.message)
        finally:
            self.stop = None
            self.queued -= 1

    def error(self, code: str, message: str) -> None:
        self.ctx.metrics.errors.labels(code).inc()
        self.push({"type": "error", "error": {"code": code, "message": message}})

    async def hello(self, msg: dict[str, Any]) -> None:
        token = msg.get("token")
        if not isinstance(token, str) or not token:
            self.error("missing_token", "the first message must be {\"type\": \"hello\", \"token\": ...}")
            return
        if not token.isascii():  # tokens are URL-safe base64 (and a lone surrogate cannot be hashed)
            raise ApiError(401, "invalid_token", "unknown session token")
        bot = self.ctx.runtime.bots.get(self.bot).name if self.bot else None
        sid = await self.ctx.runtime.authenticate(token, bot)
        if self.ws_connection is None:  # closed meanwhile: on_close has run, nothing to subscribe
            return
        if self.session_id is not None:
            self.ctx.runtime.unsubscribe(self.session_id, self.on_event)
        self.token, self.session_id, self.early = token, sid, []
        self.ctx.runtime.subscribe(sid, self.on_event)  # before the history is read: no turn falls between
        ready = await history_payload(self.ctx.runtime, sid)
        if self.ws_connection is None:
            self.ctx.runtime.unsubscribe(sid, self.on_event)
            return
        self.push({"type": "ready", **ready, "origin": self.origin})  # an upload's X-GB-Origin: no echo here
        seen = max((m["id"] for m in ready["messages"] if m.get("id") is not None), default=0)
        early, self.early = self.early, None
        for event in early:  # turns committed while the history was read, if it did not have them
            if any((m.get("id") or 0) > seen for m in event.get("messages") or []):
                self.push(reply_frame(event))

    async def message(self, msg: dict[str, Any], stop: asyncio.Event | None = None) -> None:
        if self.token is None or self.session_id is None:
            self.error("missing_token", "send {\"type\": \"hello\", \"token\": ...} first")
            return
        text = msg.get("text")
        if not isinstance(text, str):
            self.error("bad_request", 'expected {"type": "message", "text": "..."}')
            return
        bot = self.ctx.runtime.bots.get(self.bot).name if self.bot else None
        async def delta(piece: str) -> None:  # an LLM's answer as it is generated (the reply frame follows)
            self.push({"type": "delta", "session_id": str(self.session_id), "text": piece})

        result = await self.ctx.turns.message(Inbound(bot, text, channel="web", token=self.token,
                                                      origin=self.origin, on_delta=delta, stop=stop))
        frame = reply_frame(result.to_dict())
        self.push(frame)
