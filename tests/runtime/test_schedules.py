"""SET SCHEDULE on SQLite and PostgreSQL: schedules found in a bot's files, each run a session of its
own, exactly once across runtimes and processes, missed runs collapsed, errors named by file and line,
a schedule taken out of its file disabled, and ``gb schedules``."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from gb_basic import BasicError
from gb_runtime import BotRegistry, DialogRuntime, TimerService
from gb_runtime.bots import BotConfigError
from gb_runtime.schedules import SCHEDULE_CHANNEL, Scheduler, occurrence_session
from gb_runtime.schedules_cli import schedules as schedules_command
from gb_sessions import Schedule
from gb_sessions.config import Stores, StoreSettings
from tests.backends import open_backend, settings_for
from tests.helpers import ROOT
from tests.helpers.bots import Clock, make_bot, write
from tests.helpers.stores import opened

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 7, 12, 0, tzinfo=UTC)  # a Saturday, noon UTC
SQL = ["sqlite", "postgres"]

REPORT = 'SET SCHEDULE "0 9 * * *"\nTALK "daily report"\nSET BOT MEMORY "ran", "yes"\nTALK "done"\n'


@pytest.fixture(params=SQL)
async def sql(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    """The stores on SQLite and on PostgreSQL (schedules do not go through the cache)."""
    async with open_backend(request.param, request, tmp_path) as s:
        yield s


def bot_name(prefix: str = "sched") -> str:
    """A bot name of its own: the PostgreSQL database is shared by the tests of a run."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def runtime(stores: Stores, root: Path, data: Path, clock: Clock) -> DialogRuntime:
    return DialogRuntime(stores.store, BotRegistry(root, data), users=stores.users, clock=clock,
                         schedules=stores.schedules)


def at(clock_time: dt.datetime) -> Clock:
    clock = Clock()
    clock.now = clock_time
    return clock


async def ran(scheduler: Scheduler) -> int:
    """Claim what is due, wait for the runs: how many were claimed."""
    n = await scheduler.run_due()
    await scheduler.idle(30)
    return n


async def scheduled_sessions(rt: DialogRuntime, bot: str) -> list:
    return [r for r in await rt.recent(bot, 100) if r.channel == SCHEDULE_CHANNEL]


def by_dialog(rows: list[Schedule]) -> dict[str, Schedule]:
    return {s.dialog + (f"/{s.spec.job}" if s.spec.job else ""): s for s in rows}


async def test_the_migration_makes_the_table_the_model_describes(sql: Stores) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from gb_sessions.schema import Base

    async with sql.engine.connect() as conn:
        diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    assert [d for d in diff if "schedules" in repr(d)] == []
    assert [d for d in diff if "inbox" in repr(d) or "outbox" in repr(d)] == []
    assert "schedules" in Base.metadata.tables


