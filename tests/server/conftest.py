"""Server test fixtures: the environment of a `gb serve` on PostgreSQL + Valkey."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(pg_database: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    shutil.copytree(ROOT / "bots", tmp_path / "bots")
    return dict(os.environ, GB_DATABASE_URL=pg_database, GB_VALKEY_URL=redis_url,
                GB_BOTS_DIR=str(tmp_path / "bots"), GB_DATA_DIR=str(tmp_path / "data"))


