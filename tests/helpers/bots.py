"""Bot packages written for a test or a benchmark, and a DialogRuntime over them."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from gb_runtime import BotRegistry, DialogRuntime, Result
from gb_runtime.runtime import Events
from gb_sessions import utcnow
from gb_sessions.config import Stores
from gb_sessions.knowledge import KnowledgeIndex

from . import ROOT

__all__ = ["ECHO", "EXAMPLE_BOTS", "Clock", "copy_example_bots", "make_bot", "runtime_for", "runtime_with_bot", "texts",
           "write"]

EXAMPLE_BOTS = ROOT / "bots"  # the project's example bots: default, support, sales
ECHO = 'DO\n  x = HEAR\n  TALK "echo " + x\nLOOP\n'  # answers every message with "echo <message>"


TEST_CREATE_RATE = 1_000_000  # session-create-rate of test bots (see make_bot)


def make_bot(root: Path, name: str, dialogs: Mapping[str, str] | None = None, *, config: str | None = None,
             kb: Mapping[str, str] | None = None, templates: Mapping[str, str] | None = None,
             create_rate: int | None = TEST_CREATE_RATE) -> Path:
    """Write ``root/<name>.gbai``: its dialogs, config.csv, KB files and templates.

    Args:
        dialogs: dialog name (no ``.bas``) -> source; by default a ``start`` that says "hi".
        config: config.csv lines after the ``name,value`` header.
        kb: path inside ``<name>.gbkb`` (``policies/returns.md``) -> text.
        templates: template name (no ``.json``) -> JSON text.
        create_rate: the bot's session-create-rate unless `config` sets one. Tests start many
            sessions from one address, and the count is shared by every test on one Valkey or
            PostgreSQL (under a bot's name). None, with no `config`: no config.csv at all.

    Returns:
        The package folder.
    """
    pkg = root / f"{name}.gbai"
    (pkg / f"{name}.gbdialog").mkdir(parents=True, exist_ok=True)
    for dialog, source in (dialogs if dialogs is not None else {"start": 'TALK "hi"\n'}).items():
        write(pkg / f"{name}.gbdialog" / f"{dialog}.bas", source)
    if create_rate is not None and "session-create-rate" not in (config or ""):
        config = (config or "") + ("\n" if config and not config.endswith("\n") else "") + \
            f"session-create-rate,{create_rate}\n"
    if config is not None:
        write(pkg / f"{name}.gbot" / "config.csv", "name,value\n" + config)
    for path, text in (kb or {}).items():
        write(pkg / f"{name}.gbkb" / path, text)
    for template, text in (templates or {}).items():
        write(pkg / f"{name}.gbot" / "templates" / f"{template}.json", text)
    return pkg


def write(path: Path, text: str) -> None:
    """Write a file (and its folders) so that its change is seen even within the same second."""
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    stamp = max(time.time_ns(), old + 1_000_000)  # 1 ms past the old mtime at least
    os.utime(path, ns=(stamp, stamp))


def copy_example_bots(dst: Path, *names: str, create_rate: int | None = TEST_CREATE_RATE) -> Path:
    """Copy the example bots (all, or only the named ones) to `dst`, which is returned.

    Args:
        create_rate: the copies' session-create-rate (None: the bots' own; see make_bot).
    """
    if not names:
        shutil.copytree(EXAMPLE_BOTS, dst)
    for name in names:
        shutil.copytree(EXAMPLE_BOTS / f"{name}.gbai", dst / f"{name}.gbai")
    if create_rate is not None:
        for config in dst.glob("*.gbai/*.gbot/config.csv"):
            write(config, config.read_text(encoding="utf-8").rstrip("\n") + f"\nsession-create-rate,{create_rate}\n")
    return dst


class Clock:
    """A clock tests can move."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += dt.timedelta(**kw)


def runtime_for(stores: Stores, bots_root: Path, data_dir: Path, clock: Clock | None = None, *,
                events: Events | None = None, http: httpx.AsyncClient | None = None) -> DialogRuntime:
    """The runtime on `stores` (its users too) for the bots in `bots_root` (`http`: the client of
    BASIC's GET/POST; without it they are refused)."""
    return DialogRuntime(stores.store, BotRegistry(bots_root, data_dir), users=stores.users, events=events,
                         clock=clock or utcnow, channels=stores.channels, http=http,
                         knowledge=KnowledgeIndex(stores.engine))


def runtime_with_bot(stores: Stores, tmp: Path, name: str, dialogs: Mapping[str, str] | None = None, *,
                     clock: Clock | None = None, **package: Any) -> DialogRuntime:
    """One bot written to ``tmp/bots`` (`package`: make_bot's config, kb, templates) and the runtime
    on `stores` for it, its data in ``tmp/data``."""
    make_bot(tmp / "bots", name, dialogs, **package)
    return runtime_for(stores, tmp / "bots", tmp / "data", clock)


def texts(result: Result) -> list[str]:
    """What the bot said in one turn."""
    return [r.content for r in result.replies]
