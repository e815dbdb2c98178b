"""Telegram (the Bot API) against a real local stand-in of api.telegram.org that checks every
request (the token in its path, the JSON body): the secret header, the write-once dialog,
redelivered updates, menus as inline keyboards answered by callback queries, a rate limit that
passes, a photo fetched through getFile, files and templates out."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gb_server.channels.base import DeliveryFailed
from gb_server.channels.telegram import Telegram
from gb_sessions import OutboxItem, utcnow
from gb_sessions.config import Stores
from tests.helpers.bots import make_bot
from tests.helpers.platforms import Call, Platform, platform
from tests.helpers.servers import Server, gb_environ
from tests.server.inproc import InProcess, serving

TOKEN, SECRET = "123456:ABC-test-token", "webhook-secret_1"
LONG = "An option whose label is far longer than the sixty-four bytes of a callback"
DIALOGS = {
    "start": 'TALK "Hello! What is your name?"\nHEAR name\nTALK "Nice to meet you, " + name\n',
    "menu": 'HEAR pick AS "Red", "Green", "Blue"\nTALK "You chose " + pick\n',
    "long": f'HEAR pick AS "Short", "{LONG}"\nTALK "You chose " + pick\n',
    "photo": 'TALK "Send a picture"\nHEAR f AS FILE\nTALK "Got " + f.name + " (" + f.type + ")"\n',
}
PHOTO = b"\xff\xd8\xff\xe0 a JPEG's bytes"


def bot_api(call: Call) -> tuple[int, Any]:
    """Telegram's answers: 401 for any other token, as the real API does."""
    prefix = f"/bot{TOKEN}/"
    if call.path.startswith(f"/file/bot{TOKEN}/"):
        return 200, PHOTO
    if not call.path.startswith(prefix):
        return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
    method = call.path[len(prefix):]
    if method == "getFile":
        return 200, {"ok": True, "result": {"file_id": call.json()["file_id"], "file_unique_id": "u1",
                                            "file_size": len(PHOTO), "file_path": "photos/file_7.jpg"}}
    if method.startswith("send") and method != "sendChatAction":
        return 200, {"ok": True, "result": {"message_id": 1000 + len(call.body), "date": 1717000000,
                                            "chat": {"id": call.json()["chat_id"], "type": "private"}}}
    return 200, {"ok": True, "result": True}


def config(api: str, extra: str = "") -> str:
    return (f"telegram-token,env:GB_TEST_TG_TOKEN\ntelegram-secret,{SECRET}\ntelegram-api-url,{api}\n"
            f"outbox-retry-seconds,0.2\n{extra}")


@pytest.fixture
async def tg(channel_stores: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[InProcess,
                                                                                                      Platform]]:
    monkeypatch.setenv("GB_TEST_TG_TOKEN", TOKEN)
    async with platform(bot_api) as api:
        make_bot(tmp_path / "bots", "default", DIALOGS, config=config(api.url))
        async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
            yield server, api


def chat() -> int:
    """A chat id of this test alone (the PostgreSQL database is shared by the run)."""
    return int(str(uuid.uuid4().int)[:12])


def update_id() -> int:
    return int(str(uuid.uuid4().int)[:9])


