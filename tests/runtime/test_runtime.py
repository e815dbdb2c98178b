"""DialogRuntime over every backend: turns, resuming after a restart, session keywords, limits."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest

from gb_runtime import (
    Inbound,
    InvalidToken,
    SessionEnded,
    SessionExpired,
    TooManyNewSessions,
    TooManySessions,
    Waiting,
    WrongBot,
)
from gb_sessions import RateLimited, VariablesTooLarge
from gb_sessions.config import Stores
from tests.backends import open_backend
from tests.helpers.bots import Clock, make_bot, runtime_for, runtime_with_bot, texts

GREETER = '''TALK "Hi! What is your name?"
name = HEAR
SET user_name = name
HEAR age AS INTEGER WITH "How old are you, " + name + "?"
TALK "Thanks " + name + ", " + age
'''


@pytest.fixture
def bots(tmp_path: Path) -> Path:
    root = tmp_path / "bots"
    make_bot(root, "greeter", {"start": GREETER, "again": 'GET user_name\nTALK "Welcome back, " + user_name'})
    make_bot(root, "other", {"start": 'TALK "other bot"\nx = HEAR\nTALK "other: " + x'})
    return root


async def test_start_and_talk_through_a_dialog(stores: Stores, bots: Path, tmp_path: Path) -> None:
    rt = runtime_for(stores, bots, tmp_path / "data")
    started = await rt.start("greeter")
    assert texts(started) == ["Hi! What is your name?"]
    assert started.token and len(started.token) >= 43  # 256 bits, url-safe base64
    assert started.waiting == Waiting("name", None, None, 2)
    assert started.waiting.to_dict() == {"variable": "name", "type": None, "choices": None, "line": 2,
                                         "kind": "hear", "due": None}
    r = await rt.handle(Inbound("greeter", "Ann", token=started.token))
    assert texts(r) == ["How old are you, Ann?"]
    assert r.waiting is not None and r.waiting.type == "INTEGER"
    r = await rt.handle(Inbound("greeter", "lots", token=started.token))
    assert texts(r) == ["Please enter a whole number, like 42."]
    r = await rt.handle(Inbound("greeter", "41", token=started.token))
    assert texts(r) == ["Thanks Ann, 41"] and r.waiting is None
    history = await stores.store.history(started.session_id)
    assert [(m.role, m.content) for m in history] == [
        ("assistant", "Hi! What is your name?"), ("user", "Ann"), ("assistant", "How old are you, Ann?"),
        ("user", "lots"), ("assistant", "Please enter a whole number, like 42."), ("user", "41"),
        ("assistant", "Thanks Ann, 41")]


async def test_a_waiting_dialog_resumes_in_a_brand_new_runtime(stores: Stores, bots: Path, tmp_path: Path,
                                                               request: pytest.FixtureRequest) -> None:
    rt = runtime_for(stores, bots, tmp_path / "data")
    started = await rt.start("greeter")
    await rt.handle(Inbound("greeter", "Ann", token=started.token))
    # a restart: new engine, new cache client, new registry, new runtime
    async with open_backend(request.node.callspec.params["stores"], request, tmp_path) as fresh:
        rt2 = runtime_for(fresh, bots, tmp_path / "data")
        r = await rt2.handle(Inbound("greeter", "30", token=started.token))
        assert texts(r) == ["Thanks Ann, 30"]
        r = await rt2.handle(Inbound("greeter", "again", token=started.token))
        assert texts(r) == ["Welcome back, Ann"]  # the session variable survived


async def test_tokens_are_checked(stores: Stores, bots: Path, tmp_path: Path) -> None:
    clock = Clock()
    rt = runtime_for(stores, bots, tmp_path / "data", clock)
    started = await rt.start("greeter")
    with pytest.raises(InvalidToken):
        await rt.handle(Inbound("greeter", "x", token="forged-" + started.token[7:]))
    with pytest.raises(WrongBot) as wrong:
        await rt.handle(Inbound("other", "x", token=started.token))
    assert wrong.value.status == 401
    with pytest.raises(InvalidToken):
        await rt.handle(Inbound("greeter", "x"))
    other = await rt.start("greeter")
    clock.advance(days=8)  # anonymous sessions expire after 7 days without a message
    with pytest.raises(SessionExpired):
        await rt.handle(Inbound("greeter", "Ann", token=started.token))
    await rt.end(other.session_id)
    with pytest.raises(SessionEnded):
        await rt.handle(Inbound("greeter", "x", token=other.token))
    assert len(await stores.store.history(started.session_id)) == 1  # nothing lost, nothing added


async def test_a_token_this_runtime_remembers_is_still_checked_under_the_lock(stores: Stores, bots: Path,
                                                                              tmp_path: Path) -> None:
    """The runtime keeps a token's (session, bot) after its first message; a session deleted or
    given a new token since then refuses the old token all the same (401, nothing stored)."""
    rt = runtime_for(stores, bots, tmp_path / "data", Clock())
    gone, renamed = await rt.start("greeter"), await rt.start("greeter")
    for started in (gone, renamed):
        await rt.handle(Inbound("greeter", "Ann", token=started.token))
    await stores.store.delete(gone.session_id)
    with pytest.raises(InvalidToken):
        await rt.handle(Inbound("greeter", "again", token=gone.token))
    async with stores.store.lock(renamed.session_id) as held:
        assert held is not None
        held.token_hash = uuid.uuid4().hex * 2  # as a re-issued token would
        await stores.store.save(held)
    with pytest.raises(InvalidToken):
        await rt.handle(Inbound("greeter", "again", token=renamed.token))
    assert [m.content for m in await stores.store.history(renamed.session_id) if m.role == "user"] == ["Ann"]


async def test_rate_limit_and_nothing_lost(stores: Stores, tmp_path: Path) -> None:
    rt = runtime_with_bot(stores, tmp_path, "echo", {"start": 'DO\n  x = HEAR\n  TALK "got " + x\nLOOP'},
                          config="rate-limit,5\n")
    s = await rt.start("echo")
    for i in range(5):
        assert texts(await rt.handle(Inbound("echo", f"m{i}", token=s.token))) == [f"got m{i}"]
    with pytest.raises(RateLimited) as exc:
        await rt.handle(Inbound("echo", "m5", token=s.token))
    assert exc.value.status == 429 and exc.value.retry_after >= 1
    history = [m.content for m in await stores.store.history(s.session_id)]
    assert history == [x for i in range(5) for x in (f"m{i}", f"got m{i}")]


async def test_variables_limit_refuses_the_turn_and_keeps_the_state(stores: Stores, tmp_path: Path) -> None:
    rt = runtime_with_bot(stores, tmp_path, "big", {
        "start": 'SET small = "ok"\nx = HEAR\ns = ""\nFOR i = 1 TO 2000\n  s = s & x\nNEXT\nSET big = s\nTALK "set"\n'},
        config="max-variables-kb,3\n")
    s = await rt.start("big")
    with pytest.raises(VariablesTooLarge) as exc:
        await rt.handle(Inbound("big", "xx", token=s.token))
    assert exc.value.status == 413
    session = await stores.store.load(s.session_id, fresh=True)
    assert session.variables == {"small": "ok"} and session.dialog["waiting"]["var"] == "x"
    assert [m.content for m in await stores.store.history(s.session_id)] == []
    r = await rt.handle(Inbound("big", "y", token=s.token))  # still waiting at the same HEAR; 2000 bytes fit
    assert texts(r) == ["set"]


async def test_history_limit_keeps_the_last_50_in_context(stores: Stores, tmp_path: Path) -> None:
    rt = runtime_with_bot(stores, tmp_path, "hist", {
        "start": 'DO\n  x = HEAR\n  n = GET "session.message_count"\n'
                 '  h = GET "session.history"\n  TALK n + " " + LEN(SPLIT(h, "\n"))\nLOOP\n'})
    s = await rt.start("hist")
    for i in range(30):
        r = await rt.handle(Inbound("hist", f"m{i}", token=s.token))
    assert texts(r) == ["30 50"]  # 30 user messages, 59 stored before this reply, 50 in context
    assert len(await stores.store.history(s.session_id)) == 60


async def test_max_sessions_is_per_bot(stores: Stores, tmp_path: Path) -> None:
    root = tmp_path / "bots"
    rt = runtime_for(stores, root, tmp_path / "data")
    full, other = (f"tiny{uuid.uuid4().hex[:8]}" for _ in range(2))  # the PostgreSQL database is shared by the run
    make_bot(root, full, {"start": 'TALK "hi"'}, config="max-sessions,2\n")
    make_bot(root, other, {"start": 'TALK "hi"'}, config="max-sessions,2\n")
    for _ in range(2):
        await rt.start(full)
    with pytest.raises(TooManySessions) as exc:
        await rt.start(full)
    assert exc.value.status == 503 and exc.value.retry_after and "max-sessions" in exc.value.message
    assert texts(await rt.start(other)) == ["hi"]  # a full bot does not stop another one
    assert len(await rt.recent(full)) == 2  # the refused one left nothing


async def test_a_session_nobody_wrote_to_frees_its_slot_after_empty_session_seconds(
        stores: Stores, tmp_path: Path) -> None:
    clock = Clock()
    name = f"empty{uuid.uuid4().hex[:8]}"
    rt = runtime_with_bot(stores, tmp_path, name, {"start": GREETER}, clock=clock,
                          config="max-sessions,2\nempty-session-seconds,60\n")
    talked = await rt.start(name)
    await rt.handle(Inbound(name, "Ann", token=talked.token))
    await rt.start(name)  # nobody writes to this one
    with pytest.raises(TooManySessions):
        await rt.start(name)
    clock.advance(seconds=61)
    await rt.start(name)  # the empty session's slot; the one with a message still counts
    with pytest.raises(TooManySessions):
        await rt.start(name)


async def test_new_sessions_a_minute_per_client(stores: Stores, tmp_path: Path) -> None:
    name = f"rate{uuid.uuid4().hex[:8]}"
    rt = runtime_with_bot(stores, tmp_path, name, config="session-create-rate,3\n")
    for _ in range(3):
        await rt.start(name, client="192.0.2.10")
    with pytest.raises(TooManyNewSessions) as exc:
        await rt.start(name, client="192.0.2.10")
    assert exc.value.status == 429 and exc.value.retry_after
    await rt.start(name, client="192.0.2.11")  # another client
    for _ in range(5):
        await rt.start(name)  # no client (the kernel, a channel's verified sender): no such limit
    assert len(await rt.recent(name)) == 9


async def test_an_idle_session_leaves_the_active_count_and_still_resumes(stores: Stores, bots: Path,
                                                                          tmp_path: Path) -> None:
    clock = Clock()
    name = f"idle{uuid.uuid4().hex[:8]}"  # the PostgreSQL database is shared by the whole run
    make_bot(bots, name, {"start": GREETER})
    rt = runtime_for(stores, bots, tmp_path / "data", clock)
    s = await rt.start(name)
    assert await stores.store.count_active(clock() - dt.timedelta(minutes=30), name) == 1
    clock.advance(minutes=45)  # idle: more than session-timeout (30 min) without a message
    assert await stores.store.count_active(clock() - dt.timedelta(minutes=30), name) == 0
    r = await rt.handle(Inbound(name, "Ann", token=s.token))
    assert texts(r) == ["How old are you, Ann?"]  # resumed where it waited


POWER = '''SET seen = "start"
HEAR a AS INTEGER WITH "a?"
HEAR b AS INTEGER WITH "b?"
SET seen = "computing"
TALK "partial"
TALK a ^ b
HEAR c WITH "c?"
'''


async def test_a_runaway_turn_keeps_nothing_and_the_dialog_waits_at_its_hear(stores: Stores, tmp_path: Path) -> None:
    """A USER's answer makes `a ^ b` too large: a clear error naming the line, nothing of the turn
    kept (no SET, no partial TALK), the session still at the same HEAR, and it goes on."""
    rt = runtime_with_bot(stores, tmp_path, "power", {"start": POWER})
    s = await rt.start("power")
    assert s.token is not None
    await rt.handle(Inbound("power", "3", token=s.token))
    before = await rt.summary(s.session_id)
    r = await rt.handle(Inbound("power", "100000000", token=s.token))  # 3 ^ 100000000: refused at once
    assert r.error is not None and "(line 6)" in str(r.error.headline) and "too large" in str(r.error.headline)
    assert texts(r) == ["Sorry, that was too much work for one message; nothing was changed."]
    assert r.waiting is not None and r.waiting.variable == "b"
    after = await rt.summary(s.session_id)
    assert after.waiting == before.waiting and after.waiting is not None and after.waiting.variable == "b"
    assert (await rt.variables(s.session_id))["seen"] == "start"
    contents = [m.content for m in await rt.history(s.session_id)]
    assert "partial" not in contents and contents[-2:] == ["100000000", texts(r)[0]]
    r = await rt.handle(Inbound("power", "2", token=s.token))  # a sane answer to the same HEAR
    assert texts(r) == ["partial", "9", "c?"]
