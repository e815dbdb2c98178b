"""The HTTP API, the WebSocket, health, metrics and OpenAPI: a real server over every backend."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import tornado.web
import websockets

from gb_server.app import STATIC
from gb_sessions.config import Stores
from tests.helpers.bots import ECHO, EXAMPLE_BOTS, copy_example_bots, make_bot
from tests.helpers.servers import Server, bearer, gb_environ
from tests.server.inproc import serving


@pytest.fixture
async def base(stores: Stores, tmp_path: Path) -> AsyncIterator[str]:
    bots = copy_example_bots(tmp_path / "bots")
    make_bot(bots, "tiny", {"start": ECHO}, config="rate-limit,3\n")
    async with serving(stores, bots, tmp_path / "data", max_body_bytes=8 * 1024, max_message_chars=500) as srv:
        yield srv.url


async def test_a_conversation_over_the_api(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as c:
        r = await c.post("/api/session", json={})
        assert r.status_code == 201
        s = r.json()
        assert s["bot"] == "default" and len(s["token"]) >= 43
        assert s["messages"][-1]["content"] == "What is your name?"
        assert s["waiting"]["variable"] == "name"
        r = await c.post("/api/chat", json={"message": "Ann"}, headers=bearer(s["token"]))
        assert r.status_code == 200
        body = r.json()
        assert body["messages"][-1]["content"] == "Hi Ann, what would you like to know about?"
        assert body["messages"][-1]["choices"] == ["Sessions", "Channels", "Nothing, thanks"]
        assert body["waiting"]["type"] == "MENU"
        r = await c.get("/api/session", headers=bearer(s["token"]))
        assert r.json()["session_id"] == s["session_id"] and r.json()["waiting"]["variable"] == "topic"
        r = await c.get("/api/session/history", headers=bearer(s["token"]))
        contents = [m["content"] for m in r.json()["messages"]]
        assert "Ann" in contents and contents[-1] == "Hi Ann, what would you like to know about?"
        r = await c.delete("/api/session", headers=bearer(s["token"]))
        assert r.status_code == 204
        r = await c.post("/api/chat", json={"message": "x"}, headers=bearer(s["token"]))
        assert r.status_code == 401 and r.json()["error"]["code"] == "session_ended"


async def test_each_bot_has_its_own_sessions(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as c:
        support = (await c.post("/support/api/session")).json()
        assert support["bot"] == "support"
        r = await c.post("/default/api/chat", json={"message": "hi"}, headers=bearer(support["token"]))
        assert r.status_code == 401 and r.json()["error"]["code"] == "wrong_bot"
        r = await c.get("/sales/api/session/history", headers=bearer(support["token"]))
        assert r.status_code == 401 and r.json()["error"]["code"] == "wrong_bot"
        r = await c.post("/api/session", json={"bot": "sales"})
        assert r.status_code == 201 and r.json()["bot"] == "sales"
        r = await c.post("/nope/api/session")
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_bot"


async def test_the_seeds_curl_flow_with_a_non_default_bot(base: str) -> None:
    """POST /api/session {"bot": "support"}, then /api/chat with that token: a token names its
    session and so its bot (the seed's flow, as written)."""
    async with httpx.AsyncClient(base_url=base) as c:
        s = (await c.post("/api/session", json={"bot": "support"})).json()
        assert s["bot"] == "support"
        r = await c.post("/api/chat", json={"message": "hello"}, headers=bearer(s["token"]))
        assert r.status_code == 200, r.text
        assert r.json()["bot"] == "support" and r.json()["session_id"] == s["session_id"]
        assert (await c.get("/api/session", headers=bearer(s["token"]))).json()["bot"] == "support"
        history = (await c.get("/api/session/history", headers=bearer(s["token"]))).json()
        assert [m["content"] for m in history["messages"]][-2] == "hello"
        assert all(isinstance(m["id"], int) for m in history["messages"])
        assert (await c.delete("/api/session", headers=bearer(s["token"]))).status_code == 204


async def test_a_server_without_a_default_bot(stores: Stores, tmp_path: Path) -> None:
    bots = copy_example_bots(tmp_path / "bots", "support")
    async with serving(stores, bots, tmp_path / "data") as srv, httpx.AsyncClient(base_url=srv.url) as c:
        s = (await c.post("/api/session", json={"bot": "support"})).json()
        r = await c.post("/api/chat", json={"message": "hello"}, headers=bearer(s["token"]))
        assert r.status_code == 200 and r.json()["bot"] == "support"
        r = await c.post("/api/session")
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_bot"
        assert str(bots) not in r.json()["error"]["message"]  # the server's paths stay inside


async def test_a_broken_bot_package_is_a_500_that_names_no_path(stores: Stores, tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    bots = tmp_path / "bots"
    make_bot(bots, "broken", config="rate-limit,lots\n")
    async with serving(stores, bots, tmp_path / "data") as srv, httpx.AsyncClient(base_url=srv.url) as c:
        with caplog.at_level(logging.ERROR, logger="gb.access"):
            r = await c.post("/api/session", json={"bot": "broken"})
    assert r.status_code == 500 and r.json()["error"]["code"] == "bot_config_error"
    assert str(tmp_path) not in r.text and "config.csv" not in r.text
    assert any("config.csv" in rec.getMessage() and "rate-limit" in rec.getMessage() for rec in caplog.records)


async def test_metrics_need_their_token_or_loopback(stores: Stores, tmp_path: Path) -> None:
    async with serving(stores, EXAMPLE_BOTS, tmp_path / "data", metrics_token="s3cret") as srv, \
            httpx.AsyncClient(base_url=srv.url) as c:
        assert (await c.get("/metrics")).status_code == 401  # even from loopback
        assert (await c.get("/metrics", headers=bearer("wrong"))).status_code == 401
        r = await c.get("/metrics", headers=bearer("s3cret"))
        assert r.status_code == 200 and "gb_messages_total" in r.text
    outside = next((a for a in _addresses() if not a.startswith("127.")), None)
    if outside is None:  # a machine with only loopback: the bind below has nothing to show
        return
    async with serving(stores, EXAMPLE_BOTS, tmp_path / "data2", host="0.0.0.0") as srv, \
            httpx.AsyncClient() as c:
        port = srv.url.rsplit(":", 1)[1]
        r = await c.get(f"http://{outside}:{port}/metrics", headers={"X-Real-Ip": "127.0.0.1"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        assert (await c.get(f"{srv.url}/metrics")).status_code == 200


def _addresses() -> list[str]:
    """This machine's address on its default route (a UDP connect sends nothing)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return []
        return [probe.getsockname()[0]]


async def test_text_no_store_can_hold_and_an_empty_message_are_a_clear_400(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as c:
        s = (await c.post("/api/session")).json()
        for raw, where in ((b'{"message": "a\\ud800b"}', "surrogate (\\ud800) at position 1"),
                           (b'{"message": "a\\u0000b"}', "NUL character at position 1")):
            r = await c.post("/api/chat", content=raw, headers=bearer(s["token"]))
            assert r.status_code == 400 and r.json()["error"]["code"] == "bad_text", r.text
            assert where in r.json()["error"]["message"]
        for blank, what in (("", "the message is empty"), (" \n\t ", "its 4 characters are all white space")):
            r = await c.post("/api/chat", json={"message": blank}, headers=bearer(s["token"]))
            assert r.status_code == 400 and r.json()["error"]["code"] == "empty_message", r.text
            assert what in r.json()["error"]["message"]
        r = await c.post("/api/chat", json={"message": "still fine"}, headers=bearer(s["token"]))
        assert r.status_code == 200
        history = (await c.get("/api/session/history", headers=bearer(s["token"]))).json()["messages"]
        assert [m["content"] for m in history if m["role"] == "user"] == ["still fine"]  # nothing else was a turn


async def test_json_nested_too_deeply_for_the_parser_is_a_clear_400(base: str) -> None:
    """Under the 8 KB body cap, 4,000 levels of lists: Python's JSON parser gives up (a
    RecursionError), which is the client's error, on HTTP and on the socket alike."""
    deep = b"[" * 4000 + b"]" * 4000
    async with httpx.AsyncClient(base_url=base) as c:
        s = (await c.post("/api/session")).json()
        for body in (deep, b'{"message": "hi", "extra": ' + deep + b"}"):
            r = await c.post("/api/chat", content=body, headers=bearer(s["token"]))
            error = r.json()["error"]
            assert r.status_code == 400 and error["code"] == "bad_json", r.text
            assert error["message"].startswith("the body is nested too deep"), error
        async with websockets.connect(base.replace("http", "ws") + "/ws", origin=base) as ws:
            await ws.send(json.dumps({"type": "hello", "token": s["token"]}))
            assert json.loads(await ws.recv())["type"] == "ready"
            await ws.send('{"type": "message", "text": "hi", "extra": ' + deep.decode() + "}")  # a text frame
            assert json.loads(await ws.recv())["error"]["code"] == "bad_json"
            await ws.send(json.dumps({"type": "message", "text": "  "}))  # an empty message: no turn
            assert json.loads(await ws.recv())["error"]["code"] == "empty_message"
            await ws.send(json.dumps({"type": "message", "text": "Bo"}))
            assert json.loads(await ws.recv())["messages"][-1]["content"].startswith("Hi Bo")
        r = await c.post("/api/chat", json={"message": "still fine"}, headers=bearer(s["token"]))
        assert r.status_code == 200


async def test_every_body_over_the_cap_gets_the_json_413(base: str) -> None:
    """Tornado's own limit must not answer first with a bare 400: 128 KB, 1 MB, 20 MB, chunked."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        s = (await c.post("/api/session")).json()
        for size in (9 * 1024, 128 * 1024 + 1, 1024 * 1024, 20 * 1024 * 1024):
            body = b'{"message": "' + b"x" * size + b'"}'
            r = await c.post("/api/chat", content=body, headers=bearer(s["token"]))
            assert r.status_code == 413, (size, r.status_code, r.text)
            assert r.json()["error"]["code"] == "body_too_large"

        async def chunks():  # no Content-Length: Transfer-Encoding: chunked
            for _ in range(64):
                yield b"x" * 1024

        r = await c.post("/api/chat", content=chunks(), headers=bearer(s["token"]))
        assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"
        r = await c.post("/api/session/nothing-here", content=b"x" * (2 * 1024 * 1024))
        assert r.status_code in (404, 413) and r.headers["Content-Type"].startswith("application/json")
        r = await c.post("/api/chat", json={"message": "still fine"}, headers=bearer(s["token"]))
        assert r.status_code == 200


async def test_bad_requests_get_clear_errors(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as c:
        s = (await c.post("/tiny/api/session")).json()
        r = await c.post("/tiny/api/chat", json={"message": "x"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "missing_token"
        r = await c.post("/tiny/api/chat", json={"message": "x"}, headers=bearer("forged"))
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
        r = await c.post("/tiny/api/chat", content=b'{"message": ', headers=bearer(s["token"]))
        assert r.status_code == 400 and r.json()["error"]["message"] == "the body is not valid JSON at line 1 column 13"
        r = await c.post("/tiny/api/chat", json={"text": "x"}, headers=bearer(s["token"]))
        assert r.status_code == 400
        r = await c.post("/tiny/api/chat", json={"message": "x" * 600}, headers=bearer(s["token"]))
        assert r.status_code == 413 and r.json()["error"]["code"] == "message_too_long"
        r = await c.post("/tiny/api/chat", content=b"{" + b" " * 9000 + b"}", headers=bearer(s["token"]))
        assert r.status_code == 413
        for i in range(3):
            r = await c.post("/tiny/api/chat", json={"message": f"m{i}"}, headers=bearer(s["token"]))
            [reply] = r.json()["messages"]
            assert (reply["role"], reply["content"]) == ("assistant", f"echo m{i}")
            assert isinstance(reply["id"], int) and reply["timestamp"].startswith("20")  # stored: its row, its time
        r = await c.post("/tiny/api/chat", json={"message": "m3"}, headers=bearer(s["token"]))
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        r = await c.get("/tiny/api/session/history", headers=bearer(s["token"]))
        assert [m["content"] for m in r.json()["messages"]] == [x for i in range(3) for x in (f"m{i}", f"echo m{i}")]
        r = await c.get("/api/nothing-here")
        assert r.status_code == 404 and "error" in r.json()


async def test_browser_origins_and_cors(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as c:
        r = await c.post("/api/session", headers={"Origin": base})  # same origin, as the chat page
        assert r.status_code == 201 and "Access-Control-Allow-Origin" not in r.headers
        r = await c.options("/api/chat", headers={"Origin": "https://other.example",
                                                    "Access-Control-Request-Method": "POST"})
        assert r.status_code == 204 and "Access-Control-Allow-Origin" not in r.headers  # no CORS configured


async def test_configured_cors_origins(stores: Stores, tmp_path: Path) -> None:
    async with serving(stores, EXAMPLE_BOTS, tmp_path / "data", cors_origins=("https://shop.example",)) as srv:
        async with httpx.AsyncClient(base_url=srv.url) as c:
            r = await c.options("/api/chat", headers={"Origin": "https://shop.example",
                                                        "Access-Control-Request-Method": "POST"})
            assert r.status_code == 204 and r.headers["Access-Control-Allow-Origin"] == "https://shop.example"
            assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
            r = await c.post("/api/session", headers={"Origin": "https://evil.example"})
            assert "Access-Control-Allow-Origin" not in r.headers
            # an error reaches the allowed caller too (with its Retry-After readable)
            r = await c.post("/api/chat", json={"message": "x"}, headers={"Origin": "https://shop.example",
                                                                          "Authorization": "Bearer forged"})
            assert r.status_code == 401 and r.headers["Access-Control-Allow-Origin"] == "https://shop.example"
        async with websockets.connect(srv.url.replace("http", "ws") + "/ws", origin="https://shop.example") as ws:
            await ws.send(json.dumps({"type": "hello", "token": "x"}))
            assert json.loads(await ws.recv())["error"]["code"] == "invalid_token"


async def test_health_metrics_openapi_and_page(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as c:
        assert (await c.get("/healthz")).json()["status"] == "ok"
        s = (await c.post("/api/session")).json()
        await c.post("/api/chat", json={"message": "Ann"}, headers=bearer(s["token"]))
        metrics = (await c.get("/metrics")).text
        assert 'gb_messages_total{bot="default",channel="web"} 1.0' in metrics
        assert "gb_message_seconds_bucket" in metrics and "gb_active_sessions" in metrics
        spec = (await c.get("/openapi.json")).json()
        assert spec["openapi"].startswith("3.") and {"/api/session", "/api/chat"} <= set(spec["paths"])
        page = await c.get("/support")
        assert page.status_code == 200 and 'data-bot="support"' in page.text and 'data-base="/support"' in page.text
        assert 'data-base=""' in (await c.get("/")).text


async def test_the_chat_page_without_its_libraries_says_why(stores: Stores, tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    static = tmp_path / "static"  # the page's folder as a clone has it before `make install`
    shutil.copytree(STATIC, static, ignore=shutil.ignore_patterns("vendor"))

    def without_vendor(ctx: object, app: tornado.web.Application) -> None:
        app.settings["template_path"] = str(static)

    async with serving(stores, EXAMPLE_BOTS, tmp_path / "data", routes=without_vendor) as srv, \
            httpx.AsyncClient(base_url=srv.url) as c:
        r = await c.get("/support")
    assert r.status_code == 503 and r.json()["error"]["code"] == "page_unavailable"
    assert "make install" in r.json()["error"]["message"] and "vendor/purify.es.mjs" in caplog.text


async def test_websocket_hello_reply_and_replies_from_the_api(base: str) -> None:
    ws_url = base.replace("http", "ws") + "/ws"
    async with httpx.AsyncClient(base_url=base) as c:
        s = (await c.post("/api/session")).json()
        async with websockets.connect(ws_url, origin=base) as ws:
            await ws.send(json.dumps({"type": "hello", "token": s["token"]}))
            ready = json.loads(await ws.recv())
            assert ready["type"] == "ready" and ready["session_id"] == s["session_id"]
            assert ready["messages"][-1]["content"] == "What is your name?" and ready["waiting"]["variable"] == "name"
            await ws.send(json.dumps({"type": "message", "text": "Bo"}))
            reply = json.loads(await ws.recv())
            assert reply["type"] == "reply" and reply["messages"][-1]["content"].startswith("Hi Bo")
            # a message posted over HTTP reaches the open socket of the same session
            await c.post("/api/chat", json={"message": "Channels"}, headers=bearer(s["token"]))
            pushed = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert pushed["echo"] == "Channels" and "WhatsApp" in pushed["messages"][-1]["content"]
        async with websockets.connect(ws_url, origin=base) as ws:
            await ws.send(json.dumps({"type": "hello", "token": "forged"}))
            assert json.loads(await ws.recv())["error"]["code"] == "invalid_token"


async def test_websocket_refuses_another_origin(base: str) -> None:
    with pytest.raises(websockets.exceptions.InvalidStatus) as exc:
        async with websockets.connect(base.replace("http", "ws") + "/ws", origin="https://evil.example"):
            pass
    assert exc.value.response.status_code == 403


def test_gb_serve_starts_and_stops(tmp_path: Path) -> None:
    with Server(gb_environ(EXAMPLE_BOTS, tmp_path / "data"), tmp_path / "server.log") as server:
        r = httpx.get(f"{server.url}/healthz", timeout=1)
        assert r.json()["status"] == "ok"
        s = httpx.post(f"{server.url}/api/session").json()
        assert s["messages"][-1]["content"] == "What is your name?"
    out = server.log.read_text()
    assert server.proc.returncode == 0, out
    assert s["token"] not in out  # tokens never in the logs
