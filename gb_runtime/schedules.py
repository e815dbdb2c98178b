"""Schedules: the dialogs of a bot that run on their own (``SET SCHEDULE``), once across processes.

Two ways to a schedule, as General Bots has them:

* **The top of a dialog file** (``SET SCHEDULE "0 9 * * *"`` as a statement of the file's top
  level, with a constant expression: :func:`declared_schedule`) makes the dialog a scheduled
  dialog of its bot. Loading the bot finds it (:func:`discover`); the :class:`Scheduler` keeps
  the ``schedules`` table in step with the files: a new or changed expression is stored, one
  taken out of its file is disabled. When the dialog runs, the statement itself changes nothing.
* **A statement as a dialog runs** (:class:`ScheduleKeyword`): ``SET SCHEDULE "cron"`` (this
  dialog; in a dialog with PARAMs, for the value of its first PARAM: the job it was called
  for), ``SET SCHEDULE "cron", "other.bas" [, job]`` (another dialog, recurring, its first
  PARAM set to `job`) and ``SET SCHEDULE date, "other.bas" [, job]`` (once, at that moment: a
  date value such as ``DATEADD(NOW(), 7, "day")``, or text such as ``"2026-02-15 10:00"``).

Each run is a session of its own: a new session of the bot on channel ``schedule`` (its address
the dialog's name), where the dialog runs from its start; its TALKs are the session's messages;
the session ends with the dialog (a WAIT keeps it to the timer; a HEAR, which nobody can answer,
ends the run with an error). A failed run is logged and recorded (``gb schedules`` shows it),
and the schedule goes on. A server that was down over several occurrences runs the schedule
once when it is back, not once per occurrence missed.

The :class:`Scheduler` is part of the timer service (timers.py): one loop fires the WAITs and
the schedules. Claiming is the store's compare-and-set (gb_sessions/schedules.py): exactly one
process runs an occurrence; its session id is derived from the occurrence, so a run taken over
after its process died is not run twice once its session was committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gb_basic import BasicError, BasicRuntimeError, Program, values
from gb_basic import ast as A
from gb_sessions import Schedule, ScheduleSpec, ScheduleStore, StoreUnavailable

from .bots import BotPackage
from .cron import Cron, CronError, zone
from .errors import BotError

if TYPE_CHECKING:
    from .runtime import DialogRuntime

__all__ = ["Declared", "Discovery", "ScheduleKeyword", "Scheduler", "SCHEDULE_CHANNEL", "declared_schedule",
           "discover", "occurrence_session", "timing"]

log = logging.getLogger("gb.schedules")
SCHEDULE_CHANNEL = "schedule"  # the channel of the sessions scheduled runs have
SYNC_SECONDS = 10.0  # between two looks at the bots' files for schedules added, changed or taken out
LEASE_SECONDS = 60.0  # a claim lapses after this long unless its run renews it (every third of it)
BATCH = 10  # schedules claimed at a time
RELOOK_SECONDS = 0.2  # the soonest the scheduler looks again after a look (a row due that it could not claim)
_OCCURRENCE = uuid.UUID("5d7a3c1e-8f7b-4c55-9b0e-6d1f4b2a9c30")  # the namespace of occurrence session ids


def occurrence_session(schedule_id: uuid.UUID, occurrence: dt.datetime) -> uuid.UUID:
    """The session id of one occurrence of a schedule: the same in every process, so a run that
    is taken over after its process died finds the session of the run that was committed."""
    return uuid.uuid5(_OCCURRENCE, f"{schedule_id}/{occurrence.astimezone(dt.UTC).isoformat()}")


# --- the top of a dialog file ---------------------------------------------------------------------
def declared_schedule(program: Program) -> tuple[A.Keyword, str] | None:
    """The file-level ``SET SCHEDULE "expr"`` of a compiled dialog: the statement and its
    expression, or None. It is a statement of the file's top level (not inside IF, a loop, a
    SUB) whose one argument is a constant text; the first such statement counts.

    The only place that reads the AST for it: swap it for another reading if the AST changes.
    """
    for stmt in program.module.body:
        if isinstance(stmt, A.Keyword) and stmt.keyword == "SET SCHEDULE" and len(stmt.args) == 1:
            arg = stmt.args[0]
            if isinstance(arg, A.Const) and isinstance(arg.value, str):
                return stmt, arg.value
    return None


@dataclass(frozen=True)
class Declared:
    """A dialog's file-level schedule."""

    dialog: str  # the dialog's name, lower case
    cron: Cron
    place: str  # file:line


