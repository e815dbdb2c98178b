"""The seed's "write once, run everywhere": one dialog, one transcript, on every channel gb
serves, each against a real local stand-in of its platform (tests/helpers/platforms.py)."""

from __future__ import annotations

import asyncio
import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backends import open_backend
from tests.helpers.botframework import APP_ID, APP_SECRET, BotFramework, SigningKey
from tests.helpers.bots import make_bot
from tests.helpers.platforms import Call, Platform, meta_signature, platform, twilio_signature
from tests.helpers.servers import bearer
from tests.server.inproc import InProcess, serving

START = 'TALK "Hello! What is your name?"\nHEAR name\nTALK "Nice to meet you, " + name\n'
TRANSCRIPT = ["Hello! What is your name?", "Nice to meet you, Ana"]
CONFIG = ("whatsapp-app-secret,wa-secret\nwhatsapp-token,wa-token\nwhatsapp-phone-number-id,777\n"
          "whatsapp-api-url,{api}\ntelegram-token,123:tg\ntelegram-secret,tg-secret\ntelegram-api-url,{api}\n"
          "twilio-account-sid,AC1\ntwilio-auth-token,tw-token\ntwilio-number,+15550001111\ntwilio-api-url,{api}\n"
          f"teams-app-id,{APP_ID}\nteams-app-password,{APP_SECRET}\nteams-openid-url,{{api}}/openid\n"
          "teams-token-url,{api}/token\n")
FRAMEWORKS: dict[str, BotFramework] = {}  # the stand-in's URL -> its Bot Framework (Teams' metadata, token, connector)


def answer(call: Call) -> tuple[int, Any]:
    if call.path in ("/openid", "/keys", "/token") or call.path.startswith("/teams/"):
        return FRAMEWORKS[call.headers["host"]].answer(call)
    if "/bot123:tg/" in call.path:
        return 200, {"ok": True, "result": {"message_id": 1}}
    if "/Accounts/AC1/" in call.path:
        return 201, {"sid": f"SM{uuid.uuid4().hex}"}
    return 200, {"messages": [{"id": f"wamid.{uuid.uuid4().hex}"}]}


@pytest.fixture
async def world(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[tuple[InProcess, Platform]]:
    async with open_backend("sqlite", request, tmp_path) as stores, platform(answer) as api:
        make_bot(tmp_path / "bots", "default", {"start": START}, config=CONFIG.format(api=api.url))
        host = api.url.removeprefix("http://")
        FRAMEWORKS[host] = BotFramework(api, [SigningKey("key-1", ["msteams"])])
        async with serving(stores, tmp_path / "bots", tmp_path / "data") as server:
            yield server, api
        del FRAMEWORKS[host]


class Web:
    """The REST API: the session starts (start.bas speaks first), the user answers."""

    def __init__(self, server: InProcess, api: Platform) -> None:
        self.server, self.token, self.said = server, "", []  # type: ignore[var-annotated]

    async def open(self, client: httpx.AsyncClient) -> None:
        r = (await client.post(self.server.url + "/api/session", json={})).json()
        self.token, self.sid = r["token"], uuid.UUID(r["session_id"])
        self.said += [m["content"] for m in r["messages"]]

    async def say(self, client: httpx.AsyncClient, text: str) -> None:
        r = await client.post(self.server.url + "/api/chat", json={"message": text}, headers=bearer(self.token))
        self.said += [m["content"] for m in r.json()["messages"]]

    async def bot_said(self, n: int) -> list[str]:
        return list(self.said)


class Push:
    """A channel where the user writes first and the replies are the platform API's requests."""

    def __init__(self, server: InProcess, api: Platform) -> None:
        self.server, self.api, self.address = server, api, "55" + str(uuid.uuid4().int)[:10]

    async def open(self, client: httpx.AsyncClient) -> None:
        await self.say(client, "oi")

    async def bot_said(self, n: int) -> list[str]:
        for _ in range(300):
            said = self.sent()
            if len(said) >= n:
                return said
            await asyncio.sleep(0.02)
        return self.sent()

    def sent(self) -> list[str]:
        raise NotImplementedError

    async def say(self, client: httpx.AsyncClient, text: str) -> None:
        raise NotImplementedError


class WhatsApp(Push):
    async def say(self, client: httpx.AsyncClient, text: str) -> None:
        body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [{
            "field": "messages", "value": {"messages": [{"from": self.address, "id": f"wamid.{uuid.uuid4().hex}",
                                                         "type": "text", "text": {"body": text}}]}}]}]}).encode()
        r = await client.post(self.server.url + "/whatsapp", content=body,
                              headers={"X-Hub-Signature-256": meta_signature("wa-secret", body)})
        assert r.status_code == 200

    def sent(self) -> list[str]:
        return [c.json()["text"]["body"] for c in self.api.posts("/777/messages") if c.json()["to"] == self.address]


