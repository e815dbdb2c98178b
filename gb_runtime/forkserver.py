"""Imported by the dialog workers' fork server only (worker.py preloads it): the fork server
exits when the process that started it is gone, even by ``kill -9``.

``multiprocessing``'s fork server is meant to exit when its "alive" pipe closes, but a process
that forked from gb serve after the fork server started (a supervisor's worker, a subprocess of
a test) keeps that pipe open, and a ``kill -9`` of gb serve left the fork server and its worker
processes behind, reparented to init. A daemon thread here watches the parent process id; once it
changes (the parent died), the fork server exits, and its workers with it (they ask the kernel
for SIGKILL when the fork server goes: worker.py's initializer).

``PR_SET_PDEATHSIG`` on the fork server itself would not do: it fires when the parent *thread*
that started it exits, and the fork server is started from a thread pool's thread.
"""

from __future__ import annotations

import os
import threading
import time

__all__ = ["WATCH_SECONDS"]

WATCH_SECONDS = 1.0  # how often the parent is looked at


def _watch(parent: int) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        if os.getppid() != parent:
            os._exit(0)


threading.Thread(target=_watch, args=(os.getppid(),), name="gb-parent-watch", daemon=True).start()
