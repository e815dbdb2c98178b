"""`gb sessions cleanup`: expired anonymous sessions go, with their messages and state; others stay."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gb_sessions import Session, utcnow
from gb_sessions.cleanup import cleanup
from gb_sessions.config import Stores
from gb_sessions.schema import MessageRow, SessionState
from gb_sessions.tokens import new_token
from tests.backends import settings_for
from tests.helpers.stores import opened


def make(bot: str, *, expired: bool, user: uuid.UUID | None = None) -> Session:
    now = utcnow()
    expiry = now - dt.timedelta(days=1) if expired else now + dt.timedelta(days=7)
    s = Session(id=uuid.uuid4(), bot_id=bot, channel="web", token_hash=new_token()[1], created_at=now,
                last_activity=now - dt.timedelta(days=8 if expired else 0), user_id=user,
                expires_at=None if user else expiry)
    s.add("user", "hello")
    s.variables["x"] = 1
    return s


async def count(stores: Stores, table: object, sid: uuid.UUID) -> int:
    t = table.__table__  # type: ignore[attr-defined]
    async with stores.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(t).where(t.c.session_id == sid))).scalar())


async def test_cleanup_deletes_only_expired_anonymous_sessions(stores: Stores) -> None:
    user = await stores.users.create(f"u{uuid.uuid4().hex[:8]}", "pw")
    old_anon, new_anon = make("c", expired=True), make("c", expired=False)
    old_user = make("c", expired=True, user=user.id)
    for s in (old_anon, new_anon, old_user):
        await stores.store.create(s)
    assert await cleanup(stores) >= 1
    assert await stores.store.load(old_anon.id, fresh=True) is None
    assert await count(stores, MessageRow, old_anon.id) == 0 and await count(stores, SessionState, old_anon.id) == 0
    assert await stores.store.load(new_anon.id, fresh=True) is not None
    assert await stores.store.load(old_user.id, fresh=True) is not None  # authenticated sessions never expire
    if stores.redis is not None:
        assert await stores.redis.get(f"session:{old_anon.id}:variables") is None


@pytest.mark.parametrize("kind", ["sqlite", "postgres+valkey"])
async def test_gb_sessions_cleanup_command(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    settings = settings_for(kind, request, tmp_path)
    async with opened(settings) as stores:
        s = make("cli", expired=True)
        await stores.store.create(s)
    env = dict(os.environ, GB_DATABASE_URL=settings.database_url, GB_VALKEY_URL=settings.valkey_url or "",
               GB_DATA_DIR=str(tmp_path))
    r = subprocess.run([sys.executable, "-m", "gb_basic.cli", "sessions", "cleanup"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "deleted" in r.stdout and "expired anonymous session(s)" in r.stdout
    async with opened(settings) as stores:
        assert await stores.store.load(s.id, fresh=True) is None


async def test_cleanup_runs_in_one_process_at_a_time(pg_stores: Stores) -> None:
    """While another process holds the cleanup lock, a second cleanup does nothing."""
    from sqlalchemy import text as sql

    from gb_sessions.cleanup import _CLEANUP_LOCK

    s = make("once", expired=True)
    await pg_stores.store.create(s)
    async with pg_stores.engine.connect() as other:  # "another process" running the cleanup
        await other.execute(sql("SELECT pg_advisory_lock(:k)"), {"k": _CLEANUP_LOCK})
        assert await cleanup(pg_stores) == 0
        assert await pg_stores.store.load(s.id, fresh=True) is not None
        await other.execute(sql("SELECT pg_advisory_unlock(:k)"), {"k": _CLEANUP_LOCK})
    assert await cleanup(pg_stores) >= 1
    assert await pg_stores.store.load(s.id, fresh=True) is None
