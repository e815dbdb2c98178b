"""WhatsApp (Meta's Cloud API) against a real local stand-in of the Graph API that checks every
request: the subscribe handshake, signatures, the write-once dialog, redelivery, menus as reply
buttons and lists, delivery statuses, the 24-hour window, and a Graph API that fails then recovers."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event as sa_event

from gb_sessions.config import Stores
from tests.helpers.bots import make_bot
from tests.helpers.platforms import Call, Platform, meta_signature, platform
from tests.server.inproc import InProcess, serving

SECRET, TOKEN, PHONE_ID, VERIFY = "app-secret-1", "graph-token-1", "1234567890", "verify-me"
LONG = " ".join(f"w{i}" for i in range(1000))  # 4,889 characters: over a text message's 4,096
LONG_MENU = " ".join(f"m{i}" for i in range(400))  # 1,889: over a menu's body of 1,024
DIALOGS = {
    "start": 'TALK "Hello! What is your name?"\nHEAR name\nTALK "Nice to meet you, " + name\n',
    "long": f'TALK "{LONG}"\nTALK "after"\n',
    "longmenu": f'TALK "{LONG_MENU}"\nHEAR pick AS "Red", "Green", "Blue"\nTALK "You chose " + pick\n',
    "menu": 'HEAR pick AS "Red", "Green", "Blue"\nTALK "You chose " + pick\n',
    "many": 'HEAR pick AS "a", "b", "c", "d", "e"\nTALK "got " + pick\n',
    "notify": 'TALK TO "5511000000000", "A message for someone who never wrote"\nTALK "done"\n',
    "remind": 'SEND TEMPLATE "order_ready", "whatsapp", "5511000000001", ["Ana", 42]\nTALK "sent"\n',
    "elsewhere": 'SEND TEMPLATE "order_ready", "telegram", "42"\nTALK "not reached"\n',
}


def graph(call: Call) -> tuple[int, Any]:
    return 200, {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.OUT{uuid.uuid4().hex[:12]}"}]}


def config(api: str, extra: str = "") -> str:
    return (f"whatsapp-app-secret,env:GB_TEST_WA_SECRET\nwhatsapp-token,{TOKEN}\n"
            f"whatsapp-phone-number-id,{PHONE_ID}\nwhatsapp-verify-token,{VERIFY}\nwhatsapp-api-url,{api}\n"
            f"outbox-retry-seconds,0.2\n{extra}")


@pytest.fixture
async def wa(channel_stores: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[InProcess,
                                                                                                      Platform]]:
    monkeypatch.setenv("GB_TEST_WA_SECRET", SECRET)
    async with platform(graph) as api:
        make_bot(tmp_path / "bots", "default", DIALOGS, config=config(api.url))
        async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
            yield server, api


def phone() -> str:
    return "55119" + str(uuid.uuid4().int)[:8]


def event(sender: str, message: dict[str, Any], name: str = "Ana") -> bytes:
    """A webhook body as Meta sends it (one message)."""
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001234", "phone_number_id": PHONE_ID},
            "contacts": [{"profile": {"name": name}, "wa_id": sender}],
            "messages": [{"from": sender, "timestamp": "1717000000", **message}]}}]}]}).encode()


def text(sender: str, body: str, wamid: str | None = None) -> bytes:
    return event(sender, {"id": wamid or f"wamid.{uuid.uuid4().hex}", "type": "text", "text": {"body": body}})


async def post(server: InProcess, body: bytes, *, signature: str | None = "good", path: str = "/whatsapp"
               ) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature == "good":
        headers["X-Hub-Signature-256"] = meta_signature(SECRET, body)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    async with httpx.AsyncClient() as client:
        return await client.post(server.url + path, content=body, headers=headers)


def sent_to(api: Platform, address: str) -> list[dict[str, Any]]:
    return [c.json() for c in api.posts(f"/{PHONE_ID}/messages", accepted=True) if c.json()["to"] == address]


async def replies(api: Platform, address: str, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        got = sent_to(api, address)
        if len(got) >= count:
            return got
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {count} messages to {address}, got {sent_to(api, address)}")


async def past_the_greeting(server: InProcess, api: Platform) -> str:
    """A new sender who has said hello and their name (start.bas answered twice): its number."""
    sender = phone()
    await post(server, text(sender, "oi"))
    await post(server, text(sender, "Ana"))
    await replies(api, sender, 2)
    return sender


async def test_the_subscribe_handshake_answers_the_challenge_only_with_the_verify_token(wa: Any) -> None:
    server, _ = wa
    async with httpx.AsyncClient() as client:
        ok = await client.get(server.url + "/whatsapp", params={
            "hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"})
        wrong = await client.get(server.url + "/whatsapp", params={
            "hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"})
        other_bot = await client.get(server.url + "/nobot/whatsapp", params={"hub.mode": "subscribe"})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert wrong.status_code == 403 and "hub.verify_token" in wrong.json()["error"]["message"]
    assert other_bot.status_code == 404


async def test_a_forged_or_missing_signature_is_401_and_stores_nothing(wa: Any) -> None:
    server, api = wa
    sender = phone()
    body = text(sender, "hi")
    forged = await post(server, body, signature=meta_signature("not-the-secret", body))
    missing = await post(server, body, signature=None)
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "bad_signature"
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_signature"
    # a body signed, then changed (Meta signs the raw bytes)
    tampered = await post(server, body.replace(b"hi", b"ho"), signature=meta_signature(SECRET, body))
    assert tampered.status_code == 401
    await asyncio.sleep(0.6)
    assert await server.runtime.store.find("default", "whatsapp", sender) is None
    assert sent_to(api, sender) == []


async def test_the_write_once_dialog_runs_over_whatsapp(wa: Any) -> None:
    server, api = wa
    sender = phone()
    first = await post(server, text(sender, "oi"))
    assert first.status_code == 200
    (hello,) = await replies(api, sender, 1)
    assert hello == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": sender,
                     "type": "text", "text": {"body": "Hello! What is your name?", "preview_url": False}}
    call = api.posts(f"/{PHONE_ID}/messages")[0]
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert (await post(server, text(sender, "Ana"))).status_code == 200
    _, nice = await replies(api, sender, 2)
    assert nice["text"]["body"] == "Nice to meet you, Ana"
    sid = await server.runtime.store.find("default", "whatsapp", sender)
    assert sid is not None
    history = [(m.role, m.content, m.channel) for m in await server.runtime.history(sid)]
    assert history == [("user", "oi", "whatsapp"), ("assistant", "Hello! What is your name?", "whatsapp"),
                       ("user", "Ana", "whatsapp"), ("assistant", "Nice to meet you, Ana", "whatsapp")]


async def test_a_redelivered_webhook_runs_the_dialog_once(wa: Any) -> None:
    server, api = wa
    sender = phone()
    await post(server, text(sender, "oi"))
    await replies(api, sender, 1)
    body = text(sender, "Bia", wamid="wamid.SAME-" + sender)
    answers = await asyncio.gather(*(post(server, body) for _ in range(3)))
    assert [a.status_code for a in answers] == [200, 200, 200]
    await replies(api, sender, 2)
    await asyncio.sleep(0.8)  # a second run would have sent by now
    assert [m["text"]["body"] for m in sent_to(api, sender)] == ["Hello! What is your name?", "Nice to meet you, Bia"]
    sid = await server.runtime.store.find("default", "whatsapp", sender)
    assert sid is not None
    assert [m.content for m in await server.runtime.history(sid) if m.role == "user"] == ["oi", "Bia"]
    async with httpx.AsyncClient() as client:
        metrics = (await client.get(server.url + "/metrics")).text
    assert 'gb_channel_inbound_total{bot="default",channel="whatsapp",outcome="redelivered"} 2.0' in metrics
    assert 'gb_channel_outbound_total{channel="whatsapp",outcome="sent"}' in metrics


async def test_menus_are_reply_buttons_or_a_list_and_a_button_reply_answers(wa: Any) -> None:
    server, api = wa
    sender = await past_the_greeting(server, api)
    await post(server, text(sender, "menu"))
    (*_, menu) = await replies(api, sender, 3)
    assert menu["type"] == "interactive"
    assert menu["interactive"]["type"] == "button"
    assert [b["reply"]["title"] for b in menu["interactive"]["action"]["buttons"]] == ["Red", "Green", "Blue"]
    click = event(sender, {"id": f"wamid.{uuid.uuid4().hex}", "type": "interactive",
                           "interactive": {"type": "button_reply", "button_reply": {"id": "opt2", "title": "Green"}}})
    await post(server, click)
    (*_, chose) = await replies(api, sender, 4)
    assert chose["text"]["body"] == "You chose Green"
    await post(server, text(sender, "many"))
    (*_, many) = await replies(api, sender, 5)
    assert many["interactive"]["type"] == "list"
    rows = many["interactive"]["action"]["sections"][0]["rows"]
    assert [r["title"] for r in rows] == ["a", "b", "c", "d", "e"]


async def test_a_text_over_metas_limits_goes_in_parts_the_menu_last(wa: Any) -> None:
    """Meta refuses a text body over 4,096 characters and a menu's body over 1,024: a reply of
    4,889 is two text messages; a menu after 1,889 is a text message, then the buttons with the
    text's end as their body. Cut between words, in order, nothing lost."""
    server, api = wa
    sender = await past_the_greeting(server, api)
    await post(server, text(sender, "long"))
    *_, first, second, after = await replies(api, sender, 5)
    assert [m["type"] for m in (first, second, after)] == ["text"] * 3
    assert all(len(m["text"]["body"]) <= 4096 for m in (first, second))
    assert first["text"]["body"] + " " + second["text"]["body"] == LONG and after["text"]["body"] == "after"
    await post(server, text(sender, "longmenu"))
    *_, lead, menu = await replies(api, sender, 7)
    assert lead["type"] == "text" and menu["type"] == "interactive" and menu["interactive"]["type"] == "button"
    body = menu["interactive"]["body"]["text"]
    assert len(body) <= 1024 and lead["text"]["body"] + " " + body == LONG_MENU
    assert [b["reply"]["title"] for b in menu["interactive"]["action"]["buttons"]] == ["Red", "Green", "Blue"]


