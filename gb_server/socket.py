"""The web chat's WebSocket: the token in the first message (never in the URL), replies live.

Client -> server: ``{"type": "hello", "token"}`` first, then ``{"type": "message", "text"}``.
Server -> client: ``{"type": "ready", "session_id", "messages", "waiting"}`` (the history: the
catch-up after a reload or a reconnect), ``{"type": "reply", "messages", "waiting"}``,
``{"type": "error", "error": {"code", "message"}}``.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import tornado.websocket

from gb_runtime import Inbound, UnknownBot
from gb_sessions import SessionError

from .api import history_payload, reply_payload
from .app import Context
from .base import allowed_origin

__all__ = ["ChatSocket"]


class ChatSocket(tornado.websocket.WebSocketHandler):
    """One browser tab's live connection to one session."""

    def initialize(self, ctx: Context) -> None:
        self.ctx = ctx
        self.token: str | None = None
        self.session_id: uuid.UUID | None = None
        self.bot = "default"

    def check_origin(self, origin: str) -> bool:
        return allowed_origin(origin, self.request.host, self.ctx.settings.cors_origins)

    def open(self, bot: str | None = None) -> None:
        self.bot = bot or "default"
        self.ctx.metrics.sockets.inc()

    def on_close(self) -> None:
        self.ctx.metrics.sockets.dec()
        if self.session_id is not None:
            self.ctx.hub.unsubscribe(self.session_id, self.push)

    def push(self, payload: dict[str, Any]) -> None:
        if self.ws_connection is not None:
            self.write_message(json.dumps(payload, ensure_ascii=False, default=str))

    def error(self, code: str, message: str) -> None:
        self.ctx.metrics.errors.labels(code).inc()
        self.push({"type": "error", "error": {"code": code, "message": message}})

    async def on_message(self, raw: str | bytes) -> None:
        try:
            msg = json.loads(raw)
            kind = msg.get("type") if isinstance(msg, dict) else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            self.error("bad_json", "a message must be a JSON object")
            return
        try:
            if kind == "hello":
                await self.hello(msg)
            elif kind == "message":
                await self.message(msg)
            else:
                self.error("bad_request", 'expected {"type": "hello"} or {"type": "message"}')
        except SessionError as exc:
            self.error(exc.code, exc.message)
        except UnknownBot as exc:
            self.error("unknown_bot", str(exc))

    async def hello(self, msg: dict[str, Any]) -> None:
        token = msg.get("token")
        if not isinstance(token, str) or not token:
            self.error("missing_token", "the first message must be {\"type\": \"hello\", \"token\": ...}")
            return
        sid = await self.ctx.runtime.authenticate(token, self.ctx.runtime.bots.get(self.bot).name)
        if self.session_id is not None:
            self.ctx.hub.unsubscribe(self.session_id, self.push)
        self.token, self.session_id = token, sid
        self.ctx.hub.subscribe(sid, self.push)
        self.push({"type": "ready", **await history_payload(self.ctx.runtime, sid)})

    async def message(self, msg: dict[str, Any]) -> None:
        if self.token is None or self.session_id is None:
            self.error("missing_token", "send {\"type\": \"hello\", \"token\": ...} first")
            return
        text = msg.get("text")
        if not isinstance(text, str):
            self.error("bad_request", 'expected {"type": "message", "text": "..."}')
            return
        if len(text) > self.ctx.settings.max_message_chars:
            self.error("message_too_long", f"the message is longer than {self.ctx.settings.max_message_chars:,} "
                                           "characters")
            return
        started = time.perf_counter()
        bot = self.ctx.runtime.bots.get(self.bot).name
        result = await self.ctx.runtime.handle(Inbound(bot, text, channel="web", token=self.token))
        self.ctx.metrics.latency.labels(bot).observe(time.perf_counter() - started)
        self.ctx.metrics.messages.labels(bot, "web").inc()
        payload = {"type": "reply", **reply_payload(result)}
        self.push(payload)
        self.ctx.hub.publish(result.session_id, {**payload, "echo": text}, skip=self.push)
