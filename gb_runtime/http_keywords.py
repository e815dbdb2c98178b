"""The HTTP keywords' way out: ``x = GET url``, ``POST``/``PUT``/``PATCH url, data``, ``DELETE url``.

Every request of every dialog goes through one :class:`HttpAccess`, built on the one injected
``httpx.AsyncClient`` (the composition root makes it with :func:`new_http_client`), and obeys
the bot's settings (config.csv):

* ``http-allow``: the hosts the bot may call (names, IP addresses, ``*.example.com``, ``*``);
  empty, any public host. A host that resolves to a loopback, private, link-local, multicast,
  unspecified or otherwise non-public address is refused unless an entry other than ``*``
  names it (no SSRF to the server's own network).
* ``http-timeout`` (seconds, 10): one keyword, redirects included, from DNS to the last byte.
* ``http-max-bytes`` (1 MB): the body is read in a stream and the request stops at the cap
  (a compressed body counts as it decompresses).
* ``http-max-requests`` (20): the HTTP keywords one message may run (counted by the Fulfiller).

No SSRF by DNS rebinding: the host is resolved once per hop, EVERY address is checked, and the
connection goes to a checked address: the request is sent to that IP with the ``Host`` header
and the TLS server name (SNI, and so the certificate check) of the URL's host. ``Connection:
close`` on every request keeps a TLS connection made for one host from carrying another's
request. Redirects are followed here, at most MAX_REDIRECTS, each hop checked like the first;
``Authorization`` and ``Cookie`` do not follow a redirect to another origin. The client's own
cookies, auth and default headers are never used: what a dialog sends is what it set.

Bodies: an object or a list is sent as JSON (or as a form when the dialog set a
``Content-Type`` of ``application/x-www-form-urlencoded``), anything else as text. A JSON answer
(``application/json``, ``*+json``, or a body that starts with ``{``/``[`` and parses) becomes
an object or a list, an empty one NULL, anything else text. A status that is not 2xx is an
error naming it (``POST https://api.x/y: 503 Service Unavailable``): General Bots throws on them
too, and the dialogs of its templates never look at a status.

Every refusal and failure is a BasicRuntimeError (placed at the statement's line by the
Fulfiller) that names the method, the URL (shortened, without its query or user info: they
hold keys) and the reason.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import logging
import socket
import time
import urllib.parse
import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

from gb_basic import BasicError, BasicRuntimeError, values

from .bots import BotSettings

__all__ = ["HttpAccess", "HttpPolicy", "MAX_REDIRECTS", "Resolver", "is_url", "new_http_client", "non_public",
           "resolve_host", "shown_url"]

log = logging.getLogger("gb.http")

MAX_REDIRECTS = 5  # hops one keyword follows
USER_AGENT = "gb (General Bots dialog)"
ERROR_EXCERPT = 200  # characters of an error response's body quoted in the error
_REDIRECTS = {301, 302, 303, 307, 308}
_GONE_ON_REDIRECT = ("authorization", "cookie", "proxy-authorization")  # dropped when the origin changes
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``(host, port) -> IP addresses`` (raises OSError when the host is not found)."""


def is_url(text: Any) -> bool:
    """Whether a value is a text that starts with ``http://`` or ``https://`` (any case)."""
    return isinstance(text, str) and text.lstrip()[:8].lower().startswith(("http://", "https://"))


def shown_url(text: str, limit: int = 80) -> str:
    """A URL as a message shows it: no user info, no query (``?…``) or fragment, cut at `limit`."""
    try:
        parts = urllib.parse.urlsplit(text.strip())
        netloc = parts.netloc.rpartition("@")[2]
        out = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
        if parts.query:
            out += "?…"
    except ValueError:
        out = text.strip()
    return out if len(out) <= limit else out[:limit - 1] + "…"


async def resolve_host(host: str, port: int) -> list[str]:
    """The system resolver (getaddrinfo, in the loop's thread pool: it never blocks the loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def new_http_client() -> httpx.AsyncClient:
    """The client a composition root injects: no proxies from the environment (a tunnel would
    check a certificate against the pinned IP), no redirects of its own, a cookie jar that keeps
    nothing (one client serves every session of every bot)."""
    jar = CookieJar(DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(trust_env=False, follow_redirects=False, cookies=jar)


@dataclass(frozen=True)
class HttpPolicy:
    """What one bot's dialogs may do over HTTP (from its config.csv)."""

    timeout: float = 10.0
    max_bytes: int = 1_048_576
    max_requests: int = 20
    allow: tuple[str, ...] = ()

    @classmethod
    def of(cls, s: BotSettings) -> HttpPolicy:
        return cls(s.http_timeout_seconds, s.http_max_bytes, s.http_max_requests, s.http_allow)

    def admits(self, host: str) -> bool:
        """Whether the bot may call `host` at all (any host when ``http-allow`` is empty)."""
        return not self.allow or any(_matches(p, host) for p in self.allow)

    def names(self, host: str) -> bool:
        """Whether an entry other than ``*`` names `host`: then it may be a non-public address."""
        return any(p != "*" and _matches(p, host) for p in self.allow)


