"""The platforms' HTTP client (gb_server/channels/http.py), against real local servers: what a
call sends, one kept-alive connection for many calls, and each way a call fails (refused, too
slow, not a URL, too large an answer, redirects) as a PlatformError that says whether to retry
and never shows the URL's path (Telegram's holds the bot's token)."""

from __future__ import annotations

import asyncio
import socket
from contextlib import AbstractAsyncContextManager

import pytest
import tornado.web

from gb_server.channels.http import PlatformError, PlatformHttp
from tests.helpers.platforms import Call, platform, serve


async def test_a_post_sends_json_with_its_headers_and_reads_the_answer() -> None:
    async with platform(lambda c: (201, {"messages": [{"id": "wamid.1"}]})) as api:
        http = PlatformHttp()
        try:
            got = await http.post(f"{api.url}/v1/messages", json={"to": "5511", "text": {"body": "olá"}},
                                  headers={"Authorization": "Bearer t"})
        finally:
            await http.close()
    assert got.status_code == 201 and got.json() == {"messages": [{"id": "wamid.1"}]}
    assert got.headers["content-type"].startswith("application/json")
    call = api.calls[0]
    assert (call.method, call.path, call.json()) == ("POST", "/v1/messages", {"to": "5511", "text": {"body": "olá"}})
    assert call.headers["authorization"] == "Bearer t" and call.headers["user-agent"] == "gb-server"
    assert call.headers["content-type"] == "application/json"


async def test_a_form_with_basic_auth() -> None:
    async with platform(lambda c: (200, {"sid": "SM1"})) as api:
        http = PlatformHttp()
        try:
            await http.post(f"{api.url}/Messages.json", data={"To": "+1555", "Body": "a&b"}, auth=("AC1", "secret"))
        finally:
            await http.close()
    assert api.calls[0].form() == {"To": "+1555", "Body": "a&b"}
    assert api.calls[0].headers["authorization"] == "Basic QUMxOnNlY3JldA=="


async def test_calls_reuse_one_kept_alive_connection() -> None:
    async with platform() as api:
        http = PlatformHttp()
        try:
            for i in range(20):
                await http.post(f"{api.url}/m", json={"i": i})
        finally:
            await http.close()
    assert len({c.peer for c in api.calls}) == 1


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_refused_connection_is_retried_and_its_message_hides_the_path() -> None:
    http = PlatformHttp()
    port = closed_port()
    try:
        with pytest.raises(PlatformError) as exc:
            await http.post(f"http://127.0.0.1:{port}/bot123:SECRET-TOKEN/sendMessage", json={})
    finally:
        await http.close()
    assert exc.value.retry and f"127.0.0.1:{port}" in exc.value.message
    assert "SECRET" not in exc.value.message and "SECRET" not in str(exc.value)


async def test_a_platform_slower_than_the_timeout_is_retried() -> None:
    async def slow(call: Call) -> tuple[int, object]:
        await asyncio.sleep(2)
        return 200, {}

    async with platform(slow) as api:
        http = PlatformHttp(timeout=0.3)
        try:
            with pytest.raises(PlatformError) as exc:
                await http.get(f"{api.url}/bot123:SECRET/getMe")
        finally:
            await http.close()
    assert exc.value.retry and "within 0.3 s" in exc.value.message and "SECRET" not in exc.value.message


@pytest.mark.parametrize("url", ["not a url", "ftp://example.com/x", "/relative/path", "http://[::1/x"])
async def test_what_is_not_an_http_url_is_not_retried(url: str) -> None:
    http = PlatformHttp()
    try:
        with pytest.raises(PlatformError) as exc:
            await http.get(url)
    finally:
        await http.close()
    assert not exc.value.retry and "not a valid URL" in exc.value.message


class _Big(tornado.web.RequestHandler):
    """5,000 bytes: with a Content-Length, or chunked (no length said up front)."""

    async def get(self, how: str) -> None:
        if how == "chunked":
            for _ in range(5):
                self.write(b"x" * 1000)
                await self.flush()
        else:
            self.finish(b"x" * 5000)


class _Redirect(tornado.web.RequestHandler):
    def get(self) -> None:
        self.redirect("/big/sized", status=302)


def local_app() -> AbstractAsyncContextManager[str]:
    return serve(tornado.web.Application([(r"/big/(sized|chunked)", _Big), (r"/redirect", _Redirect)]))


@pytest.mark.parametrize("how", ["sized", "chunked"])
async def test_an_answer_over_the_bound_is_not_read(how: str) -> None:
    async with local_app() as url:
        http = PlatformHttp(max_bytes=4096)
        try:
            with pytest.raises(PlatformError) as exc:
                await http.get(f"{url}/big/{how}")
            http.max_bytes = 5000
            assert (await http.get(f"{url}/big/{how}")).content == b"x" * 5000  # at the bound: read
        finally:
            await http.close()
    assert not exc.value.retry and "4,096 bytes" in exc.value.message


async def test_a_redirect_is_followed_only_when_asked() -> None:
    async with local_app() as url:
        http = PlatformHttp()
        try:
            got = await http.get(f"{url}/redirect")
            assert got.status_code == 302 and got.headers["Location"] == "/big/sized"
            got = await http.get(f"{url}/redirect", follow_redirects=True)
            assert got.status_code == 200 and len(got.content) == 5000
        finally:
            await http.close()
