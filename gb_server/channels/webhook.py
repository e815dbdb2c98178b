"""The webhook handler every channel shares: verify, store in the inbox, then acknowledge.

``POST /<bot>/<channel path>`` (and without the prefix for ``default``): the adapter verifies the
request (401/403 and nothing stored when forged), parses it, and its messages are committed to
the inbox (de-duplicated on the platform's message id) BEFORE the answer leaves: a 200 means
the message is safe. The turn runs after (dispatch.py), exactly once. Delivery statuses are
recorded on the outbound message they name, not treated as user messages. An inline channel
(voice) handles its message in the request and answers with the turn's replies.
``GET`` is the platform's subscribe handshake where it has one (WhatsApp's ``hub.challenge``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import tornado.web

from gb_runtime import UnknownBot

from ..app import BOT, Context
from ..base import ApiError, BaseHandler
from .base import INLINE, Channel

__all__ = ["ChannelWebhook", "channel_routes"]

log = logging.getLogger("gb.channels")
_AFTER: set[asyncio.Future[None]] = set()  # calls made after a webhook's answer (kept until they end)


def channel_routes(ctx: Context) -> list[Any]:
    """One route per channel kind with a webhook: ``/<bot>/<its path>`` (email has none: it polls)."""
    return [(rf"/{BOT}{kind.path}", ChannelWebhook, {"ctx": ctx, "channel": name})
            for name, kind in ctx.channels.kinds.items() if kind.path]


@tornado.web.stream_request_body
class ChannelWebhook(BaseHandler):
    """A platform's webhook for one bot (see the module docstring)."""

    def initialize(self, ctx: Context, channel: str) -> None:  # type: ignore[override]
        super().initialize(ctx)
        self.channel = channel

    def check_xsrf_cookie(self) -> None:
        """Platforms sign their requests; there is no browser session to protect."""

    def adapter(self, bot: str | None) -> Channel:
        name = self.bot_name(bot)
        try:
            adapter = self.ctx.channels.get(name, self.channel)
        except UnknownBot as exc:
            raise ApiError(404, "unknown_bot", str(exc)) from None
        if adapter is None:
            raise ApiError(404, "channel_off", f"bot {name} has no {self.channel} channel (its keys are not in "
                                               "its config.csv)")
        return adapter

    def get(self, bot: str | None = None) -> None:
        adapter = self.adapter(bot)
        challenge = adapter.handshake(self.request)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(challenge)

    async def post(self, bot: str | None = None) -> None:
        adapter = self.adapter(bot)
        body = self.body
        await adapter.verify(self.request, body)
        parsed = adapter.parse(self.request, body)
        queue = self.ctx.dispatcher.queue
        ids: list[int] = []
        for m in parsed.messages:
            row_id, new = await queue.receive(adapter.bot, adapter.name, m.platform_id, m.address, m.payload())
            ids.append(row_id)
            self.ctx.metrics.channel_in.labels(adapter.bot, adapter.name, "stored" if new else "redelivered").inc()
            if not new:
                log.info("%s message %s of bot %s delivered again: stored once", adapter.name, m.platform_id,
                         adapter.bot)
        for st in parsed.statuses:
            await queue.delivery(adapter.name, st.platform_id, st.status, st.error)
        if adapter.mode == INLINE:
            await self.ctx.dispatcher.handle_now(ids)
            content_type, answer = await adapter.respond(ids, self.request, body)
        else:
            content_type, answer = adapter.ack()
            if ids:
                self.ctx.dispatcher.kick()
        self.set_header("Content-Type", content_type)
        self.finish(answer)
        for call in parsed.after:
            task = asyncio.ensure_future(_quietly(call()))
            _AFTER.add(task)
            task.add_done_callback(_AFTER.discard)


async def _quietly(aw: Any) -> None:
    try:
        await aw
    except Exception as exc:  # best effort (a button's spinner): the message itself is stored
        log.warning("after a webhook: %s", exc)
