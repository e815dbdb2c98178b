"""Twilio SMS and voice against a real local stand-in of Twilio's REST API that checks every
request (basic auth, the Messages.json URL, the form): signatures (Twilio's documented recipe,
computed independently of the server's validator), the write-once dialog over SMS and over a
call, redelivery and retried calls, DTMF menus, XML escaping, the noinput re-ask, media, and a
REST API that fails then recovers."""

from __future__ import annotations

import asyncio
import base64
import logging
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web

from gb_server.channels.twilio import twilio_language
from gb_sessions.config import Stores
from tests.helpers.bots import make_bot
from tests.helpers.platforms import Call, Platform, platform, serve, twilio_signature
from tests.server.inproc import InProcess, serving

SID, TOKEN, NUMBER = "AC0123456789abcdef0123456789abcdef", "twilio-token-1", "+15550001234"
MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"
BASIC = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
DIALOGS = {"start": 'TALK "Hello! What is your name?"\nHEAR name\nTALK "Nice to meet you, " + name\n'}
MENU = {"start": 'TALK "Pick <one> & go"\nHEAR pick AS "Red", "Green", "Blue"\nTALK "You chose " + pick + " <&>"\n',
        "photo": 'HEAR photo AS FILE\nTALK "got " + photo.name\n'}


def rest(call: Call) -> tuple[int, Any]:
    """Twilio's REST API: only with the account's basic auth; 201 and the new message's sid.
    Also its media CDN (``/media/``: signed URLs, no auth)."""
    if call.path.startswith("/media/"):
        return 200, b"\x89PNG fake image bytes"
    if call.headers.get("authorization") != BASIC:
        return 401, {"code": 20003, "message": "Authenticate", "status": 401}
    if call.path == MESSAGES and call.method == "POST":
        return 201, {"sid": f"SM{uuid.uuid4().hex}", "status": "queued"}
    return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}


def config(api: str) -> str:
    return (f"twilio-account-sid,{SID}\ntwilio-auth-token,env:GB_TEST_TWILIO_TOKEN\ntwilio-number,{NUMBER}\n"
            f"twilio-api-url,{api}\noutbox-retry-seconds,0.2\n")


@pytest.fixture
async def tw(channel_stores: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[InProcess,
                                                                                                      Platform]]:
    monkeypatch.setenv("GB_TEST_TWILIO_TOKEN", TOKEN)
    async with platform(rest) as api:
        make_bot(tmp_path / "bots", "default", DIALOGS, config=config(api.url))
        make_bot(tmp_path / "bots", "menubot", MENU, config=config(api.url))
        async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
            yield server, api


def phone() -> str:
    return "+55119" + str(uuid.uuid4().int)[:8]


def sms(sender: str, body: str, sid: str | None = None, **more: str) -> dict[str, str]:
    """An inbound SMS webhook's form, as Twilio posts it."""
    sid = sid or f"SM{uuid.uuid4().hex}"
    return {"ToCountry": "US", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid,
            "SmsStatus": "received", "Body": body, "To": NUMBER, "NumSegments": "1",
            "MessageSid": sid, "AccountSid": SID, "From": sender, "ApiVersion": "2010-04-01",
            **more}


def voice(call: str, caller: str, **more: str) -> dict[str, str]:
    """A voice webhook's form (the call's first request; a Gather's answer adds SpeechResult or Digits)."""
    return {"AccountSid": SID, "ApiVersion": "2010-04-01", "CallSid": call, "CallStatus": "ringing",
            "Called": NUMBER, "Caller": caller, "Direction": "inbound", "From": caller, "To": NUMBER, **more}


