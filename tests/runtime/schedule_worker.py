"""A separate OS process running the timer service (with its scheduler) on the real clock for N
seconds (see test_schedules); prints how many scheduled runs it made.

Usage, from the project root: python -m tests.runtime.schedule_worker DATABASE_URL BOTS DATA SECONDS
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from gb_runtime import BotRegistry, DialogRuntime, TimerService
from gb_sessions.config import StoreSettings
from tests.helpers.stores import opened


async def main(database_url: str, bots: str, data_dir: str, seconds: float) -> None:
    async with opened(StoreSettings(database_url, None, Path(data_dir))) as stores:
        rt = DialogRuntime(stores.store, BotRegistry(Path(bots), Path(data_dir)), schedules=stores.schedules)
        service = TimerService(rt, rt.store, poll_seconds=0.1)
        service.start()
        await asyncio.sleep(seconds)
        await service.stop()
        assert service.scheduler is not None
        print("ran", service.scheduler.ran)


if __name__ == "__main__":
    a = sys.argv[1:]
    asyncio.run(main(a[0], a[1], a[2], float(a[3])))