class Telegram(Push):
    update = 1000

    async def say(self, client: httpx.AsyncClient, text: str) -> None:
        Telegram.update += 1
        chat = int(self.address)
        body = {"update_id": Telegram.update, "message": {"message_id": Telegram.update, "date": 1, "text": text,
                                                         "chat": {"id": chat, "type": "private"},
                                                         "from": {"id": chat, "is_bot": False, "first_name": "Ana"}}}
        r = await client.post(self.server.url + "/telegram", json=body,
                              headers={"X-Telegram-Bot-Api-Secret-Token": "tg-secret"})
        assert r.status_code == 200

    def sent(self) -> list[str]:
        return [c.json()["text"] for c in self.api.posts("/sendMessage") if str(c.json()["chat_id"]) == self.address]


class Sms(Push):
    async def say(self, client: httpx.AsyncClient, text: str) -> None:
        sid = f"SM{uuid.uuid4().hex}"
        form = {"MessageSid": sid, "AccountSid": "AC1", "From": "+" + self.address, "To": "+15550001111",
                "Body": text, "NumMedia": "0"}
        url = self.server.url + "/twilio/sms"
        r = await client.post(url, data=form, headers={"X-Twilio-Signature": twilio_signature("tw-token", url, form)})
        assert r.status_code == 200

    def sent(self) -> list[str]:
        return [c.form()["Body"] for c in self.api.posts("/Messages.json") if c.form()["To"] == "+" + self.address]


class Teams(Push):
    """Microsoft Teams: Bot Framework activities in (signed by the stand-in's key), replies to its connector."""

    @property
    def bf(self) -> BotFramework:
        return FRAMEWORKS[self.api.url.removeprefix("http://")]

    async def say(self, client: httpx.AsyncClient, text: str) -> None:
        body = {"type": "message", "id": uuid.uuid4().hex, "channelId": "msteams", "serviceUrl": self.bf.service_url,
                "from": {"id": "29:ana", "name": "Ana"}, "conversation": {"id": "a:" + self.address},
                "recipient": {"id": f"28:{APP_ID}"}, "text": text}
        r = await client.post(self.server.url + "/api/messages", json=body,
                              headers={"Authorization": f"Bearer {self.bf.sign()}"})
        assert r.status_code == 200

    def sent(self) -> list[str]:
        return [c.json()["text"] for c in self.bf.activities("a:" + self.address) if c.json()["type"] == "message"]


class Voice:
    """A call: each request's TwiML says the bot's lines; a HEAR is a Gather whose action is the next request."""

    def __init__(self, server: InProcess, api: Platform) -> None:
        self.server, self.said, self.call = server, [], f"CA{uuid.uuid4().hex}"  # type: ignore[var-annotated]
        self.next = server.url + "/twilio/voice"

    async def _post(self, client: httpx.AsyncClient, **more: str) -> None:
        form = {"AccountSid": "AC1", "CallSid": self.call, "From": "+5511999", "To": "+15550001111",
                "CallStatus": "in-progress", **more}
        r = await client.post(self.next, data=form,
                              headers={"X-Twilio-Signature": twilio_signature("tw-token", self.next, form)})
        root = ET.fromstring(r.text)
        self.said += [(e.text or "").strip() for e in root.iter("Say")]
        gather = root.find("Gather")
        if gather is not None:
            self.next = gather.attrib["action"]

    async def open(self, client: httpx.AsyncClient) -> None:
        await self._post(client, CallStatus="ringing")

    async def say(self, client: httpx.AsyncClient, text: str) -> None:
        await self._post(client, SpeechResult=text, Confidence="0.9")

    async def bot_said(self, n: int) -> list[str]:
        return list(self.said)


CHANNELS = {"web": Web, "whatsapp": WhatsApp, "telegram": Telegram, "sms": Sms, "voice": Voice, "teams": Teams}


@pytest.mark.parametrize("channel", sorted(CHANNELS))
async def test_one_dialog_one_transcript_on_every_channel(world: Any, channel: str) -> None:
    server, api = world
    user = CHANNELS[channel](server, api)
    async with httpx.AsyncClient(timeout=20) as client:
        await user.open(client)
        assert await user.bot_said(1) == TRANSCRIPT[:1]
        await user.say(client, "Ana")
        assert await user.bot_said(2) == TRANSCRIPT
    if channel == "web":
        sid = user.sid
    else:
        address = {"sms": lambda: "+" + user.address, "voice": lambda: user.call,
                   "teams": lambda: "a:" + user.address}.get(channel, lambda: user.address)()
        sid = await server.runtime.store.find("default", channel, address)
    stored = await server.runtime.history(sid)
    assert [m.content for m in stored if m.role == "assistant"] == TRANSCRIPT
    assert {m.channel for m in stored} == {channel}
    assert [m.content for m in stored if m.role == "user"][-1] == "Ana"
