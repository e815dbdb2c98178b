"""A separate OS process that sends N concurrent messages to one session (see test_concurrency).

Usage, from the project root: python -m tests.runtime.concurrent_worker DATABASE_URL VALKEY_URL BOTS DATA TOKEN N TAG
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from gb_runtime import Inbound
from gb_sessions.config import StoreSettings
from tests.helpers.bots import runtime_for
from tests.helpers.stores import opened


async def main(database_url: str, valkey_url: str, bots: str, data_dir: str, token: str, n: int, tag: str) -> None:
    settings = StoreSettings(database_url, valkey_url or None, Path(data_dir))
    async with opened(settings, run_migrations=False) as stores:
        rt = runtime_for(stores, Path(bots), Path(data_dir))  # 50 messages: under the 60/min limit
        results = await asyncio.gather(*(rt.handle(Inbound("count", f"{tag}{i}", token=token)) for i in range(n)))
        for r in results:
            print(r.replies[0].content)


if __name__ == "__main__":
    a = sys.argv[1:]
    asyncio.run(main(a[0], a[1], a[2], a[3], a[4], int(a[5]), a[6]))
