"""The HTTP API of design.md: sessions, chat, history.

A token names its session and so its bot: the unprefixed ``/api/...`` routes serve the token's
bot; ``/<bot>/api/...`` refuses another bot's token (401 wrong_bot).
"""

from __future__ import annotations

import uuid
from typing import Any

from gb_runtime import DialogRuntime, Inbound

from .base import ApiError, BaseHandler
from .turns import message_text

__all__ = ["SessionHandler", "ChatHandler", "HistoryHandler", "history_payload"]


class SessionHandler(BaseHandler):
    """``POST /api/session`` starts one; ``GET`` shows it; ``DELETE`` ends it (Bearer)."""

    async def post(self, bot: str | None = None) -> None:
        body = self.json_body()
        asked = body.get("bot")
        if asked is not None and (not isinstance(asked, str) or not asked):
            raise ApiError(400, "bad_request", '"bot" must be a bot name')
        if bot and asked and asked != bot:
            raise ApiError(400, "bad_request", f"this URL serves bot {bot}, not {asked}")
        result = await self.ctx.turns.start(self.bot_name(bot or asked), "web", self.client())
        self.send_json(result.to_dict(), 201)

    async def get(self, bot: str | None = None) -> None:
        sid = await self.ctx.runtime.authenticate(self.bearer(), self.url_bot(bot))
        self.send_json((await self.ctx.runtime.summary(sid)).to_dict())

    async def delete(self, bot: str | None = None) -> None:
        sid = await self.ctx.runtime.authenticate(self.bearer(), self.url_bot(bot))
        await self.ctx.runtime.end(sid)
        self.set_status(204)
        self.finish()


class ChatHandler(BaseHandler):
    """``POST /api/chat`` (Bearer) ``{"message": "..."}``: the bot's replies, once stored."""

    async def post(self, bot: str | None = None) -> None:
        token = self.bearer()
        text = message_text(self.json_body())
        result = await self.ctx.turns.message(Inbound(self.url_bot(bot), text, channel="web", token=token))
        self.send_json(result.to_dict())


class HistoryHandler(BaseHandler):
    """``GET /api/session/history`` (Bearer): every message of the session, oldest first."""

    async def get(self, bot: str | None = None) -> None:
        sid = await self.ctx.runtime.authenticate(self.bearer(), self.url_bot(bot))
        self.send_json(await history_payload(self.ctx.runtime, sid))


async def history_payload(runtime: DialogRuntime, sid: uuid.UUID) -> dict[str, Any]:
    """``{session_id, messages, waiting, suggestions}``: the conversation so far (no system notes)
    and the suggestions the bot offers now."""
    messages = await runtime.history(sid)
    summary = await runtime.summary(sid)
    return {"session_id": str(sid),
            "messages": [{"id": m.id, "role": m.role, "content": m.content, "timestamp": m.timestamp.isoformat()}
                         for m in messages],
            "waiting": summary.waiting.to_dict() if summary.waiting else None,
            "suggestions": [x.to_dict() for x in summary.suggestions]}
