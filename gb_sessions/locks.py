"""Per-session mutual exclusion across coroutines and processes.

Every lock first takes an in-process ``asyncio.Lock`` for the session (so one process never
has two coroutines queueing on the shared lock, nor spends pool connections on it), then a
lock shared by all processes: a PostgreSQL advisory lock, a file lock beside the SQLite
database, or a Valkey lock (see cache.py).

A message waits for its session LOCK_WAIT seconds at most, the in-process queue included, then
it is refused with SessionBusy (503, Retry-After). A lock never outlives its process for long:
an advisory lock belongs to its connection and a file lock to its file descriptor, so both go
the moment a killed process's socket or descriptor closes; a Valkey lock is a lease of
LEASE_SECONDS that its turn renews while it runs (cache.py), so it expires that long after a
crash. The wait is longer than a lease: the first message after a crash is answered, not refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import math
import os
import time
import weakref
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .errors import SessionBusy

__all__ = ["LocalLocks", "advisory_key", "pool_capacity", "PostgresLock", "FileLock", "busy",
           "LEASE_SECONDS", "LOCK_WAIT"]

LEASE_SECONDS = 5.0  # a Valkey lock lives this long after its last renewal (its turn renews it every third)
LOCK_WAIT = 6.0  # seconds a message waits for its session before it is refused (503 session_busy)
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout


def busy(retry_after: float) -> SessionBusy:
    """The refusal of a message that waited for its session all the wait; Retry-After in whole
    seconds (at least 1) from `retry_after`, what is left of the holder's lease where it is known."""
    seconds = max(1, math.ceil(retry_after))
    return SessionBusy(f"the session is busy with another message; try again in {seconds} s", retry_after=seconds)


class LocalLocks:
    """One asyncio.Lock per session id, dropped when nobody holds or waits for it."""

    wait = LOCK_WAIT  # seconds a message waits for its session, both locks together (tests shorten it)

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def get(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    def deadline(self) -> float:
        """When a message that starts waiting now gives up (``time.monotonic()`` seconds)."""
        return time.monotonic() + self.wait

    async def acquire(self, key: str, deadline: float) -> asyncio.Lock | None:
        """The session's lock, acquired (the caller releases it); None when it was not free by `deadline`."""
        lock = self.get(key)
        return lock if await _acquired(lock, deadline) else None

    @contextlib.asynccontextmanager
    async def hold(self, key: str, deadline: float) -> AsyncIterator[None]:
        """Hold the session's lock for a block, waiting for it until `deadline` at most.

        Raises:
            SessionBusy: it was not free in time (Retry-After 1 s: the holder is alive, in this process).
        """
        lock = await self.acquire(key, deadline)
        if lock is None:
            raise busy(1)
        try:
            yield
        finally:
            lock.release()


async def _acquired(lock: asyncio.Lock | asyncio.Semaphore, deadline: float) -> bool:
    """Acquire `lock`, waiting until `deadline` (time.monotonic()) at most: whether it was."""
    try:
        async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
            await lock.acquire()
    except TimeoutError:
        return False
    return True


def advisory_key(key: str) -> int:
    """A signed 64-bit number for pg_advisory_lock from a session id."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


def pool_capacity(engine: AsyncEngine) -> int | None:
    """The most connections the engine's pool hands out at once (None: no bound)."""
    pool = engine.sync_engine.pool
    size = getattr(pool, "size", None)
    return size() + max(0, getattr(pool, "_max_overflow", 0)) if callable(size) else None


class PostgresLock:
    """pg_advisory_lock on a connection of its own, held for the whole turn.

    A session-level advisory lock belongs to its connection: a killed process's lock goes when
    PostgreSQL sees the connection close, so there is no lease to wait out (Retry-After 1 s).

    A turn holding its lock's connection needs another one for its reads and writes: were every
    pooled connection a lock's, every turn would wait for a connection none of them gives back
    (until the pool's timeout). So at most half the pool's connections hold locks at once
    (`holders`); a turn waits for a holder's place within its LOCK_WAIT like for the lock."""

    def __init__(self, engine: AsyncEngine, *, holders: int | None = None) -> None:
        self.engine = engine
        self.local = LocalLocks()
        capacity = pool_capacity(engine)
        self.holders = holders or (max(1, capacity // 2) if capacity else None)
        self._places = asyncio.Semaphore(self.holders) if self.holders else None

    @contextlib.asynccontextmanager
    async def __call__(self, key: str) -> AsyncIterator[None]:
        deadline = self.local.deadline()
        async with self.local.hold(key, deadline), self._place(deadline):
            async with self.engine.connect() as conn:
                k = advisory_key(key)
                await _advisory_lock(conn, k, deadline)
                try:
                    yield
                finally:
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": k})
                    await conn.commit()


    @contextlib.asynccontextmanager
    async def _place(self, deadline: float) -> AsyncIterator[None]:
        if self._places is None:
            yield
            return
        if not await _acquired(self._places, deadline):
            raise busy(1)
        try:
            yield
        finally:
            self._places.release()


async def _advisory_lock(conn: AsyncConnection, k: int, deadline: float) -> None:
    """pg_advisory_lock(k), waiting until `deadline` at most (lock_timeout, set for this transaction
    only: the pooled connection keeps its default for everything else).

    Raises:
        SessionBusy: another connection held it until the deadline.
    """
    ms = max(1, int((deadline - time.monotonic()) * 1000))
    try:
        await conn.execute(text(f"SET LOCAL lock_timeout = {ms}"))  # an int: SET takes no bound parameter
        await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": k})
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        await conn.rollback()
        raise busy(1) from None
    await conn.commit()  # the session-level lock stays; lock_timeout goes back to the default


class FileLock:
    """flock on one of 256 lock files beside the SQLite database (per-session buckets).

    The kernel drops a flock when its descriptor closes: a killed process's lock goes with it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.local = LocalLocks()

    @contextlib.asynccontextmanager
    async def __call__(self, key: str) -> AsyncIterator[None]:
        deadline = self.local.deadline()
        async with self.local.hold(key, deadline):
            self.directory.mkdir(parents=True, exist_ok=True)
            bucket = hashlib.sha256(key.encode()).hexdigest()[:2]
            fd = os.open(self.directory / f"{bucket}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                await _flock(fd, deadline)
                try:
                    yield
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


async def _flock(fd: int, deadline: float) -> None:
    delay = 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            left = deadline - time.monotonic()
            if left <= 0:
                raise busy(1) from None
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, 0.02)
