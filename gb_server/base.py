"""The handlers' base: JSON errors ``{"error": {"code", "message"}}`` in one place, CORS, bearer
tokens, and the body cap.

A handler raises; :meth:`BaseHandler.write_error` turns what it raised into the JSON error
with its status (and Retry-After): an :class:`ApiError`, a refusal of the runtime or the
store (a ``gb_runtime.Refusal``: each carries status and code), a dialog that does not compile,
and anything else as a 500 whose body says nothing of the server's insides.

Bodies are streamed (``stream_request_body``): a body over the cap is never held in memory.
JSON (request bodies and the WebSocket's frames alike) is read by :func:`parse_json`: what is not
JSON, not UTF-8, nested deeper than MAX_JSON_DEPTH or holds a number Python cannot hold is a 400
``bad_json`` saying so, never a RecursionError's 500. Replies are written by :func:`to_json`.
One declared larger than DISCARD_BYTES is refused as soon as its headers arrive (and the
connection closed); a smaller one, or a chunked one, is read and dropped, then refused, so the
client, still sending, sees the JSON 413 rather than a reset.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
from types import TracebackType
from typing import Any

import tornado.web

from gb_basic import BasicError, jsontext
from gb_runtime import Refusal, UnknownBot

from .app import Context
from .settings import Network

__all__ = ["BaseHandler", "ApiError", "NotFound", "allowed_origin", "error_of", "parse_json", "to_json",
           "MAX_JSON_DEPTH", "client_key"]

log = logging.getLogger("gb.access")
DISCARD_BYTES = 64 * 1024 * 1024  # a body up to this size over the cap is read (and dropped) before the 413
MAX_JSON_DEPTH = 64  # levels of arrays and objects in a request body or a frame (Python's parser dies near 1000)
MAX_INT_DIGITS = 100  # digits of a JSON integer (no field of the API is near; Python's own limit is 4300)


class ApiError(Exception):
    """A request the API refuses: status, code, message (and Retry-After seconds)."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


