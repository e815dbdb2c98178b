"""The session keywords through the runtime, and the example bots, over every backend."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from gb_runtime import Inbound, InvalidToken, SessionEnded
from gb_sessions.config import Stores
from tests.helpers.bots import copy_example_bots, make_bot, runtime_for, runtime_with_bot, texts, write


@pytest.fixture
def example_bots(tmp_path: Path) -> Path:
    return copy_example_bots(tmp_path / "bots")


async def test_support_bot_end_to_end(stores: Stores, example_bots: Path, tmp_path: Path) -> None:
    rt = runtime_for(stores, example_bots, tmp_path / "data")
    s = await rt.start("support")
    replies = texts(s)
    assert "Welcome to Support! First time here?" in replies
    assert replies[-1] == "How can I help?"
    assert s.replies[-1].choices == ["Returns", "Shipping", "Refund", "Something else"]
    assert s.waiting is not None and s.waiting.type == "MENU"
    r = await rt.handle(Inbound("support", "3", token=s.token))  # a menu answers by number too
    assert texts(r) == ["Type 'refund' to start a refund."]
    r = await rt.handle(Inbound("support", "refund", token=s.token))  # a dialog started by its name
    assert texts(r) == ["What is your order number?"]
    r = await rt.handle(Inbound("support", "A-12", token=s.token))
    assert texts(r)[0].startswith("Please enter a whole number")
    r = await rt.handle(Inbound("support", "1234", token=s.token))
    assert texts(r) == ["Which e-mail address did you order with?"]
    r = await rt.handle(Inbound("support", "ann@example.com", token=s.token))
    r = await rt.handle(Inbound("support", "Damaged", token=s.token))
    assert texts(r) == ["Thanks! Refund for order 1234 requested (Damaged).",
                        "We will confirm by e-mail to ann@example.com within 5 business days."]
    session = await stores.store.load(s.session_id, fresh=True)
    assert session.variables["refund_order"] == 1234
    assert session.variables["checkpoint"] == "refund_requested"
    assert session.context["kb"] == ["policies"] and session.context["template"] == "customer_support"
    assert await stores.store.get_bot_memory("support", "refund_1234") == "ann@example.com: Damaged"
    # no dialog waits now: a question goes to the knowledge base of this session
    r = await rt.handle(Inbound("support", "How many days do I have to return an item?", token=s.token))
    assert "30 days" in texts(r)[0]


async def test_bots_share_nothing(stores: Stores, example_bots: Path, tmp_path: Path) -> None:
    rt = runtime_for(stores, example_bots, tmp_path / "data")
    support = await rt.start("support")
    sales = await rt.start("sales")
    default = await rt.start("default")
    a = await stores.store.load(support.session_id, fresh=True)
    b = await stores.store.load(sales.session_id, fresh=True)
    c = await stores.store.load(default.session_id, fresh=True)
    assert len({a.id, b.id, c.id}) == 3
    assert a.context["kb"] == ["policies"] and b.context["kb"] == ["products"] and c.context["kb"] == ["guide"]
    assert not set(a.variables) & set(b.variables)
    with pytest.raises(Exception, match="another bot"):
        await rt.handle(Inbound("sales", "hi", token=support.token))


async def test_use_kb_is_this_sessions_only(stores: Stores, tmp_path: Path) -> None:
    rt = runtime_with_bot(stores, tmp_path, "kb", {
        "start": 'x = HEAR\nIF x = "a" THEN USE KB "policies" ELSE USE KB "products"\nTALK "ok"',
        "clear": 'CLEAR KB\nTALK "cleared"'}, kb={"policies/returns.md": "Returns are accepted within 30 days.",
                                                 "products/plans.md": "The Pro plan costs 20 dollars a month."})
    a, b = await rt.start("kb"), await rt.start("kb")
    await rt.handle(Inbound("kb", "a", token=a.token))
    await rt.handle(Inbound("kb", "b", token=b.token))
    assert (await stores.store.load(a.session_id, fresh=True)).context["kb"] == ["policies"]
    assert (await stores.store.load(b.session_id, fresh=True)).context["kb"] == ["products"]
    ra = await rt.handle(Inbound("kb", "how much does the pro plan cost", token=a.token))
    rb = await rt.handle(Inbound("kb", "how much does the pro plan cost", token=b.token))
    assert "20 dollars" not in texts(ra)[0] and texts(rb) == ["The Pro plan costs 20 dollars a month."]
    assert texts(await rt.handle(Inbound("kb", "are returns accepted?", token=a.token))) == \
        ["Returns are accepted within 30 days."]
    # another bot's KB of the same name is never reached
    other = f"kbother{uuid.uuid4().hex[:6]}"
    make_bot(tmp_path / "bots", other, {"start": 'USE KB "products"\nTALK "ok"'},
             kb={"products/plans.md": "Our Pro plan is free for students."})
    o = await rt.start(other)
    assert texts(await rt.handle(Inbound(other, "how much does the pro plan cost", token=o.token))) == \
        ["Our Pro plan is free for students."]
    assert texts(await rt.handle(Inbound("kb", "is the plan free for students", token=b.token))) != \
        ["Our Pro plan is free for students."]
    await rt.handle(Inbound("kb", "clear", token=a.token))
    assert (await stores.store.load(a.session_id, fresh=True)).context["kb"] == []


async def test_bot_memory_is_shared_by_a_bots_sessions(stores: Stores, tmp_path: Path) -> None:
    root = tmp_path / "bots"
    counter = 'n = GET_BOT_MEMORY("visits")\nIF n IS NULL THEN n = 0\nSET_BOT_MEMORY "visits", n + 1\nTALK n + 1'
    one, two = f"one{uuid.uuid4().hex[:6]}", f"two{uuid.uuid4().hex[:6]}"  # the PostgreSQL database is shared
    make_bot(root, one, {"start": counter})
    make_bot(root, two, {"start": counter})
    rt = runtime_for(stores, root, tmp_path / "data")
    assert [texts(await rt.start(one))[0] for _ in range(3)] == ["1", "2", "3"]
    assert texts(await rt.start(two)) == ["1"]


async def test_session_facts(stores: Stores, tmp_path: Path) -> None:
    rt = runtime_with_bot(stores, tmp_path, "facts", {
        "start": 'x = HEAR\nTALK GET "session.id"\nTALK GET "session.channel"\n'
                 'TALK GET "session.message_count"\nTALK GET "session.history"'})
    s = await rt.start("facts", channel="whatsapp", address="+5511999990000")
    r = await rt.handle(Inbound("facts", "hello", channel="whatsapp", address="+5511999990000"))
    assert r.session_id == s.session_id  # found by (bot, channel, address)
    assert texts(r)[:3] == [str(s.session_id), "whatsapp", "1"]
    assert texts(r)[3] == "user: hello\nassistant: " + str(s.session_id) + "\nassistant: whatsapp\nassistant: 1"


async def test_save_stays_in_the_bots_storage(stores: Stores, tmp_path: Path) -> None:
    rt = runtime_with_bot(stores, tmp_path, "files", {"start": 'x = HEAR\nSAVE x, "hello " + x\nTALK "saved"'})
    s = await rt.start("files")
    r = await rt.handle(Inbound("files", "notes/a.txt", token=s.token))
    assert texts(r) == ["saved"]
    assert (tmp_path / "data/bots/files/files/notes/a.txt").read_text() == "hello notes/a.txt"
    s2 = await rt.start("files")
    r = await rt.handle(Inbound("files", "../../escape.txt", token=s2.token))
    assert texts(r) == ["Sorry, something went wrong in this conversation."]
    assert "SAVE refused" in str(r.error) and not (tmp_path / "data/escape.txt").exists()


async def test_transfer_session_needs_a_channel(stores: Stores, tmp_path: Path) -> None:
    rt = runtime_with_bot(stores, tmp_path, "t", {"start": 'TALK "moving"\nTRANSFER_SESSION "email"\nTALK "never"'})
    s = await rt.start("t")
    assert texts(s) == ["moving", "Sorry, something went wrong in this conversation."]
    assert "channel not configured" in str(s.error)


async def test_a_failing_keyword_names_its_line(stores: Stores, tmp_path: Path) -> None:
    """A keyword the runtime refuses fails at its line and column, like any BASIC error."""
    rt = runtime_with_bot(stores, tmp_path, "kw", {
        "start": 'TALK "hi"\n  SEND MAIL "ann@example.com", "Hi", "Body"\nTALK "never"'})
    s = await rt.start("kw")
    assert texts(s) == ["hi", "Sorry, something went wrong in this conversation."]
    assert (s.error.line, s.error.column) == (2, 3)
    assert s.error.headline.endswith(":2:3] Error: SEND MAIL: channel not configured (no email channel is set up "
                                     "for bot kw)")


async def test_load_template_sets_up_the_context(stores: Stores, tmp_path: Path) -> None:
    rt = runtime_with_bot(stores, tmp_path, "tpl", {
        "start": 'LOAD_TEMPLATE "sales"\nTALK "ready"', "quote": 'PARAM item AS STRING\nTALK item'},
        kb={"catalog/a.md": "A catalog."},
        templates={"sales": '{"kb": ["catalog"], "tools": ["quote"], "system_prompt": "Be brief.", '
                            '"message": "Hello from the template!"}'})
    s = await rt.start("tpl")
    assert texts(s) == ["Hello from the template!", "ready"]
    ctx = (await stores.store.load(s.session_id, fresh=True)).context
    assert (ctx["kb"], ctx["tools"], ctx["system_prompt"]) == (["catalog"], ["quote"], "Be brief.")


async def test_fallback_and_dialog_names(stores: Stores, tmp_path: Path) -> None:
    rt = runtime_with_bot(stores, tmp_path, "fb", {
        "start": 'TALK "hi"', "order": 'TALK "ordering"', "track_order": 'TALK "tracking"',
        "admin_reset": 'TALK "internal"'}, config="public-dialogs,order, track_order\n")
    s = await rt.start("fb")
    assert texts(await rt.handle(Inbound("fb", "Order", token=s.token))) == ["ordering"]
    assert texts(await rt.handle(Inbound("fb", "track order", token=s.token))) == ["tracking"]
    assert texts(await rt.handle(Inbound("fb", "what?", token=s.token))) == [
        "Sorry, I did not understand. You can type: order, track_order."]  # not admin_reset


async def test_the_fallback_names_no_dialog_a_bot_does_not_make_public(stores: Stores, tmp_path: Path) -> None:
    rt = runtime_with_bot(stores, tmp_path, "quiet", {"start": 'TALK "hi"', "admin_reset": 'TALK "internal"'})
    s = await rt.start("quiet")
    assert texts(await rt.handle(Inbound("quiet", "what?", token=s.token))) == ["Sorry, I did not understand."]


async def test_login_merges_the_anonymous_session_into_the_users(stores: Stores, tmp_path: Path) -> None:
    import uuid
    rt = runtime_with_bot(stores, tmp_path, "acct", {
        "start": 'HEAR color\nSET color = color\nTALK "noted"\nON LOGIN\n'
                 '  MERGE_SESSION anonymous_id, user_id\n  TALK "welcome " + user_name\nEND\n'})
    name = f"ann{uuid.uuid4().hex[:6]}"
    user = await stores.users.create(name, "pw-123456")
    # the user's earlier session with this bot (from another device)
    earlier = await rt.start("acct", user_id=user.id)
    await rt.handle(Inbound("acct", "blue", token=earlier.token))
    # now an anonymous session, then a login on it
    anon = await rt.start("acct")
    await rt.handle(Inbound("acct", "green", token=anon.token))
    result = await rt.login(anon.session_id, name, "pw-123456")
    assert result.session_id == earlier.session_id and texts(result) == [f"welcome {name}"]
    assert result.token not in (earlier.token, anon.token)  # a new token: no fixation
    with pytest.raises(SessionEnded):
        await rt.handle(Inbound("acct", "x", token=anon.token))
    with pytest.raises(InvalidToken):
        await rt.handle(Inbound("acct", "x", token=earlier.token))
    merged = await stores.store.load(earlier.session_id, fresh=True)
    assert merged.variables["color"] == "green" and merged.user_id == user.id and merged.expires_at is None
    contents = [m.content for m in await stores.store.history(earlier.session_id)]
    assert contents[:2] == ["blue", "noted"] and "green" in contents


async def test_login_without_an_earlier_session_keeps_this_one(stores: Stores, tmp_path: Path) -> None:
    import uuid
    rt = runtime_with_bot(stores, tmp_path, "acct2", {
        "start": 'x = HEAR\nTALK x\nON LOGIN\n  MERGE_SESSION anonymous_id, user_id\nEND\n'})
    name = f"bo{uuid.uuid4().hex[:6]}"
    user = await stores.users.create(name, "pw-abcdef")
    anon = await rt.start("acct2")
    result = await rt.login(anon.session_id, name, "pw-abcdef")
    assert result.session_id == anon.session_id
    with pytest.raises(InvalidToken):
        await rt.handle(Inbound("acct2", "x", token=anon.token))
    r = await rt.handle(Inbound("acct2", "still here", token=result.token))
    assert texts(r) == ["still here"]
    assert (await stores.store.load(anon.session_id, fresh=True)).user_id == user.id


async def test_changing_a_bas_while_a_dialog_waits(stores: Stores, tmp_path: Path) -> None:
    root = tmp_path / "bots"
    src = 'TALK "name?"\nname = HEAR\nTALK "hi " + name\n'
    pkg = make_bot(root, "hot", {"start": src})
    rt = runtime_for(stores, root, tmp_path / "data")
    a, b = await rt.start("hot"), await rt.start("hot")
    write(pkg / "hot.gbdialog/start.bas", "' a comment on top\n" + src)  # same code: resumes
    assert texts(await rt.handle(Inbound("hot", "Ann", token=a.token))) == ["hi Ann"]
    write(pkg / "hot.gbdialog/start.bas", src.replace('"hi "', '"hello "'))  # the code after HEAR changed
    r = await rt.handle(Inbound("hot", "Bo", token=b.token))
    assert texts(r) == ["The start dialog was changed while it waited for you; please start it again."]
    assert texts(await rt.handle(Inbound("hot", "start", token=b.token))) == ["name?"]
    assert texts(await rt.handle(Inbound("hot", "Bo", token=b.token))) == ["hello Bo"]