# --- discovery ----------------------------------------------------------------------------------------
async def test_schedules_are_found_at_the_top_of_the_bot_files(sql: Stores, tmp_path: Path) -> None:
    name, brazil = bot_name(), bot_name("br")
    make_bot(tmp_path / "bots", name, {
        "start": 'TALK "hi"\n',
        "report": REPORT,
        "Sync": 'SET SCHEDULE "0 30 22 * * *"\n\nDESCRIPTION "nightly sync"\nTALK "synced"\n',  # seconds first
        "hourly": "REM runs at minute 59\nSET SCHEDULE \"59 * * * *\"\nTALK \"tick\"\n",
        "tool": 'PARAM jobname AS STRING\nIF jobname = "x" THEN\n  SET SCHEDULE "0 8 * * *"\nEND IF\n',  # in code
        "commented": 'REM SET SCHEDULE "1 * * * * *"\nTALK "no"\n',
    })
    make_bot(tmp_path / "bots", brazil, {"report": REPORT}, config="timezone,America/Sao_Paulo\n")
    rt = runtime(sql, tmp_path / "bots", tmp_path / "data", at(T0))
    scheduler = Scheduler(rt, sql.schedules, "test")
    assert await scheduler.sync() == []
    rows = by_dialog(await sql.schedules.entries(name))
    assert sorted(rows) == ["hourly", "report", "sync"]
    assert [(rows[d].spec.cron, rows[d].spec.origin, rows[d].spec.place, rows[d].next_due) for d in sorted(rows)] == [
        ("59 * * * *", "file", "hourly.bas:2", dt.datetime(2026, 3, 7, 12, 59, tzinfo=UTC)),
        ("0 9 * * *", "file", "report.bas:1", dt.datetime(2026, 3, 8, 9, 0, tzinfo=UTC)),
        ("0 30 22 * * *", "file", "Sync.bas:1", dt.datetime(2026, 3, 7, 22, 30, tzinfo=UTC)),
    ]
    assert all(s.enabled and s.spec.timezone == "UTC" and s.last_run is None for s in rows.values())
    (br,) = await sql.schedules.entries(brazil)
    assert br.spec.timezone == "America/Sao_Paulo" and br.next_due == dt.datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    versions = {s.id: s.version for s in await sql.schedules.entries(name)}
    rt.clock.advance(hours=1)  # type: ignore[attr-defined]
    await Scheduler(rt, sql.schedules, "another process").sync()  # loading the bot again pushes nothing back
    assert {s.id: s.version for s in await sql.schedules.entries(name)} == versions
    assert by_dialog(await sql.schedules.entries(name))["report"].next_due == dt.datetime(2026, 3, 8, 9, tzinfo=UTC)


# --- a run ----------------------------------------------------------------------------------------------
async def test_a_run_is_a_session_of_its_own_with_the_dialog_s_talks(stores: Stores, tmp_path: Path) -> None:
    name = bot_name()
    make_bot(tmp_path / "bots", name, {"start": 'TALK "hello"\n', "report": REPORT})
    clock = at(T0)
    rt = runtime(stores, tmp_path / "bots", tmp_path / "data", clock)
    scheduler = Scheduler(rt, stores.schedules, "test")
    await scheduler.sync()
    assert await ran(scheduler) == 0  # not due before 09:00
    clock.now = dt.datetime(2026, 3, 8, 9, 0, 0, 500_000, tzinfo=UTC)
    assert await ran(scheduler) == 1 and await ran(scheduler) == 0
    (s,) = await stores.schedules.entries(name)
    assert (s.last_result, s.last_error, s.runs, s.last_run) == ("ok", None, 1, clock.now)
    assert s.next_due == dt.datetime(2026, 3, 9, 9, 0, tzinfo=UTC) and s.running_due is None and s.claimed_by is None
    assert s.last_session == occurrence_session(s.id, dt.datetime(2026, 3, 8, 9, 0, tzinfo=UTC))
    summary = await rt.summary(s.last_session)
    assert (summary.bot, summary.channel, summary.address, summary.status) == (name, "schedule", "report", "ended")
    assert [(m.role, m.content) for m in await rt.history(s.last_session)] == [
        ("assistant", "daily report"), ("assistant", "done")]  # start.bas did not run: the dialog did
    assert await stores.store.get_bot_memory(name, "ran") == "yes"
    assert [r.id for r in await scheduled_sessions(rt, name)] == [s.last_session]


