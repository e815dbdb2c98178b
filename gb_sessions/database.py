"""Engines and migrations: PostgreSQL (psycopg 3) in production, SQLite (aiosqlite) embedded."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ["make_engine", "migrate", "sqlite_url", "is_sqlite"]

log = logging.getLogger("gb.store")
MIGRATIONS = Path(__file__).parent / "migrations"


def sqlite_url(path: Path) -> str:
    """The URL of the embedded database file."""
    return f"sqlite+aiosqlite:///{path}"


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kw: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and foreign keys (several processes share it)."""
    if url.startswith("sqlite"):
        if "///" in url:
            Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kw)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # Connections are opened as concurrency asks for them and kept, up to pool_size; past it a
    # checkout waits for one to be returned. No overflow by default: an overflow connection is
    # opened for a peak and closed at its checkin, so under a steady load every peak starts and
    # stops PostgreSQL backends (a fork, authentication, cold caches, statements prepared again),
    # which cost PostgreSQL more than the messages: bench/channels.py measured 1.6-2.0 ms of its
    # CPU per WhatsApp message at 20 + 5 (about 20 connects a second) and 0.7 ms at 20 + 0.
    kw.setdefault("pool_size", int(os.environ.get("GB_DB_POOL_SIZE", "20")))
    kw.setdefault("max_overflow", int(os.environ.get("GB_DB_MAX_OVERFLOW", "0")))
    kw.setdefault("pool_pre_ping", False)  # a ping per checkout costs a round trip; errors are handled
    return create_async_engine(url, **kw)


def _upgrade(connection: Connection) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "heads")  # every branch: revisions written side by side need no merge revision


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration; safe when several processes start at once
    (PostgreSQL: an advisory lock; SQLite: a lock file beside the database)."""
    if engine.dialect.name == "sqlite":
        db = Path(str(engine.url.database or "gb.db"))
        db.parent.mkdir(parents=True, exist_ok=True)
        with open(db.with_name(db.name + ".migrate.lock"), "w") as lock:
            await asyncio.to_thread(fcntl.flock, lock.fileno(), fcntl.LOCK_EX)
            try:
                async with engine.begin() as conn:
                    await conn.run_sync(_upgrade)
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    else:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT pg_advisory_xact_lock(4711000)"))  # one migrator at a time
            await conn.run_sync(_upgrade)
    log.info("schema up to date")
