"""Deleting expired anonymous sessions, with their messages, state and user memory, once across
processes (and the rate-limit hits that left their window, and the user-memory entries of
REMEMBER whose time is over)."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator

from sqlalchemy import text

from .config import Stores
from .ratelimit import WINDOW
from .session import utcnow

__all__ = ["cleanup"]

log = logging.getLogger("gb.store")
_CLEANUP_LOCK = 4711001


@contextlib.asynccontextmanager
async def _only_one(stores: Stores) -> AsyncIterator[bool]:
    """Yields True in the one process that runs the cleanup now, False in the others."""
    if stores.engine.dialect.name == "postgresql":
        async with stores.engine.connect() as conn:
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _CLEANUP_LOCK})).scalar()
            try:
                yield bool(got)
            finally:
                if got:
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _CLEANUP_LOCK})
        return
    async with stores.sql.lock(uuid.UUID(int=_CLEANUP_LOCK)):  # SQLite: the next process waits, then finds none
        yield True


async def cleanup(stores: Stores, now: dt.datetime | None = None, *, batch: int = 500) -> int:
    """Delete anonymous sessions whose expiry passed; returns how many (0 if another process runs it)."""
    now = now or utcnow()
    deleted = 0
    async with _only_one(stores) as mine:
        if not mine:
            log.info("cleanup already running in another process")
            return 0
        while True:
            ids = await stores.sql.expired(now, limit=batch)
            if not ids:
                break
            for sid in ids:
                await stores.store.delete(sid)
            deleted += len(ids)
        await stores.sql.prune_hits(now.timestamp() - WINDOW)
        await stores.sql.prune_user_memory(now)
    log.info("cleanup deleted %d expired anonymous session(s)", deleted)
    return deleted