async def post(url: str, params: dict[str, str], *, signature: str | None = "good",
               signed_url: str | None = None) -> httpx.Response:
    """POST a form to `url`, signed as Twilio signs it (over `signed_url`, default `url`)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "good":
        headers["X-Twilio-Signature"] = twilio_signature(TOKEN, signed_url or url, params)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    async with httpx.AsyncClient() as client:
        return await client.post(url, content=urllib.parse.urlencode(params).encode(), headers=headers)


def sent_to(api: Platform, address: str) -> list[dict[str, str]]:
    return [c.form() for c in api.posts(MESSAGES, accepted=True) if c.form()["To"] == address]


async def replies(api: Platform, address: str, count: int, timeout: float = 15.0) -> list[dict[str, str]]:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        got = sent_to(api, address)
        if len(got) >= count:
            return got
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {count} messages to {address}, got {sent_to(api, address)}")


def twiml(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.text)


def shape(root: ET.Element) -> list[Any]:
    """A TwiML document as (verb, text, children) triples: what a test compares."""
    return [(e.tag, (e.text or "").strip(), shape(e)) for e in root]


async def history(server: InProcess, channel: str, address: str, bot: str = "default") -> list[tuple[str, str]]:
    sid = await server.runtime.store.find(bot, channel, address)
    assert sid is not None
    return [(m.role, m.content) for m in await server.runtime.history(sid)]


# --- signatures ------------------------------------------------------------------------------------------
async def test_a_forged_or_missing_signature_is_403_and_stores_nothing(tw: Any) -> None:
    server, api = tw
    sender, call = phone(), f"CA{uuid.uuid4().hex}"
    for path, form in (("/twilio/sms", sms(sender, "hi")), ("/twilio/voice", voice(call, sender))):
        url = server.url + path
        forged = await post(url, form, signature=twilio_signature("not-the-token", url, form))
        missing = await post(url, form, signature=None)
        other_url = await post(url, form, signed_url=server.url + "/elsewhere")
        tampered = await post(url, {**form, "From": phone()}, signature=twilio_signature(TOKEN, url, form))
        assert forged.status_code == 403 and forged.json()["error"]["code"] == "bad_signature"
        assert missing.status_code == 403 and missing.json()["error"]["code"] == "missing_signature"
        assert other_url.status_code == 403 and tampered.status_code == 403
    await asyncio.sleep(0.6)
    assert await server.runtime.store.find("default", "sms", sender) is None
    assert await server.runtime.store.find("default", "voice", call) is None
    assert api.posts(MESSAGES) == []
    queue = server.runtime.channels
    assert queue is not None  # the run's database is shared: only this test's addresses are its own
    assert [o for o in await queue.outbox(bot_id="default", limit=10_000) if o.address in (sender, call)] == []


async def test_behind_a_proxy_the_signature_is_over_the_public_url(channel_stores: Stores, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GB_TEST_TWILIO_TOKEN", TOKEN)
    async with platform(rest) as api:
        make_bot(tmp_path / "bots", "default", DIALOGS, config=config(api.url))
        async with serving(channel_stores, tmp_path / "bots", tmp_path / "data",
                           public_url="https://bots.example.com/gb") as server:
            sender = phone()
            local = await post(server.url + "/twilio/sms", sms(sender, "hi"))
            assert local.status_code == 403
            public = await post(server.url + "/twilio/sms", sms(sender, "hi"),
                                signed_url="https://bots.example.com/gb/twilio/sms")
            assert public.status_code == 200
            (hello,) = await replies(api, sender, 1)
            assert hello["Body"] == "Hello! What is your name?"
            assert hello["StatusCallback"] == "https://bots.example.com/gb/default/twilio/sms"


# --- SMS -------------------------------------------------------------------------------------------------
async def test_the_write_once_dialog_runs_over_sms(tw: Any) -> None:
    server, api = tw
    sender = phone()
    first = await post(server.url + "/twilio/sms", sms(sender, "hi"))
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/xml")
    assert first.text == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    (hello,) = await replies(api, sender, 1)
    assert hello == {"To": sender, "From": NUMBER, "Body": "Hello! What is your name?"}
    call = api.posts(MESSAGES)[0]
    assert call.headers["authorization"] == BASIC
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert (await post(server.url + "/twilio/sms", sms(sender, "Ana"))).status_code == 200
    _, nice = await replies(api, sender, 2)
    assert nice["Body"] == "Nice to meet you, Ana"
    assert await history(server, "sms", sender) == [
        ("user", "hi"), ("assistant", "Hello! What is your name?"), ("user", "Ana"),
        ("assistant", "Nice to meet you, Ana")]
    queue = server.runtime.channels
    rows = [o for o in await queue.outbox(bot_id="default") if o.address == sender]
    for _ in range(100):
        if all(o.status == "sent" for o in rows):
            break
        await asyncio.sleep(0.05)
        rows = [o for o in await queue.outbox(bot_id="default") if o.address == sender]
    assert [o.status for o in rows] == ["sent", "sent"]
    assert all(o.platform_id and o.platform_id.startswith("SM") for o in rows)


async def test_whatsapp_through_twilio_keeps_its_address_and_a_status_callback_is_recorded(tw: Any) -> None:
    server, api = tw
    sender = "whatsapp:" + phone()
    await post(server.url + "/twilio/sms", sms(sender, "oi", ProfileName="Ana"))
    (hello,) = await replies(api, sender, 1)
    assert hello["To"] == sender
    queue = server.runtime.channels
    for _ in range(100):
        (row,) = [o for o in await queue.outbox(bot_id="default") if o.address == sender]
        if row.status == "sent":
            break
        await asyncio.sleep(0.05)
    status = {"MessageSid": str(row.platform_id), "MessageStatus": "delivered", "AccountSid": SID,
              "From": NUMBER, "To": sender, "ApiVersion": "2010-04-01"}
    assert (await post(server.url + "/twilio/sms", status)).status_code == 200
    (after,) = [o for o in await queue.outbox(bot_id="default") if o.address == sender]
    assert after.delivery == "delivered"
    assert [m for m in await history(server, "sms", sender) if m[0] == "user"] == [("user", "oi")]


async def test_a_redelivered_message_sid_runs_once(tw: Any) -> None:
    server, api = tw
    sender = phone()
    await post(server.url + "/twilio/sms", sms(sender, "hi"))
    await replies(api, sender, 1)
    again = sms(sender, "Bia", sid=f"SM{uuid.uuid4().hex}")
    answers = await asyncio.gather(*(post(server.url + "/twilio/sms", again) for _ in range(3)))
    assert [a.status_code for a in answers] == [200, 200, 200]
    await replies(api, sender, 2)
    await asyncio.sleep(0.8)  # a second run would have sent by now
    assert [m["Body"] for m in sent_to(api, sender)] == ["Hello! What is your name?", "Nice to meet you, Bia"]
    assert [m for m in await history(server, "sms", sender) if m[0] == "user"] == [("user", "hi"), ("user", "Bia")]


class _MediaRedirect(tornado.web.RequestHandler):
    """Twilio's media URL: with the account's basic auth, a redirect to its CDN (another host)."""

    def initialize(self, cdn: str, seen: list[str]) -> None:
        self.cdn, self.seen = cdn, seen

    def get(self, media: str) -> None:
        self.seen.append(self.request.headers.get("Authorization", ""))
        if self.request.headers.get("Authorization") != BASIC:
            self.set_status(401)
            return
        self.redirect(f"{self.cdn}/media/{media}", status=307)


def media_host(cdn: str, seen: list[str]) -> AbstractAsyncContextManager[str]:
    return serve(tornado.web.Application([(r"/media/(.*)", _MediaRedirect, {"cdn": cdn, "seen": seen})]))


async def test_an_sms_menu_is_numbered_and_a_photo_is_fetched_through_the_cdn_redirect(tw: Any) -> None:
    server, api = tw
    sender = phone()
    url = server.url + "/menubot/twilio/sms"
    await post(url, sms(sender, "hi"))
    (menu,) = await replies(api, sender, 1)
    assert menu["Body"] == "Pick <one> & go\n1. Red\n2. Green\n3. Blue"
    await post(url, sms(sender, "2"))
    _, chose = await replies(api, sender, 2)
    assert chose["Body"] == "You chose Green <&>"
    await post(url, sms(sender, "photo"))
    seen: list[str] = []
    async with media_host(api.url, seen) as twilio_media:
        await post(url, sms(sender, "", NumMedia="1", MediaUrl0=f"{twilio_media}/media/ME1",
                            MediaContentType0="image/png"))
        *_, got = await replies(api, sender, 3)
    assert got["Body"] == "got ME1.png"
    assert seen == [BASIC]  # Twilio's media URL got the account's auth
    (cdn,) = [c for c in api.calls if c.path == "/media/ME1"]
    assert cdn.method == "GET" and "authorization" not in cdn.headers  # the CDN (another host) did not


async def test_a_rest_api_that_fails_then_recovers_delivers_once(channel_stores: Stores, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "gb.channels")
    monkeypatch.setenv("GB_TEST_TWILIO_TOKEN", TOKEN)
    failing = {"left": 1}

    def flaky(call: Call) -> tuple[int, Any]:
        if call.path == MESSAGES and failing["left"] > 0:
            failing["left"] -= 1
            return 503, {"code": 20500, "message": "An internal server error has occurred", "status": 503}
        return rest(call)

    async with platform(flaky) as api:
        make_bot(tmp_path / "bots", "default", DIALOGS, config=config(api.url))
        async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
            sender = phone()
            await post(server.url + "/twilio/sms", sms(sender, "hi"))
            (hello,) = await replies(api, sender, 1, timeout=30)
            await asyncio.sleep(0.6)
            assert hello["Body"] == "Hello! What is your name?"
            tries = [c for c in api.posts(MESSAGES) if c.form()["To"] == sender]
            assert [c.status for c in tries] == [503, 201]
            (row,) = [o for o in await server.runtime.channels.outbox(bot_id="default") if o.address == sender]
            assert row.status == "sent" and row.attempts == 2
            assert any("Twilio answered 503: 20500 An internal server error has occurred; again in" in r.getMessage()
                       for r in caplog.records if r.name == "gb.channels")


LONG = " ".join(f"w{i}" for i in range(900))  # 4,389 characters: over Twilio's 1,600 of a Body


async def test_a_long_sms_goes_in_parts_and_a_retry_sends_only_the_parts_left(channel_stores: Stores, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Twilio refuses a Body over 1,600 characters (error 21617): a reply of 4,389 is three
    messages, cut between words, in order. The second POST fails once (503): the retry sends the
    second and the third, not the first again."""
    monkeypatch.setenv("GB_TEST_TWILIO_TOKEN", TOKEN)
    posted = {"n": 0}

    def second_fails_once(call: Call) -> tuple[int, Any]:
        if call.path == MESSAGES:
            posted["n"] += 1
            if posted["n"] == 2:
                return 503, {"code": 20500, "message": "An internal server error has occurred", "status": 503}
            if len(call.form().get("Body", "")) > 1600:
                return 400, {"code": 21617, "message": "The concatenated message body exceeds the 1600 character "
                                                       "limit", "status": 400}
        return rest(call)

    async with platform(second_fails_once) as api:
        make_bot(tmp_path / "bots", "default", {"start": f'TALK "{LONG}"\n'}, config=config(api.url))
        async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
            sender = phone()
            await post(server.url + "/twilio/sms", sms(sender, "hi"))
            got = await replies(api, sender, 3, timeout=30)
            await asyncio.sleep(0.5)
            tries = [c for c in api.posts(MESSAGES) if c.form()["To"] == sender]
            assert [c.status for c in tries] == [201, 503, 201, 201]
            assert tries[1].form()["Body"] == tries[2].form()["Body"]  # the failed part again, not the first
            bodies = [m["Body"] for m in got]
            assert len(bodies) == 3 and all(len(b) <= 1600 for b in bodies)
            assert " ".join(bodies) == LONG
            (row,) = [o for o in await server.runtime.channels.outbox(bot_id="default") if o.address == sender]
            assert row.status == "sent" and row.attempts == 2 and row.payload["parts_sent"] == 1
            assert row.platform_id is not None and row.platform_id.startswith("SM")  # the last part's sid


