"""The seed's "write once, run everywhere": one dialog, one transcript, on every channel gb
serves, each against a real local stand-in of its platform (tests/helpers/platforms.py)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backends import open_backend
from tests.helpers.bots import make_bot
from tests.helpers.platforms import Call, Platform, meta_signature, platform
from tests.helpers.servers import bearer
from tests.server.inproc import InProcess, serving

START = 'TALK "Hello! What is your name?"\nHEAR name\nTALK "Nice to meet you, " + name\n'
TRANSCRIPT = ["Hello! What is your name?", "Nice to meet you, Ana"]
CONFIG = ("whatsapp-app-secret,wa-secret\nwhatsapp-token,wa-token\nwhatsapp-phone-number-id,777\n"
          "whatsapp-api-url,{api}\ntelegram-token,123:tg\ntelegram-secret,tg-secret\ntelegram-api-url,{api}\n")


def answer(call: Call) -> tuple[int, Any]:
    if "/bot123:tg/" in call.path:
        return 200, {"ok": True, "result": {"message_id": 1}}
    return 200, {"messages": [{"id": f"wamid.{uuid.uuid4().hex}"}]}


@pytest.fixture
async def world(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[tuple[InProcess, Platform]]:
    async with open_backend("sqlite", request, tmp_path) as stores, platform(answer) as api:
        make_bot(tmp_path / "bots", "default", {"start": START}, config=CONFIG.format(api=api.url))
        async with serving(stores, tmp_path / "bots", tmp_path / "data") as server:
            yield server, api


class Web:
    """The REST API: the session starts (start.bas speaks first), the user answers."""

    def __init__(self, server: InProcess, api: Platform) -> None:
        self.server, self.token, self.said = server, "", []  # type: ignore[var-annotated]

    async def open(self, client: httpx.AsyncClient) -> None:
        r = (await client.post(self.server.url + "/api/session", json={})).json()
        self.token = r["token"]
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


CHANNELS = {"web": Web, "whatsapp": WhatsApp, "telegram": Telegram}


@pytest.mark.parametrize("channel", sorted(CHANNELS))
async def test_one_dialog_one_transcript_on_every_channel(world: Any, channel: str) -> None:
    server, api = world
    user = CHANNELS[channel](server, api)
    async with httpx.AsyncClient(timeout=20) as client:
        await user.open(client)
        assert await user.bot_said(1) == TRANSCRIPT[:1]
        await user.say(client, "Ana")
        assert await user.bot_said(2) == TRANSCRIPT
