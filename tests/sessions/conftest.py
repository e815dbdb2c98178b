from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gb_sessions.config import Stores

from .backends import BACKENDS, open_backend


@pytest.fixture(params=BACKENDS)
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    s = await open_backend(request.param, request, tmp_path)
    yield s
    await s.close()


@pytest.fixture(params=[b for b in BACKENDS if b.endswith("+valkey")])
async def cached_stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    s = await open_backend(request.param, request, tmp_path)
    yield s
    await s.close()


@pytest.fixture(params=[b for b in BACKENDS if b.startswith("postgres")])
async def pg_stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    s = await open_backend(request.param, request, tmp_path)
    yield s
    await s.close()
