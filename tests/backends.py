"""The backends every store test runs on.

``BACKENDS``: the SQL stores, {SQLite, PostgreSQL} x {no cache, Valkey} (a ``Stores`` each, with
users and the engine). ``STORE_BACKENDS``: those, plus the in-memory store and the notebook's
write-behind store over SQLite: every ``SessionStore`` the code builds, for the protocol's
contract suite.

Opening a backend migrates its schema once per run, not once per test: PostgreSQL's database is
the run's own (``pg_database``), migrated by the first test that opens it; a test's SQLite file
starts as a copy of one file migrated at the first open. The schema is the migrations' either
way; what a test does to it stays in its own file or bot tables.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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


# The databases this run has migrated: PostgreSQL URLs, and the SQLite file that new ones copy.
_migrated: set[str] = set()
_sqlite_template: list[Path] = []
_SQLITE_PARTS = ("", "-wal", "-shm")  # a database in WAL mode is its file and these two beside it


async def _migrated_already(settings: StoreSettings, request: pytest.FixtureRequest, data_dir: Path) -> bool:
    """Whether the database of `settings` holds the newest schema already (no migration to run).

    A new SQLite file is made a copy of the run's migrated one (migrated here at the first call); an
    existing file (a second engine on one test's database, a file a server made) is migrated as usual.
    """
    if not settings.database_url.startswith("sqlite"):
        known = settings.database_url in _migrated
        _migrated.add(settings.database_url)
        return known
    db = data_dir / "gb.db"
    if db.exists():
        return False
    if not _sqlite_template:
        folder = request.getfixturevalue("tmp_path_factory").mktemp("migrated-sqlite")
        async with opened(StoreSettings(sqlite_url(folder / "gb.db"), None, folder)):
            pass
        _sqlite_template.append(folder / "gb.db")
    db.parent.mkdir(parents=True, exist_ok=True)
    for part in _SQLITE_PARTS:
        made = _sqlite_template[0].with_name("gb.db" + part)
        if made.exists():
            shutil.copyfile(made, db.with_name("gb.db" + part))
    return True


@asynccontextmanager
async def open_backend(kind: str, request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[Stores]:
    """The Stores of one of BACKENDS (migrated), closed when the block ends."""
    settings = settings_for(kind, request, data_dir)
    async with opened(settings, run_migrations=not await _migrated_already(settings, request, data_dir)) as stores:
        yield stores


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
