"""Suggestions, switchers, tools, contexts and the answer mode: kept in THIS session's context,
through real dialogs on every SQL backend (SQLite, PostgreSQL, each with and without Valkey)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from gb_basic import BasicRuntimeError, Request
from gb_runtime import BotRegistry, DialogRuntime, Inbound, Result
from gb_runtime.keywords import Fulfiller
from gb_runtime.suggestions import MAX_SUGGESTIONS
from gb_sessions.config import Stores
from tests.helpers.bots import make_bot, runtime_for, texts

SHOP = {
    "start": 'CLEAR SUGGESTIONS\n'
             'ADD SUGGESTION "products" AS "View products"\n'
             'ADD SUGGESTION "Help"\n'
             'ADD SUGGESTION "products" AS "View products"\n'  # again (start.bas run twice): kept once
             'ADD SUGGESTION TOOL "track" AS "Track my order"\n'
             'ADD SWITCHER tables AS "Tabelas"\n'  # an unquoted name: an unset variable, the text names it
             'ADD SWITCHER "cards" AS "Cards"\n'
             'SET CONTEXT "products" AS "We sell hats"\n'
             'TALK "Welcome! Your name?"\n'
             'HEAR name\n'
             'TALK "Hi " + name\n',
    "track": 'PARAM order AS STRING LIKE "A-1" DESCRIPTION "the order number"\n'
             'IF order IS NULL THEN order = "(which one?)"\n'
             'TALK "Tracking order " + order\n',
    "clear": 'CLEAR SUGGESTIONS\nTALK "cleared"\n',
    "switchers": 'CLEAR SWITCHERS\nTALK "no switchers"\n',
}


def shown(result: Result) -> list[tuple[str, str, str | None]]:
    return [(s.kind, s.text, s.name) for s in result.suggestions]


OFFERED = [("context", "View products", "products"), ("text", "Help", None), ("tool", "Track my order", "track"),
           ("switcher", "Tabelas", "Tabelas"), ("switcher", "Cards", "cards")]


def bot_name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"  # the PostgreSQL database is shared by the tests


async def test_suggestions_stay_until_cleared_through_a_hear_and_a_restart(stores: Stores, tmp_path: Path) -> None:
    root, shop = tmp_path / "bots", bot_name("shop")
    make_bot(root, shop, SHOP)
    rt = runtime_for(stores, root, tmp_path / "data")
    s = await rt.start(shop)
    assert texts(s) == ["Welcome! Your name?"] and shown(s) == OFFERED
    assert s.to_dict()["suggestions"][0] == {"kind": "context", "text": "View products", "value": "View products",
                                             "name": "products"}
    r = await rt.handle(Inbound(shop, "Ann", token=s.token))  # the HEAR's answer: they are still offered
    assert texts(r) == ["Hi Ann"] and shown(r) == OFFERED
    stored = await stores.store.load(s.session_id, fresh=True)
    assert [x["text"] for x in stored.context["suggestions"]] == [t for _, t, _ in OFFERED]
    # a restart: another runtime on the same database sees them, and so does the API's summary
    rt2 = runtime_for(stores, root, tmp_path / "data")
    assert [(x.kind, x.text, x.name) for x in (await rt2.summary(s.session_id)).suggestions] == OFFERED
    r = await rt2.handle(Inbound(shop, "what is new?", token=s.token))
    assert shown(r) == OFFERED
    # another session of the bot has its own (none until its start.bas adds them)
    other = await rt2.start(shop, run_start=False)
    assert other.suggestions == []
    # CLEAR SUGGESTIONS removes the suggestions, not the switchers; CLEAR SWITCHERS those
    r = await rt2.handle(Inbound(shop, "clear", token=s.token))
    assert texts(r) == ["cleared"] and shown(r) == OFFERED[3:]
    r = await rt2.handle(Inbound(shop, "switchers", token=s.token))
    assert texts(r) == ["no switchers"] and r.suggestions == []
    assert (await stores.store.load(s.session_id, fresh=True)).context["suggestions"] == []


async def test_a_click_selects_the_context_toggles_a_switcher_runs_a_tool(stores: Stores, tmp_path: Path) -> None:
    root, shop = tmp_path / "bots", bot_name("shop")
    make_bot(root, shop, SHOP)
    rt = runtime_for(stores, root, tmp_path / "data")
    s = await rt.start(shop)
    await rt.handle(Inbound(shop, "Ann", token=s.token))  # start.bas ends: no dialog waits now
    r = await rt.handle(Inbound(shop, "View products", token=s.token))  # a click sends the text
    ctx = (await stores.store.load(s.session_id, fresh=True)).context
    assert ctx["active_context"] == "products" and ctx["contexts"] == {"products": "We sell hats"}
    assert r.received is not None and r.received.content == "View products"  # in the transcript as clicked
    r = await rt.handle(Inbound(shop, "  tabelas ", token=s.token))  # case and spaces aside
    assert [x.active for x in r.suggestions if x.kind == "switcher"] == [True, False]
    assert r.replies == []  # a toggle, not a question: no fallback reply
    r = await rt.handle(Inbound(shop, "Cards", token=s.token))
    assert [x.active for x in r.suggestions if x.kind == "switcher"] == [True, True]
    assert r.to_dict()["suggestions"][-1]["active"] is True
    r = await rt.handle(Inbound(shop, "Tabelas", token=s.token))  # again: off
    assert [x.active for x in r.suggestions if x.kind == "switcher"] == [False, True]
    assert (await stores.store.load(s.session_id, fresh=True)).context["switchers"] == ["cards"]
    r = await rt.handle(Inbound(shop, "Track my order", token=s.token))  # no dialog waits: the tool runs
    assert texts(r) == ["Tracking order (which one?)"]


async def test_a_click_while_a_hear_waits_answers_the_hear(stores: Stores, tmp_path: Path) -> None:
    root, shop = tmp_path / "bots", bot_name("shop")
    make_bot(root, shop, SHOP)
    rt = runtime_for(stores, root, tmp_path / "data")
    s = await rt.start(shop)
    r = await rt.handle(Inbound(shop, "Track my order", token=s.token))
    assert texts(r) == ["Hi Track my order"]  # the HEAR got it; the tool did not run


async def test_a_tool_suggestion_with_values_fills_the_tools_params(stores: Stores, tmp_path: Path) -> None:
    """``ADD SUGGESTION TOOL "track" WITH "A-7" AS "..."`` as the runtime receives it (the parser's
    WITH form is on its way): the values come back as the tool's PARAMs when it is clicked."""
    root, shop = tmp_path / "bots", bot_name("shop")
    make_bot(root, shop, {**SHOP, "start": 'TALK "hello"\n'})
    rt = runtime_for(stores, root, tmp_path / "data")
    s = await rt.start(shop)
    async with stores.store.lock(s.session_id) as session:
        assert session is not None
        f = Fulfiller(session, rt.bots.get(shop), stores.store, dialog="start.bas")
        await f.answer(keyword_request("ADD SUGGESTION TOOL", "track", ["A-7"], "Track A-7"))
        await f.answer(keyword_request("ADD SUGGESTION TOOL", "track", "B-2", "C-3", "Track B-2"))  # listed values
        await stores.store.save(session)
    summary = await rt.summary(s.session_id)
    assert [(x.text, x.params) for x in summary.suggestions] == [("Track A-7", ["A-7"]), ("Track B-2", ["B-2", "C-3"])]
    r = await rt.handle(Inbound(shop, "Track A-7", token=s.token))
    assert texts(r) == ["Tracking order A-7"]