async def test_a_refused_number_is_not_retried_and_keeps_twilios_error(channel_stores: Stores, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GB_TEST_TWILIO_TOKEN", TOKEN)

    def refuses(call: Call) -> tuple[int, Any]:
        if call.path == MESSAGES:
            return 400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}
        return rest(call)

    async with platform(refuses) as api:
        make_bot(tmp_path / "bots", "default", DIALOGS, config=config(api.url))
        async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
            sender = phone()
            await post(server.url + "/twilio/sms", sms(sender, "hi"))
            queue = server.runtime.channels
            for _ in range(200):
                rows = [o for o in await queue.outbox(bot_id="default") if o.address == sender]
                if rows and rows[0].status == "dead":
                    break
                await asyncio.sleep(0.05)
            assert [(o.status, o.attempts) for o in rows] == [("dead", 1)]
            assert "400: 21211 Invalid 'To' Phone Number" in (rows[0].error or "")
            assert len(api.posts(MESSAGES)) == 1


# --- voice -----------------------------------------------------------------------------------------------
def gather_of(root: ET.Element) -> ET.Element:
    (gather,) = root.findall("Gather")
    return gather


async def test_the_write_once_dialog_runs_over_a_call(tw: Any) -> None:
    server, _ = tw
    caller, call = phone(), f"CA{uuid.uuid4().hex}"
    url = server.url + "/twilio/voice"
    ring = twiml(await post(url, voice(call, caller)))
    gather = gather_of(ring)
    assert shape(ring) == [("Gather", "", [("Say", "Hello! What is your name?", [])]),
                           ("Redirect", gather.attrib["action"] + "&noinput=1", [])]
    assert gather.attrib["action"].startswith(url + "?turn=")
    assert {k: v for k, v in gather.attrib.items() if k != "action"} == {
        "input": "speech dtmf", "method": "POST", "language": "en-US", "speechTimeout": "auto"}
    assert ring.find("Gather/Say").attrib == {"language": "en-US"}  # type: ignore[union-attr]
    assert ring.find("Redirect").attrib == {"method": "POST"}  # type: ignore[union-attr]
    answer = voice(call, caller, CallStatus="in-progress", SpeechResult="Ana.", Confidence="0.92")
    bye = twiml(await post(gather.attrib["action"], answer))
    assert shape(bye) == [("Say", "Nice to meet you, Ana", []), ("Hangup", "", [])]
    assert await history(server, "voice", call) == [
        ("assistant", "Hello! What is your name?"), ("user", "Ana"), ("assistant", "Nice to meet you, Ana")]


