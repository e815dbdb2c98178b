"""Shared fixtures: real PostgreSQL and Valkey/Redis (never mocks).

Without CI set, a test whose service is down is skipped with the reason; with CI set it
FAILS (DEVELOPERS.md: on CI the services must be used, not skipped).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from gb_sessions import SessionStore
from gb_sessions.config import Stores
from tests.backends import BACKENDS, STORE_BACKENDS, open_backend, open_store

PG_ADMIN = os.environ.get("GB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("GB_TEST_REDIS", "redis://127.0.0.1:6379/0")


def service_down(what: str, exc: Exception) -> None:
    message = f"{what} is not reachable: {exc}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set: tests must run against the real services)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run; dropped at the end."""
    name = f"gb_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        service_down("PostgreSQL", exc)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        service_down("Valkey/Redis", exc)
    return REDIS_URL


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[object]:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


# --- the store backends (see tests/backends.py) ---


@pytest.fixture(params=BACKENDS)
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    s = await open_backend(request.param, request, tmp_path)
    yield s
    await s.close()


@pytest.fixture(params=STORE_BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionStore]:
    """Every SessionStore the code builds (the protocol's contract suite)."""
    async with open_store(request.param, request, tmp_path) as s:
        yield s


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