def keyword_request(keyword: str, *args: Any, line: int = 3) -> Request:
    return Request("keyword", line, 1, {"keyword": keyword, "args": list(args)})


async def test_bad_suggestions_fail_with_the_line(stores: Stores, tmp_path: Path) -> None:
    root, bad = tmp_path / "bots", bot_name("bad")
    make_bot(root, bad, {
        "start": 'TALK "hi"\nx = HEAR\nIF x = "null" THEN ADD SUGGESTION nothing\n'
                 'IF x = "many" THEN\n  FOR i = 1 TO 60\n    ADD SUGGESTION "s" + i\n  NEXT\nEND IF\n'
                 'IF x = "tool" THEN ADD SUGGESTION TOOL "nope" AS "No such tool"\n'
                 't = "x"\nFOR i = 1 TO 10\n  t = t + t\nNEXT\n'
                 'IF x = "long" THEN ADD SWITCHER "w" AS t\nTALK "ok"\n'})
    rt = runtime_for(stores, root, tmp_path / "data")
    expected = {"null": (3, "ADD SUGGESTION needs a text to show, got NULL"),
                "many": (6, f"ADD SUGGESTION: this session has {MAX_SUGGESTIONS} suggestions already"),
                "tool": (9, "tool 'nope' not found in bot"),
                "long": (14, "ADD SWITCHER: a text to show has 1,024 characters (at most 500)")}
    for answer, (line, message) in expected.items():
        s = await rt.start(bad)
        r = await rt.handle(Inbound(bad, answer, token=s.token))
        assert isinstance(r.error, BasicRuntimeError) and message in str(r.error), (answer, r.error)
        assert (r.error.file, r.error.line) == ("start.bas", line)
        assert texts(r)[-1] == "Sorry, something went wrong in this conversation."
    s = await rt.start(bad)
    r = await rt.handle(Inbound(bad, "fine", token=s.token))
    assert texts(r) == ["ok"] and r.error is None and r.suggestions == []


