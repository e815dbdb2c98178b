"""Scratch PostgreSQL databases, and stores opened for the length of a block."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg

from gb_sessions.config import Stores, StoreSettings, open_stores

__all__ = ["create_database", "drop_database", "opened"]


def create_database(admin_url: str, name: str) -> str:
    """Create the database `name` on the PostgreSQL server of `admin_url`; its SQLAlchemy URL.

    Raises:
        psycopg.OperationalError: the server is not reachable (within 5 seconds).
    """
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"


def drop_database(admin_url: str, name: str) -> None:
    """Drop the database `name`, closing the connections still open on it."""
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def opened(settings: StoreSettings, *, run_migrations: bool = True) -> AsyncIterator[Stores]:
    """The stores of `settings` (migrated unless told not to), closed when the block ends."""
    stores = await open_stores(settings, run_migrations=run_migrations)
    try:
        yield stores
    finally:
        await stores.close()
