"""The backends every store test runs on.

``BACKENDS``: the SQL stores, {SQLite, PostgreSQL} x {no cache, Valkey} (a ``Stores`` each, with
users and the engine). ``STORE_BACKENDS``: those, plus the in-memory store and the notebook's
write-behind store over SQLite: every ``SessionStore`` the code builds, for the protocol's
contract suite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from gb_sessions import LostUpdate, MemoryStore, SessionStore, WriteBehindStore
from gb_sessions.config import Stores, StoreSettings
from gb_sessions.database import sqlite_url
from tests.helpers.stores import opened

BACKENDS = ["sqlite", "sqlite+valkey", "postgres", "postgres+valkey"]
STORE_BACKENDS = [*BACKENDS, "memory", "sqlite+writebehind"]


def settings_for(kind: str, request: pytest.FixtureRequest, data_dir: Path) -> StoreSettings:
    if kind.startswith("postgres"):
        url = request.getfixturevalue("pg_database")
    else:
        url = sqlite_url(data_dir / "gb.db")
    valkey = request.getfixturevalue("redis_url") if kind.endswith("+valkey") else None
    return StoreSettings(url, valkey, data_dir)


def open_backend(kind: str, request: pytest.FixtureRequest, data_dir: Path) -> AbstractAsyncContextManager[Stores]:
    """The Stores of one of BACKENDS (migrated), closed when the block ends."""
    return opened(settings_for(kind, request, data_dir))


@asynccontextmanager
async def open_store(kind: str, request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[SessionStore]:
    """A SessionStore of one of STORE_BACKENDS, closed (a write-behind store flushed) at the end."""
    if kind == "memory":
        yield MemoryStore()
        return
    async with open_backend(kind.removesuffix("+writebehind"), request, data_dir) as stores:
        if kind.endswith("+writebehind"):
            wb = WriteBehindStore(stores.store)
            yield wb
            try:
                await wb.flush()
            except LostUpdate:  # a test that provoked one has seen it already
                pass
        else:
            yield stores.store


async def settled(store: SessionStore) -> None:
    """Wait for what a store writes in the background (the write-behind store); a no-op elsewhere."""
    if isinstance(store, WriteBehindStore):
        await store.flush()