@dataclass
class Discovery:
    """What the files of one bot say about its schedules."""

    declared: dict[str, Declared] = field(default_factory=dict)
    errors: dict[str, BasicError] = field(default_factory=dict)  # dialog -> why its schedule is not known
    broken: set[str] = field(default_factory=set)  # dialogs that do not compile: their schedules are left as they are
    dialogs: set[str] = field(default_factory=set)

    def fingerprint(self, timezone: str) -> tuple[Any, ...]:
        """What a store write depends on: equal fingerprints, nothing to write."""
        return (timezone, tuple(sorted((d.dialog, d.cron.expr, d.place) for d in self.declared.values())),
                tuple(sorted(self.broken)), tuple(sorted(self.dialogs)))


def discover(bot: BotPackage) -> Discovery:
    """Every file-level schedule of the bot's dialogs (compiled from the files, cached by them).

    A dialog that does not compile is `broken` (its error in `errors`); one whose expression is
    no cron expression has a BasicRuntimeError in `errors` naming its file, line and column.
    """
    found = Discovery()
    for name in bot.dialog_names():
        key = name.lower()
        found.dialogs.add(key)
        try:
            program = bot.dialog(key)
        except BasicError as exc:
            found.errors[key] = exc
            found.broken.add(key)
            continue
        declared = declared_schedule(program) if program is not None else None
        if program is None or declared is None:
            continue
        stmt, expr = declared
        column = stmt.args[0].col
        try:
            found.declared[key] = Declared(key, Cron.parse(expr), f"{program.name}:{stmt.line}")
        except CronError as exc:
            found.errors[key] = BasicRuntimeError(f"SET SCHEDULE {exc}", file=program.name, line=stmt.line,
                                                  column=column, source=program.source)
    return found


# --- a statement as a dialog runs ------------------------------------------------------------------
@dataclass(frozen=True)
class Timing:
    """When a SET SCHEDULE runs its dialog: a cron expression, or once at `at` (aware UTC)."""

    cron: Cron | None = None
    at: dt.datetime | None = None


def timing(value: Any, timezone: str = "UTC") -> Timing:
    """The timing of SET SCHEDULE's first argument: a cron expression; a date value (once;
    without a zone it is the server's local time, as NOW() gives it); or text of a date
    (``2026-02-15 10:00``, once, in `timezone` unless it names its own).

    Raises:
        BasicRuntimeError: none of them (the message is the cron expression's problem).
    """
    if isinstance(value, dt.datetime):
        return Timing(at=value.astimezone(dt.UTC))
    if isinstance(value, dt.date):
        return Timing(at=dt.datetime(value.year, value.month, value.day).astimezone(dt.UTC))
    if not isinstance(value, str):
        raise BasicRuntimeError(f"SET SCHEDULE needs a cron expression (\"0 9 * * *\") or a date, "
                                f"got {values.type_name(value)}")
    try:
        return Timing(cron=Cron.parse(value))
    except CronError as exc:
        at = _date_text(value, timezone)
        if at is None:
            raise BasicRuntimeError(f"SET SCHEDULE {exc}") from None
        return Timing(at=at)


def _date_text(text: str, timezone: str) -> dt.datetime | None:
    """Text of a date and time (ISO 8601, a space or a T between), in UTC; None when it is not one."""
    try:
        t = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return (t if t.tzinfo is not None else t.replace(tzinfo=zone(timezone))).astimezone(dt.UTC)


