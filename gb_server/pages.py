"""The web chat page and the bot's avatar, ``/healthz``, ``/metrics`` and ``/openapi.json``."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import urllib.parse
from pathlib import Path
from typing import Any

from gb_runtime.bots import AVATAR_TYPES

from .base import ApiError, BaseHandler
from .openapi import OPENAPI

__all__ = ["AvatarHandler", "ChatPage", "HealthHandler", "MetricsHandler", "OpenApiHandler", "page_policy"]

log = logging.getLogger("gb.access")
#: the page's libraries from npm (web/package-lock.json), copied into static/vendor/ by `make install`
VENDORED = ("vendor/purify.es.mjs", "vendor/marked.esm.js")
MAX_AVATAR_BYTES = 1024 * 1024  # a bot-avatar file larger than this is refused (a picture of a few KB is plenty)


def page_policy(avatar_url: str, frame_origins: tuple[str, ...]) -> str:
    """The chat page's Content-Security-Policy: its own scripts and styles only (no inline code),
    images from itself and from the avatar's origin, and framed (the embed snippet) only by
    itself and the GB_CORS_ORIGINS sites."""
    images = "'self'"
    if avatar_url.startswith(("http://", "https://")):
        parts = urllib.parse.urlsplit(avatar_url)
        images += f" {parts.scheme}://{parts.netloc}"
    ancestors = "*" if "*" in frame_origins else " ".join(("'self'", *frame_origins))
    return (f"default-src 'self'; connect-src 'self' ws: wss:; img-src {images}; "
            f"frame-ancestors {ancestors}; base-uri 'none'; form-action 'self'")


class ChatPage(BaseHandler):
    """``/`` (the default bot) and ``/<bot>``: the chat page; its script keeps the token.

    The page carries the bot's look (config.csv ``bot-name``, ``bot-avatar``, ``theme-color``)
    and ``language`` (the page's wording) in data attributes, read by chat.js."""

    async def get(self, bot: str | None = None) -> None:
        name = self.bot_name(bot)
        base = "" if not bot else f"/{name}"
        static = Path(self.get_template_path() or ".")
        missing = [f for f in VENDORED if not (static / f).is_file()]
        if missing:  # the page would load blank: say why, here and in the log
            message = (f"the web chat's libraries are not installed ({', '.join(missing)} under {static.name}/): "
                       "`make install` copies them from npm (web/package-lock.json)")
            log.error("%s", message)
            raise ApiError(503, "page_unavailable", message)
        package = self.ctx.runtime.bots.get(name)
        settings = package.settings
        avatar = settings.bot_avatar
        if avatar and not avatar.startswith(("http://", "https://")):
            avatar = f"{base}/avatar" if package.avatar_file() is not None else ""
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Security-Policy", page_policy(avatar, self.ctx.settings.cors_origins))
        self.render("chat.html", bot=name, base=base, max_upload_mb=settings.max_upload_mb,
                    display_name=settings.bot_name or name, avatar=avatar, theme_color=settings.theme_color,
                    language=settings.language)


class AvatarHandler(BaseHandler):
    """``/<bot>/avatar``: the image file config.csv's ``bot-avatar`` names in the bot's ``.gbot``
    folder (404 when there is none). An SVG is served with a policy that runs nothing in it."""

    async def get(self, bot: str | None = None) -> None:
        name = self.bot_name(bot)
        path = self.ctx.runtime.bots.get(name).avatar_file()
        if path is None:
            raise ApiError(404, "not_found", f"bot {name} has no bot-avatar file")
        if path.stat().st_size > MAX_AVATAR_BYTES:
            raise ApiError(404, "not_found", f"bot {name}'s bot-avatar file is larger than "
                                             f"{MAX_AVATAR_BYTES // 1024} KB")
        self.set_header("Content-Type", AVATAR_TYPES[path.suffix.lower()])
        self.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "public, max-age=300")
        self.finish(path.read_bytes())


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
