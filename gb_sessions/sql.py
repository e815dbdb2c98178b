"""Small helpers of the SQL stores: timestamps as UTC, and "cannot reach the database" as StoreUnavailable."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .errors import StoreUnavailable

__all__ = ["aware", "unavailable_on_error"]

log = logging.getLogger("gb.store")


def aware(t: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives naive datetimes back: they are UTC."""
    if t is not None and t.tzinfo is None:
        return t.replace(tzinfo=dt.UTC)
    return t


@contextlib.asynccontextmanager
async def unavailable_on_error() -> AsyncIterator[None]:
    """Translate 'cannot reach the database' (or no pooled connection free in time) into
    StoreUnavailable (503, retry)."""
    try:
        yield
    except PoolTimeout as exc:  # every pooled connection was busy for the pool's whole timeout
        log.warning("database pool exhausted: %s", exc)
        raise StoreUnavailable("the database is busy, try again shortly", retry_after=2) from exc
    except (OperationalError, DBAPIError, OSError) as exc:
        if isinstance(exc, DBAPIError) and not exc.connection_invalidated and not _is_connection_error(exc):
            raise
        log.warning("database unavailable: %s", exc)
        raise StoreUnavailable("the database is unavailable, try again shortly", retry_after=2) from exc


def _is_connection_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("connection", "could not connect", "terminating", "server closed",
                                   "the database system is", "database is locked", "admin shutdown"))


