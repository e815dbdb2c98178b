"""The handoff across real `gb serve` processes on PostgreSQL + Valkey, killed (-9) at each step:
a conversation started on the web moves to WhatsApp, then to Telegram (TRANSFER_SESSION), and
no message is lost or sent twice: the move survives a kill after the web's answer, an inbound
WhatsApp message survives a kill after its acknowledgement, and a committed reply survives a
kill before its delivery (the platform down meanwhile)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.helpers.bots import make_bot
from tests.helpers.platforms import Call, platform
from tests.helpers.servers import Server, gb_environ
from tests.server import test_telegram as tg
from tests.server.test_channels_durable import LEASE, SECRET, TOKEN, database, text, until, webhook
from tests.server.test_handoff import dialogs

__all__ = ["database"]  # the fixture, imported for the tests here


async def test_web_to_whatsapp_to_telegram_survives_a_kill_9_at_each_step(
        tmp_path: Path, database: str, redis_url: str) -> None:
    down_until = [0.0]

    async def apis(call: Call) -> tuple[int, Any]:
        if time.monotonic() < down_until[0]:
            return 503, {"ok": False, "error_code": 503, "description": "down",
                         "error": {"message": "temporarily unavailable", "code": 2}}
        if call.path.startswith("/bot"):
            return tg.bot_api(call)
        return 200, {"messages": [{"id": f"wamid.OUT{uuid.uuid4().hex}"}]}

    chat, number = tg.chat(), "5521" + str(uuid.uuid4().int)[:9]
    async with platform(apis) as api:
        config = (f"whatsapp-app-secret,{SECRET}\nwhatsapp-token,{TOKEN}\nwhatsapp-phone-number-id,555000111\n"
                  f"whatsapp-api-url,{api.url}\ntelegram-token,{tg.TOKEN}\ntelegram-secret,{tg.SECRET}\n"
                  f"telegram-api-url,{api.url}\noutbox-retry-seconds,0.5\noutbox-max-attempts,40\n")
        make_bot(tmp_path / "bots", "default", dialogs(chat), config=config)
        env = gb_environ(tmp_path / "bots", tmp_path / "data", database_url=database, valkey_url=redis_url,
                         GB_CHANNEL_LEASE_SECONDS=str(LEASE))

        def on_whatsapp() -> list[str]:
            return [c.json()["text"]["body"] for c in api.posts("/messages", accepted=True)
                    if c.json()["to"] == number]

        def on_telegram() -> list[str]:
            return [c.json()["text"] for c in api.posts("/sendMessage", accepted=True) if c.json()["chat_id"] == chat]

        server = Server(env, tmp_path / "gb.log")
        with server:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as web:
                started = (await web.post("/api/session")).json()
                token = {"Authorization": f"Bearer {started['token']}"}
                await web.post("/api/chat", json={"message": "Ana"}, headers=token)
                moved = await web.post("/api/chat", json={"message": number}, headers=token)
                assert moved.status_code == 200
            server.kill9()  # 1: after the web's answer: the move was committed with it
            server.start()
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as web:
                refused = await web.post("/api/chat", json={"message": "again"}, headers=token)
                assert refused.status_code == 409 and refused.json()["error"]["code"] == "session_transferred"

            down_until[0] = time.monotonic() + 8  # the replies cannot leave for a while
            async with httpx.AsyncClient(timeout=30) as client:
                await webhook(client, server, text(number, "pizza"))
                server.kill9()  # 2: right after the acknowledgement: the message is in the inbox
                server.start()
                await until(lambda: any(c.status == 503 for c in api.calls), LEASE + 20,
                            "the turn ran and its replies were tried while the platforms were down")
                server.kill9()  # 3: the replies committed, not delivered
                server.start()
                await until(lambda: on_whatsapp() and on_telegram(), 40, "both replies delivered once back")
                answer = await client.post(server.url + "/telegram", content=tg.text(chat, "fries"),
                                           headers={"X-Telegram-Bot-Api-Secret-Token": tg.SECRET})
                assert answer.status_code == 200
                await until(lambda: len(on_telegram()) >= 2, 20, "the last reply")
                await asyncio.sleep(LEASE + 1)  # a duplicate (a lapsed claim sent again) would have come by now
            assert on_whatsapp() == ["One pizza for Ana"]
            assert on_telegram() == ["On Telegram now, Ana. Anything else?", "Done: pizza and fries"]
    with psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute("SELECT role, content, channel FROM messages WHERE session_id = %s AND role <> 'system' "
                            "ORDER BY id", (started["session_id"],)).fetchall()
    assert rows == [  # one session, three channels, each message once
        ("assistant", "What is your name?", "web"), ("user", "Ana", "web"),
        ("assistant", "Your WhatsApp number?", "web"), ("user", number, "web"),
        ("assistant", "Write to us on WhatsApp to go on", "web"),
        ("user", "pizza", "whatsapp"), ("assistant", "One pizza for Ana", "whatsapp"),
        ("assistant", "On Telegram now, Ana. Anything else?", "telegram"),
        ("user", "fries", "telegram"), ("assistant", "Done: pizza and fries", "telegram")]
