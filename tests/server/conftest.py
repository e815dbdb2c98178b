"""Server test fixtures: the environment of a `gb serve` on PostgreSQL + Valkey."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.bots import copy_example_bots
from tests.helpers.servers import gb_environ


@pytest.fixture
def env(pg_database: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    """A copy of the example bots in tmp_path/bots, the data in tmp_path/data."""
    return gb_environ(copy_example_bots(tmp_path / "bots"), tmp_path / "data", database_url=pg_database,
                      valkey_url=redis_url)
