"""Where sessions live, read once from the environment into a frozen StoreSettings.

``GB_DATABASE_URL`` (default: the embedded SQLite file ``$GB_DATA_DIR/gb.db``),
``GB_VALKEY_URL`` (default: no cache), ``GB_DATA_DIR`` (default ``./data``); the pools'
sizes: ``GB_DB_POOL_SIZE``/``GB_DB_MAX_OVERFLOW`` (database.py), ``GB_VALKEY_POOL_SIZE``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from .base import SessionStore
from .cache import CachedStore, ValkeyCache
from .channel_queue import ChannelQueue
from .database import make_engine, migrate, sqlite_url
from .schedules import ScheduleStore
from .store import SqlStore
from .users import UserStore

__all__ = ["StoreSettings", "Stores", "open_stores", "valkey_client", "VALKEY_WAIT"]

VALKEY_WAIT = 2.0  # seconds a Valkey call waits for a pooled connection (as long as its socket timeout)


@dataclass(frozen=True)
class StoreSettings:
    database_url: str
    valkey_url: str | None
    data_dir: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ, *, data_dir: Path | None = None) -> StoreSettings:
        """Read GB_DATABASE_URL, GB_VALKEY_URL and GB_DATA_DIR."""
        base = Path(data_dir or environ.get("GB_DATA_DIR") or "data").resolve()
        url = environ.get("GB_DATABASE_URL") or sqlite_url(base / "gb.db")
        return cls(url, environ.get("GB_VALKEY_URL") or None, base)

    @property
    def describe(self) -> str:
        """Where the data is, without credentials: for logs and `make run`'s message."""
        db = self.database_url.split("@")[-1] if "@" in self.database_url else self.database_url
        return f"database {db}" + (f", cache {self.valkey_url.split('@')[-1]}" if self.valkey_url else ", no cache")


@dataclass
class Stores:
    """Everything the runtime needs from storage, opened together and closed together."""

    engine: AsyncEngine
    store: SessionStore
    sql: SqlStore
    users: UserStore
    redis: Redis | None
    schedules: ScheduleStore
    channels: ChannelQueue

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()


def valkey_client(url: str, *, connections: int | None = None) -> Redis:
    """A Valkey client whose pool waits (VALKEY_WAIT s at most) for a free connection past its
    `connections` (GB_VALKEY_POOL_SIZE, default 100): a burst of turns queues for a connection
    instead of failing with "too many connections", which the cache would take for Valkey being
    down (and every turn would fall back to the SQL lock)."""
    size = connections or int(os.environ.get("GB_VALKEY_POOL_SIZE", "100"))
    pool = BlockingConnectionPool.from_url(url, max_connections=size, timeout=VALKEY_WAIT,
                                           socket_timeout=2, socket_connect_timeout=2)
    return Redis.from_pool(pool)


async def open_stores(settings: StoreSettings, *, run_migrations: bool = True) -> Stores:
    """Open the database (migrated) and, if configured, the Valkey cache."""
    engine = make_engine(settings.database_url)
    if run_migrations:
        await migrate(engine)
    sql = SqlStore(engine)
    redis = valkey_client(settings.valkey_url) if settings.valkey_url else None
    store: SessionStore = CachedStore(sql, ValkeyCache(redis)) if redis is not None else sql
    return Stores(engine, store, sql, UserStore(engine), redis, ScheduleStore(engine), ChannelQueue(engine))
