"""The timer service: fires the due timers of waiting dialogs (``WAIT n``) and runs the bots'
scheduled dialogs (``SET SCHEDULE``), each once across processes, in one loop.

Every ``gb serve`` process (and the notebook kernel, for its embedded store) runs one, started
and stopped with the services (setup.py). It polls the store every POLL_SECONDS, and sooner
when this process itself committed a turn that set a timer (``DialogRuntime.timer_set``). A
due timer is first *claimed* (``SessionStore.claim_timers``: one atomic statement, so exactly
one process gets it) for LEASE_SECONDS, then fired through ``DialogRuntime.resume_timer``,
whose turn deletes the row in its own commit. A process that dies holding a claim lets it
lapse: another process (or this one, restarted) claims the timer again after the lease, and
fires it late, once. A waiting dialog costs a row, no lock and no memory.

Schedules are the :class:`~.schedules.Scheduler`'s (when the runtime has a schedule store): each
turn of the loop it looks at the bots' files every SYNC_SECONDS and, once the nearest
occurrence it knows of is due, claims and starts the due runs; the loop sleeps until the
nearer of the next poll, the earliest timer this process set, and that occurrence.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import uuid

from gb_sessions import SessionStore, StoreUnavailable, Timer

from .runtime import DialogRuntime
from .schedules import Scheduler

__all__ = ["TimerService", "POLL_SECONDS", "LEASE_SECONDS"]

log = logging.getLogger("gb.timers")
POLL_SECONDS = 0.5  # between two looks for due timers (a WAIT fires at most this late, plus the turn)
LEASE_SECONDS = 30.0  # a claim lapses after this long: the time a fired turn may take before another process retries
BATCH = 20  # timers claimed (and fired side by side) at a time
STOP_SECONDS = 10.0  # how long stop() lets the timers being fired finish their turns


class TimerService:
    """Claims and fires the due timers of one runtime's store.

    Args:
        runtime: fires the timers (``resume_timer``); its ``timer_set`` hook wakes the service.
        store: where the timers are (the runtime's store).
        poll_seconds: between two looks for due timers.
        lease_seconds: how long a claim holds before another process may claim the timer again.
        schedules: also run the bots' schedules (when the runtime has a schedule store); the
            notebook kernel does not (``gb serve`` runs them).
    """

    def __init__(self, runtime: DialogRuntime, store: SessionStore, *, poll_seconds: float = POLL_SECONDS,
                 lease_seconds: float = LEASE_SECONDS, schedules: bool = True) -> None:
        self.runtime = runtime
        self.store = store
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.fired = 0  # timers this service fired (a turn ran, or a stale row was dropped)
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._next: dt.datetime | None = None  # the earliest due time this process set and has not looked at
        self._down = False
        self._stopping = False
        self.scheduler = Scheduler(runtime, runtime.schedules, self.owner) \
            if schedules and runtime.schedules is not None else None

    def start(self) -> None:
        """Start polling (in the running event loop); also hooks ``runtime.timer_set``."""
        if self._task is None:
            self.runtime.timer_set = self.wake
            if self.scheduler is not None:
                self.runtime.schedule_set = self.wake_schedule
            self._task = asyncio.ensure_future(self._loop())

    async def stop(self) -> None:
        """Stop polling; the timers being fired finish their turns first (for STOP_SECONDS at most:
        a turn cut short commits nothing, and its claim lapses for another process)."""
        if self.runtime.timer_set == self.wake:
            self.runtime.timer_set = None
        if self.runtime.schedule_set == self.wake_schedule:
            self.runtime.schedule_set = None
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_SECONDS)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.scheduler is not None:
            await self.scheduler.idle(STOP_SECONDS)

    def wake(self, due: dt.datetime) -> None:
        """A turn of this process set a timer due at `due`: look then, not at the next poll only."""
        if self._next is None or due < self._next:
            self._next = due
            self._wake.set()

    def wake_schedule(self, due: dt.datetime) -> None:
        """A turn of this process stored a schedule whose first run is at `due`: look then."""
        if self.scheduler is not None:
            self.scheduler.note(due)
            self._wake.set()

    async def fire_due(self) -> int:
        """Claim the timers due now and fire them; how many were claimed."""
        timers = await self.store.claim_timers(self.runtime.clock(), self.owner, self.lease_seconds, BATCH)
        if timers:
            await asyncio.gather(*(self._fire(t) for t in timers))
        return len(timers)

    async def _fire(self, timer: Timer) -> None:
        try:
            await self.runtime.resume_timer(timer.session_id, timer.id)
            self.fired += 1
        except Exception:  # the claim lapses and the timer fires later; the service goes on with the others
            log.exception("timer %s of session %s failed; it is tried again in %.0f s", timer.id, timer.session_id,
                          self.lease_seconds)

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                while await self.fire_due() == BATCH and not self._stopping:  # more are due: take them now
                    pass
                if self.scheduler is not None and not self._stopping:
                    await self.scheduler.tick()
                if self._down:
                    log.warning("timers: the database answers again")
                    self._down = False
            except StoreUnavailable:
                if not self._down:
                    log.warning("timers: the database is unavailable; timers fire when it is back")
                    self._down = True
            except Exception:
                log.exception("timers: polling failed")
            await self._sleep()

    async def _sleep(self) -> None:
        """Until the next poll, or until the earliest timer this process set is due."""
        delay = self.poll_seconds
        for due in (self._next, self.scheduler.nearest if self.scheduler is not None else None):
            if due is not None:
                delay = min(delay, max(0.0, (due - self.runtime.clock()).total_seconds()))
        if self._stopping:
            return
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)
        if self._next is not None and self._next <= self.runtime.clock():
            self._next = None