class ScheduleKeyword:
    """``SET SCHEDULE`` as a dialog runs it (one turn of one session).

    Args:
        bot: the bot whose dialogs are scheduled.
        store: where schedules are kept (None: ``gb run``, the golden tests: checked only).
        own: the running dialog's name when a dialog file of the bot runs (None: a notebook cell).
        clock: now.
        on_set: called with the first occurrence of a schedule this statement stored (the
            timer service of this process looks then).
    """

    def __init__(self, bot: BotPackage, store: ScheduleStore | None, own: str | None, *,
                 clock: Callable[[], dt.datetime], on_set: Callable[[dt.datetime], None] | None = None) -> None:
        self.bot = bot
        self.store = store
        self.own = own
        self.clock = clock
        self.on_set = on_set

    async def set(self, args: list[Any], *, line: int, file: str, variables: Mapping[str, Any]) -> bool:
        """Store the schedule the statement's arguments describe (see the module); False when
        there is nowhere to store it (no store, or a notebook cell scheduling itself).

        Raises:
            BasicRuntimeError: no argument; not a cron expression nor a date; no such dialog.
        """
        if not args:
            raise BasicRuntimeError('SET SCHEDULE needs a cron expression ("0 9 * * *"), or a date and a dialog')
        tz = self.bot.settings.timezone
        when = timing(args[0], tz)
        target = self._dialog(args[1]) if len(args) > 1 else self.own
        if self.store is None or target is None:
            return False
        origin, param = self._own_job(line, variables) if len(args) == 1 else ("dialog", None)
        if len(args) > 2 and args[2] is not None:
            param = values.to_str(args[2])
        spec = _spec(self.bot.name, target, when, tz, origin, f"{file}:{line}", param)
        old = await self.store.get(spec.bot_id, spec.dialog, spec.job)
        if old is not None and old.enabled and _same(old.spec, spec):
            return True  # the file's own statement, or a statement that ran before: nothing changes
        now = self.clock()
        first = when.at if when.at is not None else when.cron.next_after(now, tz)  # type: ignore[union-attr]
        await self.store.put(spec, first, now)
        log.info("bot %s: %s scheduled %s (%s)", self.bot.name, spec.place, spec.dialog, spec.cron or spec.job)
        if self.on_set is not None:
            self.on_set(first)
        return True

    def _dialog(self, value: Any) -> str:
        """The dialog a statement names (``"report.bas"`` or ``"report"``), checked."""
        name = values.to_str(value).strip().removesuffix(".bas").removesuffix(".BAS").lower()
        names = {n.lower() for n in self.bot.dialog_names()}
        if name not in names:
            raise BasicRuntimeError(f"SET SCHEDULE: bot {self.bot.name} has no dialog {values.to_str(value)!r} "
                                    f"(its dialogs: {', '.join(sorted(names)) or 'none'})")
        return name

    def _own_job(self, line: int, variables: Mapping[str, Any]) -> tuple[str, str | None]:
        """(origin, param) of ``SET SCHEDULE "cron"`` for the running dialog: the file's declared
        statement is the dialog's own schedule; another, in a dialog with PARAMs, is the
        schedule of the job its first PARAM names now."""
        program = self.bot.dialog(self.own) if self.own else None
        if program is None:
            return "dialog", None
        declared = declared_schedule(program)
        if declared is not None and declared[0].line == line:
            return "file", None
        if program.params:
            value = variables.get(program.params[0].name.lower())
            if value is not None and values.to_str(value) != "":
                return "dialog", values.to_str(value)
        return "dialog", None


def _spec(bot: str, dialog: str, when: Timing, tz: str, origin: str, place: str, param: str | None) -> ScheduleSpec:
    if when.at is not None:
        job = "@" + when.at.isoformat() + (f" {param}" if param else "")
        return ScheduleSpec(bot, dialog, job, "once", None, tz, origin, place, param)
    assert when.cron is not None
    return ScheduleSpec(bot, dialog, param or "", "cron", when.cron.expr, tz, origin, place, param)


def _same(old: ScheduleSpec, new: ScheduleSpec) -> bool:
    """Whether storing `new` over `old` would change when or how the dialog runs."""
    return (old.kind, old.cron, old.timezone, old.param) == (new.kind, new.cron, new.timezone, new.param) \
        and (old.origin == "file" or old.origin == new.origin)


