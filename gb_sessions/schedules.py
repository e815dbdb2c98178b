"""ScheduleStore: the ``schedules`` table, when the bots' dialogs run on their own (``SET SCHEDULE``).

A row is one schedule of one dialog of one bot, keyed by (bot, dialog, job): a cron expression
(`kind` "cron") or one moment (`kind` "once"). The store knows nothing of cron: the caller (the
runtime's scheduler) computes each next occurrence and hands it in.

Exactly once across processes, without holding a lock while a dialog runs:

* :meth:`ScheduleStore.due` reads the candidates (due, enabled, not held by a live claim);
* :meth:`ScheduleStore.claim` is ONE conditional UPDATE per candidate, a compare-and-set on the
  row's `version` that also checks again that the row is due and free: it moves `next_due` on
  to the next occurrence, puts the occurrence it runs in `running_due` and the claimer in
  `claimed_by` until `claimed_until`. Of two processes that read the same due row, one
  updates it; the other's UPDATE matches no row (PostgreSQL re-checks the WHERE on the row
  the first one committed; SQLite runs one writer at a time), so it runs nothing;
* :meth:`ScheduleStore.extend` renews the lease while the run lasts; :meth:`ScheduleStore.finish`
  records the result and frees the row (a one-off row is deleted), only for its claimer.

A process that dies mid-run leaves `running_due` set: once its lease lapses another process
claims the row again and runs that same occurrence (the runtime names an occurrence's session
after it, so a run that had committed its session is not run twice).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from .errors import StoreUnavailable
from .schema import ScheduleRow

__all__ = ["Schedule", "ScheduleSpec", "ScheduleStore"]

log = logging.getLogger("gb.store")
SC = cast(Table, ScheduleRow.__table__)


@dataclass(frozen=True)
class ScheduleSpec:
    """What a schedule is, as a dialog declares or sets it.

    Attributes:
        bot_id, dialog: whose dialog runs (the dialog's name in lower case, without ``.bas``).
        job: what tells this schedule from the dialog's others: "" (the dialog's own), the
            value of its first PARAM (`param`), and for a one-off the moment first
            (``@2026-12-09T09:00:00+00:00``, then `` <param>``), so that a dialog may have many.
        kind: "cron" (`cron` holds the expression) or "once" (runs at `next_due`, then goes).
        timezone: the IANA zone the cron expression is read in ("UTC").
        origin: "file" (the top of the dialog's file declares it) or "dialog" (a SET SCHEDULE
            statement set it as a dialog ran).
        place: where it was declared or set (``report.bas:1``), for ``gb schedules``.
        param: the value of the dialog's first PARAM in each run (None: the dialog has none set).
    """

    bot_id: str
    dialog: str
    job: str
    kind: str
    cron: str | None
    timezone: str
    origin: str
    place: str | None = None
    param: str | None = None


@dataclass(frozen=True)
class Schedule:
    """A stored schedule (one row of ``schedules``); times are aware UTC."""

    id: uuid.UUID
    spec: ScheduleSpec
    enabled: bool
    next_due: dt.datetime | None
    running_due: dt.datetime | None
    claimed_by: str | None
    claimed_until: dt.datetime | None
    last_run: dt.datetime | None
    last_result: str | None
    last_error: str | None
    last_session: uuid.UUID | None
    runs: int
    version: int

    @property
    def bot_id(self) -> str:
        return self.spec.bot_id

    @property
    def dialog(self) -> str:
        return self.spec.dialog


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives naive datetimes back: they are UTC."""
    return t.replace(tzinfo=dt.UTC) if t is not None and t.tzinfo is None else t


def _utc(t: dt.datetime | None) -> dt.datetime | None:
    """A time as the database keeps it: aware UTC (SQLite writes the wall time and drops the zone)."""
    return t.astimezone(dt.UTC) if t is not None else None


def _schedule(r: Any) -> Schedule:
    spec = ScheduleSpec(r.bot_id, r.dialog, r.job, r.kind, r.cron, r.timezone, r.origin, r.place, r.param)
    return Schedule(r.id, spec, bool(r.enabled), _aware(r.next_due), _aware(r.running_due), r.claimed_by,
                    _aware(r.claimed_until), _aware(r.last_run), r.last_result, r.last_error, r.last_session,
                    r.runs, r.version)


def _free(now: dt.datetime) -> ColumnElement[bool]:
    """Rows no live claim holds."""
    return or_(SC.c.claimed_until.is_(None), SC.c.claimed_until < now)


def _runnable(now: dt.datetime) -> ColumnElement[bool]:
    """Rows with something to run now: an occurrence that is due, or one whose claimer died
    running it (its lease lapsed)."""
    return and_(SC.c.enabled.is_(True), _free(now), or_(SC.c.next_due <= now, SC.c.running_due.is_not(None)))


