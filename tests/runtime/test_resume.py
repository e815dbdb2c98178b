"""Resuming a saved dialog through DialogRuntime.handle and a real store: every value comes back
as it was (a user's ``{"$date": "not-a-date"}`` too), a dialog that cannot be resumed is said
once and the session goes on, and hostile structured answers are clear errors at their line."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from gb_basic import LimitExceeded
from gb_runtime import BotRegistry, DialogRuntime, Inbound
from gb_sessions import SessionStore
from gb_sessions.config import StoreSettings
from gb_sessions.database import sqlite_url
from tests.backends import settled
from tests.helpers.bots import make_bot, runtime_with_bot, texts, write
from tests.helpers.stores import opened
from tests.helpers.values import basic_values, same

LOOKALIKE = '''TALK "hi"
HEAR j
x = FROMJSON(j)
HEAR k
TALK TYPEOF(x) + " " + TOJSON(x) + " " + k
SET saved = x
HEAR again
TALK "again " + again
'''


def runtime_on(store: SessionStore, root: Path, dialogs: dict[str, str]) -> DialogRuntime:
    make_bot(root / "bots", "b", dialogs)
    return DialogRuntime(store, BotRegistry(root / "bots", root / "data"))


@pytest.mark.parametrize("answer", ['{"$date": "not-a-date"}', '{"$date": "2026-11-25T14:00:00"}',
                                    '{"$obj": {"$day": "2026-11-25"}}', '{"$float": "1e+20"}'])
async def test_an_answer_that_looks_like_gbs_own_encoding_stays_the_users(store: SessionStore, tmp_path: Path,
                                                                          answer: str) -> None:
    """The issue's dialog: FROMJSON of the user's answer, then HEAR. Every later message works,
    on every store, and the object is the user's object all the way (not a date)."""
    rt = runtime_on(store, tmp_path, {"start": LOOKALIKE, "check": 'GET saved\nTALK TYPEOF(saved)'})
    s = await rt.start("b")
    assert texts(s) == ["hi"]
    r = await rt.handle(Inbound("b", answer, token=s.token))
    assert (texts(r), r.error, r.waiting and r.waiting.variable) == ([], None, "k")
    r = await rt.handle(Inbound("b", "hello", token=s.token))
    compact = json.dumps(json.loads(answer), separators=(",", ":"))
    assert (texts(r), r.error) == ([f"object {compact} hello"], None)
    r = await rt.handle(Inbound("b", "more", token=s.token))
    assert texts(r) == ["again more"] and r.waiting is None
    r = await rt.handle(Inbound("b", "check", token=s.token))
    assert texts(r) == ["object"]
    await settled(store)
    assert (await rt.variables(s.session_id))["saved"] == json.loads(answer)


@pytest.mark.parametrize(("answer", "said", "value"), [
    ('"a\\u0000b"', "string 3", "a\x00b"),  # a NUL: PostgreSQL refuses it in jsonb, even escaped
    ('["\\ud800", {"\\udfff": 1}]', "list 2", ["\ud800", {"\udfff": 1}]),  # lone surrogates: not UTF-8
    ("1e20", "number 1e+20", 1e20),  # PostgreSQL's jsonb gives back the integer 100000000000000000000
    ("-1.5e300", "number -1.5e+300", -1.5e300),
])
async def test_values_no_store_holds_as_they_are_survive_every_store(store: SessionStore, tmp_path: Path,
                                                                     answer: str, said: str, value: Any) -> None:
    rt = runtime_on(store, tmp_path, {"start": 'HEAR j\nx = FROMJSON(j)\nHEAR k\nSET saved = x\n'
                                               'TALK TYPEOF(x) + " " + IIF(TYPEOF(x) = "number", x, LEN(x))\n'})
    s = await rt.start("b")
    r = await rt.handle(Inbound("b", answer, token=s.token))
    assert r.error is None and r.waiting is not None
    r = await rt.handle(Inbound("b", "go", token=s.token))
    assert (texts(r), r.error) == ([said], None)
    await settled(store)
    assert same((await rt.variables(s.session_id))["saved"], value)


# --- every value, through the runtime and SQLite ------------------------------------------------

CARRY = "HEAR a\nHEAR k\nSET v = a\nTALK TYPEOF(a)\n"


@dataclass
class OnLoop:
    """A runtime on SQLite and the event loop it lives on (hypothesis runs a test once per example,
    outside pytest-asyncio)."""

    loop: asyncio.AbstractEventLoop
    runtime: DialogRuntime

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coro)


