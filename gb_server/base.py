"""The handlers' base: JSON errors ``{"error": {"code", "message"}}``, CORS, bearer tokens, limits."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import tornado.web

from gb_basic import BasicError
from gb_runtime import UnknownBot
from gb_sessions import SessionError

from .app import Context

__all__ = ["BaseHandler", "ApiError", "NotFound", "allowed_origin"]

log = logging.getLogger("gb.access")
T = TypeVar("T")


class ApiError(Exception):
    """A request the API refuses: status, code, message (and Retry-After seconds)."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


def allowed_origin(origin: str, host: str, allowed: tuple[str, ...]) -> bool:
    """Same host, or an origin configured in GB_CORS_ORIGINS."""
    bare = origin.rstrip("/")
    return bare.split("://", 1)[-1] == host or bare in allowed or "*" in allowed


class NotFound(tornado.web.RequestHandler):
    """Anything no route matches: a JSON 404."""

    def prepare(self) -> None:
        self.set_status(404)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"error": {"code": "not_found", "message": f"nothing at {self.request.path}"}}))


class BaseHandler(tornado.web.RequestHandler):
    """Wires the context in; turns every error into the API's JSON error."""

    def initialize(self, ctx: Context) -> None:
        self.ctx = ctx

    def cors(self) -> None:
        """CORS headers for an allowed cross-origin caller (GB_CORS_ORIGINS)."""
        origin = self.request.headers.get("Origin")
        if origin and self.ctx.settings.cors_origins and allowed_origin(
                origin, self.request.host, self.ctx.settings.cors_origins):
            self.set_header("Access-Control-Allow-Origin", origin)
            self.set_header("Vary", "Origin")
            self.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type")
            self.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")

    def options(self, *args: Any, **kwargs: Any) -> None:
        self.set_status(204)

    def prepare(self) -> None:
        self.cors()
        length = self.request.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > self.ctx.settings.max_body_bytes:
            self.fail(413, "body_too_large",
                      f"the request body is larger than {self.ctx.settings.max_body_bytes // 1024} KB")

    # --- inputs -------------------------------------------------------------------------------------
    def bot_name(self, bot: str | None) -> str:
        name = bot or "default"
        try:
            return self.ctx.runtime.bots.get(name).name
        except UnknownBot as exc:
            raise ApiError(404, "unknown_bot", str(exc)) from None

    def bearer(self) -> str:
        auth = self.request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "missing_token", "an Authorization: Bearer <token> header is required")
        return token.strip()

    def json_body(self) -> dict[str, Any]:
        raw = self.request.body
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
            raise ApiError(400, "bad_json", f"the body is not valid JSON{where}") from None
        if not isinstance(body, dict):
            raise ApiError(400, "bad_json", "the body must be a JSON object")
        return body

    # --- outputs ------------------------------------------------------------------------------------
    def send_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(data, ensure_ascii=False, default=str))

    async def guarded(self, work: Callable[[], Awaitable[T]]) -> T | None:
        """Run the handler's work; translate every known error into its JSON response."""
        try:
            return await work()
        except ApiError as exc:
            self.fail(exc.status, exc.code, exc.message, exc.retry_after)
        except SessionError as exc:
            self.fail(exc.status, exc.code, exc.message, exc.retry_after)
        except BasicError as exc:
            log.error("bot dialog error: %s", exc.headline)
            self.fail(500, "dialog_error", exc.headline)
        return None

    def fail(self, status: int, code: str, message: str, retry_after: float | None = None) -> None:
        self.ctx.metrics.errors.labels(code).inc()
        if retry_after is not None:
            self.set_header("Retry-After", str(max(1, int(retry_after + 0.999))))
        self.send_json({"error": {"code": code, "message": message}}, status)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ApiError):
            self.fail(exc.status, exc.code, exc.message, exc.retry_after)
            return
        reason = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(status_code, "error")
        self.fail(status_code, reason, self._reason)
