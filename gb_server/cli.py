"""``gb serve``: the bot server (registered on the gb command by entry point)."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import click
import tornado.httpserver
import tornado.netutil
import tornado.process

from gb_runtime import BotRegistry, DialogRuntime
from gb_sessions.config import open_stores

from .app import Context, make_app
from .settings import ServerSettings

__all__ = ["serve", "run_server"]


@click.command()
@click.option("--bots", "bots_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The bots folder (default: GB_BOTS_DIR or ./bots).")
@click.option("--port", type=int, default=None, help="The port (default: GB_PORT or 8080).")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--workers", type=int, default=1, show_default=True, help="Server processes sharing the port.")
def serve(bots_dir: Path | None, port: int | None, host: str, workers: int) -> None:
    """Serve the bots: each bots/<name>.gbai at /<name>, default also at /.

    Storage from the environment: the embedded SQLite file by default, PostgreSQL with
    GB_DATABASE_URL and a Valkey cache with GB_VALKEY_URL.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = ServerSettings.from_env(bots_dir=bots_dir, port=port)
    sockets = tornado.netutil.bind_sockets(settings.port, host)
    if workers > 1:
        tornado.process.fork_processes(workers)  # returns in each worker
    asyncio.run(run_server(settings, sockets))


async def run_server(settings: ServerSettings, sockets: list) -> None:  # type: ignore[type-arg]
    """Open the stores, serve on `sockets` until SIGTERM or SIGINT, then close cleanly."""
    stores = await open_stores(settings.store)
    runtime = DialogRuntime(stores.store, BotRegistry(settings.bots_dir, settings.store.data_dir),
                            users=stores.users)
    app = make_app(Context(runtime, stores, settings))
    server = tornado.httpserver.HTTPServer(app, max_body_size=settings.max_body_bytes * 2, xheaders=True)
    server.add_sockets(sockets)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    logging.getLogger("gb.server").info("serving bots %s from %s on port %d (%s)", ", ".join(runtime.bots.names()),
                                        settings.bots_dir, settings.port, settings.store.describe)
    await stop.wait()
    server.stop()
    await server.close_all_connections()
    await stores.close()