@pytest.fixture
def sqlite_runtime(tmp_path: Path) -> Iterator[OnLoop]:
    """Bot b, whose dialog carries a structured answer across a saved HEAR, on SQLite."""
    loop = asyncio.new_event_loop()
    opening = opened(StoreSettings(sqlite_url(tmp_path / "gb.db"), None, tmp_path))
    stores = loop.run_until_complete(opening.__aenter__())
    yield OnLoop(loop, runtime_with_bot(stores, tmp_path, "b", {"start": CARRY}))
    loop.run_until_complete(opening.__aexit__(None, None, None))
    loop.close()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(basic_values)
def test_every_value_in_a_structured_answer_survives_the_store(sqlite_runtime: OnLoop, value: Any) -> None:
    """A channel's structured answer (Inbound.attachment) holding any value: saved in the dialog's
    state at the next HEAR, loaded from SQLite for the next message, then a session variable."""
    rt = sqlite_runtime.runtime

    async def turns() -> dict[str, Any]:
        s = await rt.start("b")
        r = await rt.handle(Inbound("b", "(structured)", token=s.token, attachment={"v": value}))
        assert r.error is None and r.waiting is not None
        r = await rt.handle(Inbound("b", "go", token=s.token))
        assert (texts(r), r.error) == (["object"], None)
        return await rt.variables(s.session_id)

    assert same(sqlite_runtime.run(turns())["v"], {"v": value})


# --- a dialog that cannot be resumed ------------------------------------------------------------------

ASK = 'SET city = "Lisbon"\nHEAR name\nTALK "Hi " + name\n'


