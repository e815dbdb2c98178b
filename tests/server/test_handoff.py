"""One conversation across channels (TRANSFER_SESSION): started on the web, continued on
WhatsApp (where the user writes first: the bot may not, outside WhatsApp's 24-hour window), then
on Telegram, against real local stand-ins of both platforms' APIs; the old
channel's address stops reaching it; a logged-in user's conversation moves only to an address
linked to that user; TALK TO "channel:address" reaches another channel from a web chat."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gb_runtime import Inbound, Result
from gb_sessions.config import Stores
from tests.helpers.bots import make_bot
from tests.helpers.platforms import Call, Platform, platform
from tests.server import test_telegram as tg
from tests.server import test_whatsapp as wa
from tests.server.inproc import InProcess, serving


def phone() -> str:
    return "55119" + str(uuid.uuid4().int)[:8]


def dialogs(chat: int) -> dict[str, str]:
    return {
        "start": ('TALK "What is your name?"\nHEAR name\nTALK "Your WhatsApp number?"\nHEAR phone\n'
                  'TALK "Write to us on WhatsApp to go on"\nTRANSFER_SESSION "whatsapp", phone\n'
                  'HEAR order\n'
                  'TALK "One " + order + " for " + name\n'
                  f'TRANSFER_SESSION "telegram", "{chat}"\n'
                  'TALK "On Telegram now, " + name + ". Anything else?"\nHEAR more\n'
                  'TALK "Done: " + order + " and " + more\n'),
        "nowhere": 'TRANSFER_SESSION "telegram"\nTALK "not reached"\n',
        "typed": 'HEAR chat\nTRANSFER_SESSION "telegram", chat\nTALK "moved"\n',
        "linked": 'TRANSFER_SESSION "telegram"\nTALK "on your linked chat"\n',
        "unset": 'TRANSFER_SESSION "sms", "+15550001111"\nTALK "not reached"\n',
        "prove": ('HEAR chat\nSEND CODE "telegram", chat\nTALK "Type the code"\nHEAR typed\n'
                  'ok = VERIFY CODE typed\nIF ok THEN\n  TRANSFER_SESSION "telegram", chat\n  TALK "verified, moved"\n'
                  'ELSE\n  TALK "wrong code"\nEND IF\n'),
        "nightly": f'TALK "report ready"\nTALK TO "telegram:{chat}", "Your nightly report is ready"\n',
        "notify": 'HEAR chat\nTALK TO "telegram:" + chat, "Your order left the kitchen"\nTALK "told them"\n',
    }


def api_of(call: Call) -> tuple[int, Any]:
    """The Graph API's and the Bot API's answers, on one stand-in (each by its path)."""
    return tg.bot_api(call) if call.path.startswith(("/bot", "/file/")) else wa.graph(call)


@pytest.fixture
async def both(channel_stores: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
               ) -> AsyncIterator[tuple[InProcess, Platform, int]]:
    monkeypatch.setenv("GB_TEST_WA_SECRET", wa.SECRET)
    monkeypatch.setenv("GB_TEST_TG_TOKEN", tg.TOKEN)
    chat = tg.chat()
    async with platform(api_of) as api:
        config = wa.config(api.url) + tg.config(api.url).replace("outbox-retry-seconds,0.2\n", "")
        make_bot(tmp_path / "bots", "default", dialogs(chat), config=config)
        async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
            yield server, api, chat


async def telegram_texts(api: Platform, chat: int, count: int) -> list[str]:
    return [m["text"] for m in await tg.replies(api, chat, count)]


async def test_a_conversation_goes_from_the_web_to_whatsapp_to_telegram(both: Any) -> None:
    server, api, chat = both
    number = phone()
    async with httpx.AsyncClient(base_url=server.url) as web:
        started = (await web.post("/api/session")).json()
        token = {"Authorization": f"Bearer {started['token']}"}
        assert [m["content"] for m in started["messages"]] == ["What is your name?"]
        await web.post("/api/chat", json={"message": "Ana"}, headers=token)
        moved = await web.post("/api/chat", json={"message": number}, headers=token)
        assert moved.status_code == 200
        assert [m["content"] for m in moved.json()["messages"]] == ["Write to us on WhatsApp to go on"]

        # the web's token no longer reaches it
        refused = await web.post("/api/chat", json={"message": "still here?"}, headers=token)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "session_transferred"
        assert "whatsapp" in refused.json()["error"]["message"]

    # the first message on WhatsApp answers the waiting HEAR; the dialog moves on to Telegram
    assert (await wa.post(server, wa.text(number, "pizza"))).status_code == 200
    assert [m["text"]["body"] for m in await wa.replies(api, number, 1)] == ["One pizza for Ana"]
    assert await telegram_texts(api, chat, 1) == ["On Telegram now, Ana. Anything else?"]

    # WhatsApp's address stops reaching it: a message from there starts a conversation of its own
    assert (await wa.post(server, wa.text(number, "hello?"))).status_code == 200
    assert [m["text"]["body"] for m in await wa.replies(api, number, 2)][1] == "What is your name?"

    assert (await tg.post(server, tg.text(chat, "fries"))).status_code == 200
    assert (await telegram_texts(api, chat, 2))[1] == "Done: pizza and fries"

    session_id = uuid.UUID(started["session_id"])
    history = [(m.role, m.content, m.channel) for m in await server.runtime.history(session_id)]
    assert [h for h in history if h[0] == "user"] == [
        ("user", "Ana", "web"), ("user", number, "web"), ("user", "pizza", "whatsapp"), ("user", "fries", "telegram")]
    assert ("assistant", "One pizza for Ana", "whatsapp") in history
    assert ("assistant", "Done: pizza and fries", "telegram") in history


async def answered(server: InProcess, session_id: uuid.UUID, dialog: str, *answers: str,
                   token: str | None = None) -> Result:
    """Start `dialog` in the session and answer its HEARs (by the session's web token when
    given, else by its id): the last turn's result."""
    result = await server.runtime.start_dialog(session_id, dialog)
    for answer in answers:
        result = await server.runtime.handle(Inbound("default", answer, token=token,
                                                     session_id=None if token else session_id))
    return result


