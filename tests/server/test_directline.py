"""The Direct Line 3.0 subset (gb_server/channels/directline.py) on a real server over SQLite.

(a) the protocol with httpx and websockets, as DirectLineJS calls it (protocols.md §2.2-2.4);
(b) Microsoft's own ``botframework-webchat`` bundle from npm, unchanged, in Debian's chromium
    (Playwright for Python, never a browser download), against the same server. The npm package
    is installed once into /tmp/gb-webchat-cache (outside the repository) and reused.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import tornado.web
import websockets
from websockets.typing import Origin

from gb_sessions.config import Stores
from tests.browser import ARTIFACTS, CHROMIUM, FLAGS, need_chromium
from tests.helpers import servers
from tests.helpers.bots import copy_example_bots
from tests.helpers.prereqs import unavailable
from tests.server.inproc import InProcess, serving

WEBCHAT_VERSION = "4.18.1"
WEBCHAT_CACHE = Path(os.environ.get("GB_WEBCHAT_CACHE", "/tmp/gb-webchat-cache")) / WEBCHAT_VERSION
DL = "/v3/directline"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gb over Direct Line</title>
<script src="/webchat/webchat.js"></script>
<style>html, body { height: 100%; margin: 0 } #webchat { height: 100% }</style></head>
<body><div id="webchat" role="main"></div>
<script>
(async function () {
  const res = await fetch("/v3/directline/tokens/generate", { method: "POST" });
  const { token } = await res.json();
  window.WebChat.renderWebChat({
    directLine: window.WebChat.createDirectLine({ token, domain: location.origin + "/v3/directline" }),
    userID: "ann", username: "Ann"
  }, document.getElementById("webchat"));
})();
</script></body></html>
"""


