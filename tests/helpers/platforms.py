"""A real local HTTP server standing in for a platform's API (Meta's Graph API, Telegram's Bot
API, Twilio's REST API): it records every request it receives (method, path, headers, body) for
the test to check, and answers what the test's `answer` function says (default: 200 with a
platform-like id). Also: signing helpers the platforms use on their webhooks."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import inspect
import itertools
import json
import urllib.parse
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import tornado.httpserver
import tornado.netutil
import tornado.web

__all__ = ["Call", "Platform", "platform", "serve", "meta_signature", "twilio_signature"]


@dataclass
class Call:
    """One request the platform received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int = 0  # what the stand-in answered
    peer: tuple[str, int] | None = None  # the client's address and port: one per connection

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode()))


Answer = Callable[[Call], Any]  # (status, body), or an awaitable of it (a slow platform)


@dataclass
class Platform:
    """The running stand-in: its base `url`, the `calls` it got, and `answer(call) -> (status,
    body)` (a dict or list is sent as JSON, bytes as they are)."""

    url: str
    answer: Answer
    calls: list[Call] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def next_id(self) -> int:
        return int(next(self._ids))

    def posts(self, path_part: str = "", *, accepted: bool = False) -> list[Call]:
        """The POSTs whose path contains `path_part` (only those answered 2xx when `accepted`)."""
        return [c for c in self.calls if c.method == "POST" and path_part in c.path
                and (not accepted or 200 <= c.status < 300)]

    async def wait_for(self, count: int, path_part: str = "", timeout: float = 15.0) -> list[Call]:
        """The first `count` POSTs whose path contains `path_part`, once there are that many
        (AssertionError after `timeout` seconds, showing what came)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while loop.time() < end:
            found = self.posts(path_part)
            if len(found) >= count:
                return found[:count]
            await asyncio.sleep(0.02)
        raise AssertionError(f"expected {count} POSTs to *{path_part}*, got {len(self.posts(path_part))}: "
                             f"{[(c.path, c.body[:200]) for c in self.calls]}")


class _Handler(tornado.web.RequestHandler):
    def initialize(self, platform: Platform) -> None:
        self.platform = platform

    def check_xsrf_cookie(self) -> None:
        pass

    async def _serve(self, path: str) -> None:
        call = Call(self.request.method or "GET", "/" + path,
                    {k: v[-1].decode() for k, v in self.request.query_arguments.items()},
                    {k.lower(): v for k, v in self.request.headers.items()}, self.request.body,
                    peer=cast(Any, self.request.connection).context.address[:2])
        self.platform.calls.append(call)
        answered = self.platform.answer(call)
        status, body = await answered if inspect.isawaitable(answered) else answered
        call.status = status
        self.set_status(status)
        if isinstance(body, (dict, list)):
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(body))
        else:
            self.finish(body if isinstance(body, bytes) else str(body).encode())

    async def get(self, path: str) -> None:
        await self._serve(path)

    async def post(self, path: str) -> None:
        await self._serve(path)


def _default(call: Call) -> tuple[int, Any]:
    return 200, {"ok": True}


@asynccontextmanager
async def serve(app: tornado.web.Application) -> AsyncIterator[str]:
    """Serve a Tornado application on a free loopback port until the block ends: its base URL."""
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    try:
        yield f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
    finally:
        server.stop()
        await server.close_all_connections()


@asynccontextmanager
async def platform(answer: Answer | None = None) -> AsyncIterator[Platform]:
    """Serve a stand-in platform on a free loopback port until the block ends."""
    p = Platform("", answer or _default)
    async with serve(tornado.web.Application([(r"/(.*)", _Handler, {"platform": p})])) as url:
        p.url = url
        yield p


def meta_signature(secret: str, body: bytes) -> str:
    """WhatsApp's ``X-Hub-Signature-256`` of a body: ``sha256=`` + HMAC-SHA256 hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's ``X-Twilio-Signature``: Base64(HMAC-SHA1(auth token, URL + each POST parameter's
    name and value, sorted by name)), computed here from Twilio's documented recipe (the server
    checks it with the twilio package's validator)."""
    data = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()