async def dialog_error(server: InProcess, dialog: str, *answers: str) -> str:
    started = await server.runtime.start("default", run_start=False)
    result = await answered(server, started.session_id, dialog, *answers, token=started.token)
    assert result.error is not None
    return str(result.error)


async def test_a_transfer_with_nowhere_to_go_or_to_a_channel_off_fails_clearly(both: Any) -> None:
    server, _, _ = both
    assert "no telegram address is known" in await dialog_error(server, "nowhere")
    assert "channel not configured" in await dialog_error(server, "unset")


async def test_a_logged_in_users_conversation_moves_only_to_a_linked_address(both: Any) -> None:
    server, api, _ = both
    users = server.runtime.users
    assert users is not None
    name = f"u{uuid.uuid4().hex[:10]}"
    user = await users.create(name, "secret-pass-1")
    linked, typed = tg.chat(), tg.chat()
    await users.link(user.id, "telegram", str(linked))

    started = await server.runtime.start("default", run_start=False)
    await server.runtime.login(started.session_id, name, "secret-pass-1")
    refused = await answered(server, started.session_id, "typed", str(typed))
    assert f"{typed} is not a verified telegram address" in str(refused.error)

    moved = await server.runtime.start_dialog(started.session_id, "linked")
    assert moved.error is None
    assert await telegram_texts(api, linked, 1) == ["on your linked chat"]
    assert [c for c in api.posts("/sendMessage") if c.json()["chat_id"] == typed] == []


async def test_an_anonymous_web_chat_moves_to_the_chat_it_gives(both: Any) -> None:
    server, api, _ = both
    chat = tg.chat()
    started = await server.runtime.start("default", run_start=False)
    result = await answered(server, started.session_id, "typed", str(chat), token=started.token)
    assert result.error is None
    assert await telegram_texts(api, chat, 1) == ["moved"]


async def test_talk_to_a_channel_address_from_a_web_chat(both: Any) -> None:
    server, api, _ = both
    chat = tg.chat()
    started = await server.runtime.start("default", run_start=False)
    result = await answered(server, started.session_id, "notify", str(chat), token=started.token)
    assert [r.content for r in result.replies if not r.to] == ["told them"]
    assert await telegram_texts(api, chat, 1) == ["Your order left the kitchen"]


async def test_a_code_sent_to_an_address_and_typed_back_proves_it_and_links_it_to_the_user(both: Any) -> None:
    server, api, _ = both
    users = server.runtime.users
    assert users is not None
    name, chat = f"u{uuid.uuid4().hex[:10]}", tg.chat()
    user = await users.create(name, "secret-pass-1")
    started = await server.runtime.start("default", run_start=False)
    await server.runtime.login(started.session_id, name, "secret-pass-1")

    async def say(text: str) -> list[str]:
        result = await server.runtime.handle(Inbound("default", text, session_id=started.session_id))
        assert result.error is None, result.error
        return [r.content for r in result.replies]

    await server.runtime.start_dialog(started.session_id, "prove")
    assert await say(str(chat)) == ["Type the code"]
    sent = await telegram_texts(api, chat, 1)
    code = sent[0].rpartition(" ")[2]
    assert sent[0] == f"Your code for default: {code}" and len(code) == 6 and code.isdigit()
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    assert await say(wrong) == ["wrong code"]
    assert await users.by_identity("telegram", str(chat)) is None
    history = [m.content for m in await server.runtime.history(started.session_id, roles=("system",))]
    assert not any(code in h for h in history)  # the code is not kept in the history

    await server.runtime.start_dialog(started.session_id, "prove")
    await say(str(chat))
    code = (await telegram_texts(api, chat, 2))[1].rpartition(" ")[2]
    assert await say(code) == ["verified, moved"]
    owner = await users.by_identity("telegram", str(chat))
    assert owner is not None and owner.id == user.id
    assert (await telegram_texts(api, chat, 3))[2] == "verified, moved"


async def test_a_login_from_a_channel_conversation_links_its_address(both: Any) -> None:
    server, _, _ = both
    users = server.runtime.users
    assert users is not None
    name, chat = f"u{uuid.uuid4().hex[:10]}", tg.chat()
    user = await users.create(name, "secret-pass-1")
    assert (await tg.post(server, tg.text(chat, "hi"))).status_code == 200
    session_id = None
    for _ in range(250):
        session_id = await server.runtime.store.find("default", "telegram", str(chat))
        if session_id is not None:
            break
        await asyncio.sleep(0.02)
    assert session_id is not None
    await server.runtime.login(session_id, name, "secret-pass-1")
    owner = await users.by_identity("telegram", str(chat))
    assert owner is not None and owner.id == user.id


async def test_a_scheduled_dialog_writes_to_a_channel_address_with_talk_to(both: Any) -> None:
    server, api, chat = both
    result = await server.runtime.run_schedule("default", "nightly")
    assert result is not None and result.error is None
    assert await telegram_texts(api, chat, 1) == ["Your nightly report is ready"]