def _matches(pattern: str, host: str) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


class _Refused(Exception):
    """Why a request cannot be made or did not succeed (the caller adds the method and URL)."""


@dataclass
class _Hop:
    """One request on the way (the first, or a redirect's)."""

    method: str
    url: httpx.URL
    body: bytes | None
    headers: dict[str, str]


class HttpAccess:
    """The dialogs' door to the web: the checks, the pinned connection, the body's cap.

    Args:
        client: the injected client (see :func:`new_http_client`; tests may pass one on a
            ``MockTransport``). Its cookies, auth and default headers are not used.
        resolve: host name -> addresses (the system resolver; tests pass their own to make
            ``api.test`` resolve to 127.0.0.1).
    """

    def __init__(self, client: httpx.AsyncClient, resolve: Resolver = resolve_host) -> None:
        self.client = client
        self.resolve = resolve

    async def request(self, method: str, url: str, data: Any, headers: Mapping[str, str], policy: HttpPolicy) -> Any:
        """Run one HTTP keyword: the response's value in its stored form (what a request answers).

        Args:
            method: GET, POST, PUT, PATCH or DELETE.
            url: the URL as the dialog wrote it.
            data: the body (a decoded value; None: none).
            headers: the dialog's headers (SET HEADER).
            policy: the bot's limits.

        Raises:
            BasicRuntimeError: refused (scheme, host, address, too many redirects), failed (DNS,
                connection, timeout, too large, not valid JSON) or answered with a non-2xx
                status, naming `method`, the URL and the reason.
        """
        started = time.monotonic()
        try:
            async with asyncio.timeout(policy.timeout):
                status, value, size = await self._exchange(method, url, data, headers, policy)
        except _Refused as exc:
            log.info("%s %s: %s", method, shown_url(url), exc)
            raise BasicRuntimeError(f"{method} {shown_url(url)}: {exc}") from None
        except TimeoutError:
            log.info("%s %s: timed out after %g s", method, shown_url(url), policy.timeout)
            raise BasicRuntimeError(f"{method} {shown_url(url)}: no complete answer within {policy.timeout:g} "
                                    "seconds (http-timeout in config.csv)") from None
        log.info("%s %s: %d, %d bytes, %.0f ms", method, shown_url(url), status, size,
                 (time.monotonic() - started) * 1000)
        return value

    async def _exchange(self, method: str, url: str, data: Any, headers: Mapping[str, str],
                        policy: HttpPolicy) -> tuple[int, Any, int]:
        """Send, following redirects: (status, value, body size)."""
        first = _target(url)
        body, body_headers = _body(data, headers)
        hop = _Hop(method, first, body, _merged(_base_headers(first), headers, body_headers))
        for n in range(MAX_REDIRECTS + 1):
            response = await self._send(hop, policy, redirected=n > 0)
            try:
                location = response.headers.get("location")
                if response.status_code in _REDIRECTS and location:
                    if n == MAX_REDIRECTS:
                        raise _Refused(f"more than {MAX_REDIRECTS} redirects")
                    hop = _redirected(hop, response.status_code, location)
                    continue
                return await _answer(response, policy)
            finally:
                await response.aclose()
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _send(self, hop: _Hop, policy: HttpPolicy, *, redirected: bool) -> httpx.Response:
        """One hop, to a checked address of its host (the next address when one does not connect)."""
        where = f"redirected to {shown_url(str(hop.url))}: " if redirected else ""
        try:
            addresses = await self._addresses(hop.url, policy)
        except _Refused as exc:
            raise _Refused(where + str(exc)) from None
        problem = "no address"
        for ip in addresses:
            try:
                return await self.client.send(_pinned(hop, ip), stream=True, auth=None, follow_redirects=False)
            except httpx.ConnectError as exc:
                problem = _connect_problem(exc)
            except httpx.TimeoutException:
                raise TimeoutError from None
            except httpx.HTTPError as exc:
                raise _Refused(f"{where}{type(exc).__name__}: {exc}") from None
        raise _Refused(f"{where}cannot connect to {hop.url.host} ({problem})")

    async def _addresses(self, url: httpx.URL, policy: HttpPolicy) -> list[str]:
        """The addresses of the URL's host, each checked (all refused when one is)."""
        host = _host(url)
        if not policy.admits(host):
            raise _Refused(f"the host {host} is not in the bot's http-allow (config.csv)")
        literal = _ip(host)
        if literal is not None:
            found = [host]
        else:
            try:
                found = await self.resolve(host, url.port or (443 if url.scheme == "https" else 80))
            except (OSError, UnicodeError) as exc:  # UnicodeError: a label of more than 63 characters
                raise _Refused(f"the host {host} is not found ({getattr(exc, 'strerror', None) or exc})") from None
        if not found:
            raise _Refused(f"the host {host} has no address")
        if not policy.names(host):
            for address in found:
                kind = non_public(address)
                if kind is None:
                    continue
                what = f"{kind} address refused" if literal is not None else \
                    f"{host} is a {kind} address ({address}), refused"
                raise _Refused(f"{what} (add the host to http-allow in config.csv)")
        return found


