"""Suggestions on every front of a real server: the REST replies, the WebSocket frames, Direct Line's
``suggestedActions`` (polling, the stream, after a restart), the web chat page's buttons and
Microsoft's Web Chat in Debian's headless Chromium; and a real ``gb serve`` restarted on
PostgreSQL + Valkey with a session's suggestions and a user's memory kept."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.typing import Origin

from gb_sessions.config import Stores
from tests.browser import ARTIFACTS, CHROMIUM, FLAGS, need_chromium
from tests.helpers.bots import make_bot
from tests.helpers.servers import Server, bearer, gb_environ
from tests.server.inproc import InProcess, serving
from tests.server.test_directline import add_webchat, user_activity, webchat_dist  # noqa: F401 (a fixture)

DL = "/v3/directline"
SHOP = {
    "start": 'CLEAR SUGGESTIONS\n'
             'ADD SUGGESTION "products" AS "View products"\n'
             'ADD SUGGESTION "Help <b>me</b>"\n'  # a label is text, never markup
             'ADD SWITCHER "tables" AS "Tables"\n'
             'SET CONTEXT "products" AS "We sell hats"\n'
             'TALK "Welcome to the shop! Your name?"\n'
             'HEAR name\n'
             'TALK "Hi " + name + ", pick a button"\n',
    "view_products": 'TALK "We have hats and caps"\n',  # a click on "View products" starts it by its name
    "clear": 'CLEAR SUGGESTIONS\nTALK "No more suggestions"\n',
    "menu": 'TALK "Hats or caps?"\nHEAR x AS "Hats", "Caps"\nTALK "You chose " + x\n',
}
OFFERED = [{"kind": "context", "text": "View products", "value": "View products", "name": "products"},
           {"kind": "text", "text": "Help <b>me</b>", "value": "Help <b>me</b>"},
           {"kind": "switcher", "text": "Tables", "value": "Tables", "name": "tables", "active": False}]


@pytest.fixture
async def srv(stores: Stores, tmp_path: Path) -> AsyncIterator[InProcess]:
    make_bot(tmp_path / "bots", "default", SHOP)
    async with serving(stores, tmp_path / "bots", tmp_path / "data") as s:
        yield s


async def test_rest_replies_and_the_session_carry_the_suggestions(srv: InProcess) -> None:
    async with httpx.AsyncClient(base_url=srv.url) as c:
        s = (await c.post("/api/session", json={})).json()
        assert s["messages"][-1]["content"] == "Welcome to the shop! Your name?" and s["suggestions"] == OFFERED
        h = bearer(s["token"])
        r = (await c.post("/api/chat", json={"message": "Ann"}, headers=h)).json()
        assert r["messages"][-1]["content"] == "Hi Ann, pick a button" and r["suggestions"] == OFFERED
        r = (await c.post("/api/chat", json={"message": "Tables"}, headers=h)).json()  # a switcher clicked
        assert r["suggestions"][-1]["active"] is True
        assert (await c.get("/api/session", headers=h)).json()["suggestions"][-1]["active"] is True
        history = (await c.get("/api/session/history", headers=h)).json()
        assert history["suggestions"] == [*OFFERED[:2], {**OFFERED[2], "active": True}]
        r = (await c.post("/api/chat", json={"message": "clear"}, headers=h)).json()
        assert r["messages"][-1]["content"] == "No more suggestions" and r["suggestions"] == [
            {**OFFERED[2], "active": True}]
        spec = (await c.get("/openapi.json")).json()
        assert spec["components"]["schemas"]["Suggestion"]["required"] == ["kind", "text", "value"]
        assert "suggestions" in spec["paths"]["/api/chat"]["post"]["responses"]["200"]["content"][
            "application/json"]["schema"]["required"]


async def test_websocket_frames_carry_the_suggestions(srv: InProcess) -> None:
    async with httpx.AsyncClient(base_url=srv.url) as c:
        s = (await c.post("/api/session", json={})).json()
        async with websockets.connect(srv.url.replace("http", "ws") + "/ws", origin=Origin(srv.url)) as ws:
            await ws.send(json.dumps({"type": "hello", "token": s["token"]}))
            ready = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert ready["type"] == "ready" and ready["suggestions"] == OFFERED
            await ws.send(json.dumps({"type": "message", "text": "Ann"}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert reply["type"] == "reply" and reply["suggestions"] == OFFERED
            # a turn from elsewhere (the REST API) reaches the socket with the suggestions as they are now
            await c.post("/api/chat", json={"message": "clear"}, headers=bearer(s["token"]))
            pushed = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert pushed["echo"] == "clear" and pushed["suggestions"] == [OFFERED[2]]


def actions(activity: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(a["type"], a["title"], a["value"]) for a in activity.get("suggestedActions", {}).get("actions", [])]


IMBACKS = [("imBack", "View products", "View products"), ("imBack", "Help <b>me</b>", "Help <b>me</b>"),
           ("imBack", "Tables", "Tables")]


async def test_direct_line_suggested_actions(stores: Stores, tmp_path: Path) -> None:
    make_bot(tmp_path / "bots", "default", SHOP)
    async with serving(stores, tmp_path / "bots", tmp_path / "data") as srv, \
            httpx.AsyncClient(base_url=srv.url) as c:
        token = (await c.post(f"{DL}/tokens/generate")).json()["token"]
        h = bearer(token)
        conv = (await c.post(f"{DL}/conversations", json={"user": {"id": "ann"}}, headers=h)).json()
        cid = conv["conversationId"]
        first = (await c.get(f"{DL}/conversations/{cid}/activities", headers=h)).json()
        assert actions(first["activities"][-1]) == IMBACKS
        assert first["activities"][-1]["suggestedActions"]["to"] == ["ann"]
        async with websockets.connect(conv["streamUrl"], origin=Origin(srv.url)) as ws:
            await asyncio.wait_for(ws.recv(), 10)  # the backlog
            await c.post(f"{DL}/conversations/{cid}/activities", json=user_activity("Ann", "c1"), headers=h)
            echo, reply = json.loads(await asyncio.wait_for(ws.recv(), 10))["activities"]
            assert "suggestedActions" not in echo and actions(reply) == IMBACKS
            # a menu's choices come first, then the suggestions
            await c.post(f"{DL}/conversations/{cid}/activities", json=user_activity("menu", "c2"), headers=h)
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert actions(frame["activities"][-1]) == [("imBack", "Hats", "Hats"), ("imBack", "Caps", "Caps"), *IMBACKS]
        # a suggestion's value comes back as the message: the button's text, as clicked
        await c.post(f"{DL}/conversations/{cid}/activities", json=user_activity("Caps", "c3"), headers=h)
        await c.post(f"{DL}/conversations/{cid}/activities", json=user_activity("View products", "c4"), headers=h)
        got = (await c.get(f"{DL}/conversations/{cid}/activities?watermark={frame['watermark']}", headers=h)).json()
        assert [a["text"] for a in got["activities"]] == ["Caps", "You chose Caps", "View products",
                                                          "We have hats and caps"]
        assert actions(got["activities"][-1]) == IMBACKS
    # a restart: another server (nothing remembered in memory) rebuilds them from the stored session
    async with serving(stores, tmp_path / "bots", tmp_path / "data") as srv, \
            httpx.AsyncClient(base_url=srv.url) as c:
        every = (await c.get(f"{DL}/conversations/{cid}/activities", headers=h)).json()["activities"]
        assert every[-1]["text"] == "We have hats and caps" and actions(every[-1]) == IMBACKS


# --- the web chat page in Debian's headless chromium -----------------------------------------------------


@pytest.fixture
async def page_srv(sqlite_stores: Stores, tmp_path: Path) -> AsyncIterator[InProcess]:
    make_bot(tmp_path / "bots", "default", SHOP)
    async with serving(sqlite_stores, tmp_path / "bots", tmp_path / "data") as s:
        yield s


async def test_web_chat_shows_suggestions_as_buttons(page_srv: InProcess) -> None:
    need_chromium()
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = await browser.new_page(viewport={"width": 480, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            await page.goto(page_srv.url + "/")
            messages, buttons = page.get_by_test_id("message"), page.get_by_test_id("suggestion")
            await expect(messages.last).to_have_text("Welcome to the shop! Your name?", timeout=20_000)
            await expect(buttons).to_have_text(["View products", "Help <b>me</b>", "Tables"], timeout=20_000)
            assert await page.locator(".gb-suggestions b").count() == 0  # the label is text, not markup
            await page.get_by_test_id("input").fill("Ann")
            await page.get_by_test_id("input").press("Enter")
            await expect(messages.last).to_have_text("Hi Ann, pick a button", timeout=20_000)
            await expect(buttons).to_have_count(3)
            switcher = buttons.filter(has_text="Tables")
            await expect(switcher).to_have_attribute("aria-pressed", "false")
            await switcher.click()  # a click sends its text: the user's bubble shows it
            await expect(messages.filter(has_text="Tables").first).to_have_attribute("data-role", "user",
                                                                                        timeout=20_000)
            await expect(buttons.filter(has_text="Tables")).to_have_attribute("aria-pressed", "true", timeout=20_000)
            await expect(messages.last).to_have_text("Tables")  # a toggle: no reply
            await buttons.filter(has_text="View products").click()
            await expect(messages.last).to_have_text("We have hats and caps", timeout=20_000)
            # a reload shows them again (the "ready" frame), from the stored session
            await page.reload()
            await expect(messages.last).to_have_text("We have hats and caps", timeout=20_000)
            await expect(buttons).to_have_text(["View products", "Help <b>me</b>", "Tables"], timeout=20_000)
            await page.screenshot(path=str(ARTIFACTS / "web-chat-suggestions.png"), full_page=True)
            await page.get_by_test_id("input").fill("clear")
            await page.get_by_test_id("input").press("Enter")
            await expect(messages.last).to_have_text("No more suggestions", timeout=20_000)
            await expect(buttons).to_have_text(["Tables"])  # CLEAR SUGGESTIONS keeps the switcher
            assert errors == []
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "web-chat-suggestions-failure.png"), full_page=True)
            raise
        finally:
            await browser.close()


@pytest.fixture
async def webchat_shop(sqlite_stores: Stores, tmp_path: Path, webchat_dist: Path  # noqa: F811
                       ) -> AsyncIterator[InProcess]:
    make_bot(tmp_path / "bots", "default", SHOP)
    async with serving(sqlite_stores, tmp_path / "bots", tmp_path / "data",
                       routes=lambda ctx, app: add_webchat(app, webchat_dist)) as s:
        yield s


async def test_microsofts_web_chat_shows_the_suggestions(webchat_shop: InProcess) -> None:
    need_chromium()
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = await browser.new_page(viewport={"width": 480, "height": 800})
        try:
            await page.goto(webchat_shop.url + "/webchat/test/page.html")
            await expect(page.locator("p", has_text="Your name?")).to_be_visible(timeout=20_000)
            toolbar = page.get_by_role("toolbar", name="Suggested actions")
            await expect(toolbar.get_by_role("button", name="View products")).to_be_visible(timeout=20_000)
            box = page.locator('[data-id="webchat-sendbox-input"]')
            await box.fill("Ann")
            await box.press("Enter")
            await expect(page.locator("p", has_text="Hi Ann, pick a button")).to_be_visible(timeout=20_000)
            await toolbar.get_by_role("button", name="View products").click()  # imBack: its value is sent
            await expect(page.locator("p", has_text="We have hats and caps")).to_be_visible(timeout=20_000)
            await expect(toolbar.get_by_role("button", name="Tables")).to_be_visible()
        finally:
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "webchat-directline-suggestions.png"))
            await browser.close()


# --- a real gb serve, restarted ---------------------------------------------------------------------------


def test_a_restarted_server_keeps_suggestions_and_user_memory(pg_database: str, redis_url: str,
                                                              tmp_path: Path) -> None:
    """SIGKILL between turns: the suggestions (the session's context) and an anonymous session's
    memory are in PostgreSQL (Valkey is a cache), so the next process answers as the first would."""
    bots = tmp_path / "bots"
    make_bot(bots, "default", {**SHOP, "start": SHOP["start"] + 'SET USER MEMORY "name", name\n',
                               "who": 'n = GET USER MEMORY("name")\nTALK "You are " + n\n'})
    server = Server(gb_environ(bots, tmp_path / "data", database_url=pg_database, valkey_url=redis_url),
                    tmp_path / "server.log")
    with server:
        s = httpx.post(f"{server.url}/api/session", json={}, timeout=30).json()
        r = httpx.post(f"{server.url}/api/chat", json={"message": "Ann"}, headers=bearer(s["token"]), timeout=30)
        assert r.json()["suggestions"] == OFFERED
        server.kill9()
        server.start()
        h = bearer(s["token"])
        assert httpx.get(f"{server.url}/api/session", headers=h, timeout=30).json()["suggestions"] == OFFERED
        r = httpx.post(f"{server.url}/api/chat", json={"message": "who"}, headers=h, timeout=30).json()
        assert r["messages"][-1]["content"] == "You are Ann" and r["suggestions"] == OFFERED
