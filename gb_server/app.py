"""The Tornado application: the HTTP API, the web chat page and its WebSocket, health, metrics.

Every bot is served under ``/<bot>`` (its page, ``/<bot>/api/...``, ``/<bot>/ws``) and the
``default`` bot also at ``/``. Handlers get their collaborators through ``initialize(ctx=...)``.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tornado.web
from tornado.log import access_log

from gb_runtime import DialogRuntime

from .metrics import Metrics
from .settings import ServerSettings

if TYPE_CHECKING:
    from .channels.base import ChannelRegistry
    from .channels.dispatch import Dispatcher
    from .channels.http import PlatformHttp
    from .channels.mailbox import MailPoller
    from .turns import Turns

__all__ = ["Context", "make_app", "STATIC"]

STATIC = Path(__file__).parent / "static"
BOT = r"(?:(?P<bot>[A-Za-z0-9_-]+)/)?"


@dataclass
class Context:
    """What the handlers share: the runtime (their only door into the bots), settings, metrics."""

    runtime: DialogRuntime
    settings: ServerSettings
    metrics: Metrics = field(default_factory=Metrics)

    @functools.cached_property
    def turns(self) -> Turns:
        """The one turn path (turns.py)."""
        from .turns import Turns

        return Turns(self)

    @functools.cached_property
    def platform_http(self) -> PlatformHttp:
        """The client of the platforms' APIs (sending replies, fetching files; channels/http.py):
        timeouts on every call; closed with the server."""
        from .channels.http import PlatformHttp

        return PlatformHttp()

    @functools.cached_property
    def channels(self) -> ChannelRegistry:
        """The bots' channel adapters (channels/), as their config.csv turns them on."""
        from .channels import KINDS
        from .channels.base import ChannelRegistry

        return ChannelRegistry(self.runtime.bots, KINDS, self.platform_http, public_url=self.settings.public_url)

    @functools.cached_property
    def dispatcher(self) -> Dispatcher:
        """The inbox and outbox loops (started by the server: ``start_channels``)."""
        from .channels.dispatch import Dispatcher

        if self.runtime.channels is None:
            raise RuntimeError("the runtime has no channel queues (open it with open_services)")
        return Dispatcher(self.turns, self.runtime.channels, self.channels,
                          lease_seconds=float(self.settings.channel_lease_seconds))

    @functools.cached_property
    def mail_poller(self) -> MailPoller:
        """The bots' IMAP mailboxes read into the inbox (channels/mailbox.py; started with the channels)."""
        from .channels.mailbox import MailPoller

        return MailPoller(self.runtime.bots, self.channels, self.dispatcher.queue, self.dispatcher.kick,
                          self.dispatcher.owner, lease_seconds=float(self.settings.channel_lease_seconds))

    def start_channels(self) -> None:
        """Route the channels' replies to the outbox, start delivering and reading the mailboxes (``gb serve``)."""
        self.runtime.channel_modes.update(self.channels.modes())
        self.dispatcher.start()
        self.mail_poller.start()

    async def close(self) -> None:
        """Stop the channels' loops and close the platforms' client."""
        if "mail_poller" in self.__dict__:
            await self.mail_poller.stop()
        if "dispatcher" in self.__dict__:
            await self.dispatcher.stop()
        if "platform_http" in self.__dict__:
            await self.platform_http.close()


def make_app(ctx: Context) -> tornado.web.Application:
    """The application for one server process."""
    from .api import ChatHandler, HistoryHandler, SessionHandler
    from .base import NotFound, StaticFiles
    from .channels.directline import directline_routes
    from .channels.webhook import channel_routes
    from .files import FileHandler, UploadHandler
    from .pages import AvatarHandler, ChatPage, HealthHandler, MetricsHandler, OpenApiHandler
    from .socket import ChatSocket

    kw: dict[str, Any] = {"ctx": ctx}
    routes: list[Any] = [
        (r"/healthz", HealthHandler, kw),
        (r"/metrics", MetricsHandler, kw),
        (r"/openapi.json", OpenApiHandler, kw),
        (r"/static/(.*)", StaticFiles, {"path": str(STATIC)}),
        (r"/(favicon\.ico)", StaticFiles, {"path": str(STATIC)}),
        (rf"/{BOT}avatar", AvatarHandler, kw),
        (rf"/{BOT}api/session", SessionHandler, kw),
        (rf"/{BOT}api/session/history", HistoryHandler, kw),
        (rf"/{BOT}api/chat", ChatHandler, kw),
        (rf"/{BOT}api/upload", UploadHandler, kw),
        (rf"/{BOT}files/(?P<file_id>[A-Za-z0-9_-]+)", FileHandler, kw),
        (rf"/{BOT}ws", ChatSocket, kw),
        *directline_routes(ctx),
        *channel_routes(ctx),
        (r"/(?P<bot>[A-Za-z0-9_-]+)?/?", ChatPage, kw),
    ]
    return tornado.web.Application(
        routes, template_path=str(STATIC), websocket_max_message_size=ctx.settings.max_body_bytes,
        default_handler_class=NotFound,
        websocket_ping_interval=30, compress_response=True, log_function=log_request)


def log_request(handler: tornado.web.RequestHandler) -> None:
    """Tornado's access line without the query string: a stream ticket or a token sent there
    never reaches a log. Errors at WARNING and ERROR, the rest at INFO (tornado.access)."""
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    request = handler.request
    access_log.log(level, "%d %s %s (%s) %.2fms", status, request.method, request.path, request.remote_ip,
                   1000.0 * request.request_time())