async def test_delivery_statuses_are_recorded_on_the_outbound_message_not_as_user_messages(wa: Any) -> None:
    server, api = wa
    sender = phone()
    await post(server, text(sender, "oi"))
    await replies(api, sender, 1)
    queue = server.runtime.channels
    assert queue is not None
    for _ in range(100):
        (row,) = [o for o in await queue.outbox(bot_id="default") if o.address == sender]
        if row.status == "sent":
            break
        await asyncio.sleep(0.05)
    assert row.status == "sent" and row.platform_id and row.platform_id.startswith("wamid.OUT")
    status = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp", "statuses": [
            {"id": row.platform_id, "status": "read", "timestamp": "1717000001", "recipient_id": sender}]}}]}]})
    assert (await post(server, status.encode())).status_code == 200
    (after,) = [o for o in await queue.outbox(bot_id="default") if o.address == sender]
    assert after.delivery == "read"
    sid = await server.runtime.store.find("default", "whatsapp", sender)
    assert sid is not None
    assert [m.content for m in await server.runtime.history(sid) if m.role == "user"] == ["oi"]


async def test_outside_the_24_hour_window_a_free_form_message_fails_clearly(wa: Any) -> None:
    server, api = wa
    sender = phone()
    await post(server, text(sender, "oi"))
    await post(server, text(sender, "Ana"))
    await post(server, text(sender, "notify"))
    (*_, done) = await replies(api, sender, 3)
    assert done["text"]["body"] == "done"
    queue = server.runtime.channels
    (dead,) = [o for o in await queue.outbox(bot_id="default") if o.address == "5511000000000"]
    for _ in range(100):
        (dead,) = [o for o in await queue.outbox(bot_id="default") if o.address == "5511000000000"]
        if dead.status == "dead":
            break
        await asyncio.sleep(0.05)
    assert dead.status == "dead" and dead.attempts == 1
    assert "24-hour window" in (dead.error or "") and "SEND TEMPLATE" in (dead.error or "")
    assert sent_to(api, "5511000000000") == []