async def test_a_failing_run_is_logged_and_recorded_and_the_schedule_goes_on(
        sql: Stores, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    name = bot_name()
    make_bot(tmp_path / "bots", name, {"mail": 'SET SCHEDULE "0 * * * *"\nTALK "before"\n'
                                               'SEND MAIL "a@example.com", "s", "b"\nTALK "after"\n'})
    clock = at(T0)
    rt = runtime(sql, tmp_path / "bots", tmp_path / "data", clock)
    scheduler = Scheduler(rt, sql.schedules, "test")
    await scheduler.sync()
    clock.advance(hours=1)
    with caplog.at_level(logging.WARNING, logger="gb.schedules"):
        assert await ran(scheduler) == 1
    (s,) = await sql.schedules.entries(name)
    assert s.last_result == "error" and s.last_error is not None
    assert s.last_error.startswith("[mail.bas:3:1] Error: SEND MAIL: channel not configured")
    assert any(r.name == "gb.schedules" and s.last_error in r.getMessage() for r in caplog.records)
    history = await rt.history(s.last_session, roles=("assistant", "system"))  # type: ignore[arg-type]
    assert [(m.role, m.content) for m in history] == [("assistant", "before"), ("system", f"error: {s.last_error}")]
    assert (await rt.summary(s.last_session)).status == "ended"  # type: ignore[arg-type]
    assert s.next_due == dt.datetime(2026, 3, 7, 14, 0, tzinfo=UTC)  # and it goes on
    clock.advance(hours=1)
    assert await ran(scheduler) == 1
    (s,) = await sql.schedules.entries(name)
    assert s.runs == 2 and s.last_result == "error"


async def test_missed_runs_collapse_into_one(sql: Stores, tmp_path: Path) -> None:
    name = bot_name()
    make_bot(tmp_path / "bots", name, {"tick": 'SET SCHEDULE "*/5 * * * *"\nTALK "tick"\n'})
    clock = at(T0)
    rt = runtime(sql, tmp_path / "bots", tmp_path / "data", clock)
    scheduler = Scheduler(rt, sql.schedules, "test")
    await scheduler.sync()
    clock.advance(hours=5, minutes=2)  # the server was down over 60 occurrences
    assert await ran(scheduler) == 1
    assert await ran(scheduler) == 0
    (s,) = await sql.schedules.entries(name)
    assert s.runs == 1 and s.next_due == dt.datetime(2026, 3, 7, 17, 5, tzinfo=UTC)  # the next one after now
    assert len(await scheduled_sessions(rt, name)) == 1


async def test_a_wait_keeps_the_run_open_and_a_hear_ends_it_with_an_error(sql: Stores, tmp_path: Path) -> None:
    name = bot_name()
    make_bot(tmp_path / "bots", name, {
        "pause": 'SET SCHEDULE "0 * * * *"\nTALK "a"\nWAIT 5\nTALK "b"\n',
        "ask": 'SET SCHEDULE "0 * * * *"\nTALK "name?"\nx = HEAR\nTALK "hi " + x\n'})
    clock = at(T0)
    rt = runtime(sql, tmp_path / "bots", tmp_path / "data", clock)
    scheduler = Scheduler(rt, sql.schedules, "test")
    await scheduler.sync()
    clock.advance(hours=1)
    assert await ran(scheduler) == 2
    rows = by_dialog(await sql.schedules.entries(name))
    pause, ask = rows["pause"].last_session, rows["ask"].last_session
    assert pause is not None and ask is not None
    assert rows["pause"].last_result == "ok" and (await rt.summary(pause)).status == "active"
    assert len(await sql.store.timers(pause)) == 1
    resumed = await rt.resume_timer(pause)
    assert resumed is not None and [r.content for r in resumed.replies] == ["b"]
    assert (await rt.summary(pause)).status == "ended" and await sql.store.timers(pause) == []
    assert rows["ask"].last_result == "error"
    assert rows["ask"].last_error == ("[ask.bas:3:1] Error: HEAR in a scheduled run: nobody is there to answer, "
                                      "so the run ends here")
    assert (await rt.summary(ask)).status == "ended"
    assert [m.content for m in await rt.history(ask)] == ["name?"]


# --- exactly once -------------------------------------------------------------------------------------------
async def test_two_runtimes_racing_run_each_occurrence_once(request: pytest.FixtureRequest, sql: Stores,
                                                            tmp_path: Path) -> None:
    name = bot_name()
    make_bot(tmp_path / "bots", name, {"tick": 'SET SCHEDULE "0 * * * *"\nTALK "tick"\n'})
    clock = at(T0)
    kind = request.node.callspec.params["sql"]
    async with open_backend(kind, request, tmp_path) as other:  # a second engine, pool and store on the same database
        a = Scheduler(runtime(sql, tmp_path / "bots", tmp_path / "data", clock), sql.schedules, "a")
        b = Scheduler(runtime(other, tmp_path / "bots", tmp_path / "data", clock), other.schedules, "b")
        await asyncio.gather(a.sync(), b.sync())
        claims = []
        for _ in range(8):
            clock.advance(hours=1)
            claims.append(sum(await asyncio.gather(a.run_due(), b.run_due(), a.run_due(), b.run_due())))
            await asyncio.gather(a.idle(30), b.idle(30))
        assert claims == [1] * 8
        assert a.ran + b.ran == 8
    sessions = await scheduled_sessions(runtime(sql, tmp_path / "bots", tmp_path / "data", clock), name)
    assert len(sessions) == 8
    (s,) = await sql.schedules.entries(name)
    assert s.runs == 8 and s.next_due == dt.datetime(2026, 3, 7, 21, 0, tzinfo=UTC)


async def test_a_run_taken_over_after_its_process_died_runs_once(sql: Stores, tmp_path: Path) -> None:
    name = bot_name()
    make_bot(tmp_path / "bots", name, {"tick": 'SET SCHEDULE "0 * * * *"\nTALK "tick"\n'})
    clock = at(T0)
    rt = runtime(sql, tmp_path / "bots", tmp_path / "data", clock)
    dead = Scheduler(rt, sql.schedules, "dead", lease_seconds=60)
    await dead.sync()
    for committed in (False, True):
        clock.advance(hours=1)
        (due,) = await sql.schedules.due(clock.now, [name])
        claimed = await sql.schedules.claim(due, clock.now, "dead", 60, clock.now + dt.timedelta(hours=1))
        assert claimed is not None and claimed.running_due == due.next_due
        sid = occurrence_session(claimed.id, claimed.running_due)  # type: ignore[arg-type]
        if committed:  # it ran and committed its session, then died before recording the run
            await rt.run_schedule(name, "tick", session_id=sid)
        alive = Scheduler(rt, sql.schedules, "alive")
        assert await ran(alive) == 0  # the lease holds
        clock.advance(seconds=61)
        assert await ran(alive) == 1  # lapsed: the same occurrence, taken over
        (s,) = await sql.schedules.entries(name)
        assert s.last_session == sid and s.last_result == "ok" and s.running_due is None
        assert [m.content for m in await rt.history(sid)] == ["tick"]  # once, either way
        assert await sql.schedules.finish(claimed, "dead", clock.now, error=None, session_id=sid) is False
    assert len(await scheduled_sessions(rt, name)) == 2


async def test_two_processes_run_every_occurrence_once(request: pytest.FixtureRequest, sql: Stores,
                                                       tmp_path: Path) -> None:
    """Two OS processes, each with its timer service on the real clock, a schedule every second."""
    name = bot_name()
    make_bot(tmp_path / "bots", name, {"tick": 'SET SCHEDULE "* * * * * *"\nTALK "tick"\n'})
    settings = settings_for(request.node.callspec.params["sql"], request, tmp_path)
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.runtime.schedule_worker", settings.database_url, str(tmp_path / "bots"),
        str(tmp_path / "data"), "4", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=str(ROOT))
        for _ in range(2)]
    outs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), timeout=120)
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err.decode()[-3000:]
    counts = [int(out.decode().split()[-1]) for out, _ in outs]
    rt = runtime(sql, tmp_path / "bots", tmp_path / "data", at(T0))
    sessions = await scheduled_sessions(rt, name)
    (s,) = await sql.schedules.entries(name)
    # about 4 seconds of occurrences: each one run by one process (a second run of one would find
    # its session, named after the occurrence, and count nowhere; or fail to insert it, and fail here)
    assert sum(counts) == len(sessions) == s.runs >= 3 and s.last_result == "ok"
    for r in sessions:
        assert [m.content for m in await rt.history(r.id)] == ["tick"]


