"""SET SCHEDULE on real `gb serve` processes: two servers on one PostgreSQL run each occurrence of
a dialog's schedule once, each run a session of its own with the dialog's TALKs."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gb_runtime import BotRegistry, DialogRuntime
from gb_sessions.config import StoreSettings
from tests.conftest import PG_ADMIN
from tests.helpers.bots import make_bot
from tests.helpers.servers import Server, gb_environ
from tests.helpers.stores import create_database, drop_database, opened


@pytest.fixture
def database() -> Iterator[str]:
    """A PostgreSQL database of this test alone (its schedules are this test's)."""
    name = f"gb_sched_{uuid.uuid4().hex[:10]}"
    url = create_database(PG_ADMIN, name)
    yield url
    drop_database(PG_ADMIN, name)


async def test_two_servers_run_each_occurrence_once(database: str, redis_url: str, tmp_path: Path) -> None:
    make_bot(tmp_path / "bots", "default", {"start": 'TALK "hi"\n',
                                            "tick": 'SET SCHEDULE "* * * * * *"\nTALK "tick"\n'})
    env = gb_environ(tmp_path / "bots", tmp_path / "data", database_url=database, valkey_url=redis_url)
    started = time.monotonic()  # the first server runs schedules while the second one starts
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(Server(env, tmp_path / f"server{i}.log")) for i in range(2)]
        await asyncio.sleep(5)
        for server in servers:
            assert server.stop() == 0
        elapsed = time.monotonic() - started
    async with opened(StoreSettings(database, None, tmp_path / "data"), run_migrations=False) as stores:
        rt = DialogRuntime(stores.store, BotRegistry(tmp_path / "bots", tmp_path / "data"))
        (schedule,) = await stores.schedules.entries("default")
        sessions = [r for r in await rt.recent("default", 100) if r.channel == "schedule"]
        assert schedule.spec.cron == "* * * * * *" and schedule.spec.place == "tick.bas:1"
        assert 2 <= len(sessions) == schedule.runs <= elapsed + 1  # one a second at most, each run once
        assert schedule.last_result == "ok" and schedule.claimed_by is None
        for r in sessions:
            assert r.status == "ended" and r.address == "tick"
            assert [m.content for m in await rt.history(r.id)] == ["tick"]
        logs = "".join((tmp_path / f"server{i}.log").read_text() for i in range(2))
        assert "Traceback" not in logs and "UNIQUE" not in logs and "duplicate key" not in logs