async def test_inside_the_window_replies_go_without_asking_the_inbox_each_time(wa: Any, channel_stores: Stores) -> None:
    """The dispatcher remembers when the address last wrote (the messages it handled): no
    last_inbound query per send while the window is open."""
    server, api = wa
    sender = phone()
    asked: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "max(inbox.received_at)" in statement:
            asked.append(statement)

    sa_event.listen(channel_stores.engine.sync_engine, "before_cursor_execute", seen)
    try:
        await post(server, text(sender, "oi"))
        await post(server, text(sender, "Ana"))
        got = await replies(api, sender, 2)
    finally:
        sa_event.remove(channel_stores.engine.sync_engine, "before_cursor_execute", seen)
    assert [m["text"]["body"] for m in got] == ["Hello! What is your name?", "Nice to meet you, Ana"]
    assert asked == []


async def test_a_graph_api_that_fails_then_recovers_delivers_once_in_order(channel_stores: Stores, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GB_TEST_WA_SECRET", SECRET)
    failing = {"left": 4}

    def flaky(call: Call) -> tuple[int, Any]:
        if call.path.endswith("/messages") and failing["left"] > 0:
            failing["left"] -= 1
            return 503, {"error": {"message": "Service temporarily unavailable", "code": 2}}
        return graph(call)

    async with platform(flaky) as api:
        make_bot(tmp_path / "bots", "default", DIALOGS, config=config(api.url))
        async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
            sender = phone()
            await post(server, text(sender, "oi"))
            await post(server, text(sender, "Ana"))
            got = await replies(api, sender, 2, timeout=30)
            await asyncio.sleep(0.5)
            assert [m["text"]["body"] for m in sent_to(api, sender)] == [
                "Hello! What is your name?", "Nice to meet you, Ana"]
            tries = [c for c in api.posts(f"/{PHONE_ID}/messages") if c.json()["to"] == sender]
            assert len(tries) == 6 and len(got) == 2  # four 503s, then each once
            queue = server.runtime.channels
            rows = [o for o in await queue.outbox(bot_id="default") if o.address == sender]
            assert [o.status for o in rows] == ["sent", "sent"]
            assert rows[0].attempts == 5 and "503" not in (rows[1].error or "")


async def test_send_template_reaches_an_address_outside_the_window_and_a_channel_off_fails_clearly(wa: Any) -> None:
    server, api = wa
    sender = phone()
    await post(server, text(sender, "oi"))
    await post(server, text(sender, "Ana"))
    await post(server, text(sender, "remind"))
    (*_, sent) = await replies(api, sender, 3)
    assert sent["text"]["body"] == "sent"
    (template,) = await replies(api, "5511000000001", 1)
    assert template == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "5511000000001",
                        "type": "template", "template": {"name": "order_ready", "language": {"code": "en_US"},
                                                         "components": [{"type": "body", "parameters": [
                                                             {"type": "text", "text": "Ana"},
                                                             {"type": "text", "text": "42"}]}]}}
    await post(server, text(sender, "elsewhere"))
    (*_, failed) = await replies(api, sender, 4)
    assert "channel not configured" in failed["text"]["body"] or "wrong" in failed["text"]["body"]
    sid = await server.runtime.store.find("default", "whatsapp", sender)
    assert sid is not None
    history = [m.content for m in await server.runtime.history(sid, roles=("user", "assistant", "system"))]
    assert "SEND TEMPLATE order_ready to 5511000000001" in history
    assert "not reached" not in history