@contextlib.asynccontextmanager
async def _unavailable_on_error() -> AsyncIterator[None]:
    """An unreachable database is StoreUnavailable (the caller tries again later)."""
    try:
        yield
    except IntegrityError:
        raise
    except (OperationalError, DBAPIError, OSError) as exc:
        log.warning("database unavailable (schedules): %s", exc)
        raise StoreUnavailable("the database is unavailable, try again shortly", retry_after=2) from exc


class ScheduleStore:
    """The schedules of every bot of one database (PostgreSQL or SQLite).

    Args:
        engine: the async engine of the session database (migrated).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    # --- writing ------------------------------------------------------------------------------------
    async def put(self, spec: ScheduleSpec, next_due: dt.datetime | None, now: dt.datetime) -> Schedule:
        """Store a schedule (insert, or replace the one of the same bot, dialog and job) and
        enable it. Its `next_due` is kept when the row already runs the same timing (same kind,
        cron and zone, enabled): loading a bot again does not push its schedules back (and a row
        stored as it is is not written at all).

        Args:
            next_due: the first occurrence after `now` (for a new or changed timing).

        Returns:
            The stored row.
        """
        for _ in range(3):  # an insert that meets another process's insert of the same key updates instead
            old = await self.get(spec.bot_id, spec.dialog, spec.job)
            try:
                if old is None:
                    await self._insert(spec, next_due, now)
                else:
                    await self._replace(old, spec, next_due, now)
            except IntegrityError:
                continue
            stored = await self.get(spec.bot_id, spec.dialog, spec.job)
            if stored is not None:
                return stored
        raise StoreUnavailable(f"the schedule of {spec.bot_id}/{spec.dialog} kept changing; try again")

    async def _insert(self, spec: ScheduleSpec, next_due: dt.datetime | None, now: dt.datetime) -> None:
        async with _unavailable_on_error(), self.engine.begin() as conn:
            await conn.execute(insert(SC).values(
                id=uuid.uuid4(), bot_id=spec.bot_id, dialog=spec.dialog, job=spec.job, param=spec.param, kind=spec.kind,
                cron=spec.cron,
                timezone=spec.timezone, origin=spec.origin, place=spec.place, enabled=True, next_due=_utc(next_due),
                runs=0, version=0, created_at=_utc(now), updated_at=_utc(now)))

    async def _replace(self, old: Schedule, spec: ScheduleSpec, next_due: dt.datetime | None,
                       now: dt.datetime) -> None:
        same = (old.enabled and old.spec.kind == spec.kind and old.spec.cron == spec.cron
                and old.spec.timezone == spec.timezone and (old.next_due is not None or old.running_due is not None))
        if same and old.spec == spec:
            return  # as stored: nothing to write (every process loads the bots when it starts)
        values: dict[str, Any] = {"kind": spec.kind, "cron": spec.cron, "param": spec.param, "timezone": spec.timezone,
                                  "origin": spec.origin, "place": spec.place, "enabled": True,
                                  "version": SC.c.version + 1, "updated_at": _utc(now)}
        if not same:
            values["next_due"] = _utc(next_due)
        async with _unavailable_on_error(), self.engine.begin() as conn:
            await conn.execute(update(SC).where(SC.c.id == old.id).values(**values))

    async def disable(self, bot_id: str, *, keep: Collection[str], origin: str | None = None,
                      now: dt.datetime) -> list[Schedule]:
        """Disable the enabled schedules of a bot whose dialog is not in `keep` (of `origin`
        only, or of any); a one-off among them is deleted. A claim being run finishes as it
        would (its result is recorded); nothing runs after it.

        Returns:
            The schedules disabled, as they were.
        """
        q = select(SC).where(SC.c.bot_id == bot_id, SC.c.enabled.is_(True))
        if origin is not None:
            q = q.where(SC.c.origin == origin)
        async with _unavailable_on_error(), self.engine.begin() as conn:
            gone = [_schedule(r) for r in (await conn.execute(q)).all() if r.dialog not in keep]
            ids = [s.id for s in gone]
            if ids:
                await conn.execute(delete(SC).where(SC.c.id.in_(ids), SC.c.kind == "once",
                                                    SC.c.running_due.is_(None)))
                await conn.execute(update(SC).where(SC.c.id.in_(ids)).values(
                    enabled=False, next_due=None, version=SC.c.version + 1, updated_at=_utc(now)))
        return gone

    # --- running ------------------------------------------------------------------------------------
    async def due(self, now: dt.datetime, bots: Collection[str], limit: int = 20) -> list[Schedule]:
        """The schedules of `bots` with something to run at `now`, earliest first (a read: a
        poll that finds nothing takes no write lock). Claim each before running it."""
        if not bots:
            return []
        q = (select(SC).where(_runnable(now), SC.c.bot_id.in_(list(bots)))
             .order_by(SC.c.next_due).limit(limit))
        async with _unavailable_on_error(), self.engine.connect() as conn:
            return [_schedule(r) for r in (await conn.execute(q)).all()]

    async def claim(self, schedule: Schedule, now: dt.datetime, owner: str, lease_seconds: float,
                    next_due: dt.datetime | None) -> Schedule | None:
        """Claim a due schedule for `owner`, atomically (one UPDATE, a compare-and-set on the
        version read with it): `next_due` moves on to `next_due` (the next occurrence after
        `now`: however many were missed, one run), and the occurrence to run goes to
        `running_due` (the one a dead claimer left, else the one that came due).

        Returns:
            The claimed row, or None when another process claimed it first (or it changed).
        """
        occurrence = schedule.running_due or schedule.next_due or now
        result_next = next_due if schedule.running_due is None else schedule.next_due
        claim = (update(SC).where(SC.c.id == schedule.id, SC.c.version == schedule.version, _runnable(now))
                 .values(next_due=_utc(result_next), running_due=_utc(occurrence), claimed_by=owner,
                         claimed_until=_utc(now + dt.timedelta(seconds=lease_seconds)), version=SC.c.version + 1))
        async with _unavailable_on_error(), self.engine.begin() as conn:
            if (await conn.execute(claim)).rowcount != 1:
                return None
            row = (await conn.execute(select(SC).where(SC.c.id == schedule.id))).one()
        return _schedule(row)

    async def extend(self, schedule_id: uuid.UUID, owner: str, until: dt.datetime) -> bool:
        """Renew `owner`'s claim until `until`; False when it holds the claim no more."""
        async with _unavailable_on_error(), self.engine.begin() as conn:
            result = await conn.execute(update(SC).where(SC.c.id == schedule_id, SC.c.claimed_by == owner)
                                        .values(claimed_until=_utc(until)))
        return bool(result.rowcount == 1)

    async def finish(self, schedule: Schedule, owner: str, at: dt.datetime, *, error: str | None,
                     session_id: uuid.UUID | None) -> bool:
        """Record the run of `owner`'s claim (`error` None: it went well) and free the row; a
        one-off schedule is deleted. False when `owner` no longer held the claim (its lease
        lapsed and another process took the occurrence over: that one records it)."""
        mine = and_(SC.c.id == schedule.id, SC.c.claimed_by == owner)
        async with _unavailable_on_error(), self.engine.begin() as conn:
            if schedule.spec.kind == "once":
                return bool((await conn.execute(delete(SC).where(mine))).rowcount == 1)
            result = await conn.execute(update(SC).where(mine).values(
                running_due=None, claimed_by=None, claimed_until=None, last_run=_utc(at),
                last_result="error" if error is not None else "ok", last_error=error, last_session=session_id,
                runs=SC.c.runs + 1, version=SC.c.version + 1))
        return bool(result.rowcount == 1)

    # --- reading ------------------------------------------------------------------------------------
    async def get(self, bot_id: str, dialog: str, job: str = "") -> Schedule | None:
        """The schedule of a bot's dialog (and job), or None."""
        q = select(SC).where(SC.c.bot_id == bot_id, SC.c.dialog == dialog, SC.c.job == job)
        async with _unavailable_on_error(), self.engine.connect() as conn:
            row = (await conn.execute(q)).first()
        return _schedule(row) if row is not None else None

    async def entries(self, bot_id: str | None = None) -> list[Schedule]:
        """The schedules (of one bot, or of all), by bot, dialog and job."""
        q = select(SC).order_by(SC.c.bot_id, SC.c.dialog, SC.c.job)
        if bot_id is not None:
            q = q.where(SC.c.bot_id == bot_id)
        async with _unavailable_on_error(), self.engine.connect() as conn:
            return [_schedule(r) for r in (await conn.execute(q)).all()]

    async def nearest(self, bots: Collection[str]) -> dt.datetime | None:
        """When the enabled schedules of `bots` next have something to run: the earliest next
        occurrence, or the end of a lease held over a run (a process that dies lets it lapse)."""
        if not bots:
            return None
        held = func.min(SC.c.claimed_until).filter(SC.c.running_due.is_not(None))
        q = select(func.min(SC.c.next_due), held).where(SC.c.enabled.is_(True), SC.c.bot_id.in_(list(bots)))
        async with _unavailable_on_error(), self.engine.connect() as conn:
            times = [_aware(t) for t in (await conn.execute(q)).one() if t is not None]
        return min((t for t in times if t is not None), default=None)