def error_of(exc: BaseException | None, status: int = 500, reason: str = "error") -> ApiError:
    """The API error an exception means (for HTTP responses and socket frames alike)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, Refusal):
        if exc.status == 500:  # a bot package the server cannot load: its details are for the log
            return ApiError(500, exc.code, "this bot cannot run now (its package has an error; the server log says "
                                           "where)")
        return ApiError(exc.status, exc.code, exc.message, exc.retry_after)
    if isinstance(exc, BasicError):
        return ApiError(500, "dialog_error", exc.headline)
    if isinstance(exc, tornado.web.HTTPError):
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
        return ApiError(exc.status_code, code.get(exc.status_code, "error"), exc.log_message or reason)
    if status >= 500:
        return ApiError(500, "internal_error", "the server failed to handle this request; it is logged")
    return ApiError(status, {404: "not_found", 405: "method_not_allowed"}.get(status, "error"), reason)


def parse_json(raw: bytes | str, what: str = "the body") -> Any:
    """The JSON value of a request body or a frame (UTF-8, a BOM allowed).

    Args:
        raw: the bytes (or text) received.
        what: how the messages name it (``the body``, ``a message``).

    Raises:
        ApiError: 400 bad_json: not JSON (with the line and column), not UTF-8 (with the byte's
            offset), nested deeper than MAX_JSON_DEPTH, NaN or Infinity (not JSON), a number
            out of range (``1e999``) or an integer of more than MAX_INT_DIGITS digits.
    """
    try:
        value = json.loads(raw, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except _NotANumber as exc:
        raise ApiError(400, "bad_json", f"{what} is not valid JSON: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ApiError(400, "bad_json", f"{what} is not valid JSON at line {exc.lineno} column {exc.colno}") \
            from None
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start]
        raise ApiError(400, "bad_json", f"{what} is not valid JSON: it is not UTF-8 (byte 0x{byte:02x} at offset "
                                        f"{exc.start})") from None
    except RecursionError:  # deeper than the parser's own stack allows (about 1000 levels)
        raise _too_deep(what) from None
    if _deeper_than(value, MAX_JSON_DEPTH, raw):
        raise _too_deep(what)
    return value


class _NotANumber(ValueError):
    """A number the API does not take (raised from the parser's hooks)."""


def _constant(name: str) -> Any:
    raise _NotANumber(f"{name} is not a JSON number")


def _float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _NotANumber(f"the number {text[:20]}{'...' if len(text) > 20 else ''} is out of range")
    return number


def _int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _NotANumber(f"an integer of {digits:,} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _too_deep(what: str) -> ApiError:
    return ApiError(400, "bad_json", f"{what} is nested too deep: more than {MAX_JSON_DEPTH} levels of arrays "
                                     "and objects")


def _deeper_than(value: Any, limit: int, raw: bytes | str) -> bool:
    """Whether `value` nests arrays and objects more than `limit` levels deep (`raw` is its text:
    with at most `limit` brackets it cannot be, and nothing is walked)."""
    opening = (raw.count(b"[") + raw.count(b"{")) if isinstance(raw, bytes) else (raw.count("[") + raw.count("{"))
    if opening <= limit or not isinstance(value, (dict, list)):
        return False
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def to_json(data: Any) -> bytes:
    """`data` as UTF-8 JSON; a lone surrogate (a client's text, echoed) goes out as its ``\\u``
    escape, since UTF-8 cannot carry it."""
    return jsontext.dumps_bytes(data, default=str)


def allowed_origin(origin: str, host: str, allowed: tuple[str, ...]) -> bool:
    """Same host, or an origin configured in GB_CORS_ORIGINS."""
    bare = origin.rstrip("/")
    return bare.split("://", 1)[-1] == host or bare in allowed or "*" in allowed


def client_key(peer: str, forwarded: str | None, trusted: tuple[Network, ...]) -> str:
    """Who a request comes from, for per-client limits: the connection's peer address; when the
    peer is a trusted proxy (GB_TRUSTED_PROXIES), the right-most X-Forwarded-For address that is
    not one (what a client writes further left is not believed). An IPv6 client is its /64
    network: one host holds all of its addresses."""
    def parsed(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        try:
            return ipaddress.ip_address(text.strip())
        except ValueError:
            return None

    def is_trusted(text: str) -> bool:
        ip = parsed(text)
        return ip is not None and any(ip in net for net in trusted)

    client = peer
    if forwarded and is_trusted(peer):
        for hop in reversed(forwarded.split(",")):
            client = hop.strip()[:100]
            if not is_trusted(client):
                break
    ip = parsed(client)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip) if ip is not None else client


@tornado.web.stream_request_body
class JsonHandler(tornado.web.RequestHandler):
    """JSON errors and the streamed, capped body; no runtime needed (see BaseHandler)."""

    max_body_bytes = 64 * 1024
    _chunks: list[bytes] | None = None
    _received = 0
    _unread_body = False

    def prepare(self) -> None:
        """Refuse at once a body declared larger than DISCARD_BYTES (and close the connection);
        a smaller one over the cap is read and dropped, then refused (a client still sending
        its body would not see a response sent before it is done)."""
        length = self.request.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > DISCARD_BYTES:
            self._unread_body = True
            raise self.too_large()

    def data_received(self, chunk: bytes) -> None:
        """A chunk of the body: kept up to the cap; past it, dropped, and reading the body
        raises the 413."""
        self._received += len(chunk)
        if self._received > self.max_body_bytes:
            self._chunks = None
            return
        if self._chunks is None:
            self._chunks = []
        self._chunks.append(chunk)

    def too_large(self) -> ApiError:
        return ApiError(413, "body_too_large", f"the request body is larger than {self.max_body_bytes // 1024} KB")

    @property
    def body(self) -> bytes:
        """The request body (raises the 413 when it was over the cap)."""
        if self._received > self.max_body_bytes:
            raise self.too_large()
        return b"".join(self._chunks or [])

    def send_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(to_json(data))

    def count_error(self, code: str) -> None:
        """Hook: count a refused request (BaseHandler counts in the metrics)."""

    def error_body(self, error: ApiError) -> dict[str, Any]:
        """Hook: the JSON body of an error; a channel may use its platform's codes."""
        return {"error": {"code": error.code, "message": error.message}}

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Every error response: the JSON body of what was raised, with its status."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        error = self.map_error(error_of(exc, status_code, self._reason))
        self.count_error(error.code)
        self.set_status(error.status)
        self.clear_header("Content-Encoding")
        if self._unread_body:
            self.set_header("Connection", "close")  # the body was not read: the connection cannot go on
        if error.retry_after is not None:
            self.set_header("Retry-After", str(max(1, int(error.retry_after + 0.999))))
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(to_json(self.error_body(error)))

    def map_error(self, error: ApiError) -> ApiError:
        """Hook: change an error's status or code (Direct Line's conventions)."""
        return error

    def log_exception(self, typ: type[BaseException] | None, value: BaseException | None,
                      tb: TracebackType | None) -> None:
        """Refusals are answers, not failures: only unexpected errors are logged with a traceback
        (and a bot package's error with its message, which the client does not get)."""
        if isinstance(value, Refusal) and value.status == 500:
            log.error("%s: %s", type(value).__name__, value.message)
            return
        if isinstance(value, (ApiError, tornado.web.HTTPError, Refusal)):
            return
        if isinstance(value, BasicError):
            log.error("bot dialog error: %s", value.headline)
            return
        super().log_exception(typ, value, tb)


class NotFound(JsonHandler):
    """Anything no route matches: a JSON 404."""

    def prepare(self) -> None:
        raise ApiError(404, "not_found", f"nothing at {self.request.path}")


class BaseHandler(JsonHandler):
    """Wires the context in (``initialize``), CORS, the bearer token, the JSON body."""

    def initialize(self, ctx: Context) -> None:
        self.ctx = ctx
        self.max_body_bytes = ctx.settings.max_body_bytes

    def cors(self) -> None:
        """CORS headers for an allowed cross-origin caller (GB_CORS_ORIGINS)."""
        origin = self.request.headers.get("Origin")
        if origin and self.ctx.settings.cors_origins and allowed_origin(
                origin, self.request.host, self.ctx.settings.cors_origins):
            self.set_header("Access-Control-Allow-Origin", origin)
            self.set_header("Vary", "Origin")
            self.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, X-GB-Origin")
            self.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")

    def options(self, *args: Any, **kwargs: Any) -> None:
        self.set_status(204)

    def prepare(self) -> None:
        self.cors()
        super().prepare()

    def count_error(self, code: str) -> None:
        self.ctx.metrics.errors.labels(code).inc()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.cors()  # send_error cleared the headers: a cross-origin caller must see the error too
        super().write_error(status_code, **kwargs)

    # --- inputs -------------------------------------------------------------------------------------
    def bot_name(self, bot: str | None) -> str:
        """The bot a URL names (``/<bot>/...``), else ``default``."""
        name = bot or "default"
        try:
            return self.ctx.runtime.bots.get(name).name
        except UnknownBot as exc:
            raise ApiError(404, "unknown_bot", str(exc)) from None

    def url_bot(self, bot: str | None) -> str | None:
        """The bot of a ``/<bot>/...`` URL, or None for an unprefixed one (the token's bot)."""
        return self.bot_name(bot) if bot else None

    def client(self) -> str:
        """The client's key for per-client limits (see `client_key`): never a header a client
        can choose, unless it comes through a trusted proxy."""
        address = getattr(self.request.connection.context, "address", None)  # type: ignore[union-attr]
        peer = str(address[0]) if isinstance(address, tuple) and address else "local"  # a Unix socket
        return client_key(peer, self.request.headers.get("X-Forwarded-For"), self.ctx.settings.trusted_proxies)

    def bearer(self) -> str:
        auth = self.request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "missing_token", "an Authorization: Bearer <token> header is required")
        return token.strip()

    def json_body(self) -> dict[str, Any]:
        """The body's JSON object (``{}`` for an empty body).

        Raises:
            ApiError: 413 body_too_large, 400 bad_json (see :func:`parse_json`; not an object).
        """
        raw = self.body
        if not raw.strip():
            return {}
        body = parse_json(raw)
        if not isinstance(body, dict):
            raise ApiError(400, "bad_json", "the body must be a JSON object")
        return body


@tornado.web.stream_request_body
class StaticFiles(tornado.web.StaticFileHandler):
    """The page's scripts and styles; a request with a body is refused without reading it."""

    def prepare(self) -> None:
        if self.request.headers.get("Content-Length", "0") not in ("", "0") \
                or self.request.headers.get("Transfer-Encoding"):
            self.set_status(413)
            self.set_header("Content-Type", "application/json; charset=utf-8")
            self.finish(json.dumps({"error": {"code": "body_too_large", "message": "static files take no body"}}))

    def data_received(self, chunk: bytes) -> None:
        """Bodies are not read."""
