"""Where a dialog's code runs: on the event loop while it is short, in a worker process once it is not.

The machine is synchronous: a message that computes for seconds on the event loop would hold
every other session of the process (and ``/healthz``) with it. A thread would not do either:
it shares the GIL, and a garbage collection over a dialog's big lists, or one long C
operation, holds every thread of the process. So each run starts on the loop within
:data:`INLINE` (a few milliseconds of work); a run that outgrows it raises
:class:`~gb_basic.errors.Offload` and is done again, from the same state (a run never changes
the state it resumes), by one of :data:`WORKERS` worker processes with its whole budget. The
run travels as data (the dialog's source, the machine's options, the state and the answer);
the worker compiles the source once and keeps it. Almost every message ends within the slice
and never leaves the loop.

A worker's memory is its own: the per-message ceiling (``max-memory-mb``) measures it alone,
and a worker that dies (the kernel's OOM killer) costs its message, not the server: the
message fails as a :class:`~gb_basic.errors.BudgetExceeded` (nothing of it is kept) and the
next one gets a fresh pool. Workers start from a fork server (``multiprocessing``'s
``forkserver``: a clean process that has imported gb_basic), ignore Ctrl-C (the notebook's
interrupt stops the cell, not a worker) and are replaced after :data:`TASKS_PER_WORKER` runs.
The fork server exits when gb serve (or the kernel) dies, even by ``kill -9``, and its workers
with it (forkserver.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import functools
import logging
import multiprocessing
import signal
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from gb_basic import BudgetExceeded, Finished, Machine, Offload, Program, Slice, Suspended, compile_source, values

__all__ = ["INLINE", "TASKS_PER_WORKER", "WORKERS", "run_dialog", "warm_up"]

log = logging.getLogger("gb.dialog")

INLINE = Slice(steps=20_000, seconds=0.01)  # what a message may run on the event loop
WORKERS = 2  # processes for the messages that outgrow it (each is still bounded by its budget)
TASKS_PER_WORKER = 200  # runs before a worker is replaced (what a big message left in it goes)

_pool: concurrent.futures.ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _execute(machine: Machine, state: dict[str, Any] | None, answer: Any, entry: str,
             variables: dict[str, Any] | None, within: Slice | None) -> Suspended | Finished:
    """One run: start `entry` with `variables` (stored form) when there is no state, else resume."""
    if state is None:
        return machine.start(entry, variables=values.decode(variables or {}, -1), within=within)
    return machine.run(state, answer, within=within)


def _pristine(answer: Any) -> Any:
    """A copy of a list or object answer that a first run may change in place: kept for the
    second. One nested past Python's recursion limit is not copied: the machine refuses it
    (over ``max_depth``) before the dialog sees it."""
    if answer is None or type(answer) in (str, int, float, bool):
        return answer
    try:
        return copy.deepcopy(answer)
    except RecursionError:
        return answer


@functools.lru_cache(maxsize=64)
def _compiled(source: str, name: str) -> Program:
    return compile_source(source, name)


def _remote(source: str, name: str, options: dict[str, Any], state: dict[str, Any] | None, answer: Any,
            entry: str, variables: dict[str, Any] | None) -> Suspended | Finished:
    """In a worker: the same run with the whole budget."""
    return _execute(Machine(_compiled(source, name), **options), state, answer, entry, variables, None)


def _quiet() -> None:
    """A worker's start: Ctrl-C is not for it, and it is killed when the fork server goes (Linux)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux
        pass


def _workers() -> concurrent.futures.ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["gb_basic", "gb_runtime.worker", "gb_runtime.forkserver"])
            _pool = concurrent.futures.ProcessPoolExecutor(WORKERS, mp_context=context, initializer=_quiet,
                                                           max_tasks_per_child=TASKS_PER_WORKER)
        return _pool


def _discard(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def warm_up() -> None:
    """Start the fork server and the workers now (a server calls this at start, in a thread), so
    that the first long message does not wait for them. A pool starts one process per task that
    finds none idle: WORKERS short tasks at once start them all."""
    for started in [_workers().submit(time.sleep, 0.05) for _ in range(WORKERS)]:
        started.result()


async def run_dialog(machine: Machine, state: dict[str, Any] | None, answer: Any = None, *, entry: str = "main",
                     variables: dict[str, Any] | None = None) -> Suspended | Finished:
    """Start (`state` None: `entry` with `variables`, in their stored form) or resume `machine`'s
    dialog: on the loop within :data:`INLINE`, else in a worker process.

    Raises:
        BasicError: as :meth:`Machine.run`; BudgetExceeded also when the worker died.
    """
    kept = _pristine(answer)
    try:
        return _execute(machine, state, answer, entry, variables, INLINE)
    except Offload:
        answer = kept
    program = machine.program
    pool = _workers()
    job = functools.partial(_remote, program.source, program.name, machine.options(), state, answer, entry,
                            variables)
    try:
        # submitting may start processes (the fork server, the first time: a second or so): off the loop
        future = await asyncio.to_thread(pool.submit, job)
        return await asyncio.wrap_future(future)
    except BrokenProcessPool:
        _discard(pool)
        log.error("a dialog worker process died running %s (out of memory?); starting new ones", program.name)
        raise BudgetExceeded(f"the dialog's worker process stopped while running {program.name} "
                             "(it used too much memory?)") from None
