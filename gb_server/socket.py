"""The web chat's WebSocket: the token in the first message (never in the URL), replies live.

Client -> server: ``{"type": "hello", "token"}`` first, then ``{"type": "message", "text"}``.
Server -> client: ``{"type": "ready", "session_id", "messages", "waiting"}`` (the history: the
catch-up after a reload or a reconnect), ``{"type": "reply", "messages", "waiting"}`` (with
``"echo"``, the user's text, when the turn came from elsewhere: another tab, the API, a
notebook attached to the session), ``{"type": "error", "error": {"code", "message"}}``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import tornado.websocket

from gb_runtime import Inbound

from .api import history_payload
from .app import Context
from .base import ApiError, allowed_origin, error_of

__all__ = ["ChatSocket", "reply_frame"]


def reply_frame(event: dict[str, Any]) -> dict[str, Any]:
    """A committed turn (the runtime's event, or a Result's dict) as the socket's reply frame."""
    frame = {"type": "reply", "session_id": event.get("session_id"), "messages": event.get("messages", []),
             "waiting": event.get("waiting")}
    received = event.get("received")
    if received:
        frame["echo"] = received.get("content")
    return frame


class ChatSocket(tornado.websocket.WebSocketHandler):
    """One browser tab's live connection to one session."""

    def initialize(self, ctx: Context) -> None:
        self.ctx = ctx
        self.token: str | None = None
        self.session_id: uuid.UUID | None = None
        self.bot: str | None = None
        self.origin = f"ws-{uuid.uuid4().hex}"
        self.early: list[dict[str, Any]] | None = None  # events that came before "ready" was sent

    def check_origin(self, origin: str) -> bool:
        return allowed_origin(origin, self.request.host, self.ctx.settings.cors_origins)

    def open(self, bot: str | None = None) -> None:
        self.bot = bot
        self.ctx.metrics.socket_opened()

    def on_close(self) -> None:
        self.ctx.metrics.socket_closed()
        if self.session_id is not None:
            self.ctx.runtime.unsubscribe(self.session_id, self.on_event)

    def push(self, payload: dict[str, Any]) -> None:
        if self.ws_connection is not None:
            self.write_message(json.dumps(payload, ensure_ascii=False, default=str))

    def on_event(self, event: dict[str, Any]) -> None:
        """A turn of this session committed by anyone but this socket (held back until "ready")."""
        if event.get("origin") == self.origin:
            return
        if self.early is not None:
            self.early.append(event)
            return
        self.push(reply_frame(event))

    async def on_message(self, raw: str | bytes) -> None:
        try:
            try:
                msg = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise ApiError(400, "bad_json", "a message must be a JSON object") from None
            except RecursionError:  # Python's parser gives up past about a thousand levels
                raise ApiError(400, "bad_json", "the message's JSON is nested too deeply") from None
            kind = msg.get("type") if isinstance(msg, dict) else None
            if kind == "hello":
                await self.hello(msg)
            elif kind == "message":
                await self.message(msg)
            else:
                self.error("bad_request", 'expected {"type": "hello"} or {"type": "message"}')
        except Exception as exc:  # every failure becomes an error frame; the socket stays open
            error = error_of(exc)
            if error.status >= 500 and error.code == "internal_error":
                self.log_exception(type(exc), exc, exc.__traceback__)
            self.error(error.code, error.message)

    def error(self, code: str, message: str) -> None:
        self.ctx.metrics.errors.labels(code).inc()
        self.push({"type": "error", "error": {"code": code, "message": message}})

    async def hello(self, msg: dict[str, Any]) -> None:
        token = msg.get("token")
        if not isinstance(token, str) or not token:
            self.error("missing_token", "the first message must be {\"type\": \"hello\", \"token\": ...}")
            return
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
        self.push({"type": "ready", **ready})
        seen = max((m["id"] for m in ready["messages"] if m.get("id") is not None), default=0)
        early, self.early = self.early, None
        for event in early:  # turns committed while the history was read, if it did not have them
            if any((m.get("id") or 0) > seen for m in event.get("messages") or []):
                self.push(reply_frame(event))

    async def message(self, msg: dict[str, Any]) -> None:
        if self.token is None or self.session_id is None:
            self.error("missing_token", "send {\"type\": \"hello\", \"token\": ...} first")
            return
        text = msg.get("text")
        if not isinstance(text, str):
            self.error("bad_request", 'expected {"type": "message", "text": "..."}')
            return
        bot = self.ctx.runtime.bots.get(self.bot).name if self.bot else None
        result = await self.ctx.turns.message(Inbound(bot, text, channel="web", token=self.token,
                                                      origin=self.origin))
        frame = reply_frame(result.to_dict())
        self.push(frame)
