"""Server test fixtures: the environment of a `gb serve` on PostgreSQL + Valkey."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gb_sessions.config import Stores
from tests.backends import open_backend
from tests.helpers.bots import copy_example_bots
from tests.helpers.servers import gb_environ


@pytest.fixture
def env(pg_database: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    """A copy of the example bots in tmp_path/bots, the data in tmp_path/data."""
    return gb_environ(copy_example_bots(tmp_path / "bots"), tmp_path / "data", database_url=pg_database,
                      valkey_url=redis_url)


@pytest.fixture(params=["sqlite", "postgres+valkey"])
async def channel_stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    """The channels' tests' stores: the embedded default and the production pair (the queues' SQL
    differs: SKIP LOCKED and the one-statement turn on PostgreSQL)."""
    async with open_backend(request.param, request, tmp_path) as s:
        yield s