async def test_a_message_gb_refuses_fails_once_with_its_reason_and_the_next_one_goes_on(wa: Any) -> None:
    server, api = wa
    sender = phone()
    await post(server, text(sender, "oi"))
    await replies(api, sender, 1)
    too_long = text(sender, "x" * 5000, wamid="wamid.LONG-" + sender)
    assert (await post(server, too_long)).status_code == 200  # stored: the platform must not send it again
    await post(server, text(sender, "Ana"))
    (_, nice) = await replies(api, sender, 2)
    assert nice["text"]["body"] == "Nice to meet you, Ana"
    queue = server.runtime.channels
    row_id, new = await queue.receive("default", "whatsapp", "wamid.LONG-" + sender, sender, {})
    item = await queue.inbox(row_id)
    assert not new and item is not None
    assert (item.status, item.attempts) == ("failed", 1) and "5,000 characters" in (item.error or "")


async def test_after_the_session_ends_the_next_message_opens_a_new_conversation(wa: Any) -> None:
    server, api = wa
    sender = phone()
    await post(server, text(sender, "oi"))
    await post(server, text(sender, "Ana"))
    await replies(api, sender, 2)  # the address's session is remembered by now
    first = await server.runtime.store.find("default", "whatsapp", sender)
    assert first is not None
    await server.runtime.end(first)
    await post(server, text(sender, "oi de novo"))
    (*_, again) = await replies(api, sender, 3)
    assert again["text"]["body"] == "Hello! What is your name?"
    second = await server.runtime.store.find("default", "whatsapp", sender)
    assert second is not None and second != first
    assert [m.content for m in await server.runtime.history(second)] == ["oi de novo", "Hello! What is your name?"]


PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 40