async def test_a_retried_call_request_gets_the_same_twiml_and_runs_once(tw: Any) -> None:
    server, _ = tw
    caller, call = phone(), f"CA{uuid.uuid4().hex}"
    url = server.url + "/twilio/voice"
    first = await post(url, voice(call, caller))
    ring_again = await post(url, voice(call, caller))
    assert ring_again.text == first.text
    action = gather_of(twiml(first)).attrib["action"]
    answer = voice(call, caller, CallStatus="in-progress", SpeechResult="Ana", Confidence="0.9")
    answers = await asyncio.gather(*(post(action, answer) for _ in range(3)))
    assert len({a.text for a in answers}) == 1
    assert shape(twiml(answers[0])) == [("Say", "Nice to meet you, Ana", []), ("Hangup", "", [])]
    assert await history(server, "voice", call) == [
        ("assistant", "Hello! What is your name?"), ("user", "Ana"), ("assistant", "Nice to meet you, Ana")]
    inbox = [o.inbox_id for o in await server.runtime.channels.outbox(bot_id="default") if o.address == call]
    assert len(inbox) == 2 and len(set(inbox)) == 2  # the start and the one answer


async def test_a_silent_caller_is_asked_again_then_the_call_ends(tw: Any) -> None:
    server, _ = tw
    caller, call = phone(), f"CA{uuid.uuid4().hex}"
    ring = twiml(await post(server.url + "/twilio/voice", voice(call, caller)))
    redirect = ring.find("Redirect").text or ""  # type: ignore[union-attr]
    silent = voice(call, caller, CallStatus="in-progress")
    for n in range(1, 4):
        again = twiml(await post(redirect, silent))
        assert shape(again)[0] == ("Gather", "", [("Say", "Hello! What is your name?", [])])
        redirect = again.find("Redirect").text or ""  # type: ignore[union-attr]
        assert redirect.endswith(f"noinput={n + 1}")
    assert shape(twiml(await post(redirect, silent))) == [("Hangup", "", [])]
    assert await history(server, "voice", call) == [("assistant", "Hello! What is your name?")]
    # another call's turn is not this call's to ask again
    other = twiml(await post(redirect.replace("noinput=4", "noinput=1"), voice(f"CA{uuid.uuid4().hex}", caller)))
    assert shape(other) == [("Hangup", "", [])]


