"""WAIT over every backend: the dialog suspends with a timer row (no lock held, nothing in memory),
the timer service fires it once, messages typed during the WAIT answer the HEARs after it."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest

from gb_basic import BasicError
from gb_runtime import BotRegistry, DialogRuntime, DialogWaiting, Inbound, TimerService
from gb_runtime.runtime import MAX_TYPED_AHEAD
from gb_sessions import MemoryStore
from gb_sessions.config import Stores
from tests.helpers.bots import make_bot, runtime_for, texts

DIALOGS = {
    "start": 'TALK "hi"\n',
    "pause": 'TALK "one moment"\nWAIT 0.3\nTALK "done"\nx = HEAR\nTALK "got " + x\ny = HEAR\nTALK "and " + y\n',
    "zero": 'TALK "a"\nWAIT 0\nTALK "b"\n',
    "negative": 'TALK "a"\nWAIT -1\nTALK "b"\n',
    "nan": 'x = "soon"\nWAIT x\n',
    "long": 'WAIT 100000\n',
    "count": 'FOR i = 1 TO 3\n  TALK i\n  WAIT 0.3\nNEXT\nTALK "end"\n',
}


@pytest.fixture
def bots(tmp_path: Path) -> Path:
    make_bot(tmp_path / "bots", "waiter", DIALOGS, config="max-wait,3600\n")
    make_bot(tmp_path / "bots", "runaway", {"start": 'TALK "a"\nWAIT 0.1\nDO WHILE TRUE\nLOOP\n'},
             config="max-steps,1000\n")
    return tmp_path / "bots"


def running(rt: DialogRuntime) -> TimerService:
    """The runtime's timer service, started (polling every 0.1 s)."""
    service = TimerService(rt, rt.store, poll_seconds=0.1)
    service.start()
    return service


async def until(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.05)


async def test_a_wait_ends_the_turn_and_a_timer_resumes_it_once(stores: Stores, bots: Path, tmp_path: Path) -> None:
    rt = runtime_for(stores, bots, tmp_path / "data")
    s = await rt.start("waiter")
    r = await rt.handle(Inbound("waiter", "pause", token=s.token))
    assert texts(r) == ["one moment"]  # what was said before the WAIT, at once
    assert r.waiting is not None and r.waiting.kind == "wait" and r.waiting.line == 2 and r.waiting.due is not None
    timers = await stores.store.timers(s.session_id)
    assert len(timers) == 1 and timers[0].due_at == r.waiting.due  # stored with the turn
    summary = await rt.summary(s.session_id)
    assert summary.waiting is not None and summary.waiting.kind == "wait"
    # the lock is free during the WAIT: another message is answered at once (kept for the HEAR after it)
    started = time.monotonic()
    typed = await rt.handle(Inbound("waiter", "Ann", token=s.token))
    assert time.monotonic() - started < 0.25
    assert texts(typed) == [] and typed.waiting is not None and typed.waiting.kind == "wait"
    assert typed.received is not None and typed.received.content == "Ann"  # recorded in the history
    events: list[dict] = []
    rt.events = _Collect(events)
    service = running(rt)
    try:
        await until(lambda: service.fired == 1)
        await asyncio.sleep(0.3)  # a second firing would have happened by now
    finally:
        await service.stop()
    assert service.fired == 1 and await stores.store.timers(s.session_id) == []
    contents = [m.content for m in await rt.history(s.session_id)]
    assert contents == ["hi", "pause", "one moment", "Ann", "done", "got Ann"]
    assert [e["origin"] for e in events] == ["timer"]
    assert [m["content"] for m in events[0]["messages"]] == ["done", "got Ann"]
    assert events[0]["waiting"]["kind"] == "hear" and events[0]["waiting"]["variable"] == "y"
    r = await rt.handle(Inbound("waiter", "Bo", token=s.token))
    assert texts(r) == ["and Bo"] and r.waiting is None


class _Collect:
    def __init__(self, into: list[dict]) -> None:
        self.into = into

    def publish(self, session_id: object, payload: dict, *, here: bool = True, elsewhere: bool = True) -> None:
        self.into.append(payload)

    def subscribe(self, session_id: object, listener: object) -> None: ...

    def unsubscribe(self, session_id: object, listener: object) -> None: ...


