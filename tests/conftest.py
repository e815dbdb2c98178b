"""Shared fixtures: real PostgreSQL and Valkey/Redis (never mocks).

Without CI set, a test whose service is down is skipped with the reason; with CI set it
FAILS (DEVELOPERS.md: on CI the services must be used, not skipped).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis

from gb_sessions import SessionStore
from gb_sessions.config import Stores
from tests.backends import BACKENDS, STORE_BACKENDS, open_backend, open_store
from tests.helpers.prereqs import unavailable
from tests.helpers.stores import create_database, drop_database

PG_ADMIN = os.environ.get("GB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
# Under pytest-xdist (make test runs the suite on several processes) each process has a database of
# its own on the Valkey server: gw0 uses 1, gw1 2, ... (Valkey keeps 16); a run on one process uses 0.
# Keys such as a client's rate limit are not per session, so processes sharing a database would
# count each other's requests.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
REDIS_URL = os.environ.get("GB_TEST_REDIS", "redis://127.0.0.1:6379/0")
if _WORKER.startswith("gw"):
    REDIS_URL = urlsplit(REDIS_URL)._replace(path=f"/{1 + int(_WORKER[2:]) % 15}").geturl()


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test that stops PostgreSQL or Valkey must run alone: beside it, the other processes'
    tests would fail for the outage it makes."""
    if _WORKER and item.get_closest_marker("outage"):
        pytest.fail("this test stops PostgreSQL or Valkey, which the other processes' tests use: run the "
                    "outage tests on one process, after the rest (make test does: pytest -m outage)", pytrace=False)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run; dropped at the end."""
    name = f"gb_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        url = create_database(PG_ADMIN, name)
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL is not reachable: {exc}")
    yield url
    drop_database(PG_ADMIN, name)


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        unavailable(f"Valkey/Redis is not reachable: {exc}")
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
    async with open_backend(request.param, request, tmp_path) as s:
        yield s


@pytest.fixture(params=STORE_BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionStore]:
    """Every SessionStore the code builds (the protocol's contract suite)."""
    async with open_store(request.param, request, tmp_path) as s:
        yield s


@pytest.fixture(params=[b for b in BACKENDS if b.endswith("+valkey")])
async def cached_stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    async with open_backend(request.param, request, tmp_path) as s:
        yield s


@pytest.fixture(params=[b for b in BACKENDS if b.startswith("postgres")])
async def pg_stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    async with open_backend(request.param, request, tmp_path) as s:
        yield s


@pytest.fixture
async def sqlite_stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    """The embedded SQLite store alone, for tests about something else than the backends."""
    async with open_backend("sqlite", request, tmp_path) as s:
        yield s