async def test_dtmf_digits_answer_a_menu_read_out_with_its_options(tw: Any) -> None:
    server, _ = tw
    caller, call = phone(), f"CA{uuid.uuid4().hex}"
    ring = twiml(await post(server.url + "/menubot/twilio/voice", voice(call, caller)))
    gather = gather_of(ring)
    assert gather.attrib["numDigits"] == "1" and gather.attrib["hints"] == "Red, Green, Blue"
    assert gather.attrib["action"].startswith(server.url + "/menubot/twilio/voice?turn=")
    assert shape(gather) == [("Say", "Pick <one> & go Say 1 for Red, 2 for Green, or 3 for Blue.", [])]
    chose = twiml(await post(gather.attrib["action"], voice(call, caller, CallStatus="in-progress", Digits="2")))
    assert shape(chose) == [("Say", "You chose Green <&>", []), ("Hangup", "", [])]


async def test_a_reply_with_markup_characters_is_escaped_in_the_twiml(tw: Any) -> None:
    server, _ = tw
    caller, call = phone(), f"CA{uuid.uuid4().hex}"
    ring = await post(server.url + "/menubot/twilio/voice", voice(call, caller))
    assert "Pick &lt;one&gt; &amp; go" in ring.text and "<one>" not in ring.text
    action = gather_of(twiml(ring)).attrib["action"]
    chose = await post(action, voice(call, caller, CallStatus="in-progress", SpeechResult="blue"))
    assert "You chose Blue &lt;&amp;&gt;</Say>" in chose.text
    assert shape(twiml(chose))[0] == ("Say", "You chose Blue <&>", [])


async def test_a_call_that_ended_stores_nothing(tw: Any) -> None:
    server, _ = tw
    caller, call = phone(), f"CA{uuid.uuid4().hex}"
    done = await post(server.url + "/twilio/voice", voice(call, caller, CallStatus="completed"))
    assert done.text == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    assert await server.runtime.store.find("default", "voice", call) is None


def test_bot_languages_map_to_twilios_codes() -> None:
    assert [twilio_language(x) for x in ("pt", "pt-br", "pt_BR", "en", "es", "en-GB")] == [
        "pt-BR", "pt-BR", "pt-BR", "en-US", "es-ES", "en-GB"]
