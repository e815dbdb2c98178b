"""The four backends every store test runs on: {SQLite, PostgreSQL} x {no cache, Valkey}."""

from __future__ import annotations

from pathlib import Path

import pytest

from gb_sessions.config import Stores, StoreSettings, open_stores

BACKENDS = ["sqlite", "sqlite+valkey", "postgres", "postgres+valkey"]


def settings_for(kind: str, request: pytest.FixtureRequest, data_dir: Path) -> StoreSettings:
    if kind.startswith("postgres"):
        url = request.getfixturevalue("pg_database")
    else:
        url = f"sqlite+aiosqlite:///{data_dir / 'gb.db'}"
    valkey = request.getfixturevalue("redis_url") if kind.endswith("+valkey") else None
    return StoreSettings(url, valkey, data_dir)


async def open_backend(kind: str, request: pytest.FixtureRequest, data_dir: Path) -> Stores:
    return await open_stores(settings_for(kind, request, data_dir))
