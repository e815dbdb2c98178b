"""The web chat page, ``/healthz``, ``/metrics`` and ``/openapi.json``."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from .base import ApiError, BaseHandler
from .openapi import OPENAPI

__all__ = ["ChatPage", "HealthHandler", "MetricsHandler", "OpenApiHandler"]


class ChatPage(BaseHandler):
    """``/`` (the default bot) and ``/<bot>``: the chat page; its script keeps the token."""

    async def get(self, bot: str | None = None) -> None:
        name = self.bot_name(bot)
        base = "" if not bot else f"/{name}"
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:")
        self.render("chat.html", bot=name, base=base,
                    max_upload_mb=self.ctx.runtime.bots.get(name).settings.max_upload_mb)


class HealthHandler(BaseHandler):
    """200 when the database answers, 503 with Retry-After when it does not."""

    async def get(self) -> None:
        try:
            await self.ctx.runtime.ping()
        except Exception as exc:  # any failure to reach the database means: not healthy now
            raise ApiError(503, "store_unavailable", f"the database is unavailable: {type(exc).__name__}", 2) \
                from None
        self.send_json({"status": "ok", "sockets": self.ctx.metrics.open_sockets})


class MetricsHandler(BaseHandler):
    """Prometheus text format."""

    async def get(self) -> None:
        token = self.ctx.settings.metrics_token
        if token is not None:
            if not hmac.compare_digest(self.request.headers.get("Authorization", ""), f"Bearer {token}"):
                raise ApiError(401, "invalid_token", "/metrics needs its Bearer token (GB_METRICS_TOKEN)")
        elif not _loopback(self.request):
            raise ApiError(403, "forbidden", "/metrics answers only to loopback unless GB_METRICS_TOKEN is set")
        try:
            self.ctx.metrics.active_sessions.set(await self.ctx.runtime.active_sessions())
        except Exception:  # metrics must not fail because the database is away
            pass
        self.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.finish(self.ctx.metrics.render())


def _loopback(request: Any) -> bool:
    """The connection's own peer is this machine (not an X-Real-Ip header, which anyone can send)."""
    address = getattr(request.connection.context, "address", None)
    peer = address[0] if isinstance(address, tuple) and address else ""
    try:
        return ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False


class OpenApiHandler(BaseHandler):
    async def get(self) -> None:
        self.send_json(OPENAPI)