async def test_tools_contexts_and_answer_mode_are_this_sessions(stores: Stores, tmp_path: Path) -> None:
    root, name = tmp_path / "bots", bot_name("ctx")
    make_bot(root, name, {
        "start": 'ADD_TOOL ".gbdialog/track.bas"\nUSE TOOL "track"\nADD TOOL "help"\nREMOVE_TOOL ".gbdialog/help.bas"\n'
                 'SET CONTEXT "Be brief"\nSET CONTEXT "store" AS "We sell hats"\nSET ANSWER MODE "document"\n'
                 'TALK "ok"\nHEAR x\n'
                 'CLEAR TOOLS\nSET CONTEXT "store" AS NULL\nSET ANSWER MODE ""\nTALK "done"\n',
        "track": 'PARAM order AS STRING\nTALK order\n', "help": 'TALK "help"\n'})
    rt = runtime_for(stores, root, tmp_path / "data")
    a, b = await rt.start(name), await rt.start(name, run_start=False)
    ctx = (await stores.store.load(a.session_id, fresh=True)).context
    assert ctx["tools"] == ["track"]
    assert ctx["contexts"] == {"default": "Be brief", "store": "We sell hats"} and ctx["answer_mode"] == "document"
    assert "tools" not in (await stores.store.load(b.session_id, fresh=True)).context  # THIS session's only
    r = await rt.handle(Inbound(name, "go on", token=a.token))
    assert texts(r) == ["done"]
    ctx = (await stores.store.load(a.session_id, fresh=True)).context
    assert ctx["tools"] == [] and ctx["contexts"] == {"default": "Be brief"} and "answer_mode" not in ctx


async def test_use_tool_of_a_missing_dialog_names_it(stores: Stores, tmp_path: Path) -> None:
    root, name = tmp_path / "bots", bot_name("tools")
    make_bot(root, name, {"start": 'TALK "a"\nUSE TOOL "weather"\nTALK "b"\n'})
    rt = runtime_for(stores, root, tmp_path / "data")
    s = await rt.start(name)
    assert texts(s) == ["a", "Sorry, something went wrong in this conversation."]
    assert "[start.bas:2:1]" in str(s.error) and "tool 'weather' not found" in str(s.error)


@pytest.mark.parametrize("args", [[], ["only a name"]])
async def test_keyword_arguments_are_checked(tmp_path: Path, args: list[Any], stores: Stores) -> None:
    root = tmp_path / "bots"
    make_bot(root, "k")
    rt = DialogRuntime(stores.store, BotRegistry(root, tmp_path / "data"))
    s = await rt.start("k", run_start=False)
    async with stores.store.lock(s.session_id) as session:
        assert session is not None
        f = Fulfiller(session, rt.bots.get("k"), stores.store, dialog="k.bas")
        with pytest.raises(BasicRuntimeError, match=r"ADD SUGGESTION TOOL expects 2 argument\(s\)") as exc:
            await f.answer(keyword_request("ADD SUGGESTION TOOL", *args, line=7))
        assert (exc.value.file, exc.value.line) == ("k.bas", 7)
