"""The HTTP API of design.md: sessions, chat, history."""

from __future__ import annotations

import time
from typing import Any

from gb_runtime import Inbound, Result, waiting_of

from .base import ApiError, BaseHandler

__all__ = ["SessionHandler", "ChatHandler", "HistoryHandler"]


class SessionHandler(BaseHandler):
    """``POST /api/session`` starts one; ``GET`` shows it; ``DELETE`` ends it (Bearer)."""

    async def post(self, bot: str | None = None) -> None:
        async def work() -> None:
            body = self.json_body()
            asked = body.get("bot")
            if asked is not None and not isinstance(asked, str):
                raise ApiError(400, "bad_request", '"bot" must be a bot name')
            if bot and asked and asked != bot:
                raise ApiError(400, "bad_request", f"this URL serves bot {bot}, not {asked}")
            name = self.bot_name(bot or asked)
            result = await self.ctx.runtime.start(name, channel="web")
            self.ctx.metrics.sessions_started.labels(name).inc()
            self.send_json({"session_id": str(result.session_id), "token": result.token, "bot": name,
                            "messages": [r.to_dict() for r in result.replies], "waiting": result.waiting}, 201)

        await self.guarded(work)

    async def get(self, bot: str | None = None) -> None:
        async def work() -> None:
            name = self.bot_name(bot)
            sid = await self.ctx.runtime.authenticate(self.bearer(), name)
            session = await self.ctx.runtime.store.load(sid, with_history=False, fresh=True)
            assert session is not None
            self.send_json({"session_id": str(sid), "bot": session.bot_id, "channel": session.channel,
                            "status": session.status, "created_at": session.created_at.isoformat(),
                            "last_activity": session.last_activity.isoformat(),
                            "message_count": session.message_count, "waiting": waiting_of(session.dialog)})

        await self.guarded(work)

    async def delete(self, bot: str | None = None) -> None:
        async def work() -> None:
            sid = await self.ctx.runtime.authenticate(self.bearer(), self.bot_name(bot))
            await self.ctx.runtime.end(sid)
            self.set_status(204)
            self.finish()

        await self.guarded(work)


class ChatHandler(BaseHandler):
    """``POST /api/chat`` (Bearer) ``{"message": "..."}``: the bot's replies, once stored."""

    async def post(self, bot: str | None = None) -> None:
        async def work() -> None:
            name = self.bot_name(bot)
            token = self.bearer()
            text = message_text(self.json_body(), self.ctx.settings.max_message_chars)
            started = time.perf_counter()
            result = await self.ctx.runtime.handle(Inbound(name, text, channel="web", token=token))
            self.ctx.metrics.latency.labels(name).observe(time.perf_counter() - started)
            self.ctx.metrics.messages.labels(name, "web").inc()
            payload = reply_payload(result)
            self.ctx.hub.publish(result.session_id, {"type": "reply", "echo": text, **payload})
            self.send_json(payload)

        await self.guarded(work)


class HistoryHandler(BaseHandler):
    """``GET /api/session/history`` (Bearer): every message of the session, oldest first."""

    async def get(self, bot: str | None = None) -> None:
        async def work() -> None:
            sid = await self.ctx.runtime.authenticate(self.bearer(), self.bot_name(bot))
            self.send_json(await history_payload(self.ctx.runtime, sid))

        await self.guarded(work)


def message_text(body: dict[str, Any], limit: int) -> str:
    text = body.get("message")
    if not isinstance(text, str):
        raise ApiError(400, "bad_request", 'the body must be {"message": "..."}')
    if len(text) > limit:
        raise ApiError(413, "message_too_long", f"the message has {len(text):,} characters, more than {limit:,}")
    return text


def reply_payload(result: Result) -> dict[str, Any]:
    return {"session_id": str(result.session_id), "messages": [r.to_dict() for r in result.replies],
            "waiting": result.waiting}


async def history_payload(runtime: Any, sid: Any) -> dict[str, Any]:
    messages = await runtime.store.history(sid)
    session = await runtime.store.load(sid, with_history=False, fresh=True)
    return {"session_id": str(sid),
            "messages": [{"role": m.role, "content": m.content, "timestamp": m.timestamp.isoformat()}
                         for m in messages if m.role != "system"],
            "waiting": waiting_of(session.dialog) if session is not None else None}