# --- the scheduler ----------------------------------------------------------------------------------
class Scheduler:
    """Keeps the bots' schedules in step with their files and runs the due ones (the timer
    service calls it from its loop: :meth:`tick`).

    Args:
        runtime: runs each occurrence (``run_schedule``); its bots are the ones scheduled.
        store: the schedules.
        owner: names this process in its claims.
        lease_seconds: how long a claim holds before another process may take the run over.
        sync_seconds: between two looks at the bots' files.
    """

    def __init__(self, runtime: DialogRuntime, store: ScheduleStore, owner: str, *,
                 lease_seconds: float = LEASE_SECONDS, sync_seconds: float = SYNC_SECONDS) -> None:
        self.runtime = runtime
        self.store = store
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.sync_seconds = sync_seconds
        self.ran = 0  # occurrences whose dialog this scheduler ran
        self.nearest: dt.datetime | None = None  # the earliest next occurrence known here (None: look)
        self._synced: dict[str, tuple[Any, ...]] = {}  # bot -> the fingerprint last written
        self._reported: dict[str, str] = {}  # "bot/dialog" -> the error last logged
        self._last_sync: float | None = None
        self._runs: set[asyncio.Task[None]] = set()

    # --- the loop's step ------------------------------------------------------------------------------
    async def tick(self) -> None:
        """One step of the timer service's loop: look at the files when it is time, then claim
        and start the occurrences that are due."""
        if self._last_sync is None or time.monotonic() - self._last_sync >= self.sync_seconds:
            await self.sync()
        now = self.runtime.clock()
        if self.nearest is None or self.nearest <= now:
            while await self.run_due() == BATCH:
                pass
            nearest = await self.store.nearest(self.runtime.bots.names())
            if nearest is None:  # nothing scheduled: look again with the next look at the files
                nearest = now + dt.timedelta(seconds=self.sync_seconds)
            self.nearest = max(nearest, now + dt.timedelta(seconds=RELOOK_SECONDS))

    def note(self, due: dt.datetime) -> None:
        """A schedule of this process comes due at `due`: look then."""
        if self.nearest is None or due < self.nearest:
            self.nearest = due

    # --- the files -------------------------------------------------------------------------------------
    async def sync(self) -> list[BasicError | BotError]:
        """Look at every bot's dialogs and store what changed: new and changed file-level
        schedules, and those taken out of their files (or whose file is gone) disabled.

        Returns:
            The problems found (each also logged once): a bad expression, a dialog that does
            not compile, a config.csv that does not load.
        """
        self._last_sync = time.monotonic()
        problems: list[BasicError | BotError] = []
        for name in self.runtime.bots.names():
            try:
                problems += await self.sync_bot(self.runtime.bots.get(name))
            except BotError as exc:  # a config.csv that does not load: its schedules stay as they are
                self._report(f"{name}/", str(exc))
                problems.append(exc)
        self.nearest = None
        return problems

    async def sync_bot(self, bot: BotPackage) -> list[BasicError]:
        """The file-level schedules of one bot into the store (when they changed since the last
        look of this process); the problems of its files.

        Raises:
            BotConfigError: the bot's config.csv does not load.
        """
        tz = bot.settings.timezone
        found = await asyncio.to_thread(discover, bot)  # compiling a changed file is CPU work off the loop
        for dialog, error in found.errors.items():
            self._report(f"{bot.name}/{dialog}", error.headline)
        fingerprint = found.fingerprint(tz)
        if self._synced.get(bot.name) == fingerprint:
            return list(found.errors.values())
        now = self.runtime.clock()
        for d in found.declared.values():
            spec = ScheduleSpec(bot.name, d.dialog, "", "cron", d.cron.expr, tz, "file", d.place)
            await self.store.put(spec, d.cron.next_after(now, tz), now)
        for gone in await self.store.disable(bot.name, keep=set(found.declared) | found.broken, origin="file",
                                             now=now):
            log.info("bot %s: %s has no SET SCHEDULE at its top any more; its schedule is disabled", bot.name,
                     gone.spec.place or gone.dialog)
        await self.store.disable(bot.name, keep=found.dialogs, now=now)  # schedules of dialogs that are gone
        self._synced[bot.name] = fingerprint
        return list(found.errors.values())

    def _report(self, key: str, message: str) -> None:
        """Log a problem of a bot's files once (again only when it changes)."""
        if self._reported.get(key) != message:
            self._reported[key] = message
            log.error("schedules: %s", message)

    # --- running ---------------------------------------------------------------------------------------
    async def run_due(self) -> int:
        """Claim the schedules due now and start their runs (in the background: the loop goes
        on with the timers); how many were claimed."""
        now = self.runtime.clock()
        claimed = 0
        for s in await self.store.due(now, self.runtime.bots.names(), BATCH):
            mine = await self.store.claim(s, now, self.owner, self.lease_seconds, self._next(s, now))
            if mine is None:
                continue  # another process was first
            claimed += 1
            task = asyncio.ensure_future(self.run(mine))
            self._runs.add(task)
            task.add_done_callback(self._runs.discard)
        return claimed

    def _next(self, s: Schedule, now: dt.datetime) -> dt.datetime | None:
        """The occurrence after `now` (however many were missed before it: they collapse into
        the one run now); None for a one-off or an expression that no longer parses."""
        if s.spec.kind != "cron" or s.spec.cron is None:
            return None
        try:
            return Cron.parse(s.spec.cron).next_after(now, s.spec.timezone)
        except CronError as exc:
            log.error("schedule of %s/%s: %s; it is disabled", s.bot_id, s.dialog, exc)
            return None

    async def run(self, s: Schedule) -> None:
        """Run a claimed occurrence in a session of its own and record how it went (its lease
        renewed while it runs)."""
        occurrence = s.running_due or self.runtime.clock()
        sid = occurrence_session(s.id, occurrence)
        keeper = asyncio.ensure_future(self._keep(s))
        error: str | None = None
        try:
            result = await self.runtime.run_schedule(s.bot_id, s.dialog, session_id=sid, param=s.spec.param)
            if result is None:
                log.info("schedule %s/%s: the occurrence of %s ran already (its process stopped before recording "
                         "it)", s.bot_id, s.dialog, occurrence.isoformat())
            else:
                self.ran += 1
                if result.error is not None:
                    error = _headline(result.error)
        except StoreUnavailable:
            log.warning("schedule %s/%s: the database is unavailable; the run is tried again in %.0f s",
                        s.bot_id, s.dialog, self.lease_seconds)
            return
        except Exception as exc:  # a bot or dialog gone, a dialog that does not compile: recorded, and it goes on
            error = _headline(exc)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        if error is not None:
            log.warning("schedule %s/%s (%s) failed: %s", s.bot_id, s.dialog, s.spec.cron or "once", error)
        try:
            await self.store.finish(s, self.owner, self.runtime.clock(), error=error, session_id=sid)
        except StoreUnavailable:
            log.warning("schedule %s/%s: its result could not be recorded (database unavailable)", s.bot_id, s.dialog)

    async def _keep(self, s: Schedule) -> None:
        """Renew the claim every third of the lease while the run lasts."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            until = self.runtime.clock() + dt.timedelta(seconds=self.lease_seconds)
            with contextlib.suppress(StoreUnavailable):
                if not await self.store.extend(s.id, self.owner, until):
                    log.warning("schedule %s/%s: the claim was lost while it ran", s.bot_id, s.dialog)
                    return

    async def idle(self, seconds: float | None = None) -> None:
        """Wait for the runs started here (at most `seconds`: then they are cancelled; their
        claims lapse and another process takes them over)."""
        runs = set(self._runs)
        if not runs:
            return
        _, pending = await asyncio.wait(runs, timeout=seconds)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _headline(exc: Exception) -> str:
    """An error in one line: a BasicError's ``[file:line:col] ...``, else its class and message."""
    return exc.headline if isinstance(exc, BasicError) else f"{type(exc).__name__}: {exc}"