class DirectLinePage(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(PAGE)


def add_webchat(app: tornado.web.Application, webchat_dist: Path | None) -> None:
    """make_app mounts Direct Line; for the browser test, Web Chat and its page too."""
    assert any("directline" in str(rule.matcher.regex.pattern) for rule in app.default_router.rules[0].target.rules)
    extra: list[Any] = []
    if webchat_dist is not None:
        extra += [(r"/webchat/test/page.html", DirectLinePage),
                  (r"/webchat/(.*)", tornado.web.StaticFileHandler, {"path": str(webchat_dist)})]
    app.add_handlers(r".*", extra)  # looked at when make_app's own routes match nothing


async def serve(stores: Stores, tmp_path: Path, webchat_dist: Path | None = None) -> AsyncIterator[InProcess]:
    bots = copy_example_bots(tmp_path / "bots")
    async with serving(stores, bots, tmp_path / "data", routes=lambda ctx, app: add_webchat(app, webchat_dist),
                       max_body_bytes=8 * 1024, max_message_chars=500) as srv:
        yield srv


@pytest.fixture
async def srv(sqlite_stores: Stores, tmp_path: Path) -> AsyncIterator[InProcess]:
    async for s in serve(sqlite_stores, tmp_path):
        yield s


def bearer(token: str) -> dict[str, str]:
    """What DirectLineJS sends: the token and its agent."""
    return {**servers.bearer(token), "x-ms-bot-agent": "DirectLine/3.0 (directlinejs 0.15.5)"}


def user_activity(text: str, client_id: str) -> dict[str, Any]:
    """What Web Chat posts (postActivitySaga.ts)."""
    return {"type": "message", "text": text, "from": {"id": "ann", "name": "Ann", "role": "user"},
            "locale": "en-US", "localTimestamp": "2026-01-01T10:00:00+00:00", "textFormat": "plain",
            "channelData": {"clientActivityID": client_id}}


async def start(c: httpx.AsyncClient, prefix: str = DL) -> dict[str, Any]:
    r = await c.post(f"{prefix}/tokens/generate")
    assert r.status_code == 200, r.text
    gen = r.json()
    assert set(gen) == {"conversationId", "token", "expires_in"} and len(gen["token"]) >= 43
    r = await c.post(f"{prefix}/conversations", json={"user": {"id": "ann"}}, headers=bearer(gen["token"]))
    assert r.status_code == 201, r.text
    conv: dict[str, Any] = r.json()
    assert conv["conversationId"] == gen["conversationId"] and conv["token"] == gen["token"]
    assert conv["expires_in"] > 0 and conv["streamUrl"].startswith("ws://")
    assert gen["token"] not in conv["streamUrl"]  # a short-lived ticket in the URL, never the session token
    return conv


# --- (a) the protocol ----------------------------------------------------------------------------------


async def test_polling_conversation_with_echo_and_menus(srv: InProcess) -> None:
    async with httpx.AsyncClient(base_url=srv.url) as c:
        conv = await start(c)
        cid, h = conv["conversationId"], bearer(conv["token"])
        r = await c.get(f"{DL}/conversations/{cid}/activities", headers=h)
        first = r.json()
        texts = [a["text"] for a in first["activities"]]
        assert texts[-1] == "What is your name?" and texts[0].startswith("Welcome")  # start.bas ran
        for a in first["activities"]:
            assert a["type"] == "message" and a["from"] == {"id": "default", "name": "default", "role": "bot"}
            assert a["conversation"] == {"id": cid} and a["id"] and a["timestamp"].endswith("Z")
        mark = first["watermark"]
        assert (await c.get(f"{DL}/conversations/{cid}/activities?watermark={mark}", headers=h)).json() == {
            "activities": [], "watermark": mark}

        r = await c.post(f"{DL}/conversations/{cid}/activities", json=user_activity("Ann", "c1"), headers=h)
        assert r.status_code == 200
        posted_id = r.json()["id"]
        got = (await c.get(f"{DL}/conversations/{cid}/activities?watermark={mark}", headers=h)).json()
        echo, reply = got["activities"]
        assert echo["id"] == posted_id and echo["text"] == "Ann"
        assert echo["channelData"] == {"clientActivityID": "c1"} and echo["from"]["id"] == "ann"
        assert reply["text"] == "Hi Ann, what would you like to know about?"
        assert [a["value"] for a in reply["suggestedActions"]["actions"]] == ["Sessions", "Channels", "Nothing, thanks"]
        assert int(got["watermark"]) > int(mark)

        # a suggested action is an imBack: its value comes back as the text
        await c.post(f"{DL}/conversations/{cid}/activities", json=user_activity("Channels", "c2"), headers=h)
        got = (await c.get(f"{DL}/conversations/{cid}/activities?watermark={got['watermark']}", headers=h)).json()
        assert "WhatsApp" in got["activities"][-1]["text"]
        # non-message activities (typing, events) are acknowledged, not turns
        r = await c.post(f"{DL}/conversations/{cid}/activities", json={"type": "typing", "from": {"id": "ann"}},
                         headers=h)
        assert r.status_code == 200 and r.json()["id"]
        # the whole history, from the start, again (the client's "undefined" watermark too)
        every = (await c.get(f"{DL}/conversations/{cid}/activities?watermark=undefined", headers=h)).json()
        texts = [a["text"] for a in every["activities"]]
        assert texts[0].startswith("Welcome") and texts[-4:-1] == ["Ann", "Hi Ann, what would you like to know about?",
                                                                    "Channels"] and "WhatsApp" in texts[-1]
        # the session is a gb session: the same token works on gb's own API
        r = await c.get("/api/session/history", headers=servers.bearer(conv["token"]))
        assert [m["content"] for m in r.json()["messages"]][-2] == "Channels"
        # refresh keeps the token; GET conversation gives a fresh stream URL (the client's reconnect)
        r = await c.post(f"{DL}/tokens/refresh", headers=h)
        assert r.json() == {"conversationId": cid, "token": conv["token"], "expires_in": conv["expires_in"]}
        r = await c.get(f"{DL}/conversations/{cid}?watermark={every['watermark']}", headers=h)
        assert r.status_code == 200 and f"watermark={every['watermark']}&" in r.json()["streamUrl"]


async def test_stream_pushes_backlog_echo_and_replies(srv: InProcess) -> None:
    async with httpx.AsyncClient(base_url=srv.url) as c:
        conv = await start(c)
        cid, h = conv["conversationId"], bearer(conv["token"])
        async with websockets.connect(conv["streamUrl"], origin=Origin(srv.url)) as ws:
            backlog = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert backlog["activities"][-1]["text"] == "What is your name?" and backlog["watermark"]
            await ws.send("")  # DirectLineJS's ping: ignored
            r = await c.post(f"{DL}/conversations/{cid}/activities", json=user_activity("Bo", "x1"), headers=h)
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            echo, reply = frame["activities"]
            assert echo["id"] == r.json()["id"] and echo["channelData"]["clientActivityID"] == "x1"
            assert reply["text"].startswith("Hi Bo") and reply["suggestedActions"]["actions"][0]["title"] == "Sessions"
            assert int(frame["watermark"]) > int(backlog["watermark"])
            # a turn through gb's own API reaches the Direct Line stream too
            gb_auth = servers.bearer(conv["token"])
            await c.post("/api/chat", json={"message": "Sessions"}, headers=gb_auth)
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert frame["activities"][0]["text"] == "Sessions"
            assert frame["activities"][0]["from"]["role"] == "user"
        # a reconnect with the watermark gets only what is new (nothing)
        r = await c.get(f"{DL}/conversations/{cid}?watermark={frame['watermark']}", headers=h)
        async with websockets.connect(r.json()["streamUrl"], origin=Origin(srv.url)) as ws:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.5)