async def test_a_photo_is_fetched_into_the_bots_storage_and_send_file_goes_by_its_public_link(
        channel_stores: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GB_TEST_WA_SECRET", SECRET)

    def media(call: Call) -> tuple[int, Any]:
        if call.method == "GET" and call.path == "/MEDIA-1":  # the media id's lookup (with the token)
            assert call.headers["authorization"] == f"Bearer {TOKEN}"
            return 200, {"url": f"{api.url}/cdn/photo-1", "mime_type": "image/jpeg", "id": "MEDIA-1"}
        if call.method == "GET" and call.path == "/cdn/photo-1":
            assert call.headers["authorization"] == f"Bearer {TOKEN}"
            return 200, PNG  # declared a JPEG; it is a PNG: the type comes from the content
        return graph(call)

    dialogs = {"start": 'HEAR photo AS IMAGE WITH "Send a photo"\nTALK "got " + photo.type + " " + photo.size\n'
                        'SEND FILE photo, "yours"\nSEND FILE "terms.pdf", "our terms"\n'}
    async with platform(media) as api:
        pkg = make_bot(tmp_path / "bots", "default", dialogs, config=config(api.url))
        drive = pkg / "default.gbdrive"
        drive.mkdir()
        (drive / "terms.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
        async with serving(channel_stores, tmp_path / "bots", tmp_path / "data",
                           public_url="https://bots.example.com") as server:
            sender = phone()
            await post(server, text(sender, "oi"))
            (ask,) = await replies(api, sender, 1)
            assert ask["text"]["body"] == "Send a photo"
            photo = event(sender, {"id": f"wamid.{uuid.uuid4().hex}", "type": "image",
                                   "image": {"id": "MEDIA-1", "mime_type": "image/jpeg", "sha256": "x"}})
            await post(server, photo)
            _, got, mine, terms = await replies(api, sender, 4)
            assert got["text"]["body"] == f"got image/png {len(PNG)}"
            assert mine["type"] == "image" and mine["image"]["caption"] == "yours"
            assert mine["image"]["link"].startswith("https://bots.example.com/default/files/")
            assert terms["type"] == "document" and terms["document"]["filename"] == "terms.pdf"
            assert terms["document"]["caption"] == "our terms"
            async with httpx.AsyncClient() as client:  # the link serves the stored bytes
                path = mine["image"]["link"].removeprefix("https://bots.example.com")
                served = await client.get(server.url + path)
            assert served.content == PNG and served.headers["content-type"] == "image/png"


async def test_a_slow_turn_holds_back_only_its_own_sender(channel_stores: Stores, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # The dispatcher claims as places free: another sender's message, arriving while a turn
    # waits on a slow service, is answered meanwhile (a batch's next claim used to wait for all).
    monkeypatch.setenv("GB_TEST_WA_SECRET", SECRET)
    answered = asyncio.Event()

    async def api_or_slow(call: Call) -> tuple[int, Any]:
        if call.path == "/slow":
            await asyncio.sleep(4)
            answered.set()
            return 200, {"ok": True}
        return graph(call)

    async with platform(api_or_slow) as api:
        dialog = (f'DO\n  x = HEAR\n  IF x = "slow" THEN\n    r = GET "{api.url}/slow"\n  END IF\n'
                  f'  TALK "echo " + x\nLOOP\n')
        make_bot(tmp_path / "bots", "default", {"start": dialog}, config=config(api.url, "http-allow,127.0.0.1\n"))
        async with httpx.AsyncClient() as http, \
                serving(channel_stores, tmp_path / "bots", tmp_path / "data", http=http) as server:
            slow, fast = phone(), phone()
            for sender in (slow, fast):
                assert (await post(server, text(sender, "open"))).status_code == 200
            assert (await post(server, text(slow, "warm"))).status_code == 200
            await replies(api, slow, 1)
            assert (await post(server, text(slow, "slow"))).status_code == 200
            for _ in range(500):  # until its turn waits on the slow service
                if [c for c in api.calls if c.path == "/slow"]:
                    break
                await asyncio.sleep(0.02)
            else:
                raise AssertionError(f"the dialog did not call the slow service: {[c.path for c in api.calls]}")
            assert (await post(server, text(fast, "quick"))).status_code == 200
            assert [m["text"]["body"] for m in await replies(api, fast, 1, timeout=3)] == ["echo quick"]
            assert not answered.is_set()
            assert [m["text"]["body"] for m in await replies(api, slow, 2)] == ["echo warm", "echo slow"]
