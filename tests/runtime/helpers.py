"""Building bot packages and runtimes for runtime tests."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

from gb_runtime import BotRegistry, DialogRuntime
from gb_sessions import utcnow
from gb_sessions.config import Stores


def make_bot(root: Path, name: str, dialogs: dict[str, str], *, config: str = "",
             kb: dict[str, str] | None = None, templates: dict[str, str] | None = None) -> Path:
    """Write bots/<name>.gbai with the given dialogs, config.csv lines, KB files and templates."""
    pkg = root / f"{name}.gbai"
    (pkg / f"{name}.gbdialog").mkdir(parents=True, exist_ok=True)
    (pkg / f"{name}.gbot").mkdir(parents=True, exist_ok=True)
    for dialog, source in dialogs.items():
        write(pkg / f"{name}.gbdialog" / f"{dialog}.bas", source)
    write(pkg / f"{name}.gbot" / "config.csv", "name,value\n" + config)
    for path, text in (kb or {}).items():
        write(pkg / f"{name}.gbkb" / path, text)
    for tname, text in (templates or {}).items():
        write(pkg / f"{name}.gbot" / "templates" / f"{tname}.json", text)
    return pkg


def write(path: Path, text: str) -> None:
    """Write a file so that its change is seen even within the same second."""
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    stamp = max(time.time_ns(), old + 1_000_000)
    os.utime(path, ns=(stamp, stamp))


class Clock:
    """A clock tests can move."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += dt.timedelta(**kw)


def runtime_for(stores: Stores, bots_root: Path, data_dir: Path, clock: Clock | None = None) -> DialogRuntime:
    return DialogRuntime(stores.store, BotRegistry(bots_root, data_dir), users=stores.users,
                         clock=clock or utcnow)