async def test_errors_in_direct_line_shape(srv: InProcess) -> None:
    async with httpx.AsyncClient(base_url=srv.url) as c:
        conv = await start(c)
        cid, h = conv["conversationId"], bearer(conv["token"])
        r = await c.post(f"{DL}/conversations")
        assert r.status_code == 401 and r.json()["error"]["code"] == "Unauthorized"
        r = await c.get(f"{DL}/conversations/{cid}/activities", headers=bearer("forged"))
        assert r.status_code == 401 and r.json()["error"]["code"] == "Unauthorized"
        other = "00000000-0000-4000-8000-000000000000"
        r = await c.get(f"{DL}/conversations/{other}/activities", headers=h)
        assert r.status_code == 404 and r.json()["error"]["code"] == "NotFound"
        r = await c.post(f"{DL}/conversations/{cid}/activities", content=b'{"type": ', headers=h)
        assert r.status_code == 400 and r.json()["error"]["code"] == "BadSyntax"
        r = await c.post(f"{DL}/conversations/{cid}/activities", json={"text": "no type"}, headers=h)
        assert r.status_code == 400 and r.json()["error"]["code"] == "BadArgument"
        r = await c.post(f"{DL}/conversations/{cid}/activities", json=user_activity("x" * 600, "big"), headers=h)
        assert r.status_code == 413 and r.json()["error"]["code"] == "MessageSizeTooBig"
        # another bot's conversations are another bot's
        support = await start(c, "/support" + DL)
        assert support["streamUrl"].startswith(srv.url.replace("http", "ws") + "/support/v3/directline/")
        r = await c.get(f"{DL}/conversations/{support['conversationId']}/activities", headers=bearer(support["token"]))
        assert r.status_code == 401
        r = await c.post("/nobot/v3/directline/tokens/generate")
        assert r.status_code == 404 and r.json()["error"]["code"] == "NotFound"
        # stream: a forged or tampered ticket is refused before the upgrade
        bad = conv["streamUrl"][:-3] + ("AAA" if not conv["streamUrl"].endswith("AAA") else "BBB")
        with pytest.raises(websockets.exceptions.InvalidStatus) as exc:
            async with websockets.connect(bad, origin=Origin(srv.url)):
                pass
        assert exc.value.response.status_code == 401
        with pytest.raises(websockets.exceptions.InvalidStatus) as exc:
            async with websockets.connect(conv["streamUrl"], origin=Origin("https://evil.example")):
                pass
        assert exc.value.response.status_code == 403
        # an ended conversation: 404, which DirectLineJS reports as Ended
        await c.delete("/api/session", headers=servers.bearer(conv["token"]))
        r = await c.get(f"{DL}/conversations/{cid}/activities", headers=h)
        assert r.status_code == 404 and r.json()["error"]["code"] == "NotFound"
        with pytest.raises(websockets.exceptions.InvalidStatus) as exc:
            async with websockets.connect(conv["streamUrl"], origin=Origin(srv.url)):
                pass
        assert exc.value.response.status_code == 404


# --- (b) Microsoft's Web Chat, unchanged ---------------------------------------------------------------


