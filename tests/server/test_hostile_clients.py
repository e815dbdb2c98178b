"""Hostile clients: bodies and frames built to break the server get a clear 4xx JSON error (or
an error frame, or a close with its code and reason), never a 500 or a traceback in the log, and
the server goes on serving everyone.

A real in-process server on SQLite (the parsing is the server's, not the store's). ``ENDPOINTS``
is every route that reads a JSON body; ``fuzz`` drives them with hypothesis.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gb_server.base import MAX_JSON_DEPTH
from gb_server.socket import WIRE_FACTOR
from gb_sessions.config import Stores
from tests.helpers.bots import ECHO, copy_example_bots, make_bot
from tests.helpers.servers import bearer
from tests.server.inproc import serving

MAX_BODY = 256 * 1024  # bytes: room for 20,000 levels of nesting, under the cap
MAX_CHARS = 4000  # characters of a message


@dataclass
class Client:
    """An in-process server, an HTTP client on it, and the tokens of a web and a Direct Line session."""

    url: str
    http: httpx.AsyncClient
    token: str
    dl_token: str
    cid: str

    def endpoints(self) -> list[tuple[str, dict[str, str], str]]:
        """(path, headers, error-code family) of every route that reads a JSON body."""
        dl, web = bearer(self.dl_token), bearer(self.token)
        return [("/api/session", {}, "gb"), ("/fuzz/api/session", {}, "gb"), ("/fuzz/api/chat", web, "gb"),
                ("/api/chat", web, "gb"), ("/fuzz/v3/directline/tokens/generate", {}, "dl"),
                ("/fuzz/v3/directline/conversations", dl, "dl"),
                (f"/fuzz/v3/directline/conversations/{self.cid}/activities", dl, "dl")]

    async def still_serves(self) -> None:
        """/healthz answers and a normal chat turn works."""
        assert (await self.http.get("/healthz")).json()["status"] == "ok"
        r = await self.http.post("/fuzz/api/chat", json={"message": "still there?"}, headers=bearer(self.token))
        assert r.status_code == 200, r.text
        assert r.json()["messages"][-1]["content"] == "echo still there?"


@pytest.fixture
async def client(sqlite_stores: Stores, tmp_path: Path) -> AsyncIterator[Client]:
    bots = copy_example_bots(tmp_path / "bots")
    make_bot(bots, "fuzz", {"start": ECHO}, config="rate-limit,1000000\n")
    async with serving(sqlite_stores, bots, tmp_path / "data", max_body_bytes=MAX_BODY,
                       max_message_chars=MAX_CHARS) as srv, httpx.AsyncClient(base_url=srv.url, timeout=30) as http:
        web = (await http.post("/fuzz/api/session")).json()
        dl = (await http.post("/fuzz/v3/directline/tokens/generate")).json()
        yield Client(srv.url, http, web["token"], dl["token"], dl["conversationId"])


def strict_json(text: str) -> Any:
    """JSON as the RFC has it (no NaN, no Infinity), as a browser's JSON.parse reads it."""
    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def is_error(r: httpx.Response, status: int | None = None) -> dict[str, str]:
    """The response is a 4xx (or `status`) with the JSON error shape; its ``error``."""
    assert r.status_code < 500, (r.status_code, r.text[:500])
    assert 400 <= r.status_code < 500 if status is None else r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    error = strict_json(r.text)["error"]
    assert set(error) == {"code", "message"} and all(isinstance(v, str) and v for v in error.values()), error
    return dict(error)


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing a client did was logged as a failure of the server."""
    failures = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not failures, [r.getMessage()[:300] for r in failures]
    assert "Traceback" not in caplog.text


def nested(levels: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * levels + b"]" * levels
    return b'{"a": ' * levels + b"1" + b"}" * levels


# --- deep nesting, numbers, surrogates ------------------------------------------------------------------
async def test_json_nested_too_deep_is_a_400_on_every_endpoint(client: Client,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    for path, headers, family in client.endpoints():
        for body in (nested(20_000, "list"), b'{"message": ' + nested(20_000, "object") + b"}",
                     b'{"message": "x", "type": "message", "channelData": ' + nested(MAX_JSON_DEPTH, "list") + b"}",
                     b'{"message": ' + nested(990, "list") + b"}"):
            r = await client.http.post(path, content=body, headers=headers)
            error = is_error(r, 400)
            assert error["code"] == ("bad_json" if family == "gb" else "BadSyntax"), (path, error)
            assert error["message"] == f"the body is nested too deep: more than {MAX_JSON_DEPTH} levels of arrays " \
                                       "and objects", (path, error)
    # as deep as allowed: 64 levels (the object and 63 inside) are taken
    body = b'{"message": "deep", "extra": ' + nested(MAX_JSON_DEPTH - 1, "list") + b"}"
    r = await client.http.post("/fuzz/api/chat", content=body, headers=bearer(client.token))
    assert r.status_code == 200 and r.json()["messages"][-1]["content"] == "echo deep"
    await client.still_serves()
    no_tracebacks(caplog)


@pytest.mark.parametrize(("number", "says"), [
    (b"NaN", "NaN is not a JSON number"), (b"-Infinity", "-Infinity is not a JSON number"),
    (b"1e999", "the number 1e999 is out of range"), (b"-1e400", "the number -1e400 is out of range"),
    (b"1" * 5000, "an integer of 5,000 digits (at most 100)"),
    (b"9" * 100_000, "an integer of 100,000 digits (at most 100)"),
])
async def test_numbers_json_cannot_carry_are_a_400(client: Client, caplog: pytest.LogCaptureFixture,
                                                   number: bytes, says: str) -> None:
    for path, headers, _ in client.endpoints():
        r = await client.http.post(path, content=b'{"message": ' + number + b', "type": "message", "user": '
                                                 + number + b"}", headers=headers)
        error = is_error(r, 400)
        assert error["message"] == f"the body is not valid JSON: {says}", (path, error)
    await client.still_serves()
    no_tracebacks(caplog)


async def test_bodies_that_are_not_utf8_json_or_an_object(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    for path, headers, _ in client.endpoints():
        for body, says in ((b'{"message": "\xff"}', "the body is not valid JSON: it is not UTF-8 (byte 0xff at "
                                                     "offset 13)"),
                           (b'{"message": ', "the body is not valid JSON at line 1 column 13"),
                           (b"\xef\xbb\xbf", "the body is not valid JSON at line 1 column 1"),
                           (b"[1, 2]", "the body must be a JSON object"),
                           (b'"text"', "the body must be a JSON object")):
            error = is_error(await client.http.post(path, content=body, headers=headers), 400)
            assert error["message"] == says, (path, body, error)
    # a BOM before the JSON is UTF-8's own mark: taken
    r = await client.http.post("/fuzz/api/chat", content=b'\xef\xbb\xbf{"message": "bom"}',
                               headers=bearer(client.token))
    assert r.status_code == 200 and r.json()["messages"][-1]["content"] == "echo bom"
    no_tracebacks(caplog)


async def test_lone_surrogates_go_back_as_escapes(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    """A client's lone surrogate (escaped or raw UTF-8-ish bytes) in fields the server echoes: the
    replies stay JSON (UTF-8 cannot carry one; its \\u escape goes back)."""
    r = await client.http.post("/api/session", content=b'{"bot": "\\ud800x"}')
    assert is_error(r, 404)["message"].startswith("unknown bot '\\ud800x'")
    dl = bearer(client.dl_token)
    base = f"/fuzz/v3/directline/conversations/{client.cid}"
    r = await client.http.post(f"{base}/activities", headers=dl, content=(
        b'{"type": "message", "text": "hi", "from": {"id": "\\udc00u", "name": "\xed\xa0\x80"}, '
        b'"channelData": {"k": "\\ud800"}, "entities": [{"x": "\\ud83d"}]}'))
    assert r.status_code == 200, r.text
    r = await client.http.get(f"{base}/activities", headers=dl)
    assert r.status_code == 200, r.text
    [mine] = [a for a in strict_json(r.text)["activities"] if a["text"] == "hi"]
    assert mine["from"] == {"id": "\udc00u", "role": "user", "name": "\ud800"}
    assert mine["channelData"] == {"k": "\ud800"} and mine["entities"] == [{"x": "\ud83d"}]
    stream = strict_json((await client.http.post("/fuzz/v3/directline/conversations", headers=dl)).text)["streamUrl"]
    async with websockets.connect(stream, origin=client.url) as ws:
        frame = strict_json(str(await ws.recv()))
        assert any(a.get("channelData") == {"k": "\ud800"} for a in frame["activities"])
    no_tracebacks(caplog)


@pytest.mark.parametrize(("where", "body", "says"), [
    ("session", {"bot": ""}, '"bot" must be a bot name'),
    ("session", {"bot": ["default"]}, '"bot" must be a bot name'),
    ("chat", {"message": {"text": "hi"}}, 'the body must be {"message": "..."}'),
    ("chat", {"message": None}, 'the body must be {"message": "..."}'),
    ("generate", {"user": ["ann"]}, '"user" must be {"id": "..."}'),
    ("conversations", {"user": {"id": 7}}, '"user" must be {"id": "..."}'),
    ("activities", {"type": 1}, 'an activity needs a "type"'),
    ("activities", {"type": "typing", "text": 5}, 'an activity\'s "text" must be a string'),
    ("activities", {"type": "message", "text": "hi", "from": "ann"}, 'an activity\'s "from" must be an object'),
    ("activities", {"type": "message", "text": "hi", "from": {"id": ["ann"]}},
     'an activity\'s "from.id" must be a string'),
    ("activities", {"type": "message", "entities": {}}, 'an activity\'s "entities" must be an array'),
    ("activities", {"type": "message", "locale": 1}, 'an activity\'s "locale" must be a string'),
], ids=lambda v: v if isinstance(v, str) and len(v) < 14 else None)
async def test_wrong_types_are_a_400_naming_the_field(client: Client, caplog: pytest.LogCaptureFixture, where: str,
                                                     body: dict[str, Any], says: str) -> None:
    path, headers, family = {"session": client.endpoints()[0], "chat": client.endpoints()[2],
                             "generate": client.endpoints()[4], "conversations": client.endpoints()[5],
                             "activities": client.endpoints()[6]}[where]
    error = is_error(await client.http.post(path, json=body, headers=headers), 400)
    assert error == {"code": "bad_request" if family == "gb" else "BadArgument", "message": says}
    no_tracebacks(caplog)


async def test_a_watermark_past_any_row(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    dl = bearer(client.dl_token)
    base = f"/fuzz/v3/directline/conversations/{client.cid}"
    for mark in ("9" * 30, "-" + "9" * 30, "1" * 5000, "1e999", "\u0661\u0662"):  # the last: Arabic-Indic digits
        r = await client.http.get(f"{base}/activities", params={"watermark": mark}, headers=dl)
        assert r.status_code == 200, (mark, r.text)
        r = await client.http.get(base, params={"watermark": mark}, headers=dl)
        assert r.status_code == 200, (mark, r.text)
    no_tracebacks(caplog)


# --- the web chat's WebSocket ------------------------------------------------------------------------------
async def test_hostile_frames_get_error_frames_and_the_socket_goes_on(client: Client,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    ws_url = client.url.replace("http", "ws") + "/fuzz/ws"
    hello, message = '{"type": "hello", "token": ', '{"type": "message", "text": '
    async with websockets.connect(ws_url, origin=client.url) as ws:
        for frame, code, says in (
                ("[" * 20_000 + "]" * 20_000, "bad_json", "a message is nested too deep"),
                (hello + "[" * 100 + "]" * 100 + "}", "bad_json", "a message is nested too deep"),
                (message + "NaN}", "bad_json", "a message is not valid JSON: NaN is not a JSON"),
                (message + "7" * 5000 + "}", "bad_json", "a message is not valid JSON: an integer"),
                ("{not json", "bad_json", "a message is not valid JSON at line 1 column 2"),
                (b'{"type": "hello"}', "bad_frame", "frames must be text (JSON), not binary"),
                ('{"type": "hello", "token": "\\ud800"}', "invalid_token", "unknown session token"),
                ('{"type": "message", "text": "x"}', "missing_token", "send {\"type\": \"hello\""),
                ("[]", "bad_request", "expected {\"type\": \"hello\"}"),
                ("x" * (MAX_BODY + 1), "frame_too_large", f"a frame is larger than {MAX_BODY // 1024} KB"),
                ("\u00e9" * (MAX_BODY // 2 + 1), "frame_too_large", "a frame is larger than"),  # 2 bytes each
                (hello + '"' + "t" * (MAX_BODY - 40) + '"}', "invalid_token", "unknown session token")):
            await ws.send(frame)
            reply = strict_json(str(await ws.recv()))
            assert reply["type"] == "error" and reply["error"]["code"] == code, (frame[:40], reply)
            assert reply["error"]["message"].startswith(says), (frame[:40], reply)
        await ws.send(json.dumps({"type": "hello", "token": client.token}))
        assert strict_json(str(await ws.recv()))["type"] == "ready"
        await ws.send(json.dumps({"type": "message", "text": "after all that"}))
        assert strict_json(str(await ws.recv()))["messages"][-1]["content"] == "echo after all that"
    no_tracebacks(caplog)


@pytest.mark.parametrize(("frame", "code", "reason"), [
    ("x" * (WIRE_FACTOR * MAX_BODY + 1), 1009, "message too big"),
    (b'{"type": "hello", "token": "\xff"}', 1007, "a text frame must be UTF-8 (byte 0xff at offset 28)"),
], ids=["over-the-wire-cap", "not-utf8"])
async def test_frames_that_close_the_socket_say_why_and_spare_the_others(
        client: Client, caplog: pytest.LogCaptureFixture, frame: str | bytes, code: int, reason: str) -> None:
    ws_url = client.url.replace("http", "ws") + "/fuzz/ws"
    async with websockets.connect(ws_url, origin=client.url) as other, \
            websockets.connect(ws_url, origin=client.url, max_size=None) as ws:
        await other.send(json.dumps({"type": "hello", "token": client.token}))
        assert strict_json(str(await other.recv()))["type"] == "ready"
        with pytest.raises(websockets.exceptions.ConnectionClosedError) as closed:
            await ws.send(frame, text=True)
            await ws.recv()
        if code == 1009 and closed.value.rcvd is None:  # tornado closes while the frame is still coming: a reset
            assert closed.value.sent is None
        else:
            assert closed.value.rcvd is not None, "closed without a close frame"
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (code, reason)
        await other.send(json.dumps({"type": "message", "text": "unaffected"}))
        assert strict_json(str(await other.recv()))["messages"][-1]["content"] == "echo unaffected"
    await client.still_serves()
    no_tracebacks(caplog)


# --- fuzzing: arbitrary bytes and structured-but-hostile JSON to every JSON endpoint --------------------
FIELDS = ["message", "bot", "user", "type", "text", "value", "from", "id", "name", "channelData", "entities",
          "locale", "token"]
RAW_SCALARS = ['"\\ud800"', '"\\udc00x"', '"\\ud83d\\ude00"', '"a\\u0000b"', '"\\u"', '"\t"', '"\\x41"', "1e999",
               "-1e999", "1E400", "NaN", "Infinity", "-Infinity", "1" * 5000, "-" + "9" * 120, "0." + "1" * 5000,
               "-0", "01", "true", "false", "null", '""', '"message"', '"hello"', '"ab\xed\xa0\x80"']


def _object(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A JSON object's text from `children`: known field names (repeated keys too) or any."""
    key = st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)).map(json.dumps)
    return st.lists(st.tuples(key, children), max_size=6).map(
        lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}")


