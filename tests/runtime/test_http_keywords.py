"""The HTTP keywords against a real local HTTP server (Tornado, on 127.0.0.1, in the test's loop)
that records what it receives: methods, headers and JSON in and out, the size cap, the timeout,
redirects, statuses, SSRF refusals (loopback, private, link-local, numeric tricks, a name that
resolves to loopback, a redirect to a refused host, DNS rebinding), TLS to a pinned address with
the host's certificate, the headers of SET HEADER across a HEAR (on every store backend), and a
slow request that holds no other session.

Keyword statements the parser does not accept yet (POST, SET HEADER ...) are sent to the
Fulfiller as the Requests the machine makes of them; ``x = GET "http://..."`` also runs end to end.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import json
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import tornado.iostream
import tornado.web
import trustme

from gb_basic import BasicRuntimeError, Request, values
from gb_runtime import BotRegistry, Inbound
from gb_runtime.bots import BotConfigError, BotPackage, BotSettings
from gb_runtime.http_keywords import HttpAccess, new_http_client
from gb_runtime.keywords import HEADERS, Fulfiller
from gb_sessions import MemoryStore, Session, utcnow
from gb_sessions.config import Stores
from tests.helpers.bots import ECHO, make_bot, runtime_for, texts
from tests.helpers.servers import local_app

SORRY = "Sorry, something went wrong in this conversation."


# --- the local API -------------------------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Api:
    """What the server received, in order, and how much of an endless body it wrote."""

    seen: list[Seen] = field(default_factory=list)
    written: int = 0
    port: int = 0

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"


class Handler(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

    def initialize(self, api: Api) -> None:
        self.api = api

    def prepare(self) -> None:
        r = self.request
        self.api.seen.append(Seen(r.method or "", r.path, {k.lower(): v for k, v in r.headers.get_all()}, r.body))

    async def get(self, what: str) -> None:
        await getattr(self, "do_" + what.split("/")[0])(what.partition("/")[2])

    post = put = patch = delete = get

    async def do_echo(self, _: str) -> None:
        body = self.request.body
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        headers = {k.lower().replace("-", "_"): v for k, v in self.request.headers.get_all()}
        self.write({"method": self.request.method, "path": self.request.path, "headers": headers,
                    "body": body.decode(), "json": parsed})

    async def do_text(self, _: str) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.write("plain text, ação")

    async def do_jsonish(self, _: str) -> None:
        self.set_header("Content-Type", "text/plain")
        self.write('{"a": [1, 2]}')

    async def do_dollar(self, _: str) -> None:
        self.set_header("Content-Type", "application/json")
        self.write('{"$date": "2020-01-01"}')

    async def do_badjson(self, _: str) -> None:
        self.set_header("Content-Type", "application/json")
        self.write("{nope")

    async def do_empty(self, _: str) -> None:
        self.set_status(204)

    async def do_status(self, code: str) -> None:
        self.set_status(int(code))
        self.set_header("Content-Type", "text/plain")
        self.write("upstream down\n  try later")

    async def do_page(self, code: str) -> None:  # an HTML error page
        self.send_error(int(code))

    async def do_sized(self, n: str) -> None:  # with a Content-Length
        self.write(b"x" * int(n))

    async def do_endless(self, _: str) -> None:  # chunked, never ends: the client must stop reading
        try:
            while True:
                self.write(b"y" * 16384)
                await self.flush()
                self.api.written += 16384
                await asyncio.sleep(0.001)
        except tornado.iostream.StreamClosedError:
            pass

    async def do_gzip(self, n: str) -> None:
        self.set_header("Content-Encoding", "gzip")
        self.set_header("Content-Type", "text/plain")
        self.write(gzip.compress(b"0" * int(n)))

    async def do_slow(self, seconds: str) -> None:
        await asyncio.sleep(float(seconds))
        self.write("late")

    async def do_drip(self, _: str) -> None:  # a byte at a time: each read is quick, the whole never ends
        try:
            for _n in range(1000):
                self.write(b"z")
                await self.flush()
                await asyncio.sleep(0.05)
        except tornado.iostream.StreamClosedError:
            pass

    async def do_redirect(self, rest: str) -> None:  # /redirect/<code>?to=<url>
        self.redirect(self.get_query_argument("to"), status=int(rest or 302))

    async def do_loop(self, _: str) -> None:
        self.redirect("/loop/", status=302)

    async def do_cookie(self, _: str) -> None:
        self.set_cookie("sid", "secret-of-one-session")
        self.write({"cookie": self.request.headers.get("Cookie")})


def app(api: Api) -> tornado.web.Application:
    """The local API: every path goes to `Handler`, which records the request in `api`."""
    return tornado.web.Application([(r"/(.*)", Handler, {"api": api})])


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    found = Api()
    async with local_app(app(found)) as found.port:
        yield found


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with new_http_client() as c:
        yield c


# --- calling the Fulfiller as the machine does ---------------------------------------------------------


def bot_package(tmp_path: Path, config: str = "http-allow,127.0.0.1\n", name: str = "web") -> BotPackage:
    make_bot(tmp_path / "bots", name, {"start": 'TALK "hi"\n'}, config=config)
    return BotRegistry(tmp_path / "bots", tmp_path / "data").get(name)


def new_session(bot: str = "web") -> Session:
    now = utcnow()
    return Session(id=uuid.uuid4(), bot_id=bot, channel="web", token_hash="-", created_at=now, last_activity=now)


def fulfiller(tmp_path: Path, client: httpx.AsyncClient, config: str = "http-allow,127.0.0.1\n", *,
              resolve: Callable[[str, int], Awaitable[list[str]]] | None = None,
              session: Session | None = None) -> Fulfiller:
    access = HttpAccess(client) if resolve is None else HttpAccess(client, resolve)
    return Fulfiller(session or new_session(), bot_package(tmp_path, config), MemoryStore(), dialog="web.bas",
                     http=access)


async def kw(f: Fulfiller, keyword: str, *args: Any, line: int = 7) -> Any:
    """A keyword statement at line `line` (column 3): the decoded value it answers."""
    request = Request("keyword", line, 3, {"keyword": keyword, "args": [values.encode(a) for a in args]})
    return values.decode(await f.answer(request))


async def get(f: Fulfiller, url: str, line: int = 4) -> Any:
    """``x = GET url`` at line `line` (column 5)."""
    return values.decode(await f.answer(Request("get", line, 5, {"key": url})))


async def refused(call: Awaitable[Any], line: int = 7) -> str:
    """The call fails with a BasicRuntimeError at `line` of web.bas; its message."""
    with pytest.raises(BasicRuntimeError) as info:
        await call
    assert (info.value.file, info.value.line) == ("web.bas", line), info.value
    return info.value.message


# --- methods, headers, JSON in and out -----------------------------------------------------------------


async def test_every_method_sends_what_the_dialog_gave(api: Api, client: httpx.AsyncClient, tmp_path: Path) -> None:
    f = fulfiller(tmp_path, client)
    r = await get(f, api.url("/echo/?q=1"))
    assert (r["method"], r["body"], r["json"]) == ("GET", "", None)
    r = await kw(f, "POST", api.url("/echo/"), {"name": "Ann", "items": [1, 2.5, True, None],
                                                 "when": dt.datetime(2026, 1, 2, 3, 4, 5)})
    assert r["method"] == "POST" and r["headers"]["content_type"] == "application/json"
    when = "2026-01-02 03:04:05"  # as TOJSON writes a date
    assert r["json"] == {"name": "Ann", "items": [1, 2.5, True, None], "when": when}
    r = await kw(f, "PUT", api.url("/echo/"), [1, "two"])
    assert (r["method"], r["json"]) == ("PUT", [1, "two"])
    r = await kw(f, "PATCH", api.url("/echo/"), "just text")
    assert (r["method"], r["body"], r["headers"]["content_type"]) == ("PATCH", "just text", "text/plain; charset=utf-8")
    r = await kw(f, "DELETE", api.url("/echo/"))
    assert (r["method"], r["body"]) == ("DELETE", "")
    r = await kw(f, "POST", api.url("/echo/"))  # no data: no body
    assert (r["method"], r["body"]) == ("POST", "")
    assert [s.method for s in api.seen] == ["GET", "POST", "PUT", "PATCH", "DELETE", "POST"]
    host = f"127.0.0.1:{api.port}"
    assert all(s.headers["host"] == host and s.headers["connection"] == "close" for s in api.seen)
    assert api.seen[0].headers["user-agent"] == "gb (General Bots dialog)"


async def test_set_header_is_sent_until_cleared(api: Api, client: httpx.AsyncClient, tmp_path: Path) -> None:
    f = fulfiller(tmp_path, client)
    await kw(f, "SET HEADER", "Authorization", "Bearer t0k3n")
    await kw(f, "SET HEADER", "X-Count", 3)
    await kw(f, "SET HEADER", "x-count", "4")  # the same header in another case replaces it
    r = await kw(f, "POST", api.url("/echo/"), {"a": 1})
    assert r["headers"]["authorization"] == "Bearer t0k3n" and r["headers"]["x_count"] == "4"
    assert f.session.context[HEADERS] == {"Authorization": "Bearer t0k3n", "x-count": "4"}
    await kw(f, "SET HEADER", "X-Count", None)  # NULL removes it
    r = await get(f, api.url("/echo/"))
    assert "x_count" not in r["headers"] and r["headers"]["authorization"] == "Bearer t0k3n"
    await kw(f, "CLEAR HEADERS")
    r = await get(f, api.url("/echo/"))
    assert "authorization" not in r["headers"] and HEADERS not in f.session.context


async def test_a_form_content_type_sends_an_object_as_a_form(api: Api, client: httpx.AsyncClient,
                                                              tmp_path: Path) -> None:
    f = fulfiller(tmp_path, client)
    await kw(f, "SET HEADER", "Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    r = await kw(f, "POST", api.url("/echo/"), {"grant_type": "client_credentials", "n": 2, "x": "a&b"})
    assert r["body"] == "grant_type=client_credentials&n=2&x=a%26b"
    r = await kw(f, "POST", api.url("/echo/"), "resource=x&client_id=y")  # text as the dialog wrote it
    assert r["body"] == "resource=x&client_id=y"
    assert r["headers"]["content_type"] == "application/x-www-form-urlencoded; charset=utf-8"
    await kw(f, "SET HEADER", "Content-Type", "text/plain")
    r = await kw(f, "POST", api.url("/echo/"), {"a": 1})  # an object is JSON, whatever the header said
    assert r["json"] == {"a": 1} and r["headers"]["content_type"] == "application/json"


async def test_answers_become_dialog_values(api: Api, client: httpx.AsyncClient, tmp_path: Path) -> None:
    f = fulfiller(tmp_path, client)
    assert await get(f, api.url("/text/")) == "plain text, ação"
    assert await get(f, api.url("/jsonish/")) == {"a": [1, 2]}  # JSON under another type, as GB parses it
    assert await get(f, api.url("/dollar/")) == {"$date": "2020-01-01"}  # an object, not a date
    assert await get(f, api.url("/empty/")) is None
    assert await get(f, api.url("/gzip/500")) == "0" * 500
    message = await refused(get(f, api.url("/badjson/")), line=4)
    assert message == f"GET http://127.0.0.1:{api.port}/badjson/: the answer is not valid JSON (Expecting property " \
                      "name enclosed in double quotes)"


async def test_a_status_that_is_not_2xx_is_an_error_naming_it(api: Api, client: httpx.AsyncClient,
                                                               tmp_path: Path) -> None:
    f = fulfiller(tmp_path, client)
    message = await refused(kw(f, "POST", api.url("/status/503?key=SECRET"), {"a": 1}))
    assert message == f"POST http://127.0.0.1:{api.port}/status/503?…: 503 Service Unavailable " \
                      "(upstream down try later)"
    assert await refused(get(f, api.url("/page/500")), line=4) == \
        f"GET http://127.0.0.1:{api.port}/page/500: 500 Internal Server Error"  # no markup quoted


async def test_the_clients_cookies_are_never_sent(api: Api, client: httpx.AsyncClient, tmp_path: Path) -> None:
    f = fulfiller(tmp_path, client)
    assert await get(f, api.url("/cookie/")) == {"cookie": None}
    assert await get(fulfiller(tmp_path, client), api.url("/cookie/")) == {"cookie": None}  # another session
    assert len(client.cookies.jar) == 0


# --- refusals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "why"), [
    ("http://127.0.0.1:{port}/echo/", "loopback address refused"),
    ("http://10.0.0.1/", "private address refused"),
    ("http://192.168.1.20/", "private address refused"),
    ("http://169.254.169.254/latest/meta-data/", "link-local address refused"),
    ("http://[::1]:{port}/", "loopback address refused"),
    ("http://[::ffff:127.0.0.1]:{port}/", "loopback address refused"),
    ("http://[fe80::1]/", "link-local address refused"),
    ("http://0.0.0.0:{port}/", "unspecified address refused"),
    ("http://224.0.0.1/", "multicast address refused"),
    ("http://100.64.0.1/", "non-public address refused"),
    ("http://localhost:{port}/echo/", "localhost is a loopback address (127.0.0.1), refused"),
    ("http://2130706433:{port}/echo/", "2130706433 is a loopback address (127.0.0.1), refused"),
    ("http://0x7f000001:{port}/echo/", "0x7f000001 is a loopback address (127.0.0.1), refused"),
    ("http://127.1:{port}/echo/", "127.1 is a loopback address (127.0.0.1), refused"),
])
@pytest.mark.parametrize("config", ["", "http-allow,*\n"])
async def test_no_request_reaches_a_non_public_address(api: Api, client: httpx.AsyncClient, tmp_path: Path,
                                                       url: str, why: str, config: str) -> None:
    f = fulfiller(tmp_path, client, config)
    url = url.format(port=api.port)
    message = await refused(get(f, url, line=7))
    assert message == f"GET {url}: {why} (add the host to http-allow in config.csv)"
    assert api.seen == []


async def test_the_allow_list_names_the_hosts(api: Api, client: httpx.AsyncClient, tmp_path: Path) -> None:
    f = fulfiller(tmp_path, client, "http-allow,127.0.0.1, *.example.com\n")
    message = await refused(kw(f, "POST", "https://api.other.org/v1", {"a": 1}))
    assert message == "POST https://api.other.org/v1: the host api.other.org is not in the bot's http-allow " \
                      "(config.csv)"
    assert "example.com is not in" in await refused(get(f, "https://example.com/", line=7))  # *. is what is under it
    message = await refused(get(f, f"http://localhost:{api.port}/echo/", line=7))  # a name is not its address
    assert message.endswith("the host localhost is not in the bot's http-allow (config.csv)")
    assert api.seen == []
    assert (await get(f, api.url("/echo/")))["method"] == "GET"  # named: a loopback address is allowed


async def test_only_http_and_https(client: httpx.AsyncClient, tmp_path: Path) -> None:
    f = fulfiller(tmp_path, client)
    for url in ("ftp://example.com/a", "/api/crm/deals", "file:///etc/passwd"):
        message = await refused(kw(f, "POST", url, {"a": 1}))
        assert message == f"POST {url}: only http:// and https:// URLs can be requested"
    assert await refused(kw(f, "PUT", 42, 1)) == "PUT needs a URL (text), got integer"
    assert await get(f, "ftp://example.com/a") is None  # GET of anything but a URL is a session variable


@pytest.mark.parametrize(("name", "value", "why"), [
    ("Bad Name", "x", "SET HEADER 'Bad Name': not a header name"),
    ("Host", "evil.example", "SET HEADER Host: gb sets this header itself"),
    ("Content-Length", "0", "SET HEADER Content-Length: gb sets this header itself"),
    ("X-A", "a\r\nX-Injected: 1", "SET HEADER X-A: the value has a line break or a NUL"),
])
async def test_set_header_refuses_what_would_break_the_request(client: httpx.AsyncClient, tmp_path: Path, name: str,
                                                               value: str, why: str) -> None:
    f = fulfiller(tmp_path, client)
    assert (await refused(kw(f, "SET HEADER", name, value))).startswith(why)
    assert HEADERS not in f.session.context


async def test_delete_of_a_table_is_not_http(client: httpx.AsyncClient, tmp_path: Path) -> None:
    f = fulfiller(tmp_path, client)
    message = await refused(kw(f, "DELETE", "sync_logs", "created_at<2026-01-01"))
    assert message == "DELETE: bot tables need a database, and this run has none"  # the tables answer it, not HTTP


async def test_no_client_no_http(tmp_path: Path) -> None:
    f = Fulfiller(new_session(), bot_package(tmp_path), MemoryStore(), dialog="web.bas")
    message = await refused(get(f, "https://example.com/x"), line=4)
    assert message == "GET https://example.com/x: HTTP requests are not available here (the runtime has no HTTP client)"


# --- caps -------------------------------------------------------------------------------------------------


async def test_the_size_cap_stops_reading(api: Api, client: httpx.AsyncClient, tmp_path: Path) -> None:
    f = fulfiller(tmp_path, client, "http-allow,127.0.0.1\nhttp-max-bytes,1000\n")
    assert await get(f, api.url("/sized/1000")) == "x" * 1000
    too_large = "the answer is larger than 1,000 bytes (http-max-bytes in config.csv)"
    assert await refused(get(f, api.url("/sized/1001")), line=4) == f"GET {api.url('/sized/1001')}: {too_large}"
    assert (await refused(get(f, api.url("/endless/")), line=4)).endswith(too_large)
    assert (await refused(get(f, api.url("/gzip/10000000")), line=4)).endswith(too_large)  # 10 MB in 10 kB
    await asyncio.sleep(0.2)  # the server notices the closed connection
    assert api.written < 1_000_000  # it stopped once the socket's buffers were full: nobody read on


async def test_the_timeout_bounds_the_whole_request(api: Api, client: httpx.AsyncClient, tmp_path: Path) -> None:
    f = fulfiller(tmp_path, client, "http-allow,127.0.0.1\nhttp-timeout,0.5\n")
    for path in ("/slow/3", "/drip/"):
        began = time.monotonic()
        message = await refused(get(f, api.url(path)), line=4)
        assert message == f"GET {api.url(path)}: no complete answer within 0.5 seconds (http-timeout in config.csv)"
        assert time.monotonic() - began < 1.5
    assert await get(f, api.url("/slow/0.1")) == "late"


async def test_requests_per_message_are_capped(api: Api, client: httpx.AsyncClient, tmp_path: Path) -> None:
    f = fulfiller(tmp_path, client, "http-allow,127.0.0.1\nhttp-max-requests,3\n")
    for _ in range(3):
        await get(f, api.url("/echo/"))
    message = await refused(kw(f, "POST", api.url("/echo/"), {"a": 1}))
    assert message == f"POST {api.url('/echo/')}: more than 3 HTTP requests in one message (http-max-requests in " \
                      "config.csv)"
    assert len(api.seen) == 3


# --- redirects --------------------------------------------------------------------------------------------


def via(api: Api, target: str, code: int = 302) -> str:
    """A URL of the server that redirects (with `code`) to `target`."""
    return api.url(f"/redirect/{code}") + "?" + str(httpx.QueryParams({"to": target}))


async def test_redirects_are_followed_as_browsers_do(api: Api, client: httpx.AsyncClient, tmp_path: Path) -> None:
    f = fulfiller(tmp_path, client)
    r = await kw(f, "POST", via(api, "/echo/", 302), {"a": 1})
    assert (r["method"], r["body"]) == ("GET", "")  # a 302 of a POST is a GET
    r = await kw(f, "POST", via(api, api.url("/echo/"), 307), {"a": 1})
    assert (r["method"], r["json"]) == ("POST", {"a": 1})  # a 307 keeps the method and the body
    r = await kw(f, "PUT", via(api, "/echo/", 303), [1])
    assert (r["method"], r["body"]) == ("GET", "")
    assert [s.method for s in api.seen] == ["POST", "GET", "POST", "POST", "PUT", "GET"]
    message = await refused(get(f, api.url("/loop/")), line=4)
    assert message == f"GET {api.url('/loop/')}: more than 5 redirects" and len(api.seen) == 6 + 6


@pytest.mark.parametrize(("config", "target", "why"), [
    ("http-allow,127.0.0.1\n", "http://10.0.0.1/admin",
     "the host 10.0.0.1 is not in the bot's http-allow (config.csv)"),
    ("http-allow,127.0.0.1,*\n", "http://10.0.0.1/admin",
     "private address refused (add the host to http-allow in config.csv)"),
    ("http-allow,127.0.0.1,*\n", "http://169.254.169.254/latest/meta-data/",
     "link-local address refused (add the host to http-allow in config.csv)"),
    ("http-allow,127.0.0.1,*\n", "http://localhost:{port}/echo/",
     "localhost is a loopback address (127.0.0.1), refused (add the host to http-allow in config.csv)"),
    ("http-allow,127.0.0.1\n", "gopher://127.0.0.1/", "only http:// and https:// URLs can be requested"),
])
async def test_a_redirect_to_a_refused_host_is_refused(api: Api, client: httpx.AsyncClient, tmp_path: Path,
                                                       config: str, target: str, why: str) -> None:
    f = fulfiller(tmp_path, client, config)
    target = target.format(port=api.port)
    start = via(api, target)
    message = await refused(get(f, start), line=4)
    assert message.startswith(f"GET {api.url('/redirect/302')}?…: redirected to ")
    assert message.endswith(why)
    assert len(api.seen) == 1  # the first hop only


async def test_credentials_stay_behind_on_another_origin(api: Api, client: httpx.AsyncClient, tmp_path: Path) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    f = fulfiller(tmp_path, client, "http-allow,127.0.0.1,api.test\n", resolve=resolve)
    await kw(f, "SET HEADER", "Authorization", "Bearer t0k3n")
    await kw(f, "SET HEADER", "X-Trace", "t-1")
    r = await get(f, via(api, "/echo/"))  # the same origin: kept
    assert r["headers"]["authorization"] == "Bearer t0k3n"
    r = await get(f, via(api, api.url("/echo/", host="api.test")))
    assert "authorization" not in r["headers"] and r["headers"]["x_trace"] == "t-1"
    assert r["headers"]["host"] == f"api.test:{api.port}"


# --- the connection goes where the check said ---------------------------------------------------------------


async def test_a_name_is_resolved_once_and_its_checked_address_is_used(api: Api, client: httpx.AsyncClient,
                                                                        tmp_path: Path) -> None:
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    f = fulfiller(tmp_path, client, "http-allow,api.test\n", resolve=resolve)
    r = await get(f, api.url("/echo/", host="api.test"))  # a name the system resolver does not know
    assert r["headers"]["host"] == f"api.test:{api.port}" and calls == ["api.test"]


async def test_dns_rebinding_cannot_reach_the_server(api: Api, client: httpx.AsyncClient, tmp_path: Path) -> None:
    answers = [["93.184.216.34"], ["127.0.0.1"]]  # public when checked, loopback if asked again

    async def resolve(host: str, port: int) -> list[str]:
        return answers.pop(0) if answers else ["127.0.0.1"]

    f = fulfiller(tmp_path, client, "http-timeout,1\n", resolve=resolve)
    with pytest.raises(BasicRuntimeError):  # the public address does not answer here: no network
        await get(f, api.url("/echo/", host="rebind.test"))
    assert api.seen == [] and answers == [["127.0.0.1"]]  # asked once; the connection went to the checked address


async def test_one_refused_address_refuses_the_host(api: Api, client: httpx.AsyncClient, tmp_path: Path) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "127.0.0.1"]

    f = fulfiller(tmp_path, client, resolve=resolve, config="")
    message = await refused(get(f, api.url("/echo/", host="mixed.test")), line=4)
    assert message.endswith("mixed.test is a loopback address (127.0.0.1), refused (add the host to http-allow in "
                            "config.csv)")
    assert api.seen == []


async def test_tls_to_the_pinned_address_checks_the_hosts_certificate(tmp_path: Path) -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("api.test").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    found = Api()

    async def resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    async with local_app(app(found), ssl_options=server_ctx) as found.port, \
            httpx.AsyncClient(verify=client_ctx, trust_env=False) as tls_client:
        f = fulfiller(tmp_path, tls_client, "http-allow,api.test,wrong.test\n", resolve=resolve)
        r = await kw(f, "POST", found.url("/echo/", host="api.test", scheme="https"), {"a": 1})
        assert (r["json"], r["headers"]["host"]) == ({"a": 1}, f"api.test:{found.port}")
        message = await refused(get(f, found.url("/echo/", host="wrong.test", scheme="https")), line=4)
        assert message.startswith(f"GET https://wrong.test:{found.port}/echo/: cannot connect to wrong.test "
                                  "(TLS certificate refused")
        assert len(found.seen) == 1


# --- through the runtime: sessions, HEAR, other sessions ------------------------------------------------------


async def test_get_in_a_dialog_end_to_end(stores: Stores, api: Api, client: httpx.AsyncClient, tmp_path: Path) -> None:
    dialog = f'x = HEAR\nTALK x\nr = GET "{api.url("/echo/orders")}"\nTALK r.method + " " + r.path\n'
    make_bot(tmp_path / "bots", "web", {"start": dialog}, config="http-allow,127.0.0.1\n")
    make_bot(tmp_path / "bots", "open", {"start": dialog})  # no http-allow: public hosts only
    rt = runtime_for(stores, tmp_path / "bots", tmp_path / "data")
    rt.http = HttpAccess(client)
    s = await rt.start("web")
    assert texts(await rt.handle(Inbound("web", "orders", token=s.token))) == ["orders", "GET /echo/orders"]
    o = await rt.start("open")
    r = await rt.handle(Inbound("open", "orders", token=o.token))
    assert texts(r) == ["orders", SORRY] and r.error is not None and (r.error.line, r.error.column) == (3, 5)
    assert r.error.message == f"GET {api.url('/echo/orders')}: loopback address refused (add the host to http-allow " \
                              "in config.csv)"
    assert len(api.seen) == 1


async def test_get_of_an_expression_or_of_a_variable_holding_a_url(stores: Stores, api: Api, client: httpx.AsyncClient,
                                                                   tmp_path: Path) -> None:
    host = api.url("")
    dialog = (f'host = "{host}"\nq = HEAR\n'
              'a = GET host + "/echo/items?q=" + q\nTALK a.method + " " + a.path\n'
              f'b = GET "{host}/echo/" + q + "/b"\nTALK b.path\n'
              f'url = "{host}/echo/by-variable"\nc = GET url\nTALK c.path\n'
              'SET color = "blue"\ncolor = "red"\nd = GET color\nTALK d\n'
              'IF GET "color" = "blue" THEN\n  TALK "still a session variable"\nEND IF\n')
    make_bot(tmp_path / "bots", "web", {"start": dialog}, config="http-allow,127.0.0.1\n")
    rt = runtime_for(stores, tmp_path / "bots", tmp_path / "data")
    rt.http = HttpAccess(client)
    s = await rt.start("web")
    r = await rt.handle(Inbound("web", "tea", token=s.token))
    assert r.error is None, r.error
    assert texts(r) == ["GET /echo/items", "/echo/tea/b", "/echo/by-variable", "blue", "still a session variable"]
    assert [(x.method, x.path) for x in api.seen] == [("GET", "/echo/items"), ("GET", "/echo/tea/b"),
                                                      ("GET", "/echo/by-variable")]


async def test_headers_survive_a_hear_and_go_with_the_dialog(stores: Stores, api: Api, client: httpx.AsyncClient,
                                                             tmp_path: Path) -> None:
    dialog = f'x = HEAR\nr = GET "{api.url("/echo/")}"\nTALK r.headers.authorization\n'
    make_bot(tmp_path / "bots", "web", {"start": dialog}, config="http-allow,127.0.0.1\n")
    rt = runtime_for(stores, tmp_path / "bots", tmp_path / "data")
    rt.http = HttpAccess(client)
    s = await rt.start("web")
    async with stores.store.lock(s.session_id) as session:  # what SET HEADER before the HEAR leaves
        assert session is not None
        f = Fulfiller(session, rt.bots.get("web"), stores.store, http=rt.http)
        await kw(f, "SET HEADER", "Authorization", "Bearer t0k3n")
        await stores.store.save(session)
    r = await rt.handle(Inbound("web", "go", token=s.token))  # a new turn, from the stored session
    assert texts(r) == ["Bearer t0k3n"]
    assert api.seen[0].headers["authorization"] == "Bearer t0k3n"
    stored = await stores.store.load(s.session_id, fresh=True)
    assert stored is not None and HEADERS not in stored.context  # the dialog ended: its token is not kept


async def test_too_many_requests_in_a_message_stop_the_dialog(stores: Stores, api: Api, client: httpx.AsyncClient,
                                                              tmp_path: Path) -> None:
    dialog = f'FOR i = 1 TO 5\n  r = GET "{api.url("/echo/")}"\nNEXT\nTALK "done"\n'
    make_bot(tmp_path / "bots", "web", {"start": dialog}, config="http-allow,127.0.0.1\nhttp-max-requests,3\n")
    rt = runtime_for(stores, tmp_path / "bots", tmp_path / "data")
    rt.http = HttpAccess(client)
    s = await rt.start("web")
    assert texts(s) == [SORRY] and s.error is not None and s.error.line == 2
    assert "more than 3 HTTP requests in one message" in s.error.message and len(api.seen) == 3


async def test_a_slow_request_holds_no_other_session(stores: Stores, api: Api, client: httpx.AsyncClient,
                                                     tmp_path: Path) -> None:
    make_bot(tmp_path / "bots", "web", {"start": f'x = HEAR\nr = GET "{api.url("/slow/1.5")}"\nTALK r\n'},
             config="http-allow,127.0.0.1\n")
    make_bot(tmp_path / "bots", "echo", {"start": ECHO})
    rt = runtime_for(stores, tmp_path / "bots", tmp_path / "data")
    rt.http = HttpAccess(client)
    slow, quick = await rt.start("web"), await rt.start("echo")
    waiting = asyncio.ensure_future(rt.handle(Inbound("web", "go", token=slow.token)))
    await asyncio.sleep(0.2)  # the slow request is on its way
    began = time.monotonic()
    for n in range(3):
        assert texts(await rt.handle(Inbound("echo", f"m{n}", token=quick.token))) == [f"echo m{n}"]
    assert time.monotonic() - began < 1.0 and not waiting.done()
    assert texts(await waiting) == ["late"]


# --- config.csv -----------------------------------------------------------------------------------------------


def test_the_config_keys_are_read_and_checked() -> None:
    s = BotSettings.from_config({"http-allow": " API.Example.com, *.corp.example, 10.0.0.5, [::1], bücher.de ",
                                 "http-timeout": "2.5", "http-max-bytes": "5000", "http-max-requests": "4"})
    assert s.http_allow == ("api.example.com", "*.corp.example", "10.0.0.5", "::1", "xn--bcher-kva.de")
    assert (s.http_timeout_seconds, s.http_max_bytes, s.http_max_requests) == (2.5, 5000, 4)
    d = BotSettings()
    assert (d.http_allow, d.http_timeout_seconds, d.http_max_bytes, d.http_max_requests) == ((), 10.0, 1_048_576, 20)
    with pytest.raises(BotConfigError, match=r"config.csv: http-allow: 'https://api.example.com/' is not a host name"):
        BotSettings.from_config({"http-allow": "api.example.com, https://api.example.com/"})
    with pytest.raises(BotConfigError, match=r"config.csv: http-allow: 'api.example.com:8080' is not a host name"):
        BotSettings.from_config({"http-allow": "api.example.com:8080"})
    with pytest.raises(BotConfigError, match="http-timeout must be a positive number, got '0'"):
        BotSettings.from_config({"http-timeout": "0"})
    with pytest.raises(BotConfigError, match="http-max-bytes must be a whole number, got '1MB'"):
        BotSettings.from_config({"http-max-bytes": "1MB"})


async def test_an_unknown_host_is_named(client: httpx.AsyncClient, tmp_path: Path) -> None:
    f = fulfiller(tmp_path, client, "http-timeout,5\n")
    message = await refused(get(f, "http://nothing-here.invalid/x"), line=4)  # .invalid never resolves (RFC 6761)
    assert message.startswith("GET http://nothing-here.invalid/x: the host nothing-here.invalid is not found (")
    long_label = "a" * 64 + ".example"
    message = await refused(get(f, f"http://{long_label}/"), line=4)
    assert message.startswith(f"GET http://{long_label}/: the host {long_label} is not found (")
