"""Microsoft Teams (the Bot Framework's activities) against real local stand-ins of the Bot
Framework (tests/helpers/botframework.py: OpenID metadata, signing keys, the token endpoint and
the Bot Connector, each checking what it receives): the JWT checks of protocols.md 4.2 one by
one (401 and nothing stored), a rotated key, the write-once dialog, the greeting of a user
added, menus as suggested actions and as a card, the token kept and replaced, a connector that
fails and recovers, a redelivered activity."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from gb_sessions.config import Stores
from tests.helpers.botframework import APP_ID, APP_SECRET, BotFramework, botframework
from tests.helpers.bots import make_bot
from tests.server.inproc import InProcess, serving

DIALOGS = {
    "start": 'TALK "Hello! What is your name?"\nHEAR name\nTALK "Nice to meet you, " + name\n',
    "menu": 'HEAR pick AS "Red", "Green", "Blue"\nTALK "You chose " + pick\n',
    "many": 'HEAR pick AS "One", "Two", "Three", "Four"\nTALK "You chose " + pick\n',
    "lots": 'HEAR pick AS "A", "B", "C", "D", "E", "F", "G"\nTALK "You chose " + pick\n',
    "photo": 'TALK "Send a picture"\nHEAR f AS FILE\nTALK "Got " + f.name + " (" + f.type + ")"\n',
}
BOT_ID = f"28:{APP_ID}"


def config(bf: BotFramework) -> str:
    return (f"teams-app-id,{APP_ID}\nteams-app-password,env:GB_TEST_TEAMS_SECRET\n"
            f"teams-openid-url,{bf.url}/openid\nteams-token-url,{bf.url}/token\noutbox-retry-seconds,0.2\n")


async def started(stores: Stores, tmp_path: Path, bf: BotFramework) -> AsyncIterator[InProcess]:
    make_bot(tmp_path / "bots", "default", DIALOGS, config=config(bf))
    async with serving(stores, tmp_path / "bots", tmp_path / "data") as server:
        yield server


@pytest.fixture
async def teams(channel_stores: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                ) -> AsyncIterator[tuple[InProcess, BotFramework]]:
    monkeypatch.setenv("GB_TEST_TEAMS_SECRET", APP_SECRET)
    async with botframework() as bf:
        async for server in started(channel_stores, tmp_path, bf):
            yield server, bf


def conversation() -> str:
    """A personal conversation's id of this test alone (the PostgreSQL database is shared by the run)."""
    return f"a:1{uuid.uuid4().hex}"


def activity(bf: BotFramework, conv: str, text: str, *, activity_id: str | None = None, kind: str = "message",
             conversation_type: str = "personal", **fields: Any) -> dict[str, Any]:
    """An Activity as Teams sends it (protocols.md 4.2's example)."""
    return {"type": kind, "id": activity_id or str(uuid.uuid4().int)[:13], "timestamp": "2026-11-24T18:00:00.000Z",
            "channelId": "msteams", "serviceUrl": bf.service_url,
            "from": {"id": "29:1XJKJ" + conv[-8:], "name": "Ana", "aadObjectId": "aad-1"},
            "conversation": {"conversationType": conversation_type, "tenantId": "tid-1", "id": conv},
            "recipient": {"id": BOT_ID, "name": "Bot"}, "text": text, "textFormat": "plain", "locale": "pt-BR",
            "channelData": {"tenant": {"id": "tid-1"}}, **fields}


async def post(server: InProcess, body: dict[str, Any] | bytes, token: str | None, *, path: str = "/api/messages"
               ) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = token if token.startswith(("Bearer ", "Basic ", "bearer")) else f"Bearer {token}"
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    async with httpx.AsyncClient() as client:
        return await client.post(server.url + path, content=content, headers=headers)


async def say(server: InProcess, bf: BotFramework, conv: str, text: str, **fields: Any) -> httpx.Response:
    answer = await post(server, activity(bf, conv, text, **fields), bf.sign())
    assert answer.status_code == 200, answer.text
    return answer


def messages_to(bf: BotFramework, conv: str) -> list[dict[str, Any]]:
    return [c.json() for c in bf.activities(conv) if c.json()["type"] == "message"]


