"""Where a dialog's code runs: on the event loop while it is short, on a worker thread once it is not.

The machine is synchronous: a message that computes for seconds would hold the event loop, and
every other session of the process (and ``/healthz``) with it. So each run starts on the loop
within :data:`INLINE` (a few milliseconds of work); a run that outgrows it raises
:class:`~gb_basic.errors.Offload` and runs again, from the same state (a run never changes the
state it resumes), on one of :data:`WORKERS` threads with its whole budget. Python hands the
GIL to a waiting thread every ``sys.getswitchinterval()`` seconds; once the first worker starts
it is lowered to :data:`SWITCH_INTERVAL` (it only matters while a worker computes: the loop, whose
every request takes the GIL several times, gets it back within a millisecond). Each single
operation of the machine is bounded by its caps (see :mod:`gb_basic.limits`). Almost every
message ends within the slice and never leaves the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

from gb_basic import Offload, Slice

__all__ = ["INLINE", "SWITCH_INTERVAL", "WORKERS", "run_dialog"]

T = TypeVar("T")

INLINE = Slice(steps=20_000, seconds=0.01)  # what a message may run on the event loop
WORKERS = 4  # threads for the messages that outgrow it (each is still bounded by its budget)
SWITCH_INTERVAL = 0.001  # seconds a computing worker holds the GIL while the loop waits for it

_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _workers() -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
            _pool = concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="gb-dialog")
        return _pool


async def run_dialog(call: Callable[[Slice | None], T]) -> T:
    """``call(INLINE)`` on the loop; if it raises Offload, ``call(None)`` on a worker thread.

    `call` must build its run from unchanged inputs each time (fresh lists and objects).
    """
    try:
        return call(INLINE)
    except Offload:
        pass
    return await asyncio.get_running_loop().run_in_executor(_workers(), call, None)
