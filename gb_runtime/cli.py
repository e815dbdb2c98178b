"""``gb run FILE``: a dialog in the terminal, through the real runtime (registered on the gb
command by entry point).

The dialog runs as in production: ``DialogRuntime`` answers its keywords (bot memory, KBs,
tools, templates, SAVE ...), so the terminal and the server cannot disagree. The bot is the
``<x>.gbai`` package FILE belongs to (FILE in ``<x>.gbai/<x>.gbdialog/``), with its KBs, tools,
templates and config.csv, or else a temporary package holding FILE alone. Nothing is kept:
the session is in memory (a MemoryStore), SAVE writes into a temporary folder and the bot's
tables (TABLE, FIND, SAVE to a table ...) are in a temporary SQLite file.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from gb_basic import BasicError
from gb_sessions import MemoryStore
from gb_sessions.database import make_engine, sqlite_url
from gb_sessions.tables import TableStore

from .bots import BotPackage, BotRegistry, BotSettings
from .errors import DialogRuntimeError, UnknownBot
from .http_keywords import new_http_client
from .messages import Inbound, Result
from .runtime import DialogRuntime

__all__ = ["run"]

CHANNEL = "terminal"
NO_RATE_LIMIT = 1_000_000  # messages per minute: one person at a terminal (or a piped script) is never limited


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--language", default=None,
              help="Language of re-ask messages (en, pt-BR)  [default: the bot's language setting, else en]")
@click.option("--max-steps", type=click.IntRange(min=1), default=None,
              help="Step budget per message  [default: the bot's max-steps setting, else 1000000]")
def run(file: Path, language: str | None, max_steps: int | None) -> None:
    """Run a dialog in the terminal: TALK prints, HEAR reads a line from standard input.

    The bot is the .gbai package FILE sits in (<x>.gbai/<x>.gbdialog/FILE), else a package
    of FILE alone. Exits 1 when the dialog fails; at the end of input the dialog is left
    waiting (stderr says where).
    """
    logging.getLogger("gb").addHandler(logging.NullHandler())  # errors are printed below, not logged twice
    overrides: dict[str, Any] = {"rate_limit_per_minute": NO_RATE_LIMIT}
    if language is not None:
        overrides["language"] = language
    if max_steps is not None:
        overrides["max_steps"] = max_steps
    sys.exit(asyncio.run(_run(file, overrides)))


async def _run(file: Path, overrides: dict[str, Any]) -> int:
    """Run FILE's dialog until it ends, fails or the input ends; the exit code."""
    with tempfile.TemporaryDirectory(prefix="gb-run-") as tmp:
        bot = TerminalBot(_package(file, Path(tmp)), Path(tmp) / "data", overrides)
        engine = make_engine(sqlite_url(Path(tmp) / "data" / "tables.db"))
        async with new_http_client() as http:
            runtime = DialogRuntime(MemoryStore(), OneBot(bot), apologize=False, tables=TableStore(engine), http=http)
            try:
                return await _converse(runtime, bot.name, _dialog_file(file).removesuffix(".bas"))
            except (BasicError, DialogRuntimeError) as exc:  # the dialog does not compile, a bad config.csv
                click.echo(str(exc), err=True)
                return 1
            finally:
                await engine.dispose()


async def _converse(runtime: DialogRuntime, bot: str, dialog: str) -> int:
    """Start `dialog` in a new terminal session and answer each HEAR with a line of stdin (a WAIT
    waits, then the dialog goes on)."""
    started = await runtime.start(bot, channel=CHANNEL, run_start=False)
    session_id = started.session_id
    result = await runtime.start_dialog(session_id, dialog)
    offered: list[str] = []
    while True:
        _show(result)
        if [s.text for s in result.suggestions] != offered:  # the bot's buttons, when they change
            offered = [s.text for s in result.suggestions]
            click.echo(_suggestions(offered))
        if result.error is not None:
            click.echo(str(result.error), err=True)
            return 1
        waiting = result.waiting
        if waiting is None:
            return 0
        if waiting.kind == "wait":  # nobody else fires it: sleep until it is due, then go on
            due = waiting.due or runtime.clock()
            await asyncio.sleep(max(0.0, (due - runtime.clock()).total_seconds()))
            result = await runtime.resume_timer(session_id) or Result(session_id, bot,
                                                                      suggestions=result.suggestions)
            continue
        line = await _read_line()
        if line is None:
            click.echo(f"(end of input: the dialog waits at {waiting.describe()})", err=True)
            return 0
        result = await runtime.handle(Inbound(bot, line, channel=CHANNEL, session_id=session_id))


def _show(result: Result) -> None:
    """Print a turn's replies: ``(to X) text`` for TALK TO, ``(choices: a | b)`` for a menu."""
    shown = False
    for reply in result.replies:
        click.echo(f"(to {reply.to}) {reply.content}" if reply.to else reply.content)
        if reply.choices:
            click.echo(_choices(reply.choices))
            shown = True
    waiting = result.waiting
    if waiting is not None and waiting.choices and not shown:  # a menu HEAR with nothing said before it
        click.echo(_choices(waiting.choices))


def _choices(choices: list[str]) -> str:
    return "(choices: " + " | ".join(choices) + ")"


def _suggestions(offered: list[str]) -> str:
    return "(suggestions: " + " | ".join(offered) + ")" if offered else "(no suggestions)"


async def _read_line() -> str | None:
    """The next line of stdin without its newline, or None at the end of input."""
    if sys.stdin.isatty():
        click.echo("> ", nl=False)
    line = await asyncio.to_thread(sys.stdin.readline)
    return line.removesuffix("\n") if line else None


def _dialog_file(file: Path) -> str:
    """The dialog's file name in its package (a package's dialogs end in .bas)."""
    return file.name if file.suffix.lower() == ".bas" else file.name + ".bas"


def _package(file: Path, tmp: Path) -> Path:
    """The ``<x>.gbai`` folder FILE is a dialog of, or a temporary package under `tmp` holding just FILE."""
    folder = file.resolve().parent
    name = folder.name.removesuffix(".gbdialog")
    if folder.name.endswith(".gbdialog") and folder.parent.name == f"{name}.gbai" and file.suffix.lower() == ".bas":
        return folder.parent
    package = tmp / "bots" / f"{file.stem}.gbai"
    dialogs = package / f"{file.stem}.gbdialog"
    dialogs.mkdir(parents=True)
    shutil.copyfile(file, dialogs / _dialog_file(file))
    return package


class TerminalBot(BotPackage):
    """A bot package whose settings ``gb run``'s options override.

    Args:
        path: the ``<name>.gbai`` folder.
        data_dir: where SAVE writes.
        overrides: BotSettings fields that replace the package's (``language``, ``max_steps`` ...).
    """

    def __init__(self, path: Path, data_dir: Path, overrides: dict[str, Any]) -> None:
        super().__init__(path, data_dir)
        self.overrides = overrides

    @property
    def settings(self) -> BotSettings:
        """The package's settings (config.csv, re-read when it changes) with the overrides."""
        return dataclasses.replace(super().settings, **self.overrides)


class OneBot(BotRegistry):
    """A registry of the one bot ``gb run`` runs."""

    def __init__(self, bot: BotPackage) -> None:
        super().__init__(bot.path.parent, bot.data_dir)
        self.bot = bot

    def names(self) -> list[str]:
        return [self.bot.name]

    def get(self, name: str) -> BotPackage:
        """The bot, by its name.

        Raises:
            UnknownBot: another name.
        """
        if name != self.bot.name:
            raise UnknownBot(f"unknown bot {name!r} (bots: {self.bot.name})")
        return self.bot
