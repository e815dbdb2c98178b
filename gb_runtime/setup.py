"""The composition root: storage, live events and the runtime, opened together, closed together.

``gb serve`` and the notebook kernel both start here, so they build the same runtime the same
way, with the same timer service (timers.py: it fires the WAITs of the store's dialogs and, in
``gb serve``, runs the bots' scheduled dialogs: schedules.py) and the
same HTTP client for the dialogs' HTTP keywords (http_keywords.py); they
differ only in the notebook's write-behind store (a cell's reply does not wait for
SQL) and in whether a failed dialog apologises to the user.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from gb_sessions import StoreSettings, WriteBehindStore, open_stores
from gb_sessions.cleanup import cleanup
from gb_sessions.config import Stores
from gb_sessions.knowledge import KnowledgeIndex
from gb_sessions.tables import TableStore
from gb_sessions.usage import TokenLedger

from .bots import BotRegistry
from .events import SessionEvents
from .http_keywords import new_http_client
from .runtime import DialogRuntime
from .timers import TimerService

__all__ = ["Services", "open_services"]


@dataclass
class Services:
    """What a front runs on. Only the composition root touches `stores`."""

    runtime: DialogRuntime
    stores: Stores
    events: SessionEvents
    write_behind: WriteBehindStore | None = None
    timers: TimerService | None = None
    http: httpx.AsyncClient | None = None  # the dialogs' HTTP client (closed with the services)

    async def flush(self) -> None:
        """Wait for background saves (the notebook's), raising LostUpdate for a failed one."""
        if self.write_behind is not None:
            await self.write_behind.flush()

    def take_warnings(self) -> list[str]:
        """Notes about background saves that could not be made (shown once)."""
        if self.write_behind is None:
            return []
        out, self.write_behind.warnings = self.write_behind.warnings, []
        return out

    def changed_elsewhere(self, session_id: uuid.UUID) -> None:
        """Another process committed a turn of this session: no copy kept here may be used."""
        if self.write_behind is not None:
            self.write_behind.forget(session_id)

    async def cleanup(self) -> int:
        """Delete expired anonymous sessions (once across processes); how many."""
        return await cleanup(self.stores)

    async def close(self) -> None:
        """Stop the timers, flush, stop the events, close the database, the cache and the HTTP client."""
        try:
            if self.timers is not None:
                await self.timers.stop()
            await self.flush()
        finally:
            await self.events.stop()
            await self.stores.close()
            await self.runtime.assistant.client.close()
            await self.runtime.knowledge.index.close()
            if self.http is not None:
                await self.http.aclose()


async def open_services(settings: StoreSettings, bots_dir: Path, *, write_behind: bool = False,
                        apologize: bool = True, http: httpx.AsyncClient | None = None,
                        run_schedules: bool = True, run_timers: bool = True) -> Services:
    """Open the database (migrated), the cache and the live events, build the runtime and start
    its timer service.

    Args:
        settings: where the data is.
        bots_dir: the bots folder.
        write_behind: save in the background (the notebook); the server never does.
        apologize: a failed dialog tells the user "something went wrong".
        http: the dialogs' HTTP client (default: http_keywords.new_http_client()); the services
            close it.
        run_schedules: this process runs the bots' scheduled dialogs (``gb serve``; the kernel
            does not, though its SET SCHEDULE statements store schedules like any).
        run_timers: this process fires the dialogs' WAITs (the session inspector's Jupyter
            server does not: it only reads and writes sessions).
    """
    stores = await open_stores(settings)
    events = SessionEvents.for_storage(stores.redis, settings.data_dir)
    await events.start()
    wb = WriteBehindStore(stores.store) if write_behind else None
    client = http if http is not None else new_http_client()
    runtime = DialogRuntime(wb or stores.store, BotRegistry(bots_dir, settings.data_dir), users=stores.users,
                            events=events, apologize=apologize, tables=TableStore(stores.engine), http=client,
                            schedules=stores.schedules, channels=stores.channels,
                            ledger=TokenLedger(stores.engine), knowledge=KnowledgeIndex(stores.engine))
    timers = None
    if run_timers:
        timers = TimerService(runtime, runtime.store, schedules=run_schedules)
        timers.start()
    return Services(runtime, stores, events, wb, timers, client)
