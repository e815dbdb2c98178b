"""A long message runs off the event loop: the loop (every other session, /healthz) keeps
answering while it computes, and it runs with its whole budget from unchanged inputs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from gb_runtime import Inbound
from gb_sessions.config import Stores
from tests.helpers.bots import make_bot, runtime_with_bot, texts

LONG = "HEAR n\nt = 0\nFOR i = 1 TO n\n  t = t + i MOD 7\nNEXT\nTALK t"
RUNAWAY = "HEAR n\nDO\n  t = 1\nLOOP"
ECHO = "DO\n  HEAR x\n  TALK \"echo: \" & x\nLOOP"


async def _gaps_while(coro: object) -> tuple[object, float]:
    """Await `coro` while a ticker on the loop measures its longest wait for the loop (seconds)."""
    worst = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        while not done.is_set():
            t = time.monotonic()
            await asyncio.sleep(0.001)
            worst = max(worst, time.monotonic() - t - 0.001)

    task = asyncio.create_task(ticker())
    try:
        result = await coro  # type: ignore[misc]
    finally:
        done.set()
        await task
    return result, worst


async def test_a_long_message_leaves_the_loop_free_and_finishes(sqlite_stores: Stores, tmp_path: Path) -> None:
    rt = runtime_with_bot(sqlite_stores, tmp_path, "calc", {"start": LONG, "echo": ECHO})
    s = await rt.start("calc")
    assert s.token is not None
    r, worst = await _gaps_while(rt.handle(Inbound("calc", "300000", token=s.token)))
    assert texts(r) == [str(sum(i % 7 for i in range(1, 300001)))]  # type: ignore[arg-type]
    assert worst < 0.1, f"the loop waited {worst * 1000:.0f} ms"


async def test_other_sessions_are_answered_while_a_runaway_is_stopped(sqlite_stores: Stores, tmp_path: Path) -> None:
    make_bot(tmp_path / "bots", "echo", {"start": ECHO}, config="rate-limit,100000")
    rt = runtime_with_bot(sqlite_stores, tmp_path, "calc", {"start": RUNAWAY},
                          config="max-seconds,1.5\nmax-steps,100000000")
    runaway = await rt.start("calc")
    other = await rt.start("echo")
    assert runaway.token and other.token
    stuck = asyncio.create_task(rt.handle(Inbound("calc", "1", token=runaway.token)))
    await asyncio.sleep(0.2)
    latencies = []
    while not stuck.done():
        t = time.monotonic()
        r = await rt.handle(Inbound("echo", "ping", token=other.token))
        latencies.append(time.monotonic() - t)
        assert texts(r) == ["echo: ping"]
    stopped = await stuck
    assert stopped.error is not None and "longer than 1.5 s" in stopped.error.message
    latencies.sort()
    assert len(latencies) > 10 and latencies[int(len(latencies) * 0.99)] < 0.1, latencies[-5:]


async def test_a_cell_that_runs_twice_starts_from_its_variables_each_time(sqlite_stores: Stores,
                                                                            tmp_path: Path) -> None:
    """The first attempt on the loop changes a list in place, then outgrows its slice: the
    second attempt must start from the stored variables, not from the changed list."""
    rt = runtime_with_bot(sqlite_stores, tmp_path, "calc", {"start": 'TALK "hi"'})
    s = await rt.start("calc", run_start=False)
    await rt.run_source(s.session_id, "l = [1, 2]", "cell1")
    r = await rt.run_source(s.session_id, "PUSH(l, 3)\nFOR i = 1 TO 200000\n  x = i\nNEXT\nTALK LEN(l)", "cell2")
    assert texts(r) == ["3"]
    assert (await rt.variables(s.session_id))["l"] == [1, 2, 3]