def user(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Ana", "language_code": "pt-br"}


def message(chat_id: int, fields: dict[str, Any], update: int | None = None) -> bytes:
    """An Update as Telegram sends it (one message of a private chat)."""
    return json.dumps({"update_id": update or update_id(), "message": {
        "message_id": update_id(), "from": user(chat_id), "chat": {"id": chat_id, "first_name": "Ana",
                                                                   "type": "private"},
        "date": 1717000000, **fields}}).encode()


def text(chat_id: int, body: str, update: int | None = None) -> bytes:
    return message(chat_id, {"text": body}, update)


async def post(server: InProcess, body: bytes, *, secret: str | None = SECRET, path: str = "/telegram"
               ) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with httpx.AsyncClient() as client:
        return await client.post(server.url + path, content=body, headers=headers)


def sent_to(api: Platform, chat_id: int, method: str = "/send") -> list[dict[str, Any]]:
    """The bodies of the messages sent to `chat_id` (typing is not one)."""
    return [c.json() for c in api.posts(method, accepted=True)
            if not c.path.endswith("/sendChatAction") and c.json()["chat_id"] == chat_id]


async def replies(api: Platform, chat_id: int, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        got = sent_to(api, chat_id)
        if len(got) >= count:
            return got
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {count} messages to {chat_id}, got {sent_to(api, chat_id)}")


async def test_a_forged_or_missing_secret_is_401_and_stores_nothing(tg: Any) -> None:
    server, api = tg
    chat_id = chat()
    body = text(chat_id, "hi")
    forged = await post(server, body, secret="not-the-secret")
    missing = await post(server, body, secret=None)
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "bad_secret"
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_secret"
    assert SECRET not in forged.text
    await asyncio.sleep(0.6)
    assert await server.runtime.store.find("default", "telegram", str(chat_id)) is None
    assert sent_to(api, chat_id) == []
    assert await server.runtime.channels.last_inbound("default", "telegram", str(chat_id)) is None


async def test_the_write_once_dialog_runs_over_telegram(tg: Any) -> None:
    server, api = tg
    chat_id = chat()
    first = await post(server, text(chat_id, "oi"))
    assert first.status_code == 200 and first.json() == {"ok": True}
    (hello,) = await replies(api, chat_id, 1)
    assert hello == {"chat_id": chat_id, "text": "Hello! What is your name?"}
    call = api.posts("/sendMessage")[0]
    assert call.path == f"/bot{TOKEN}/sendMessage" and call.headers["content-type"] == "application/json"
    typing = [c.json() for c in api.posts(f"/bot{TOKEN}/sendChatAction") if c.json()["chat_id"] == chat_id]
    assert typing and typing[0] == {"chat_id": chat_id, "action": "typing"}
    assert (await post(server, text(chat_id, "Ana"), path="/default/telegram")).status_code == 200
    _, nice = await replies(api, chat_id, 2)
    assert nice == {"chat_id": chat_id, "text": "Nice to meet you, Ana"}
    sid = await server.runtime.store.find("default", "telegram", str(chat_id))
    assert sid is not None
    history = [(m.role, m.content, m.channel) for m in await server.runtime.history(sid)]
    assert history == [("user", "oi", "telegram"), ("assistant", "Hello! What is your name?", "telegram"),
                       ("user", "Ana", "telegram"), ("assistant", "Nice to meet you, Ana", "telegram")]
    queue = server.runtime.channels
    for _ in range(100):
        rows = [o for o in await queue.outbox(bot_id="default") if o.address == str(chat_id)]
        if all(o.status == "sent" for o in rows):
            break
        await asyncio.sleep(0.05)
    assert [o.status for o in rows] == ["sent", "sent"] and all(o.platform_id and o.platform_id.isdigit()
                                                               for o in rows)


async def test_a_redelivered_update_runs_the_dialog_once(tg: Any) -> None:
    server, api = tg
    chat_id = chat()
    await post(server, text(chat_id, "oi"))
    await replies(api, chat_id, 1)
    body = text(chat_id, "Bia", update=update_id())
    answers = await asyncio.gather(*(post(server, body) for _ in range(3)))
    assert [a.status_code for a in answers] == [200, 200, 200]
    await replies(api, chat_id, 2)
    await asyncio.sleep(0.8)  # a second run would have sent by now
    assert [m["text"] for m in sent_to(api, chat_id)] == ["Hello! What is your name?", "Nice to meet you, Bia"]
    sid = await server.runtime.store.find("default", "telegram", str(chat_id))
    assert sid is not None
    assert [m.content for m in await server.runtime.history(sid) if m.role == "user"] == ["oi", "Bia"]


def click(chat_id: int, menu: dict[str, Any], data: str, query_id: str) -> bytes:
    """The callback_query of a button of `menu` (the message the bot sent, as Telegram echoes it)."""
    return json.dumps({"update_id": update_id(), "callback_query": {
        "id": query_id, "from": user(chat_id), "chat_instance": "-42", "data": data,
        "message": {"message_id": 77, "date": 1717000000, "chat": {"id": chat_id, "type": "private"},
                    "text": menu["text"], "reply_markup": menu["reply_markup"]}}}).encode()


async def menu_of(server: InProcess, api: Platform, chat_id: int, dialog: str, count: int) -> dict[str, Any]:
    await post(server, text(chat_id, dialog))
    (*_, menu) = await replies(api, chat_id, count)
    return menu


async def test_a_menu_is_an_inline_keyboard_and_a_click_answers_it(tg: Any) -> None:
    server, api = tg
    chat_id = chat()
    await post(server, text(chat_id, "oi"))
    await post(server, text(chat_id, "Ana"))
    await replies(api, chat_id, 2)
    menu = await menu_of(server, api, chat_id, "menu", 3)
    assert menu["reply_markup"] == {"inline_keyboard": [[{"text": "Red", "callback_data": "Red"}],
                                                        [{"text": "Green", "callback_data": "Green"}],
                                                        [{"text": "Blue", "callback_data": "Blue"}]]}
    query_id = f"q{uuid.uuid4().hex[:10]}"
    assert (await post(server, click(chat_id, menu, "Green", query_id))).status_code == 200
    (*_, chose) = await replies(api, chat_id, 4)
    assert chose == {"chat_id": chat_id, "text": "You chose Green"}
    answered = await api.wait_for(1, f"/bot{TOKEN}/answerCallbackQuery")
    assert [c.json() for c in answered if c.json()["callback_query_id"] == query_id] == [
        {"callback_query_id": query_id}]
    # an option over 64 bytes: its index in callback_data, its label read back from the keyboard
    long_menu = await menu_of(server, api, chat_id, "long", 5)
    buttons = [row[0] for row in long_menu["reply_markup"]["inline_keyboard"]]
    assert buttons == [{"text": "Short", "callback_data": "Short"}, {"text": LONG, "callback_data": "opt2"}]
    await post(server, click(chat_id, long_menu, "opt2", f"q{uuid.uuid4().hex[:10]}"))
    (*_, chose_long) = await replies(api, chat_id, 6)
    assert chose_long["text"] == "You chose " + LONG
    sid = await server.runtime.store.find("default", "telegram", str(chat_id))
    assert sid is not None
    assert [m.content for m in await server.runtime.history(sid) if m.role == "user"][-3:] == ["Green", "long", LONG]


async def test_a_rate_limit_is_waited_out_and_the_message_delivered_once(channel_stores: Stores, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GB_TEST_TG_TOKEN", TOKEN)
    limited = {"left": 1, "at": 0.0}
    loop = asyncio.get_running_loop()

    def flooded(call: Call) -> tuple[int, Any]:
        if call.path.endswith("/sendMessage") and limited["left"] > 0:
            limited["left"] -= 1
            limited["at"] = loop.time()
            return 429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                         "parameters": {"retry_after": 1}}
        return bot_api(call)

    async with platform(flooded) as api:
        make_bot(tmp_path / "bots", "default", DIALOGS, config=config(api.url))
        async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
            chat_id = chat()
            await post(server, text(chat_id, "oi"))
            (hello,) = await replies(api, chat_id, 1)
            assert hello["text"] == "Hello! What is your name?"
            tries = [c for c in api.posts("/sendMessage") if c.json()["chat_id"] == chat_id]
            assert [c.status for c in tries] == [429, 200]
            assert loop.time() - limited["at"] >= 0.9  # its retry_after (1 s), not the bot's 0.2 s
            await asyncio.sleep(0.5)
            assert len(sent_to(api, chat_id)) == 1
            queue = server.runtime.channels
            (row,) = [o for o in await queue.outbox(bot_id="default") if o.address == str(chat_id)]
            assert row.status == "sent" and row.attempts == 2


async def test_a_photo_is_fetched_through_get_file_and_heard_as_a_file(tg: Any) -> None:
    server, api = tg
    chat_id = chat()
    await post(server, text(chat_id, "oi"))
    await post(server, text(chat_id, "Ana"))
    await replies(api, chat_id, 2)
    await post(server, text(chat_id, "photo"))
    await replies(api, chat_id, 3)
    sizes = [{"file_id": f"small-{chat_id}", "file_unique_id": "s", "width": 90, "height": 60, "file_size": 900},
             {"file_id": f"large-{chat_id}", "file_unique_id": "l", "width": 1280, "height": 853, "file_size": 9000}]
    assert (await post(server, message(chat_id, {"photo": sizes, "caption": "my cat"}))).status_code == 200
    (*_, got) = await replies(api, chat_id, 4)
    assert got["text"] == "Got file_7.jpg (image/jpeg)"
    lookups = [c.json() for c in api.posts(f"/bot{TOKEN}/getFile")]
    assert {"file_id": f"large-{chat_id}"} in lookups and {"file_id": f"small-{chat_id}"} not in lookups
    downloads = [c for c in api.calls if c.method == "GET" and c.path == f"/file/bot{TOKEN}/photos/file_7.jpg"]
    assert downloads


def outbox_item(chat_id: int, payload: dict[str, Any]) -> OutboxItem:
    return OutboxItem(1, None, None, "default", "telegram", str(chat_id), payload, "pending", 0, utcnow(),
                      utcnow() - dt.timedelta(seconds=1))


async def test_a_file_goes_by_its_public_url_and_a_template_fails_clearly(tg: Any) -> None:
    server, api = tg
    adapter = server.ctx.channels.get("default", "telegram")
    assert isinstance(adapter, Telegram)
    adapter.public_url = "https://bots.example.com"
    chat_id = chat()
    photo = await adapter.send(outbox_item(chat_id, {"content": "Your chart", "file": {
        "name": "chart.png", "type": "image/png", "size": 10, "url": "/default/files/chart.png"}}))
    pdf = await adapter.send(outbox_item(chat_id, {"content": "", "file": {
        "name": "r.pdf", "type": "application/pdf", "size": 10, "url": "https://cdn.example.com/r.pdf"}}))
    assert photo and photo.isdigit() and pdf and pdf.isdigit()
    assert sent_to(api, chat_id, "/sendPhoto") == [
        {"chat_id": chat_id, "photo": "https://bots.example.com/default/files/chart.png", "caption": "Your chart"}]
    assert sent_to(api, chat_id, "/sendDocument") == [
        {"chat_id": chat_id, "document": "https://cdn.example.com/r.pdf"}]
    with pytest.raises(DeliveryFailed) as refused:
        await adapter.send(outbox_item(chat_id, {"content": "", "template": {"name": "hello_world"}}))
    assert refused.value.retry is False and "Telegram has none" in str(refused.value)
    assert [c for c in api.calls if "template" in c.body.decode(errors="replace")] == []


async def test_telegram_refusals_say_what_and_whether_to_retry(tg: Any) -> None:
    server, _ = tg
    adapter = server.ctx.channels.get("default", "telegram")
    assert isinstance(adapter, Telegram)
    adapter.config = type(adapter.config)("default", {"telegram-token": "999:wrong", "telegram-secret": SECRET,
                                                      "telegram-api-url": adapter.api})
    with pytest.raises(DeliveryFailed) as refused:
        await adapter.send(outbox_item(chat(), {"content": "hi"}))
    assert refused.value.retry is False
    assert "sendMessage answered 401: Unauthorized" in str(refused.value) and "999:wrong" not in str(refused.value)
    await adapter.typing(str(chat()))  # best effort: a refusal does not raise


async def test_gb_serve_never_logs_the_token_of_the_urls_it_calls(tmp_path: Path) -> None:
    """Every Bot API URL holds the token (``/bot<token>/sendMessage``): httpx logs URLs at INFO."""
    async with platform(bot_api) as api:
        make_bot(tmp_path / "bots", "default", DIALOGS, config=config(api.url))
        env = gb_environ(tmp_path / "bots", tmp_path / "data", GB_TEST_TG_TOKEN=TOKEN)
        with Server(env, tmp_path / "serve.log") as server:
            chat_id = chat()
            async with httpx.AsyncClient() as client:
                answer = await client.post(server.url + "/telegram", content=text(chat_id, "oi"), headers={
                    "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET})
            assert answer.status_code == 200
            (hello,) = await replies(api, chat_id, 1, timeout=30)
            assert hello["text"] == "Hello! What is your name?"
            assert api.posts(f"/bot{TOKEN}/sendMessage")
        log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "serving bots" in log and TOKEN not in log and TOKEN.split(":")[1] not in log


async def test_bodies_that_are_not_updates_are_400_and_edits_and_service_messages_are_not_turns(tg: Any) -> None:
    server, api = tg
    chat_id = chat()
    not_json = await post(server, b"{not json")
    no_update_id = await post(server, json.dumps({"message": {"text": "hi"}}).encode())
    a_list = await post(server, b"[1, 2]")
    assert [r.status_code for r in (not_json, no_update_id, a_list)] == [400, 400, 400]
    assert no_update_id.json()["error"]["code"] == "bad_request" and "update_id" in no_update_id.text
    edited = json.dumps({"update_id": update_id(), "edited_message": {
        "message_id": 5, "from": user(chat_id), "chat": {"id": chat_id, "type": "private"}, "date": 1717000000,
        "edit_date": 1717000100, "text": "an edit"}}).encode()
    joined = message(chat_id, {"new_chat_members": [user(chat_id)]})
    sticker = message(chat_id, {"sticker": {"file_id": "stk", "file_unique_id": "s", "width": 512, "height": 512,
                                            "is_animated": False, "is_video": False, "type": "regular"}})
    for body in (edited, joined, sticker):
        answer = await post(server, body)
        assert answer.status_code == 200 and answer.json() == {"ok": True}
    await asyncio.sleep(0.6)
    assert await server.runtime.channels.last_inbound("default", "telegram", str(chat_id)) is None
    assert sent_to(api, chat_id) == []


async def test_a_long_text_is_sent_in_parts_and_a_long_menu_as_numbered_text(tg: Any) -> None:
    server, api = tg
    adapter = server.ctx.channels.get("default", "telegram")
    assert isinstance(adapter, Telegram)
    chat_id = chat()
    long_text = "\n".join(f"line {i:04d} " + "x" * 40 for i in range(150))  # about 7,800 characters
    last = await adapter.send(outbox_item(chat_id, {"content": long_text, "choices": ["Yes", "No"]}))
    parts = sent_to(api, chat_id)
    assert len(parts) == 2 and all(len(p["text"]) <= 4096 for p in parts)
    assert "\n".join(p["text"] for p in parts) == long_text and parts[0]["text"].endswith("x")
    assert "reply_markup" not in parts[0] and parts[1]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Yes"
    assert last == str(1000 + len(api.posts("/sendMessage")[-1].body))
    many = [f"option {i}" for i in range(101)]
    await adapter.send(outbox_item(chat_id, {"content": "Pick one", "choices": many}))
    (*_, numbered) = sent_to(api, chat_id)
    assert "reply_markup" not in numbered and numbered["text"].startswith("Pick one\n1. option 0\n2. option 1\n")


async def test_a_caption_over_telegrams_limit_goes_first_as_text_and_a_retry_resumes_after_the_parts_sent(
        tg: Any) -> None:
    """A file's caption holds 1,024 characters: a longer text goes first, as a message, and the
    file after it without one. An outbound message whose payload says its first part went
    (``parts_sent``, kept by a failed attempt) sends only the rest."""
    server, api = tg
    adapter = server.ctx.channels.get("default", "telegram")
    assert isinstance(adapter, Telegram)
    chat_id = chat()
    caption = " ".join(f"c{i}" for i in range(400))  # 1,889 characters
    photo = {"name": "chart.png", "type": "image/png", "size": 10, "url": "https://cdn.example.com/chart.png"}
    await adapter.send(outbox_item(chat_id, {"content": caption, "file": photo}))
    assert [c.path.rsplit("/", 1)[1] for c in api.posts(f"/bot{TOKEN}/") if c.json()["chat_id"] == chat_id] == [
        "sendMessage", "sendPhoto"]
    assert sent_to(api, chat_id) == [{"chat_id": chat_id, "text": caption},
                                     {"chat_id": chat_id, "photo": photo["url"]}]
    again = chat()
    long_text = "\n".join(f"line {i:04d} " + "x" * 40 for i in range(150))  # two messages
    await adapter.send(outbox_item(again, {"content": long_text, "parts_sent": 1}))
    (rest,) = sent_to(api, again, "/sendMessage")
    assert long_text.endswith(rest["text"]) and not long_text.startswith(rest["text"])


async def test_telegram_5xx_is_retried_and_a_blocked_user_is_not(channel_stores: Stores, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GB_TEST_TG_TOKEN", TOKEN)
    blocked = chat()

    def answer(call: Call) -> tuple[int, Any]:
        if call.path.endswith("/sendMessage") and call.json()["chat_id"] == blocked:
            return 403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
        if call.path.endswith("/sendMessage") and len(api.posts("/sendMessage")) <= 2:
            return 502, b"<html>Bad Gateway</html>"
        return bot_api(call)

    async with platform(answer) as api:
        make_bot(tmp_path / "bots", "default", DIALOGS, config=config(api.url))
        async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
            queue = server.runtime.channels
            ok = chat()
            await post(server, text(ok, "oi"))
            await replies(api, ok, 1)
            await post(server, text(blocked, "oi"))
            for _ in range(200):
                rows = [o for o in await queue.outbox(bot_id="default") if o.address in (str(ok), str(blocked))]
                if sorted(o.status for o in rows) == ["dead", "sent"]:
                    break
                await asyncio.sleep(0.05)
            by = {o.address: o for o in rows}
            assert by[str(ok)].status == "sent" and by[str(ok)].attempts == 3
            assert by[str(blocked)].status == "dead" and by[str(blocked)].attempts == 1
            assert by[str(blocked)].error == ("Telegram's sendMessage answered 403: Forbidden: bot was blocked by "
                                              "the user")


def test_split_text_cuts_at_a_line_break_else_a_space_else_the_limit_and_loses_nothing() -> None:
    from gb_server.channels.base import split_text

    assert split_text("", 10) == [""] and split_text("short", 10) == ["short"]
    assert split_text("first line\nsecond line", 15) == ["first line", "second line"]
    assert split_text("one two three four", 9) == ["one two", "three", "four"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    text = " ".join(f"w{i}" for i in range(500))
    parts = split_text(text, 160)
    assert all(0 < len(p) <= 160 for p in parts) and " ".join(parts) == text
