"""A gb server inside the test process, on a given Stores: the app exactly as ``gb serve`` builds it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import tornado.httpserver
import tornado.netutil
import tornado.web

from gb_runtime import DialogRuntime
from gb_runtime.events import SessionEvents
from gb_server import Context, ServerSettings, make_app
from gb_server.cli import MAX_WIRE_BODY
from gb_sessions.config import Stores, StoreSettings
from tests.helpers.bots import runtime_for


@dataclass
class InProcess:
    url: str
    ctx: Context

    @property
    def runtime(self) -> DialogRuntime:
        return self.ctx.runtime


@asynccontextmanager
async def serving(stores: Stores, bots: Path, data: Path, *,
                  routes: Callable[[Context, tornado.web.Application], None] | None = None,
                  host: str = "127.0.0.1", http: httpx.AsyncClient | None = None,
                  **settings: Any) -> AsyncIterator[InProcess]:
    """Serve `bots` on `stores` (events within this process) until the block ends.

    Args:
        routes: adds routes to the app (test pages).
        http: the runtime's client for BASIC's GET/POST (none: they are refused).
        settings: ServerSettings fields (max_body_bytes, cors_origins, ...).
    """
    server_settings = ServerSettings(bots_dir=bots, storage=StoreSettings("(the test's stores)", None, data),
                                     **settings)
    ctx = Context(runtime_for(stores, bots, data, events=SessionEvents(), http=http), server_settings)
    app = make_app(ctx)
    ctx.start_channels()
    if routes is not None:
        routes(ctx, app)
    sockets = tornado.netutil.bind_sockets(0, host)
    server = tornado.httpserver.HTTPServer(app, max_body_size=MAX_WIRE_BODY, xheaders=False)  # as gb serve
    server.add_sockets(sockets)
    try:
        yield InProcess(f"http://127.0.0.1:{sockets[0].getsockname()[1]}", ctx)  # any host: via loopback
    finally:
        server.stop()
        await server.close_all_connections()
        await ctx.close()
