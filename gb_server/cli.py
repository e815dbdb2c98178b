"""``gb serve``: the bot server (registered on the gb command by entry point)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
from pathlib import Path

import click
import tornado.httpserver
import tornado.netutil
import tornado.process

from gb_runtime import worker
from gb_runtime.setup import Services, open_services

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
    if not os.environ.get("GB_ACCESS_LOG"):  # every request logged only on demand; errors always are
        logging.getLogger("tornado.access").setLevel(logging.WARNING)
    # httpx logs every request's URL at INFO, and a Telegram call's URL holds the bot's token
    # (``/bot<token>/sendMessage``): its failures still show, as WARNING and above
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = ServerSettings.from_env(bots_dir=bots_dir, port=port)
    sockets = tornado.netutil.bind_sockets(settings.port, host)
    if workers > 1:
        parent = os.getpid()
        tornado.process.fork_processes(workers)  # returns in each worker
        _die_with_parent(parent)
    asyncio.run(run_server(settings, sockets))


def _die_with_parent(parent: int) -> None:
    """A worker gets SIGTERM when the supervising process goes (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the supervisor's own signal handling applies
        return
    if os.getppid() != parent:  # the supervisor went before prctl took effect
        os._exit(0)


MAX_WIRE_BODY = 1 << 30  # bytes Tornado itself lets through; the handlers refuse over GB_MAX_BODY_KB (JSON 413)


async def run_server(settings: ServerSettings, sockets: list) -> None:  # type: ignore[type-arg]
    """Open the stores, serve on `sockets` until SIGTERM or SIGINT, then close cleanly."""
    services = await open_services(settings.storage, settings.bots_dir)
    ctx = Context(services.runtime, settings)
    app = make_app(ctx)
    ctx.start_channels()
    # no xheaders: X-Real-Ip / X-Forwarded-* are anyone's to send; the per-client limits read
    # X-Forwarded-For only from GB_TRUSTED_PROXIES (base.client_key), public URLs come from GB_PUBLIC_URL
    server = tornado.httpserver.HTTPServer(app, max_body_size=MAX_WIRE_BODY, xheaders=False)
    server.add_sockets(sockets)
    tune_gc()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    logging.getLogger("gb.server").info("serving bots %s from %s on port %d (%s)",
                                        ", ".join(services.runtime.bots.names()), settings.bots_dir, settings.port,
                                        settings.storage.describe)
    cleaner = asyncio.ensure_future(clean_periodically(services))
    loop.run_in_executor(None, worker.warm_up)  # the first long message need not wait for the workers
    await stop.wait()
    cleaner.cancel()
    server.stop()
    await server.close_all_connections()
    await ctx.close()
    await services.close()


GC_THRESHOLD = (20_000, 20, 100)  # CPython's default is (700, 10, 10)


def tune_gc() -> None:
    """Collect less often once started: what start-up made is frozen out of every later
    collection (gc.freeze), and the youngest generation is collected after 20,000 allocations
    rather than 700. A message allocates thousands of short-lived objects (SQLAlchemy's, the
    HTTP layers'), and collecting showed in 10% of gb serve's CPU samples; bench/channels.py
    measured 20% less CPU per message with this, in both the API and the WhatsApp legs."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


CLEANUP_EVERY = 600.0  # seconds between cleanups of expired anonymous sessions


async def clean_periodically(services: Services) -> None:
    """Delete expired anonymous sessions now and then; one process at a time does it."""
    log = logging.getLogger("gb.server")
    while True:
        await asyncio.sleep(CLEANUP_EVERY)
        try:
            await services.cleanup()
        except Exception:  # the next round tries again; the server keeps serving
            log.exception("cleanup failed")