async def replies(bf: BotFramework, conv: str, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        got = messages_to(bf, conv)
        if len(got) >= count:
            return got
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {count} messages to {conv}, got {messages_to(bf, conv)}")


async def test_the_write_once_dialog_runs_over_teams(teams: Any) -> None:
    server, bf = teams
    conv = conversation()
    first = await say(server, bf, conv, "hello", activity_id="1485983408511")
    assert first.json() == {"ok": True}
    (hello,) = await replies(bf, conv, 1)
    assert hello == {"type": "message", "textFormat": "plain", "text": "Hello! What is your name?",
                     "from": {"id": BOT_ID, "name": "Bot"}, "recipient": {"id": "29:1XJKJ" + conv[-8:], "name": "Ana"},
                     "conversation": {"id": conv}, "replyToId": "1485983408511"}
    call = bf.activities(conv)[-1]
    assert call.path == f"/teams/v3/conversations/{conv}/activities/1485983408511"
    assert call.headers["authorization"].startswith("Bearer tok-")
    typing = [c.json() for c in bf.activities(conv) if c.json()["type"] == "typing"]
    assert typing and typing[0]["conversation"] == {"id": conv} and "replyToId" not in typing[0]
    await say(server, bf, conv, "<at>Bot</at> Ana", activity_id="1485983408999")  # the mention is not the name
    _, nice = await replies(bf, conv, 2)
    assert nice["text"] == "Nice to meet you, Ana" and nice["replyToId"] == "1485983408999"
    sid = await server.runtime.store.find("default", "teams", conv)
    assert sid is not None
    history = [(m.role, m.content, m.channel) for m in await server.runtime.history(sid)]
    assert history == [("user", "hello", "teams"), ("assistant", "Hello! What is your name?", "teams"),
                       ("user", "Ana", "teams"), ("assistant", "Nice to meet you, Ana", "teams")]
    stored = await server.runtime.channels.latest_payload("default", "teams", conv)
    assert stored is not None and stored["extra"]["reference"] == {
        "serviceUrl": bf.service_url, "channelId": "msteams",
        "conversation": {"id": conv, "conversationType": "personal", "tenantId": "tid-1"},
        "user": {"id": "29:1XJKJ" + conv[-8:], "name": "Ana"}, "bot": {"id": BOT_ID, "name": "Bot"},
        "tenant": "tid-1"}
    for _ in range(100):
        rows = [o for o in await server.runtime.channels.outbox(bot_id="default") if o.address == conv]
        if all(o.status == "sent" for o in rows):
            break
        await asyncio.sleep(0.05)
    assert [o.status for o in rows] == ["sent", "sent"] and all(o.platform_id for o in rows)


async def test_a_user_added_to_the_conversation_is_greeted(teams: Any) -> None:
    server, bf = teams
    conv = conversation()
    added = activity(bf, conv, "", kind="conversationUpdate", activity_id=f"f:{uuid.uuid4().hex}",
                     membersAdded=[{"id": BOT_ID}, {"id": "29:1XJKJ" + conv[-8:], "name": "Ana"}])
    del added["text"]
    assert (await post(server, added, bf.sign())).status_code == 200
    (hello,) = await replies(bf, conv, 1)
    assert hello["text"] == "Hello! What is your name?" and "replyToId" not in hello
    assert bf.activities(conv)[-1].path == f"/teams/v3/conversations/{conv}/activities"
    await say(server, bf, conv, "Bia")
    _, nice = await replies(bf, conv, 2)
    assert nice["text"] == "Nice to meet you, Bia"
    sid = await server.runtime.store.find("default", "teams", conv)
    assert sid is not None
    assert [(m.role, m.content) for m in await server.runtime.history(sid)] == [
        ("assistant", "Hello! What is your name?"), ("user", "Bia"), ("assistant", "Nice to meet you, Bia")]
    # the bot alone added (its own installation), and another user added to an open conversation: no greeting
    bot_only = activity(bf, conversation(), "", kind="conversationUpdate", membersAdded=[{"id": BOT_ID}])
    assert (await post(server, bot_only, bf.sign())).status_code == 200
    again = activity(bf, conv, "", kind="conversationUpdate", membersAdded=[{"id": "29:other", "name": "Caio"}])
    assert (await post(server, again, bf.sign())).status_code == 200
    await asyncio.sleep(0.8)
    assert len(messages_to(bf, conv)) == 2
    assert await server.runtime.channels.latest_payload("default", "teams", bot_only["conversation"]["id"]) is None
    assert await server.runtime.store.find("default", "teams", conv) == sid


async def test_other_activities_are_acknowledged_and_not_stored(teams: Any) -> None:
    server, bf = teams
    conv = conversation()
    for kind in ("typing", "messageReaction", "installationUpdate", "invoke"):
        answer = await post(server, activity(bf, conv, "", kind=kind), bf.sign())
        assert answer.status_code == 200, (kind, answer.text)
    assert await server.runtime.channels.latest_payload("default", "teams", conv) is None


async def test_a_menu_is_suggested_actions_in_a_personal_chat_and_a_card_in_a_group(teams: Any) -> None:
    server, bf = teams
    conv = conversation()
    await say(server, bf, conv, "hi")
    await say(server, bf, conv, "Ana")
    await replies(bf, conv, 2)
    await say(server, bf, conv, "menu")
    (*_, menu) = await replies(bf, conv, 3)
    assert menu["suggestedActions"] == {"to": ["29:1XJKJ" + conv[-8:]], "actions": [
        {"type": "imBack", "title": o, "value": o} for o in ("Red", "Green", "Blue")]}
    await say(server, bf, conv, "Green")  # what imBack sends: the option as the user's message
    (*_, chose) = await replies(bf, conv, 4)
    assert chose["text"] == "You chose Green" and "suggestedActions" not in chose
    await say(server, bf, conv, "many")  # 4 options: more than Teams shows as suggested actions
    (*_, many) = await replies(bf, conv, 5)
    assert "suggestedActions" not in many and [a["title"] for a in many["attachments"][0]["content"]["actions"]] == [
        "One", "Two", "Three", "Four"]
    await say(server, bf, conv, "Four")
    await say(server, bf, conv, "lots")  # 7: numbered text, answered by its number
    (*_, lots) = await replies(bf, conv, 7)
    assert lots["text"] == "\n".join(f"{i}. {o}" for i, o in enumerate("ABCDEFG", 1)) and "attachments" not in lots
    await say(server, bf, conv, "5")
    (*_, chose_lots) = await replies(bf, conv, 8)
    assert chose_lots["text"] == "You chose E"
    group = f"19:{uuid.uuid4().hex}@thread.v2"
    await say(server, bf, group, "hi", conversation_type="groupChat")
    await say(server, bf, group, "Caio", conversation_type="groupChat")
    await replies(bf, group, 2)
    await say(server, bf, group, "<at>Bot</at> menu", conversation_type="groupChat")
    (*_, card) = await replies(bf, group, 3)
    (attachment,) = card["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive" and "suggestedActions" not in card
    assert [a["data"] for a in attachment["content"]["actions"]] == [
        {"msteams": {"type": "imBack", "value": o}} for o in ("Red", "Green", "Blue")]


def _garbage(bf: BotFramework) -> dict[str, str | None]:
    """Each kind of token the checks refuse, by the error code it gets."""
    stranger = bf.rotate("stranger", ["msteams"])  # published ...
    bf.keys.remove(stranger)  # ... and gone: the server never sees it
    return {
        "wrong_audience": bf.sign(aud="another-app"),
        "wrong_issuer": bf.sign(iss="https://sts.windows.net/tid-1/"),
        "expired_token": bf.sign(exp=int(time.time()) - 301, nbf=int(time.time()) - 3600),
        "unknown_key": bf.sign(key=stranger),
        "wrong_service_url": bf.sign(service_url="https://evil.example/teams/"),
        "bad_signature": bf.sign(key=stranger, kid="key-1"),
        "missing_token": None,
        "bad_token": "Bearer not.a.jwt",
    }


async def test_each_bad_token_is_401_saying_why_and_stores_nothing(teams: Any) -> None:
    server, bf = teams
    conv = conversation()
    webchat = bf.rotate("webchat-only", ["webchat"])  # published from the start, endorsed for another channel
    for code, token in _garbage(bf).items():
        answer = await post(server, activity(bf, conv, "hi"), token)
        assert answer.status_code == 401, (code, answer.text)
        assert answer.json()["error"]["code"] == code, answer.text
    basic = await post(server, activity(bf, conv, "hi"), "Basic dXNlcjpwYXNz")
    assert basic.status_code == 401 and basic.json()["error"]["code"] == "missing_token"
    # a key not endorsed for the activity's channel
    unendorsed = await post(server, activity(bf, conv, "hi"), bf.sign(key=webchat))
    assert unendorsed.status_code == 401 and unendorsed.json()["error"]["code"] == "unendorsed_channel"
    # a token of the right serviceUrl on an activity naming another one: the replies would go there
    moved = await post(server, {**activity(bf, conv, "hi"), "serviceUrl": "https://evil.example/teams/"}, bf.sign())
    assert moved.status_code == 401 and moved.json()["error"]["code"] == "wrong_service_url"
    # the 5 minutes of leeway: expired 4 minutes ago still passes
    late = await post(server, activity(bf, conv, "hi"), bf.sign(exp=int(time.time()) - 240))
    assert late.status_code == 200
    await replies(bf, conv, 1)
    stored = await server.runtime.channels.latest_payload("default", "teams", conv)
    assert stored is not None and stored["text"] == "hi"
    other = conversation()
    for token in _garbage(bf).values():
        await post(server, activity(bf, other, "hi"), token)
    await asyncio.sleep(0.5)
    assert await server.runtime.channels.latest_payload("default", "teams", other) is None
    assert await server.runtime.store.find("default", "teams", other) is None
    assert messages_to(bf, other) == []


async def test_an_unknown_kid_fetches_the_keys_once_so_a_rotated_key_works(teams: Any) -> None:
    server, bf = teams
    conv = conversation()
    await say(server, bf, conv, "hi")
    assert len(bf.key_fetches()) == 1
    rotated = bf.rotate("key-2")
    assert (await post(server, activity(bf, conv, "Ana"), bf.sign(key=rotated))).status_code == 200
    assert len(bf.key_fetches()) == 2
    _, nice = await replies(bf, conv, 2)
    assert nice["text"] == "Nice to meet you, Ana"
    # the keys known now answer; a kid still unknown does not fetch again within the hour
    await post(server, activity(bf, conv, "x"), bf.sign(key=rotated))
    for kid in ("forged-1", "forged-2"):
        refused = await post(server, activity(bf, conv, "x"), bf.sign(kid=kid))
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unknown_key"
    assert len(bf.key_fetches()) == 2


async def test_the_token_is_kept_for_many_replies_and_replaced_when_it_expires(
        channel_stores: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GB_TEST_TEAMS_SECRET", APP_SECRET)
    async with botframework(expires_in=4) as bf:  # kept 2 s (half its life: the margin is at most that)
        async for server in started(channel_stores, tmp_path, bf):
            conv = conversation()
            await say(server, bf, conv, "hi")
            await say(server, bf, conv, "Ana")
            await say(server, bf, conv, "menu")
            await replies(bf, conv, 3)
            assert len(bf.token_requests()) == 1
            form = bf.token_requests()[0].form()
            assert form == {"grant_type": "client_credentials", "client_id": APP_ID, "client_secret": APP_SECRET,
                            "scope": "https://api.botframework.com/.default"}
            await asyncio.sleep(2.3)
            await say(server, bf, conv, "Red")
            (*_, chose) = await replies(bf, conv, 4)
            assert chose["text"] == "You chose Red"
            assert len(bf.token_requests()) == 2
            assert all(c.status == 200 for c in bf.activities(conv, accepted=False))


async def test_a_token_the_connector_refuses_is_replaced_once(teams: Any) -> None:
    server, bf = teams
    conv = conversation()
    await say(server, bf, conv, "hi")
    await replies(bf, conv, 1)
    bf.issued.clear()  # the connector forgets the tokens (a secret rotated): the kept one is refused
    await say(server, bf, conv, "Ana")
    _, nice = await replies(bf, conv, 2)
    assert nice["text"] == "Nice to meet you, Ana"
    assert len(bf.token_requests()) == 2
    statuses = [c.status for c in bf.activities(conv, accepted=False)]
    assert statuses.count(401) == 1 and statuses[-1] == 200  # refused once (typing or the reply), then taken


async def test_a_connector_failing_then_recovering_delivers_once(teams: Any) -> None:
    server, bf = teams
    conv = conversation()
    bf.failures.extend([(503, {"message": "Service Unavailable"}), (429, {"message": "Too many requests"})])
    await say(server, bf, conv, "hi")
    (hello,) = await replies(bf, conv, 1, timeout=20)
    assert hello["text"] == "Hello! What is your name?"
    tried = [c.status for c in bf.activities(conv, accepted=False) if c.json()["type"] == "message"]
    assert tried == [503, 429, 200]
    await asyncio.sleep(0.6)
    assert len(messages_to(bf, conv)) == 1
    (row,) = [o for o in await server.runtime.channels.outbox(bot_id="default") if o.address == conv]
    assert row.status == "sent" and row.attempts == 3


async def test_a_connector_refusing_for_good_dead_letters(teams: Any) -> None:
    server, bf = teams
    conv = conversation()
    bf.failures.append((400, {"error": {"code": "BadArgument", "message": "Unknown conversation"}}))
    await say(server, bf, conv, "hi")
    for _ in range(100):
        rows = [o for o in await server.runtime.channels.outbox(bot_id="default") if o.address == conv]
        if rows and rows[0].status == "dead":
            break
        await asyncio.sleep(0.05)
    assert rows[0].status == "dead" and "400" in (rows[0].error or "") and "Unknown conversation" in rows[0].error
    assert APP_SECRET not in rows[0].error


async def test_a_redelivered_activity_runs_the_dialog_once(teams: Any) -> None:
    server, bf = teams
    conv = conversation()
    await say(server, bf, conv, "hi")
    await replies(bf, conv, 1)
    body = activity(bf, conv, "Bia")
    answers = await asyncio.gather(*(post(server, body, bf.sign(), path="/default/api/messages") for _ in range(3)))
    assert [a.status_code for a in answers] == [200, 200, 200]
    await replies(bf, conv, 2)
    await asyncio.sleep(0.8)  # a second run would have sent by now
    assert [m["text"] for m in messages_to(bf, conv)] == ["Hello! What is your name?", "Nice to meet you, Bia"]
    sid = await server.runtime.store.find("default", "teams", conv)
    assert sid is not None
    assert [m.content for m in await server.runtime.history(sid) if m.role == "user"] == ["hi", "Bia"]


async def test_a_body_that_is_not_an_activity_is_400_and_a_bot_without_teams_404(teams: Any) -> None:
    server, bf = teams
    bad = await post(server, b'{"no": "type"}', bf.sign())
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"
    broken = await post(server, b"{not json", bf.sign())
    assert broken.status_code == 400
    off = await post(server, activity(bf, conversation(), "hi"), bf.sign(), path="/nosuchbot/api/messages")
    assert off.status_code == 404


async def test_an_image_and_a_file_the_user_sends_are_what_hear_as_file_gets(teams: Any) -> None:
    server, bf = teams
    conv = conversation()
    await say(server, bf, conv, "hi")
    await say(server, bf, conv, "Ana")
    await replies(bf, conv, 2)
    await say(server, bf, conv, "photo")
    image = {"contentType": "image/jpeg", "contentUrl": bf.service_url + "attachments/a1/views/original",
             "name": "cat.jpg"}
    await say(server, bf, conv, "", attachments=[image, {"contentType": "text/html", "content": "<p></p>"}])
    (*_, got) = await replies(bf, conv, 4)
    assert got["text"] == "Got cat.jpg (image/jpeg)"
    (fetched,) = [c for c in bf.platform.calls if c.path.startswith("/teams/attachments/")]
    assert fetched.status == 200 and fetched.headers["authorization"].startswith("Bearer tok-")
    await say(server, bf, conv, "photo")
    shared = {"contentType": "application/vnd.microsoft.teams.file.download.info", "name": "report.jpg",
              "content": {"downloadUrl": bf.url + "/files/f1?sig=x", "uniqueId": "u1", "fileType": "jpg"}}
    await say(server, bf, conv, "", attachments=[shared])
    (*_, got_file) = await replies(bf, conv, 6)
    assert got_file["text"] == "Got report.jpg (image/jpeg)"  # no type given: read from the bytes fetched
    (downloaded,) = [c for c in bf.platform.calls if c.path.startswith("/files/")]
    assert "authorization" not in downloaded.headers  # the bot's token goes only to its connector


async def test_signing_keys_that_cannot_be_fetched_are_a_503_then_fetched_when_back(teams: Any) -> None:
    server, bf = teams
    conv = conversation()
    bf.keys_down = True
    down = await post(server, activity(bf, conv, "hi"), bf.sign())
    assert down.status_code == 503 and down.json()["error"]["code"] == "keys_unavailable"  # the connector retries
    assert await server.runtime.channels.latest_payload("default", "teams", conv) is None
    bf.keys_down = False
    await say(server, bf, conv, "hi")
    (hello,) = await replies(bf, conv, 1)
    assert hello["text"] == "Hello! What is your name?"
    bf.keys_down = True  # down again: the keys known go on verifying
    rotated = bf.rotate("key-3")
    refused = await post(server, activity(bf, conv, "Ana"), bf.sign(key=rotated))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unknown_key"
    await say(server, bf, conv, "Ana")
    _, nice = await replies(bf, conv, 2)
    assert nice["text"] == "Nice to meet you, Ana"