async def test_the_timer_service_runs_schedules_and_timers_in_one_loop(sql: Stores, tmp_path: Path) -> None:
    name = bot_name()
    make_bot(tmp_path / "bots", name, {"tick": 'SET SCHEDULE "* * * * * *"\nTALK "tick"\nWAIT 0.2\nTALK "tock"\n'})
    rt = DialogRuntime(sql.store, BotRegistry(tmp_path / "bots", tmp_path / "data"), schedules=sql.schedules)
    service = TimerService(rt, rt.store, poll_seconds=0.1)
    assert service.scheduler is not None
    service.start()
    deadline = time.monotonic() + 15
    try:
        while len([r for r in await scheduled_sessions(rt, name) if r.status == "ended"]) < 2:
            assert time.monotonic() < deadline, "no two runs within 15 s"
            await asyncio.sleep(0.1)
    finally:
        await service.stop()
    for r in [r for r in await scheduled_sessions(rt, name) if r.status == "ended"]:
        assert [m.content for m in await rt.history(r.id)] == ["tick", "tock"]  # the WAIT fired by the same loop


# --- errors ---------------------------------------------------------------------------------------------------
async def test_a_bad_expression_is_an_error_naming_the_file_and_line(
        sql: Stores, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    name, zoned = bot_name(), bot_name("tz")
    make_bot(tmp_path / "bots", name, {
        "bad": 'REM every night\nSET SCHEDULE "61 * * * *"\nTALK "x"\n',
        "never": 'SET SCHEDULE "0 0 30 2 *"\n',
        "words": 'SET SCHEDULE "every day at 9"\n',
        "broken": 'SET SCHEDULE "0 9 * * *"\nIF x THEN\n',
        "good": 'SET SCHEDULE "0 9 * * *"\n'})
    make_bot(tmp_path / "bots", zoned, {"report": REPORT}, config="timezone,Mars/Olympus\n")
    rt = runtime(sql, tmp_path / "bots", tmp_path / "data", at(T0))
    with caplog.at_level(logging.ERROR, logger="gb.schedules"):
        problems = await Scheduler(rt, sql.schedules, "test").sync()
    shown = sorted(p.headline if isinstance(p, BasicError) else str(p) for p in problems)
    assert shown[1].startswith('[bad.bas:2:14] Error: SET SCHEDULE "61 * * * *" is not a cron expression '
                               "(not acceptable, out of range): write five fields")
    assert shown[3] == '[never.bas:1:14] Error: SET SCHEDULE "0 0 30 2 *" never comes (no date matches all its fields)'
    assert shown[4].startswith('[words.bas:1:14] Error: SET SCHEDULE "every day at 9" is not a cron expression (4 '
                               'fields)')
    assert shown[2].startswith("[broken.bas:")  # does not compile: named as gb check names it
    assert "config.csv: timezone: unknown time zone 'Mars/Olympus'" in shown[0]
    assert isinstance(next(p for p in problems if not isinstance(p, BasicError)), BotConfigError)
    assert [s.dialog for s in await sql.schedules.entries(name)] == ["good"]
    assert await sql.schedules.entries(zoned) == []
    assert sum("bad.bas:2:14" in r.getMessage() for r in caplog.records) == 1
    # the same expression as a statement: an error at its line when the dialog runs
    make_bot(tmp_path / "bots", name, {"dyn": 'x = "61 * * * *"\nTALK "a"\nSET SCHEDULE x\n'})
    session = await rt.start(name, run_start=False)
    result = await rt.start_dialog(session.session_id, "dyn")
    assert isinstance(result.error, BasicError)
    assert result.error.headline.startswith('[dyn.bas:3:1] Error: SET SCHEDULE "61 * * * *" is not a cron expression')


# --- the files change ------------------------------------------------------------------------------------------
async def test_a_schedule_taken_out_of_its_file_is_disabled_on_the_next_load(sql: Stores, tmp_path: Path) -> None:
    name = bot_name()
    pkg = make_bot(tmp_path / "bots", name, {"report": REPORT, "other": 'SET SCHEDULE "@hourly"\nTALK "o"\n'})
    report = pkg / f"{name}.gbdialog" / "report.bas"
    clock = at(T0)
    rt = runtime(sql, tmp_path / "bots", tmp_path / "data", clock)
    scheduler = Scheduler(rt, sql.schedules, "test")
    await scheduler.sync()
    write(report, 'TALK "daily report"\n')  # the author takes the SET SCHEDULE out
    await scheduler.sync()
    rows = by_dialog(await sql.schedules.entries(name))
    assert not rows["report"].enabled and rows["report"].next_due is None and rows["other"].enabled
    clock.advance(days=2)
    assert await ran(scheduler) == 1  # "other" only
    assert by_dialog(await sql.schedules.entries(name))["report"].runs == 0
    write(report, 'SET SCHEDULE "30 6 * * *"\nTALK "back"\n')  # and puts another back
    await scheduler.sync()
    back = by_dialog(await sql.schedules.entries(name))["report"]
    assert back.enabled and back.spec.cron == "30 6 * * *" and back.next_due == dt.datetime(2026, 3, 10, 6, 30,
                                                                                               tzinfo=UTC)
    (pkg / f"{name}.gbdialog" / "other.bas").unlink()  # a dialog that is gone: its schedule goes with it
    await scheduler.sync()
    assert not by_dialog(await sql.schedules.entries(name))["other"].enabled


# --- SET SCHEDULE as a statement -------------------------------------------------------------------------------
async def test_set_schedule_statements_schedule_other_dialogs_jobs_and_one_offs(sql: Stores, tmp_path: Path) -> None:
    name = bot_name()
    make_bot(tmp_path / "bots", name, {
        "setup": 'SET SCHEDULE "0 6 * * *", "erp-jobs.bas", "inventory_reorder"\n'
                 'SET SCHEDULE DATEADD(NOW(), -400, "day"), "followup.bas"\n'
                 'SET SCHEDULE "2026-03-07 18:00", "followup"\nTALK "set"\n',
        "erp-jobs": 'PARAM job_name AS STRING\nTALK "job " + job_name\n',
        "followup": 'TALK "follow up"\n',
        "hr": 'PARAM jobname AS STRING\nIF jobname = "daily report" THEN\n  SET SCHEDULE "0 18 * * 1-5"\n'
              '  TALK "report for " + jobname\nEND IF\n',
        "nosuch": 'SET SCHEDULE "0 6 * * *", "missing.bas"\n'}, config="timezone,Europe/Lisbon\n")
    clock = at(T0)
    rt = runtime(sql, tmp_path / "bots", tmp_path / "data", clock)
    scheduler = Scheduler(rt, sql.schedules, "test")
    session = await rt.start(name, run_start=False)
    result = await rt.start_dialog(session.session_id, "setup")
    assert result.error is None and [r.content for r in result.replies] == ["set"]
    rows = by_dialog(await sql.schedules.entries(name))
    job = rows["erp-jobs/inventory_reorder"]
    assert (job.spec.kind, job.spec.cron, job.spec.param, job.spec.origin, job.spec.place) == (
        "cron", "0 6 * * *", "inventory_reorder", "dialog", "setup.bas:1")
    assert job.next_due == dt.datetime(2026, 3, 8, 6, 0, tzinfo=UTC)  # Lisbon is on UTC in March
    once = [s for s in rows.values() if s.spec.kind == "once"]
    assert [s.dialog for s in once] == ["followup", "followup"]  # NOW() is the server's clock: 400 days ago is due
    assert {s.next_due for s in once if s.spec.place == "setup.bas:3"} == {T0.replace(hour=18)}  # Lisbon = UTC in March
    # the HR form: a tool with PARAMs schedules the job it was called for
    await rt.run_schedule(name, "hr", param="daily report")
    hr = (await sql.schedules.get(name, "hr", "daily report"))
    assert hr is not None and hr.spec.cron == "0 18 * * 1-5" and hr.spec.param == "daily report"
    clock.now = dt.datetime(2026, 3, 9, 18, 0, 1, tzinfo=UTC)  # Monday: every one of them is due
    assert await ran(scheduler) == 4
    rows = by_dialog(await sql.schedules.entries(name))
    assert not [s for s in rows.values() if s.spec.kind == "once"]  # one-offs go once they ran
    talks = {s.dialog: [m.content for m in await rt.history(s.last_session)]  # type: ignore[arg-type]
             for s in rows.values() if s.last_session}
    assert talks == {"erp-jobs": ["job inventory_reorder"], "hr": ["report for daily report"]}
    assert len(await scheduled_sessions(rt, name)) == 5  # the two one-offs and the run above included
    failed = await rt.start_dialog(session.session_id, "nosuch")
    assert isinstance(failed.error, BasicError)
    assert failed.error.headline.startswith("[nosuch.bas:1:1] Error: SET SCHEDULE: bot") and "'missing.bas'" in \
        failed.error.message


async def test_a_dialog_s_own_statement_changes_nothing_and_without_a_store_it_is_checked_only(
        sql: Stores, tmp_path: Path) -> None:
    name = bot_name()
    make_bot(tmp_path / "bots", name, {"report": REPORT, "bad": 'SET SCHEDULE "0 99 * * *"\n'})
    clock = at(T0)
    rt = runtime(sql, tmp_path / "bots", tmp_path / "data", clock)
    await Scheduler(rt, sql.schedules, "test").sync()
    (before,) = await sql.schedules.entries(name)
    session = await rt.start(name, run_start=False)
    await rt.start_dialog(session.session_id, "report")  # a user runs it: its SET SCHEDULE is the file's
    (after,) = await sql.schedules.entries(name)
    assert after.version == before.version and after.spec.origin == "file"
    plain = DialogRuntime(sql.store, BotRegistry(tmp_path / "bots", tmp_path / "data"), clock=clock)  # gb run's kind
    s = await plain.start(name, run_start=False)
    r = await plain.start_dialog(s.session_id, "report")
    assert r.error is None and [x.content for x in r.replies] == ["daily report", "done"]
    r = await plain.start_dialog(s.session_id, "bad")
    assert isinstance(r.error, BasicError) and r.error.headline.startswith("[bad.bas:1:1] Error: SET SCHEDULE")


# --- gb schedules ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", SQL)
def test_gb_schedules_lists_them(kind: str, request: pytest.FixtureRequest, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    name = bot_name()
    bots = tmp_path / "bots"
    make_bot(bots, name, {"report": REPORT, "tick": 'SET SCHEDULE "*/5 * * * *"\nSEND MAIL "a", "b", "c"\n'})
    settings = settings_for(kind, request, tmp_path / "data")
    monkeypatch.setenv("GB_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("GB_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    listed = runner.invoke(schedules_command, [name, "--bots", str(bots)])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split() == ["BOT", "DIALOG", "WHEN", "ZONE", "NEXT", "DUE", "(UTC)", "LAST", "RUN", "(UTC)",
                                "RESULT"]
    assert len(lines) == 3 and lines[1].split()[:6] == [name, "report", "0", "9", "*", "*"]
    assert lines[2].split()[:7] == [name, "tick", "*/5", "*", "*", "*", "*"] and lines[2].split()[-2:] == ["-", "-"]

    async def run_tick() -> None:  # five minutes later, a server runs "tick" once (and it fails)
        async with opened(StoreSettings(settings.database_url, None, tmp_path / "data")) as stores:
            rt = runtime(stores, bots, tmp_path / "data", Clock())
            scheduler = Scheduler(rt, stores.schedules, "serve")
            await scheduler.sync()
            rt.clock.advance(minutes=6)  # type: ignore[attr-defined]
            await ran(scheduler)

    asyncio.run(run_tick())
    write(bots / f"{name}.gbai" / f"{name}.gbdialog" / "late.bas", 'SET SCHEDULE "0 25 * * *"\n')
    listed = runner.invoke(schedules_command, [name, "--bots", str(bots)])
    assert listed.exit_code == 1  # a problem in the files
    out, err = listed.stdout.splitlines(), listed.stderr
    assert err.startswith('[late.bas:1:14] Error: SET SCHEDULE "0 25 * * *" is not a cron expression')
    tick = next(line for line in out if " tick " in line)
    assert tick.split()[-3:-1] == ["error", "(1"] and tick.endswith("run)")
    assert out[out.index(tick) + 1].strip().startswith("error: [tick.bas:2:1] Error: SEND MAIL: channel not")
    everything = runner.invoke(schedules_command, ["--bots", str(tmp_path / "nothing")])
    assert everything.exit_code == 0 and f"{name}  " in everything.output  # every bot, no folder to look at
    none = runner.invoke(schedules_command, ["nobot", "--bots", str(bots)])
    assert none.output.strip().endswith("no schedules for bot nobot")