@pytest.fixture(scope="session")
def webchat_dist() -> Path:
    """botframework-webchat's dist/ from npm, installed once (outside the repository)."""
    dist = WEBCHAT_CACHE / "node_modules" / "botframework-webchat" / "dist"
    if (dist / "webchat.js").exists():
        return dist
    npm = shutil.which("npm")
    if npm is None:
        unavailable("npm is not installed: cannot fetch botframework-webchat")
    WEBCHAT_CACHE.mkdir(parents=True, exist_ok=True)
    (WEBCHAT_CACHE / "package.json").write_text('{"name": "gb-webchat-cache", "private": true}\n')
    proc = subprocess.run([str(npm), "install", f"botframework-webchat@{WEBCHAT_VERSION}", "--no-audit", "--no-fund"],
                          cwd=WEBCHAT_CACHE, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 or not (dist / "webchat.js").exists():
        unavailable(f"npm install botframework-webchat@{WEBCHAT_VERSION} failed: {proc.stderr[-2000:]}")
    return dist


@pytest.fixture
async def webchat_srv(sqlite_stores: Stores, tmp_path: Path, webchat_dist: Path) -> AsyncIterator[InProcess]:
    async for s in serve(sqlite_stores, tmp_path, webchat_dist):
        yield s


async def test_microsofts_web_chat_talks_to_a_gb_bot(webchat_srv: InProcess) -> None:
    need_chromium()
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = await browser.new_page(viewport={"width": 480, "height": 800})
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        try:
            await page.goto(webchat_srv.url + "/webchat/test/page.html")
            await expect(page.locator("p", has_text="What is your name?")).to_be_visible(timeout=20_000)
            box = page.locator('[data-id="webchat-sendbox-input"]')
            await box.fill("Ann")
            await box.press("Enter")
            hi = "Hi Ann, what would you like to know about?"
            await expect(page.locator("p", has_text=hi)).to_be_visible(timeout=20_000)
            # the menu's choices are Web Chat's suggested actions: a click is an answer
            await page.get_by_role("toolbar", name="Suggested actions").get_by_role("button", name="Sessions").click()
            memory = "Every conversation has memory: I will remember you, Ann."
            await expect(page.locator("p", has_text=memory)).to_be_visible(timeout=20_000)
            # the echo (channelData.clientActivityID) arrived: no message is left "Sending", none failed
            await expect(page.get_by_text("Sending", exact=True)).to_have_count(0, timeout=10_000)
            await expect(page.get_by_text("Send failed")).to_have_count(0)
            await expect(page.get_by_text("You said:").first).to_be_attached()
            await expect(page.get_by_text("Connectivity Status: Connected")).to_be_attached(timeout=10_000)
            assert any("/v3/directline/conversations/" in u and "/stream?" in u for u in sockets), sockets
        except Exception:
            print("\n".join(console))
            raise
        finally:
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "webchat-directline.png"))
            await browser.close()


async def test_a_stream_url_names_only_a_public_or_allowed_host(
        srv: InProcess, sqlite_stores: Stores, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A Host header is the client's to choose: a live ticket must not be handed out for its host;
    and no ticket reaches a log line, even for a refused stream."""
    async with httpx.AsyncClient(base_url=srv.url) as c:
        conv = await start(c)
        r = await c.post(f"{DL}/conversations", headers={**bearer(conv["token"]), "Host": "attacker.example"})
        assert r.status_code == 400 and "attacker.example" not in json.dumps(r.json().get("streamUrl", ""))
        assert "GB_PUBLIC_URL" in r.json()["error"]["message"]
        r = await c.post(f"{DL}/conversations", headers=bearer(conv["token"]))  # 127.0.0.1: allowed
        ticket = r.json()["streamUrl"].split("t=")[1]
        assert r.json()["streamUrl"].startswith(srv.url.replace("http", "ws"))
        with caplog.at_level(logging.DEBUG):
            r = await c.get(f"{DL}/conversations/{conv['conversationId']}/stream?t={ticket}x")  # refused
            assert r.status_code in (400, 401)
            await c.get(f"/api/session?token={conv['token']}")  # a token where it does not belong
        logged = "\n".join(rec.getMessage() for rec in caplog.records if rec.name.startswith(("tornado", "gb")))
        assert ticket not in logged and conv["token"] not in logged and "stream" in logged
    async with serving(sqlite_stores, copy_example_bots(tmp_path / "pub"), tmp_path / "data",
                       public_url="https://bots.example.com") as pub, httpx.AsyncClient(base_url=pub.url) as c:
        token = (await c.post(f"{DL}/tokens/generate")).json()["token"]
        r = await c.post(f"{DL}/conversations", headers={**bearer(token), "Host": "attacker.example"})
        assert r.status_code == 201 and r.json()["streamUrl"].startswith("wss://bots.example.com/v3/directline/")
