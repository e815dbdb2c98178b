"""``gb schedules [BOT]``: the bots' scheduled dialogs, when they run next and how they last ran
(registered on the gb command by entry point).

Before listing, the bots folder is looked at as ``gb serve`` does when it loads the bots: a
schedule added to, changed in or taken out of a dialog file is stored, and a problem (an
expression that is no cron expression, a dialog that does not compile) is printed with its file
and line; the exit code is then 1.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from pathlib import Path

import click

from gb_sessions import MemoryStore, Schedule, StoreSettings, open_stores

from .bots import BotRegistry
from .runtime import DialogRuntime
from .schedules import Scheduler

__all__ = ["schedules", "table"]

HEADERS = ("BOT", "DIALOG", "WHEN", "ZONE", "NEXT DUE (UTC)", "LAST RUN (UTC)", "RESULT")


@click.command()
@click.argument("bot", required=False)
@click.option("--bots", "bots_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The bots folder (default: GB_BOTS_DIR or ./bots).")
def schedules(bot: str | None, bots_dir: Path | None) -> None:
    """List the scheduled dialogs (of BOT, or of every bot): when, next due, last run, last result.

    Storage from the environment, as for gb serve (GB_DATABASE_URL, GB_DATA_DIR).
    """
    logging.getLogger("gb").addHandler(logging.NullHandler())  # problems are printed below, not logged
    logging.getLogger("gb").propagate = False
    folder = (bots_dir or Path(os.environ.get("GB_BOTS_DIR") or "bots")).resolve()
    rows, problems = asyncio.run(_list(StoreSettings.from_env(), folder, bot))
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(table(rows) if rows else "no schedules" + (f" for bot {bot}" if bot else ""))
    raise SystemExit(1 if problems else 0)


async def _list(settings: StoreSettings, folder: Path, bot: str | None) -> tuple[list[Schedule], list[str]]:
    """Store what the bots' files say, then the schedules (of `bot`) and the problems found."""
    stores = await open_stores(settings)
    try:
        runtime = DialogRuntime(MemoryStore(), BotRegistry(folder, settings.data_dir), schedules=stores.schedules)
        scheduler = Scheduler(runtime, stores.schedules, "gb schedules")
        problems = [] if not folder.is_dir() else [
            getattr(p, "headline", str(p)) for p in await scheduler.sync()]
        return await stores.schedules.entries(bot), problems
    finally:
        await stores.close()


def table(rows: list[Schedule]) -> str:
    """The schedules as aligned columns, a failed run's error on a line under it."""
    lines = [HEADERS, *(_row(s) for s in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    out: list[str] = []
    for i, line in enumerate(lines):
        out.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())
        s = rows[i - 1] if i else None
        if s is not None and s.last_result == "error" and s.last_error:
            out.append(f"    error: {s.last_error}")
    return "\n".join(out)


def _row(s: Schedule) -> tuple[str, ...]:
    spec = s.spec
    dialog = spec.dialog + (f" ({spec.param})" if spec.param else "")
    when = spec.cron if spec.kind == "cron" and spec.cron else "once"
    if not s.enabled:
        next_due = "disabled"
    elif s.running_due is not None and s.claimed_by is not None:
        next_due = f"running ({_time(s.running_due)})"
    else:
        next_due = _time(s.next_due)
    result = s.last_result or "-"
    if s.runs:
        result += f" ({s.runs} run{'s' if s.runs != 1 else ''})"
    return s.bot_id, dialog, when, spec.timezone, next_due, _time(s.last_run), result


def _time(t: dt.datetime | None) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if t is not None else "-"
