"""A separate OS process that sends N concurrent messages to one session (see test_concurrency)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from gb_runtime import BotRegistry, DialogRuntime, Inbound
from gb_sessions.config import StoreSettings, open_stores


async def main(database_url: str, valkey_url: str, bots: str, data_dir: str, token: str, n: int, tag: str) -> None:
    stores = await open_stores(StoreSettings(database_url, valkey_url or None, Path(data_dir)), run_migrations=False)
    rt = DialogRuntime(stores.store, BotRegistry(Path(bots), Path(data_dir)))  # 50 messages: under the 60/min limit
    try:
        results = await asyncio.gather(*(rt.handle(Inbound("count", f"{tag}{i}", token=token)) for i in range(n)))
        for r in results:
            print(r.replies[0].content)
    finally:
        await stores.close()


if __name__ == "__main__":
    a = sys.argv[1:]
    asyncio.run(main(a[0], a[1], a[2], a[3], a[4], int(a[5]), a[6]))