SCALARS = st.one_of(
    st.sampled_from(RAW_SCALARS), st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=30).map(json.dumps), st.text(max_size=30).map(lambda s: json.dumps(s, ensure_ascii=False)),
    st.integers(MAX_CHARS - 1, MAX_CHARS + 1).map(lambda n: json.dumps("m" * n)),  # the message cap
)
JSON_TEXT = st.recursive(SCALARS, lambda c: st.one_of(_object(c), st.lists(c, max_size=5).map(
    lambda xs: "[" + ", ".join(xs) + "]")), max_leaves=12)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _deep(levels: int, kind: str) -> bytes:
    return {"list": b"[" * levels + b"]" * levels, "object": b'{"message": ' * levels + b'"x"' + b"}" * levels,
            "open": b"[" * levels, "mixed": b'[{"a": ' * levels + b"0" + b"}]" * levels}[kind]


LEVELS = st.one_of(st.sampled_from([MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, 999, 1000, 20_000]),
                   st.integers(1, 5000))
DEEP = st.tuples(LEVELS, st.sampled_from(["list", "object", "open", "mixed"])).map(lambda t: _deep(*t))
BODIES = st.one_of(
    _object(JSON_TEXT).map(_utf8),  # a hostile object at the top, the usual case
    st.tuples(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00", b" \n\t", b""]),
              _object(JSON_TEXT).map(_utf8),
              st.sampled_from([b"", b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"}", b"\x00", b",", b" 1"])).map(
        lambda t: t[0] + t[1] + t[2]),  # BOMs and bad bytes around it
    st.tuples(_object(JSON_TEXT).map(_utf8), st.integers(0, 60)).map(lambda t: t[0][:t[1]]),  # cut short
    JSON_TEXT.map(_utf8),  # not an object at the top
    st.binary(max_size=200),
    DEEP,
    st.integers(-64, 64).map(lambda d: b'{"message": "' + b"b" * (MAX_BODY - 16 + d) + b'"}'),  # the body cap
    st.just(b""),
)
CONTENT_TYPES = st.sampled_from([None, "application/json", "application/json; charset=utf-8", "text/plain",
                                 "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                 "application/json; charset=latin-1", "", "application/json\x80"])
# (header values stay valid HTTP: a control character in one is tornado's to refuse, a bare 400 and a close)
EXAMPLES = 250  # about 10 to 20 s on a 2-core machine, the socket's fuzz a fifth of it
LENIENT = [HealthCheck.function_scoped_fixture,  # one server for all the examples: that is the point
           HealthCheck.too_slow, HealthCheck.large_base_example, HealthCheck.data_too_large]
LARGE_REPR = pytest.mark.filterwarnings("ignore:Generating overly large repr")  # a 256 KB body, when one fails


def check_response(r: httpx.Response) -> None:
    """Not a server error; a 4xx has the JSON error shape; a 2xx is JSON as a browser reads it."""
    assert r.status_code < 500, (r.status_code, r.text[:500])
    if r.status_code >= 400:
        is_error(r)
    elif r.status_code != 204:
        strict_json(r.text)


@LARGE_REPR
@given(body=BODIES, which=st.integers(0, 6), content_type=CONTENT_TYPES)
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=LENIENT)
async def test_fuzz_json_endpoints(client: Client, caplog: pytest.LogCaptureFixture, body: bytes, which: int,
                                   content_type: str | None) -> None:
    path, headers, _ = client.endpoints()[which]
    if content_type is not None:
        headers = {**headers, "Content-Type": content_type.encode("latin-1")}  # type: ignore[dict-item]
    check_response(await client.http.post(path, content=body, headers=headers))
    await client.still_serves()
    no_tracebacks(caplog)


@LARGE_REPR
@given(frames=st.lists(st.one_of(BODIES, BODIES.map(lambda b: b.decode("utf-8", "replace")),
                                 DEEP.map(lambda b: b.decode()),
                                 JSON_TEXT.map(lambda t: '{"type": "message", "text": ' + t + "}"),
                                 JSON_TEXT.map(lambda t: '{"type": "hello", "token": ' + t + "}")),
                       min_size=1, max_size=4))
@settings(max_examples=EXAMPLES // 5, deadline=None, database=None,
          suppress_health_check=LENIENT)
async def test_fuzz_websocket_frames(client: Client, caplog: pytest.LogCaptureFixture,
                                     frames: list[str | bytes]) -> None:
    """Every frame gets one answer frame (an error, or a reply) or a close with its code (1007,
    1009); after the hostile frames the same socket (if open) and a new one still work."""
    ws_url = client.url.replace("http", "ws") + "/fuzz/ws"
    async with websockets.connect(ws_url, origin=client.url, max_size=None) as ws:
        closed = None
        for frame in frames:
            await ws.send(frame)
            try:
                answer = strict_json(str(await ws.recv()))
            except websockets.exceptions.ConnectionClosed as exc:
                closed = exc
                break
            assert answer["type"] in ("error", "reply", "ready"), answer
            if answer["type"] == "error":
                assert set(answer["error"]) == {"code", "message"}, answer
        if closed is not None:
            assert closed.rcvd is not None and closed.rcvd.code in (1007, 1009), closed
    async with websockets.connect(ws_url, origin=client.url) as ws:
        await ws.send(json.dumps({"type": "hello", "token": client.token}))
        assert strict_json(str(await ws.recv()))["type"] == "ready"
    await client.still_serves()
    no_tracebacks(caplog)



@pytest.mark.parametrize(("frame", "code", "reason"), [
    ("x" * (MAX_BODY + 1), 1009, "message too big"),  # read, then refused: the close frame arrives
    (b"\xc0\x80", 1007, "a text frame must be UTF-8 (byte 0xc0 at offset 0)"),
], ids=["oversized", "not-utf8"])
async def test_the_direct_line_stream_closes_with_its_reason_too(
        client: Client, caplog: pytest.LogCaptureFixture, frame: str | bytes, code: int, reason: str) -> None:
    dl = bearer(client.dl_token)  # (the echo bot says nothing before it hears: no backlog comes first)
    stream = strict_json((await client.http.post("/fuzz/v3/directline/conversations", headers=dl)).text)["streamUrl"]
    async with websockets.connect(stream, origin=client.url, max_size=None) as ws:
        await ws.send("")  # the client's ping: taken, unanswered
        await ws.send(frame, text=True)
        with pytest.raises(websockets.exceptions.ConnectionClosedError) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and (closed.value.rcvd.code, closed.value.rcvd.reason) == (code, reason)
    await client.still_serves()
    no_tracebacks(caplog)
