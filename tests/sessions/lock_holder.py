"""A separate OS process that holds one session's lock until it is killed (see test_locks).

Usage, from the project root: python -m tests.sessions.lock_holder DATABASE_URL VALKEY_URL DATA SESSION_ID
It prints ``held`` once it holds the lock.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

from gb_sessions.config import StoreSettings
from tests.helpers.stores import opened


async def main(database_url: str, valkey_url: str, data_dir: str, session_id: str) -> None:
    settings = StoreSettings(database_url, valkey_url or None, Path(data_dir))
    async with opened(settings, run_migrations=False) as stores, stores.store.lock(uuid.UUID(session_id)):
        print("held", flush=True)
        await asyncio.Event().wait()  # until SIGKILL


if __name__ == "__main__":
    a = sys.argv[1:]
    asyncio.run(main(a[0], a[1], a[2], a[3]))
