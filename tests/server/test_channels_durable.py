"""The channels' inbox and outbox across real `gb serve` processes on one PostgreSQL + Valkey:
a process killed (-9) after acknowledging a webhook, or after committing a reply and before
delivering it, loses nothing and duplicates nothing; the platform's API down for 30 s then
back gets each reply once; two processes share one inbox and outbox, each message handled and
delivered once, in order per address."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PG_ADMIN
from tests.helpers.bots import make_bot
from tests.helpers.platforms import Call, Platform, meta_signature, platform
from tests.helpers.servers import Server, gb_environ
from tests.helpers.stores import create_database, drop_database

SECRET, TOKEN, PHONE_ID = "app-secret-2", "graph-token-2", "555000111"
LEASE = 3  # GB_CHANNEL_LEASE_SECONDS: a killed process's claims lapse this fast


@pytest.fixture
def database() -> Iterator[str]:
    """A PostgreSQL database of this test alone (its queues are this test's)."""
    name = f"gb_channels_{uuid.uuid4().hex[:10]}"
    url = create_database(PG_ADMIN, name)
    yield url
    drop_database(PG_ADMIN, name)


def environ(tmp: Path, api: str, database: str, redis_url: str, start: str, retry: float = 1.0) -> dict[str, str]:
    config = (f"whatsapp-app-secret,{SECRET}\nwhatsapp-token,{TOKEN}\nwhatsapp-phone-number-id,{PHONE_ID}\n"
              f"whatsapp-api-url,{api}\noutbox-retry-seconds,{retry}\noutbox-max-attempts,20\n"
              "http-allow,127.0.0.1\n")
    make_bot(tmp / "bots", "default", {"start": start}, config=config)
    return gb_environ(tmp / "bots", tmp / "data", database_url=database, valkey_url=redis_url,
                      GB_CHANNEL_LEASE_SECONDS=str(LEASE))


def text(sender: str, body: str) -> bytes:
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp", "messages": [
            {"from": sender, "id": f"wamid.{uuid.uuid4().hex}", "timestamp": "1", "type": "text",
             "text": {"body": body}}]}}]}]}).encode()


async def webhook(client: httpx.AsyncClient, server: Server, body: bytes) -> None:
    r = await client.post(server.url + "/whatsapp", content=body,
                          headers={"X-Hub-Signature-256": meta_signature(SECRET, body)})
    assert r.status_code == 200, r.text


def delivered(api: Platform, to: str) -> list[str]:
    return [c.json()["text"]["body"] for c in api.posts("/messages", accepted=True) if c.json()["to"] == to]


async def until(check: Any, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


async def test_kill_9_after_the_ack_and_after_the_commit_and_a_platform_down_30_s_lose_and_repeat_nothing(
        tmp_path: Path, database: str, redis_url: str) -> None:
    down_until = [0.0]
    started: list[float] = []

    async def graph(call: Call) -> tuple[int, Any]:
        if call.path == "/slow":  # the dialog's own GET: slow enough to kill its process in the middle
            started.append(time.monotonic())
            await asyncio.sleep(2)
            return 200, {"ok": 1}
        if time.monotonic() < down_until[0]:
            return 503, {"error": {"message": "temporarily unavailable", "code": 2}}
        return 200, {"messages": [{"id": f"wamid.OUT{uuid.uuid4().hex}"}]}

    async with platform(graph) as api:
        start = (f'x = GET "{api.url}/slow"\nTALK "Hello! What is your name?"\nHEAR name\n'
                 'TALK "Nice to meet you, " + name\n')
        env = environ(tmp_path, api.url, database, redis_url, start)
        one, two = Server(env, tmp_path / "one.log"), Server(env, tmp_path / "two.log")
        with one, two:
            sender = "5521" + str(uuid.uuid4().int)[:9]
            down_until[0] = time.monotonic() + 30
            async with httpx.AsyncClient(timeout=30) as client:
                await webhook(client, one, text(sender, "oi"))  # acknowledged: stored
                await until(lambda: started, 10, "the dialog ran its GET")
                one.kill9()  # in the middle of the turn: nothing of it is committed
                # the other process claims the message after the lease, runs the turn, commits the
                # reply, and cannot deliver it (the platform is down); then it is killed too
                await until(lambda: len(started) >= 2, LEASE + 15, "the other process ran the message again")
                await until(lambda: any(c.status == 503 for c in api.posts("/messages")), 15,
                            "the reply was committed and its delivery tried")
                two.kill9()  # between the commit and the delivery
                one.start()
                await until(lambda: delivered(api, sender), 60, "the greeting delivered after the platform is back")
                assert time.monotonic() >= down_until[0]
                await webhook(client, one, text(sender, "Ana"))
                await until(lambda: len(delivered(api, sender)) >= 2, 20, "the second reply")
                await asyncio.sleep(1.5)  # a duplicate would have come by now
            assert delivered(api, sender) == ["Hello! What is your name?", "Nice to meet you, Ana"]
            failures = [c for c in api.posts("/messages") if c.status == 503]
            assert len(failures) >= 2  # it was retried while the platform was down
            assert len(started) == 2  # the killed turn, and the one that committed; never a third


async def test_two_servers_share_one_inbox_and_outbox_once_each_in_order(
        tmp_path: Path, database: str, redis_url: str) -> None:
    async with platform(lambda c: (200, {"messages": [{"id": f"wamid.{uuid.uuid4().hex}"}]})) as api:
        start = 'TALK "hello"\nDO\n  HEAR n\n  TALK "got " + n\nLOOP\n'
        env = environ(tmp_path, api.url, database, redis_url, start, retry=0.2)
        with Server(env, tmp_path / "one.log") as one, Server(env, tmp_path / "two.log") as two:
            senders = ["5531" + str(uuid.uuid4().int)[:9] for _ in range(8)]
            async with httpx.AsyncClient(timeout=30) as client:
                for i in range(6):  # each message to either process, the senders' messages interleaved
                    await asyncio.gather(*(webhook(client, (one, two)[(i + k) % 2], text(s, f"m{i}"))
                                           for k, s in enumerate(senders)))
                await until(lambda: all(len(delivered(api, s)) >= 6 for s in senders), 60, "every reply")
                await asyncio.sleep(1)
    for s in senders:  # the first message opens the conversation; each answer once, in order
        assert delivered(api, s) == ["hello", "got m1", "got m2", "got m3", "got m4", "got m5"], s