async def test_wait_0_goes_on_and_bad_seconds_fail_at_the_line(stores: Stores, bots: Path, tmp_path: Path) -> None:
    rt = runtime_for(stores, bots, tmp_path / "data")
    rt.apologize = False
    s = await rt.start("waiter")
    r = await rt.handle(Inbound("waiter", "zero", token=s.token))
    assert texts(r) == ["a", "b"] and r.waiting is None
    assert await stores.store.timers(s.session_id) == []
    for dialog, line, words in [("negative", 2, "of 0 or more, got -1"), ("nan", 2, '"soon" is not a number'),
                                ("long", 1, "more than the bot's max-wait of 3600 seconds")]:
        r = await rt.handle(Inbound("waiter", dialog, token=s.token))
        assert isinstance(r.error, BasicError) and r.waiting is None, dialog
        assert r.error.headline.startswith(f"[{dialog}.bas:{line}:") and words in r.error.message, r.error.headline
    assert await stores.store.timers(s.session_id) == []


async def test_messages_typed_ahead_are_capped_then_refused_with_429(stores: Stores, bots: Path,
                                                                      tmp_path: Path) -> None:
    rt = runtime_for(stores, bots, tmp_path / "data")
    s = await rt.start("waiter")
    await rt.handle(Inbound("waiter", "pause", token=s.token))
    for i in range(MAX_TYPED_AHEAD):
        await rt.handle(Inbound("waiter", f"m{i}", token=s.token))
    with pytest.raises(DialogWaiting) as refused:
        await rt.handle(Inbound("waiter", "one too many", token=s.token))
    assert refused.value.status == 429 and refused.value.retry_after is not None and refused.value.retry_after >= 1
    await asyncio.sleep(0.35)
    fired = await rt.resume_timer(s.session_id, (await stores.store.timers(s.session_id))[0].id)
    assert fired is not None
    # m0 and m1 answer the dialog's two HEARs; the rest come after it ended: messages of their own (the fallback)
    assert texts(fired)[:3] == ["done", "got m0", "and m1"] and len(texts(fired)) == 3 + MAX_TYPED_AHEAD - 2
    contents = [m.content for m in await rt.history(s.session_id)]
    assert "one too many" not in contents and contents.count("m9") == 1


async def test_a_timer_whose_dialog_moved_on_is_dropped(stores: Stores, bots: Path, tmp_path: Path) -> None:
    rt = runtime_for(stores, bots, tmp_path / "data")
    s = await rt.start("waiter")
    await rt.handle(Inbound("waiter", "pause", token=s.token))
    timer = (await stores.store.timers(s.session_id))[0]
    await rt.start_dialog(s.session_id, "zero")  # the session's dialog is replaced
    assert await rt.resume_timer(s.session_id, timer.id) is None
    assert await stores.store.timers(s.session_id) == []
    assert [m.content for m in await rt.history(s.session_id)][-2:] == ["a", "b"]
    await rt.handle(Inbound("waiter", "pause", token=s.token))
    timer = (await stores.store.timers(s.session_id))[0]
    await rt.end(s.session_id)  # an ended session's dialog does not go on
    assert await rt.resume_timer(s.session_id, timer.id) is None
    assert await stores.store.timers(s.session_id) == []


async def test_a_runaway_after_a_wait_ends_the_dialog_and_spends_the_timer(stores: Stores, bots: Path,
                                                                          tmp_path: Path) -> None:
    rt = runtime_for(stores, bots, tmp_path / "data")
    s = await rt.start("runaway")
    assert texts(s) == ["a"] and s.waiting is not None and s.waiting.kind == "wait"  # start.bas WAITs too
    timer = (await stores.store.timers(s.session_id))[0]
    fired = await rt.resume_timer(s.session_id, timer.id)
    assert fired is not None and fired.error is not None and fired.waiting is None
    assert await stores.store.timers(s.session_id) == [] and (await rt.summary(s.session_id)).dialog is None


async def test_a_loop_of_waits_talks_spaced_and_never_holds_the_lock(bots: Path, tmp_path: Path) -> None:
    rt = DialogRuntime(MemoryStore(), BotRegistry(bots, tmp_path / "data"))
    service = running(rt)
    try:
        s = await rt.start("waiter")
        r = await rt.handle(Inbound("waiter", "count", token=s.token))
        assert texts(r) == ["1"]
        for _ in range(8):  # while the loop runs, the session answers at once
            started = time.monotonic()
            await rt.summary(s.session_id)
            async with rt.store.lock(s.session_id):
                assert time.monotonic() - started < 0.1
            await asyncio.sleep(0.1)
        await until(lambda: service.fired == 3)
    finally:
        await service.stop()
    said = [m for m in await rt.history(s.session_id) if m.role == "assistant"]
    assert [m.content for m in said] == ["hi", "1", "2", "3", "end"]
    gaps = [(b.timestamp - a.timestamp).total_seconds() for a, b in itertools.pairwise(said[1:4])]
    assert all(0.3 <= g < 1.0 for g in gaps), gaps
