"""Per-session mutual exclusion across coroutines and processes.

Every lock first takes an in-process ``asyncio.Lock`` for the session (so one process never
has two coroutines queueing on the shared lock, nor spends pool connections on it), then a
lock shared by all processes: a PostgreSQL advisory lock, a file lock beside the SQLite
database, or a Valkey lock (see cache.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import time
import weakref
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .errors import StoreUnavailable

__all__ = ["LocalLocks", "advisory_key", "PostgresLock", "FileLock", "LOCK_TIMEOUT"]

LOCK_TIMEOUT = 30.0  # seconds a message waits for its session before giving up (503)


class LocalLocks:
    """One asyncio.Lock per session id, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def get(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock


def advisory_key(key: str) -> int:
    """A signed 64-bit number for pg_advisory_lock from a session id."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


class PostgresLock:
    """pg_advisory_lock on a connection of its own, held for the whole turn."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.local = LocalLocks()

    @contextlib.asynccontextmanager
    async def __call__(self, key: str) -> AsyncIterator[None]:
        async with self.local.get(key):
            async with self.engine.connect() as conn:
                k = advisory_key(key)
                await conn.execute(text("SET lock_timeout = '30s'"))
                await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": k})
                await conn.commit()
                try:
                    yield
                finally:
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": k})
                    await conn.commit()


class FileLock:
    """flock on one of 256 lock files beside the SQLite database (per-session buckets)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.local = LocalLocks()

    @contextlib.asynccontextmanager
    async def __call__(self, key: str) -> AsyncIterator[None]:
        async with self.local.get(key):
            self.directory.mkdir(parents=True, exist_ok=True)
            bucket = hashlib.sha256(key.encode()).hexdigest()[:2]
            fd = os.open(self.directory / f"{bucket}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                await _flock(fd)
                try:
                    yield
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


async def _flock(fd: int) -> None:
    deadline = time.monotonic() + LOCK_TIMEOUT
    delay = 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise StoreUnavailable("the session is busy (lock timeout)", retry_after=1) from None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.02)