def deep_list(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def with_state(change: Callable[[dict[str, Any]], Any]) -> Callable[[Any, Path], Any]:
    def corrupt(dialog: Any, bot: Path) -> Any:
        state = json.loads(json.dumps(dialog["state"]))
        return dict(dialog, state=change(state))
    return corrupt


def removed(dialog: Any, bot: Path) -> Any:
    (bot / "b.gbdialog" / "ask.bas").unlink()
    return dialog


def renamed(dialog: Any, bot: Path) -> Any:
    (bot / "b.gbdialog" / "ask.bas").rename(bot / "b.gbdialog" / "asked.bas")
    return dialog


def broken(dialog: Any, bot: Path) -> Any:
    write(bot / "b.gbdialog" / "ask.bas", 'SET city = "Lisbon"\nHEAR name\nIF name THEN\n')
    return dialog


def frame_vars(vars: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda state: dict(state, frames=[dict(state["frames"][0], vars=vars)])


CORRUPTIONS: dict[str, tuple[Callable[[Any, Path], Any], str]] = {
    "the .bas removed": (removed, "ask.bas is gone"),
    "the .bas renamed": (renamed, "ask.bas is gone"),
    "the .bas does not compile now": (broken, "its code does not compile now"),
    "the state a text": (with_state(lambda state: "garbage"), "the saved state is \"garbage\""),
    "another format": (with_state(lambda state: dict(state, format=99)),
                       "the saved state is of format 99; this version of gb reads format 1"),
    "no frames": (with_state(lambda state: dict(state, frames=None)), "frames are not valid"),
    "variables a list": (with_state(frame_vars([1, 2])), "variables are not an object"),
    "variables too deep": (with_state(frame_vars({"deep": deep_list(250)})), "nested too deeply"),
    "what it waits for": (with_state(lambda state: dict(state, waiting={"kind": 5})), "waits for is not valid"),
    "the dialog a list": (lambda dialog, bot: ["not", "a", "dialog"], "the saved dialog is not valid"),
    "the dialog without its state": (lambda dialog, bot: {"name": "ask"}, "its saved state is missing"),
}


@pytest.mark.parametrize("corruption", CORRUPTIONS)
async def test_a_dialog_that_cannot_be_resumed_is_said_once_and_the_session_goes_on(
        store: SessionStore, tmp_path: Path, corruption: str) -> None:
    change, reason = CORRUPTIONS[corruption]
    rt = runtime_on(store, tmp_path, {"start": 'TALK "hi"', "ask": ASK})
    s = await rt.start("b")
    r = await rt.handle(Inbound("b", "ask", token=s.token))
    assert r.waiting is not None and r.waiting.variable == "name"
    async with store.lock(s.session_id) as session:
        assert session is not None
        session.dialog = change(session.dialog, tmp_path / "bots" / "b.gbai")
        await store.save(session)

    r = await rt.handle(Inbound("b", "Ann", token=s.token))
    name = "?" if corruption == "the dialog a list" else "ask"
    [reply] = texts(r)
    assert reply.startswith(f"The dialog {name} could not be resumed (") and reply.endswith("); starting over.")
    assert reason in reply
    assert r.waiting is None and r.error is None
    await settled(store)
    stored = await store.load(s.session_id, fresh=True)
    assert stored is not None and stored.dialog is None
    notes = [m.content for m in stored.history or [] if m.role == "system"]
    assert len(notes) == 1 and notes[0].startswith(f"error: the dialog {name} could not be resumed: ")
    assert reason in notes[0]
    if corruption == "the .bas does not compile now":
        assert "[ask.bas:3" in notes[0]  # the compiler's error, for the author
    assert (await rt.variables(s.session_id))["city"] == "Lisbon"  # the session's variables stay
    assert [m.content for m in stored.history or [] if m.role == "user"] == ["ask", "Ann"]  # and its history

    r = await rt.handle(Inbound("b", "Bob", token=s.token))  # never twice: a fresh turn
    assert texts(r) == ["Sorry, I did not understand."] and r.error is None
    if corruption not in ("the .bas removed", "the .bas renamed", "the .bas does not compile now"):
        r = await rt.handle(Inbound("b", "ask", token=s.token))  # the dialog starts again, and works
        r = await rt.handle(Inbound("b", "Cy", token=s.token))
        assert texts(r) == ["Hi Cy"]


async def test_a_notebook_cell_whose_source_does_not_compile_now_is_said_once(store: SessionStore,
                                                                               tmp_path: Path) -> None:
    rt = runtime_on(store, tmp_path, {"start": 'TALK "hi"'})
    s = await rt.start("b")
    r = await rt.run_source(s.session_id, "x = 1\nHEAR y\nTALK y\n", "cell[1]")
    assert r.waiting is not None
    async with store.lock(s.session_id) as session:
        assert session is not None and session.dialog is not None
        session.dialog = dict(session.dialog, source="HEAR y\nIF y THEN\n")
        await store.save(session)
    r = await rt.handle(Inbound("b", "Ann", token=s.token))
    assert texts(r) == ["The dialog cell[1] could not be resumed (its code does not compile now); starting over."]
    r = await rt.handle(Inbound("b", "Bob", token=s.token))
    assert texts(r) == ["Sorry, I did not understand."]


async def test_a_session_variable_at_the_depth_cap_does_not_fail_the_cells_after_it(store: SessionStore,
                                                                                   tmp_path: Path) -> None:
    rt = runtime_on(store, tmp_path, {"start": 'TALK "hi"'})
    s = await rt.start("b")
    r = await rt.run_source(s.session_id, 'x = FROMJSON("' + "[" * 200 + "]" * 200 + '")', "cell[1]")  # the cap
    assert r.error is None
    r = await rt.run_source(s.session_id, "TALK LEN(x)", "cell[2]")
    assert (texts(r), r.error) == (["1"], None)
    await settled(store)
    assert (await rt.variables(s.session_id))["x"] == json.loads("[" * 200 + "]" * 200)


# --- hostile structured answers ------------------------------------------------------------------


def self_containing() -> dict[str, Any]:
    cyclic: dict[str, Any] = {"a": 1}
    cyclic["me"] = cyclic
    return cyclic


@pytest.mark.parametrize(("attachment", "message"), [
    (self_containing(), "the answer contains itself"),
    ({"deep": deep_list(200_000)}, "nested too deeply"),
])
async def test_a_hostile_structured_answer_is_a_limit_at_its_hear_and_the_dialog_waits(
        store: SessionStore, tmp_path: Path, attachment: dict[str, Any], message: str) -> None:
    rt = runtime_on(store, tmp_path, {"start": CARRY})
    s = await rt.start("b")
    r = await rt.handle(Inbound("b", "(structured)", token=s.token, attachment=attachment))
    assert isinstance(r.error, LimitExceeded) and message in r.error.message
    assert (r.error.file, r.error.line) == ("start.bas", 1)
    assert texts(r) == ["Sorry, that was too much work for one message; nothing was changed."]
    assert r.waiting is not None and r.waiting.variable == "a"  # it still waits at its HEAR
    r = await rt.handle(Inbound("b", "(structured)", token=s.token, attachment={"fine": [1, 2]}))
    r = await rt.handle(Inbound("b", "go", token=s.token))
    assert texts(r) == ["object"]
    assert (await rt.variables(s.session_id))["v"] == {"fine": [1, 2]}


async def test_fromjson_of_a_200000_deep_text_is_a_limit_and_the_dialog_waits(store: SessionStore,
                                                                              tmp_path: Path) -> None:
    rt = runtime_on(store, tmp_path, {"start": LOOKALIKE})
    s = await rt.start("b")
    r = await rt.handle(Inbound("b", "[" * 200_000 + "]" * 200_000, token=s.token))
    assert isinstance(r.error, LimitExceeded) and "nested too deeply" in r.error.message
    assert (r.error.file, r.error.line) == ("start.bas", 3)
    assert r.waiting is not None and r.waiting.variable == "j"
    r = await rt.handle(Inbound("b", "[1]", token=s.token))
    r = await rt.handle(Inbound("b", "ok", token=s.token))
    assert texts(r) == ["list [1] ok"]
