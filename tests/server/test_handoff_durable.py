"""The seed's Session Handoff across a real `gb serve` on PostgreSQL + Valkey, killed (-9) at
each step: a conversation starts on the web, moves to email (TRANSFER_SESSION "email"), its
waiting HEAR is answered by replying to the bot's mail (real Dovecot and SMTP servers), and it
goes on on WhatsApp (TRANSFER_SESSION "whatsapp"). The history shows the three channels in one
session, and no message is lost or sent twice: the move survives a kill after the web's answer,
an email a kill after it is stored, and the replies a kill between their commit and their
delivery (the SMTP server and the Graph API down meanwhile)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.helpers.bots import make_bot
from tests.helpers.mail import imap_server, mail, smtp_server
from tests.helpers.platforms import Call, platform
from tests.helpers.servers import Server, gb_environ
from tests.server.test_channels_durable import LEASE, SECRET, TOKEN, database, text, until, webhook

__all__ = ["database"]  # the fixture, imported for the test here


def dialog(number: str) -> str:
    return ('TALK "What is your name?"\nHEAR name\nTALK "Your email?"\nHEAR address\n'
            'TALK "I will write to you"\nTRANSFER_SESSION "email", address\n'
            'TALK "Hi " + name + ", what would you like?"\nHEAR order\n'
            'TALK "One " + order + ". Write to us on WhatsApp to confirm"\n'
            f'TRANSFER_SESSION "whatsapp", "{number}"\nHEAR confirm\n'
            'TALK "Confirmed: " + order + " for " + name\n')


def inbox_rows(database: str, channel: str, address: str) -> int:
    with psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return int(conn.execute("SELECT count(*) FROM inbox WHERE channel = %s AND address = %s",
                                (channel, address)).fetchone()[0])  # type: ignore[index]


async def test_the_seeds_handoff_web_email_whatsapp_survives_a_kill_9_at_each_step(
        tmp_path: Path, database: str, redis_url: str) -> None:
    down_until = [0.0]

    def graph(call: Call) -> tuple[int, Any]:
        if time.monotonic() < down_until[0]:
            return 503, {"error": {"message": "temporarily unavailable", "code": 2}}
        return 200, {"messages": [{"id": f"wamid.OUT{uuid.uuid4().hex}"}]}

    number, ana = "5521" + str(uuid.uuid4().int)[:9], f"ana-{uuid.uuid4().hex[:8]}@example.com"
    async with platform(graph) as api, imap_server(tmp_path / "dovecot") as imap:
        with smtp_server() as smtp:
            config = (f"whatsapp-app-secret,{SECRET}\nwhatsapp-token,{TOKEN}\nwhatsapp-phone-number-id,555000111\n"
                      f"whatsapp-api-url,{api.url}\nemail-imap-url,{imap.url}\nemail-smtp-url,{smtp.url}\n"
                      f"email-from,Bot <{imap.user}>\nemail-poll-seconds,0.2\n"
                      "outbox-retry-seconds,0.5\noutbox-max-attempts,60\n")
            make_bot(tmp_path / "bots", "default", {"start": dialog(number)}, config=config)
            env = gb_environ(tmp_path / "bots", tmp_path / "data", database_url=database, valkey_url=redis_url,
                             GB_CHANNEL_LEASE_SECONDS=str(LEASE))

            def on_whatsapp() -> list[str]:
                return [c.json()["text"]["body"] for c in api.posts("/messages", accepted=True)
                        if c.json()["to"] == number]

            server = Server(env, tmp_path / "gb.log")
            with server:
                async with httpx.AsyncClient(base_url=server.url, timeout=30) as web:
                    started = (await web.post("/api/session")).json()
                    token = {"Authorization": f"Bearer {started['token']}"}
                    await web.post("/api/chat", json={"message": "Ana"}, headers=token)
                    moved = await web.post("/api/chat", json={"message": ana}, headers=token)
                    assert moved.json()["messages"][0]["content"] == "I will write to you"
                server.kill9()  # 1: after the web's answer: the move and the first mail were committed with it
                server.start()
                async with httpx.AsyncClient(base_url=server.url, timeout=30) as web:
                    refused = await web.post("/api/chat", json={"message": "again"}, headers=token)
                    assert refused.status_code == 409 and refused.json()["error"]["code"] == "session_transferred"
                (hi,) = await smtp.wait_for(ana, 1, timeout=30)
                assert "Hi Ana, what would you like?" in str(hi.get_body(("plain",)).get_content())

                smtp.down = True  # the replies to come cannot leave for a while
                down_until[0] = time.monotonic() + 1e9
                await imap.deliver(mail(ana, f"Re: {hi['Subject']}", "pizza\n\n> Hi Ana, what would you like?\n",
                                        in_reply_to=hi["Message-ID"], references=hi["Message-ID"]))
                await until(lambda: inbox_rows(database, "email", ana) == 1, 30, "the reply mail stored")
                server.kill9()  # 2: the mail is in the inbox, maybe not yet handled
                server.start()
                await until(lambda: smtp.refused > 0, LEASE + 30, "the turn ran and its mail was tried")
                async with httpx.AsyncClient(timeout=30) as client:
                    await webhook(client, server, text(number, "yes"))
                    await until(lambda: any(c.status == 503 for c in api.calls), LEASE + 30,
                                "the WhatsApp turn ran and its reply was tried")
                server.kill9()  # 3: both replies committed, not delivered
                smtp.down, down_until[0] = False, 0.0
                server.start()
                await until(lambda: len(smtp.to(ana)) >= 2 and on_whatsapp(), 60, "both replies delivered")
                await asyncio.sleep(LEASE + 1)  # a duplicate (a lapsed claim sent again) would have come by now
            bodies = [str(m.get_body(("plain",)).get_content()).strip() for m in smtp.to(ana)]
            assert bodies == ["Hi Ana, what would you like?", "One pizza. Write to us on WhatsApp to confirm"]
            assert on_whatsapp() == ["Confirmed: pizza for Ana"]
    with psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute("SELECT role, content, channel FROM messages WHERE session_id = %s AND role <> 'system' "
                            "ORDER BY id", (started["session_id"],)).fetchall()
    assert rows == [  # one session, three channels, each message once
        ("assistant", "What is your name?", "web"), ("user", "Ana", "web"),
        ("assistant", "Your email?", "web"), ("user", ana, "web"), ("assistant", "I will write to you", "web"),
        ("assistant", "Hi Ana, what would you like?", "email"), ("user", "pizza", "email"),
        ("assistant", "One pizza. Write to us on WhatsApp to confirm", "email"),
        ("user", "yes", "whatsapp"), ("assistant", "Confirmed: pizza for Ana", "whatsapp")]