def non_public(address: str) -> str | None:
    """What kind of address the server must not reach for a dialog ("loopback", "private",
    "link-local", "multicast", "unspecified", "reserved", "non-public"), or None when it is public."""
    ip = ipaddress.ip_address(address.partition("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in _NAT64:  # a NAT64 gateway reaches the IPv4 address in its last 32 bits
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    for test, kind in (("is_unspecified", "unspecified"), ("is_loopback", "loopback"),
                       ("is_link_local", "link-local"), ("is_multicast", "multicast"),
                       ("is_private", "private"), ("is_reserved", "reserved")):
        if getattr(ip, test):
            return kind
    return None if ip.is_global else "non-public"


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _host(url: httpx.URL) -> str:
    """The URL's host as http-allow entries are written (IDNA, lower case, no trailing dot, IPv6 short)."""
    host = url.raw_host.decode("ascii").lower().rstrip(".")
    literal = _ip(host)
    return str(literal) if literal is not None else host


def _target(text: str) -> httpx.URL:
    """The URL a dialog wrote, checked: http or https, with a host."""
    try:
        url = httpx.URL(text.strip())
    except (httpx.InvalidURL, TypeError) as exc:
        raise _Refused(f"not a valid URL ({exc})") from None
    if url.scheme not in ("http", "https"):
        raise _Refused("only http:// and https:// URLs can be requested")
    if not url.raw_host:
        raise _Refused("the URL has no host")
    return url


def _base_headers(url: httpx.URL) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
    if url.username:  # https://user:password@host/: basic auth, as a browser does
        pair = f"{url.username}:{url.password}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    return headers


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


def _merged(*layers: Mapping[str, str]) -> dict[str, str]:
    """Headers of several layers, a later one replacing an earlier one's header of the same
    name in any case (one ``Accept``, never ``Accept`` and ``accept``)."""
    out: dict[str, tuple[str, str]] = {}
    for layer in layers:
        for name, value in layer.items():
            out[name.lower()] = (name, value)
    return dict(out.values())


def _body(data: Any, headers: Mapping[str, str]) -> tuple[bytes | None, dict[str, str]]:
    """The bytes of `data` and the Content-Type they need (unless the dialog set one that fits)."""
    if data is None:
        return None, {}
    kind = (_header(headers, "content-type") or "").lower()
    if isinstance(data, (dict, list)):
        if isinstance(data, dict) and "x-www-form-urlencoded" in kind:
            return urllib.parse.urlencode({k: values.to_str(v) for k, v in data.items()}).encode(), {}
        body = values.to_json(data).encode()
        return body, ({} if "json" in kind else {"Content-Type": "application/json"})
    body = values.to_str(data).encode("utf-8", "surrogatepass")
    return body, ({} if kind else {"Content-Type": "text/plain; charset=utf-8"})


def _pinned(hop: _Hop, ip: str) -> httpx.Request:
    """The hop's request, addressed to `ip` but naming its host (Host header, TLS server name)."""
    url = hop.url
    target = httpx.URL(scheme=url.scheme, host=ip, port=url.port, raw_path=url.raw_path)
    headers = [(k.encode("ascii"), v.encode("utf-8")) for k, v in hop.headers.items()
               if k.lower() not in ("host", "connection")]  # names are tokens (SET HEADER checks them)
    headers += [(b"Host", url.netloc), (b"Connection", b"close")]
    # no timeouts of httpx's own: request() bounds the whole keyword, DNS to last byte, with one deadline
    extensions: dict[str, Any] = {"timeout": {"connect": None, "read": None, "write": None, "pool": None}}
    if url.scheme == "https" and _ip(url.host) is None:
        extensions["sni_hostname"] = url.raw_host.decode("ascii")
    return httpx.Request(hop.method, target, headers=headers, content=hop.body, extensions=extensions)


def _redirected(hop: _Hop, status: int, location: str) -> _Hop:
    """The next hop of a redirect: 303 (and 301/302 of a POST) become a GET without a body;
    credentials stay behind when the origin changes."""
    try:
        url = hop.url.join(location)
    except httpx.InvalidURL as exc:
        raise _Refused(f"redirected to an invalid URL ({exc})") from None
    if url.scheme not in ("http", "https") or not url.raw_host:
        raise _Refused(f"redirected to {shown_url(str(url))}: only http:// and https:// URLs can be requested")
    method, body, headers = hop.method, hop.body, dict(hop.headers)
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method, body = "GET", None
        headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
    if (url.scheme, url.raw_host, url.port) != (hop.url.scheme, hop.url.raw_host, hop.url.port):
        headers = {k: v for k, v in headers.items() if k.lower() not in _GONE_ON_REDIRECT}
    return _Hop(method, url, body, headers)


def _connect_problem(exc: httpx.ConnectError) -> str:
    text = str(exc) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
        return "TLS certificate refused: " + text.rpartition("] ")[2].strip("()")
    return text


async def _answer(response: httpx.Response, policy: HttpPolicy) -> tuple[int, Any, int]:
    """(status, value, size) of a final response; a non-2xx status is an error naming it."""
    status = response.status_code
    if not 200 <= status < 300:
        raise _Refused(f"{status} {response.reason_phrase or 'error'}" + await _excerpt(response))
    body = await _read(response, policy.max_bytes)
    return status, _value(body, response), len(body)


async def _excerpt(response: httpx.Response) -> str:
    """`` (the start of the body)`` of an error answer, on one line; nothing for an HTML page
    (its markup says nothing) or an empty body."""
    if "html" in response.headers.get("content-type", "").lower():
        return ""
    try:
        text = (await _read(response, ERROR_EXCERPT * 4, truncate=True)).decode("utf-8", "replace")
    except _Refused:
        return ""
    text = " ".join(text.split())[:ERROR_EXCERPT]
    return f" ({text})" if text else ""


def _value(body: bytes, response: httpx.Response) -> Any:
    """A response body as a dialog value, in its stored form."""
    if not body.strip():
        return None
    media = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    declared = media.endswith("/json") or media.endswith("+json")
    if declared or body.lstrip()[:1] in (b"{", b"["):
        try:
            parsed = json.loads(body, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            if declared:
                raise _Refused(f"the answer is not valid JSON ({_json_problem(exc)})") from None
        else:
            return _stored(parsed)
    return _stored(body.decode(response.charset_encoding or "utf-8", "replace"))


def _stored(value: Any) -> Any:
    """A value in the form a request answers with (its caps are the dialog's: a plain error here,
    not the runaway-message one a LimitExceeded would be)."""
    try:
        return values.encode(value)
    except BasicError as exc:
        raise _Refused(f"the answer does not fit in a dialog value ({exc.message})") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_problem(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)


def _too_large(cap: int) -> _Refused:
    return _Refused(f"the answer is larger than {cap:,} bytes (http-max-bytes in config.csv)")


async def _read(response: httpx.Response, cap: int, *, truncate: bool = False) -> bytes:
    """The body, decompressed, at most `cap` bytes: reading stops there (an error, or the first
    `cap` bytes when `truncate`)."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    length = response.headers.get("content-length", "")
    if encoding == "identity" and length.isdigit() and int(length) > cap and not truncate:
        raise _too_large(cap)
    inflate = _Inflater(encoding)
    out = bytearray()
    try:
        async for chunk in response.aiter_raw():
            out += inflate(chunk, cap + 1 - len(out))
            if len(out) > cap:
                if truncate:
                    return bytes(out[:cap])
                raise _too_large(cap)
    except httpx.TimeoutException:
        raise TimeoutError from None
    except httpx.HTTPError as exc:
        raise _Refused(f"the answer was cut off ({type(exc).__name__}: {exc})") from None
    return bytes(out)


class _Inflater:
    """Bounded decompression of a Content-Encoding (identity, gzip, deflate): a chunk never
    yields more than it is asked for, so a small compressed body cannot fill the memory."""

    def __init__(self, encoding: str) -> None:
        if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
            raise _Refused(f"the answer's Content-Encoding {encoding!r} is not supported")
        self.encoding = encoding
        wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
        self.z = zlib.decompressobj(wbits) if encoding not in ("identity", "") else None
        self.first = True

    def __call__(self, chunk: bytes, room: int) -> bytes:
        if self.z is None:
            return chunk[:room]
        try:
            data = self.z.decompress(chunk, room)
        except zlib.error:
            if not (self.first and self.encoding == "deflate"):
                raise _Refused(f"the answer's {self.encoding} body is corrupt") from None
            self.z = zlib.decompressobj(-zlib.MAX_WBITS)  # a raw deflate stream, as some servers send
            data = self.z.decompress(chunk, room)
        self.first = False
        return data
