"""CALL of another dialog of the bot (gb_runtime.calls): the called dialog TALKs and HEARs across
messages, the caller goes on after its CALL with the RETURN value; PARAMs take the arguments in
order; a missing dialog and calls nested too deep are errors at the CALL's line. On SQLite and
PostgreSQL, with and without Valkey, each message through a new runtime (a restart between them)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gb_runtime import Inbound
from gb_runtime.calls import MAX_CALL_DEPTH
from gb_sessions.config import Stores
from tests.backends import BACKENDS, open_backend
from tests.helpers.bots import make_bot, runtime_for, texts

START = """TALK "Welcome"
CALL "ask-name.bas", "Your name, please?", "start"
TALK "Back in start"
shout = CALL "Ask-Name.bas", "And your city?"
TALK "Got " + shout
CALL goodbye(shout)
TALK "The end"
"""

ASK_NAME = """PARAM question AS STRING
PARAM caller AS STRING
TALK question
answer = HEAR
TALK "Thanks, " + answer + IIF(ISNULL(caller), "", " (for " + caller + ")")
RETURN UCASE(answer)
"""

GOODBYE = """PARAM who AS STRING
TALK "Bye " + who
"""


@pytest.fixture(params=BACKENDS)
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    async with open_backend(request.param, request, tmp_path) as s:
        yield s


async def test_a_called_dialog_hears_across_messages_and_its_caller_goes_on(stores: Stores, tmp_path: Path) -> None:
    make_bot(tmp_path / "bots", "desk", {"start": START, "ask-name": ASK_NAME, "goodbye": GOODBYE})
    started = await runtime_for(stores, tmp_path / "bots", tmp_path / "data").start("desk")
    assert started.error is None, started.error
    assert texts(started) == ["Welcome", "Your name, please?"]
    first = await runtime_for(stores, tmp_path / "bots", tmp_path / "data").handle(
        Inbound("desk", "ann", token=started.token))
    assert first.error is None, first.error
    assert texts(first) == ["Thanks, ann (for start)", "Back in start", "And your city?"]
    last = await runtime_for(stores, tmp_path / "bots", tmp_path / "data").handle(
        Inbound("desk", "lisbon", token=started.token))
    assert last.error is None, last.error
    assert texts(last) == ["Thanks, lisbon", "Got LISBON", "Bye LISBON", "The end"]
    again = await runtime_for(stores, tmp_path / "bots", tmp_path / "data").handle(
        Inbound("desk", "hello", token=started.token))
    assert texts(again) == ["Sorry, I did not understand."]  # nothing waits any more


async def test_a_missing_dialog_is_an_error_naming_it_and_the_line(stores: Stores, tmp_path: Path) -> None:
    make_bot(tmp_path / "bots", "desk", {"start": 'TALK "a"\nx = 1\nCALL "nowhere.bas", x\nTALK "b"\n',
                                         "other": 'TALK "x"\nCALL missing_one\n'})
    rt = runtime_for(stores, tmp_path / "bots", tmp_path / "data")
    started = await rt.start("desk")
    assert started.error is not None
    assert started.error.headline == "[start.bas:3:1] Error: CALL nowhere.bas: bot desk has no dialog 'nowhere'"
    assert texts(started)[0] == "a" and "b" not in texts(started)
    s = await rt.start("desk")
    other = await rt.handle(Inbound("desk", "other", token=s.token))
    assert other.error is not None
    assert other.error.headline == "[other.bas:2:1] Error: CALL missing_one: bot desk has no dialog 'missing_one'"


async def test_calls_nest_at_most_the_cap(stores: Stores, tmp_path: Path) -> None:
    deeper = 'PARAM n AS INTEGER\nTALK "depth " + n\nCALL "deeper.bas", n + 1\n'
    make_bot(tmp_path / "bots", "desk", {"start": 'CALL "deeper.bas", 1\n', "deeper": deeper})
    started = await runtime_for(stores, tmp_path / "bots", tmp_path / "data").start("desk")
    assert texts(started)[:MAX_CALL_DEPTH] == [f"depth {i}" for i in range(1, MAX_CALL_DEPTH + 1)]
    assert started.error is not None
    assert started.error.headline == (f"[deeper.bas:3:1] Error: CALL deeper.bas: dialogs call each other more "
                                      f"than {MAX_CALL_DEPTH} deep")


async def test_more_arguments_than_params_is_an_error_at_the_call(stores: Stores, tmp_path: Path) -> None:
    make_bot(tmp_path / "bots", "desk", {"start": 'TALK "a"\nCALL goodbye("x", "y")\n', "goodbye": GOODBYE})
    started = await runtime_for(stores, tmp_path / "bots", tmp_path / "data").start("desk")
    assert started.error is not None
    assert started.error.headline == \
        "[start.bas:2:1] Error: CALL goodbye.bas: it takes 1 argument(s) (its PARAMs), got 2"


async def test_a_called_dialog_that_waits_goes_back_to_its_caller_when_the_timer_fires(stores: Stores,
                                                                                      tmp_path: Path) -> None:
    pause = 'PARAM what AS STRING\nTALK "waiting for " + what\nWAIT 0.3\nTALK "waited"\nRETURN what + "!"\n'
    make_bot(tmp_path / "bots", "desk", {"start": 'x = CALL "pause.bas", "tea"\nTALK "start has " + x\n',
                                         "pause": pause})
    started = await runtime_for(stores, tmp_path / "bots", tmp_path / "data").start("desk")
    assert started.error is None and texts(started) == ["waiting for tea"]
    await asyncio.sleep(0.35)
    rt = runtime_for(stores, tmp_path / "bots", tmp_path / "data")
    timers = await stores.store.timers(started.session_id)
    fired = await rt.resume_timer(started.session_id, timers[0].id)
    assert fired is not None and fired.error is None
    assert texts(fired) == ["waited", "start has tea!"]
