"""The platforms' HTTP client: every adapter's calls (sending replies, fetching files) go through
one :class:`PlatformHttp`, an aiohttp session with keep-alive connections per host, a timeout on
every call (15 s, 5 s to connect), no proxy from the environment, and a bound on what it reads.

Why aiohttp here and httpx elsewhere (BASIC's GET/POST, the tests): a reply's POST is on every
channel message's path, and httpx's cost 1.6-1.9 ms of CPU per request against aiohttp's
0.11-0.13 ms (3,000 keep-alive POSTs to a local server, 16 at once; bench/README.md): httpx's is
httpcore's and anyio's per-request machinery, about a third of gb's CPU per WhatsApp message.

A platform's answer is read whole into a :class:`PlatformResponse`; a call that cannot be made
raises :class:`PlatformError`, whose message names the host and what went wrong but never the
URL's path or query (Telegram's URLs hold the bot's token).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDictProxy
from yarl import URL

__all__ = ["PlatformHttp", "PlatformResponse", "PlatformError", "MAX_BYTES"]

MAX_BYTES = 64 * 1024 * 1024  # the largest answer read (a file's bytes); past it the call fails
TIMEOUT, CONNECT_TIMEOUT = 15.0, 5.0


@dataclass(frozen=True)
class PlatformResponse:
    """A platform's answer, read whole: status, headers (case-insensitive) and body."""

    status_code: int
    headers: CIMultiDictProxy[str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON (ValueError when it is not)."""
        return orjson.loads(self.content)


class PlatformError(Exception):
    """The call could not be made or its answer not read: `retry` when trying later may work (a
    connection refused or reset, a timeout), not when it cannot (a URL that is not one, an answer
    over MAX_BYTES)."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.message, self.retry = message, retry


class PlatformHttp:
    """One aiohttp session (made in the running loop at the first call), closed with the server."""

    def __init__(self, *, timeout: float = TIMEOUT, connect_timeout: float = CONNECT_TIMEOUT,
                 max_bytes: int = MAX_BYTES, user_agent: str = "gb-server") -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout, connect=connect_timeout)
        self.max_bytes = max_bytes
        self.headers = {"User-Agent": user_agent}
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self.timeout, headers=self.headers, trust_env=False, raise_for_status=False,
                json_serialize=lambda v: orjson.dumps(v).decode(),
                connector=aiohttp.TCPConnector(limit=100, limit_per_host=50, keepalive_timeout=30))
        return self._session

    async def request(self, method: str, url: str, *, json: Any = None, data: Mapping[str, str] | None = None,
                      headers: Mapping[str, str] | None = None, auth: tuple[str, str] | None = None,
                      follow_redirects: bool = False) -> PlatformResponse:
        """One call. A redirect is followed only when asked (`follow_redirects`: at most 5, and the
        Authorization is not sent on to another host).

        Raises:
            PlatformError: the call could not be made, or its answer not read.
        """
        try:
            target = URL(url)
            if not target.is_absolute() or target.scheme not in ("http", "https"):
                raise ValueError("not an http(s) URL")
        except (ValueError, TypeError) as exc:
            raise PlatformError(f"not a valid URL ({type(exc).__name__})", retry=False) from None
        where = f"{target.host}:{target.port}"
        if auth:  # dropped on a redirect to another host, as every Authorization header is
            headers = {**(headers or {}), "Authorization": aiohttp.encode_basic_auth(*auth)}
        try:
            async with self._open().request(method, target, json=json, data=data, headers=headers,
                                            allow_redirects=follow_redirects, max_redirects=5) as response:
                over = PlatformError(f"{where} answered over the {self.max_bytes:,} bytes read at most", retry=False)
                if response.content_length is not None and response.content_length > self.max_bytes:
                    raise over
                body = bytearray()
                async for chunk in response.content.iter_any():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise over
                return PlatformResponse(response.status, response.headers, bytes(body))
        except PlatformError:
            raise
        except aiohttp.InvalidURL:
            raise PlatformError("not a valid URL", retry=False) from None
        except aiohttp.TooManyRedirects:
            raise PlatformError(f"{where} redirected more than 5 times", retry=False) from None
        except TimeoutError:
            raise PlatformError(f"{where} did not answer within {self.timeout.total:g} s", retry=True) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise PlatformError(f"{where}: {type(exc).__name__}", retry=True) from None

    async def get(self, url: str, **kw: Any) -> PlatformResponse:
        return await self.request("GET", url, **kw)

    async def post(self, url: str, **kw: Any) -> PlatformResponse:
        return await self.request("POST", url, **kw)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
            await asyncio.sleep(0)  # the connector's transports close on the next loop iteration
