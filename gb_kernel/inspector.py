"""The session inspector's API: a Jupyter server extension that serves the bots' sessions to
JupyterLab (the labextension's side panel), from the same storage as the kernel and ``gb serve``.

Routes, under the Jupyter server's base URL, authenticated as every Jupyter API is (its token or
cookie, and its XSRF check for writes)::

    GET    gb/api/sessions[?bot=NAME&limit=50]     the most recent sessions, newest first
    GET    gb/api/sessions/ID[?limit=50]           one session: its summary, variables, history
    POST   gb/api/sessions/ID/messages  {"text"}   a message to the session (as its user), the replies
    DELETE gb/api/sessions/ID                      end the session

A listed session has its bot, channel, address, user, status, last activity, message count and
what its dialog waits for (the HEAR's variable and type, or a WAIT). The panel polls: a turn
committed anywhere (a cell, the web chat, a channel) shows in the next answer.

The runtime is opened on the first request (``open_services``: the storage of GB_DATABASE_URL /
GB_DATA_DIR and the bots of GB_BOTS_DIR, found as the kernel finds them) without timers or
schedules: the kernels and ``gb serve`` run those. ``gb kernel install`` enables the extension
(a ``jupyter_server_config.d`` file beside the kernelspec).
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from gb_runtime import DialogRuntime, Inbound, SessionNotFound, StoreSettings
from gb_runtime.setup import Services, open_services

from .notebook import find_project

__all__ = ["CONFIG_NAME", "enable", "disable"]

CONFIG_NAME = "gb_kernel.json"  # in jupyter_server_config.d
LIMIT = 200  # the most sessions or messages one answer lists
ORIGIN = "inspector"  # the session events of its messages carry this origin


class _Inspector:
    """The runtime the handlers share, opened on first use."""

    def __init__(self) -> None:
        self.services: Services | None = None
        self._opening = asyncio.Lock()

    async def runtime(self) -> DialogRuntime:
        async with self._opening:
            if self.services is None:
                bots, data = find_project()
                self.services = await open_services(StoreSettings.from_env(data_dir=data), bots,
                                                    apologize=False, run_schedules=False, run_timers=False)
        return self.services.runtime


def _limit(handler: APIHandler, default: int = 50) -> int:
    raw = handler.get_query_argument("limit", str(default))
    try:
        value = int(raw)
    except ValueError:
        raise tornado.web.HTTPError(400, f"limit must be a whole number, got {raw!r}") from None
    if not 1 <= value <= LIMIT:
        raise tornado.web.HTTPError(400, f"limit must be between 1 and {LIMIT}, got {value}")
    return value


def _session_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise tornado.web.HTTPError(404, f"no session {raw!r}") from None


def _json(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, default=str)


class _Handler(APIHandler):
    def initialize(self, inspector: _Inspector) -> None:
        self.inspector = inspector

    async def runtime(self) -> DialogRuntime:
        return await self.inspector.runtime()

    async def listed(self, runtime: DialogRuntime, sid: uuid.UUID) -> dict[str, Any]:
        summary = await runtime.summary(sid)
        row = summary.to_dict()
        row.update(address=summary.address, user_id=str(summary.user_id) if summary.user_id else None)
        return row


class SessionsHandler(_Handler):
    @tornado.web.authenticated
    async def get(self) -> None:
        runtime = await self.runtime()
        bot = self.get_query_argument("bot", None) or None
        if bot is not None and bot not in runtime.bots.names():
            raise tornado.web.HTTPError(404, f"no bot {bot!r} (bots: {', '.join(runtime.bots.names())})")
        rows = []
        for record in await runtime.recent(bot, _limit(self)):
            try:
                rows.append(await self.listed(runtime, record.id))
            except SessionNotFound:  # deleted between the listing and its read
                continue
        self.finish(_json({"bots": runtime.bots.names(), "sessions": rows}))


class SessionHandler(_Handler):
    @tornado.web.authenticated
    async def get(self, raw: str) -> None:
        runtime = await self.runtime()
        sid = _session_id(raw)
        try:
            row = await self.listed(runtime, sid)
        except SessionNotFound:
            raise tornado.web.HTTPError(404, f"no session {sid}") from None
        row["variables"] = await runtime.variables(sid)
        row["history"] = [m.to_dict() for m in await runtime.history(sid, limit=_limit(self))]
        self.finish(_json(row))

    @tornado.web.authenticated
    async def delete(self, raw: str) -> None:
        runtime = await self.runtime()
        sid = _session_id(raw)
        try:
            await runtime.end(sid)
        except SessionNotFound:
            raise tornado.web.HTTPError(404, f"no session {sid}") from None
        self.set_status(204)
        self.finish()


class MessagesHandler(_Handler):
    @tornado.web.authenticated
    async def post(self, raw: str) -> None:
        runtime = await self.runtime()
        sid = _session_id(raw)
        try:
            body = json.loads(self.request.body or b"null")
        except ValueError:
            raise tornado.web.HTTPError(400, "the body is not JSON: expected {\"text\": \"...\"}") from None
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise tornado.web.HTTPError(400, 'expected {"text": "..."} with some text')
        try:
            summary = await runtime.summary(sid)
        except SessionNotFound:
            raise tornado.web.HTTPError(404, f"no session {sid}") from None
        if summary.status != "active":
            raise tornado.web.HTTPError(409, f"session {sid} has ended")
        result = await runtime.handle(Inbound(summary.bot, text.strip(), channel="notebook", session_id=sid,
                                              origin=ORIGIN))
        self.finish(_json(result.to_dict()))


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "gb_kernel.inspector"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    web_app = serverapp.web_app
    base = url_path_join(web_app.settings["base_url"], "gb", "api", "sessions")
    args = {"inspector": _Inspector()}
    web_app.add_handlers(".*$", [
        (base, SessionsHandler, args),
        (url_path_join(base, r"([^/]+)"), SessionHandler, args),
        (url_path_join(base, r"([^/]+)", "messages"), MessagesHandler, args),
    ])


def _config_file(prefix: str | None) -> Path:
    from jupyter_core.paths import jupyter_config_dir

    root = Path(prefix) / "etc" / "jupyter" if prefix else Path(jupyter_config_dir())
    return root / "jupyter_server_config.d" / CONFIG_NAME


def enable(*, user: bool = False, prefix: str | None = None) -> Path:
    """Enable the extension for the Jupyter servers of `prefix` (default: ``sys.prefix``) or of
    the user; the config file written."""
    path = _config_file(None if user else (prefix or sys.prefix))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"ServerApp": {"jpserver_extensions": {"gb_kernel.inspector": True}}}, indent=2)
                    + "\n", encoding="utf-8")
    return path


def disable(*, prefix: str | None = None) -> None:
    """Remove the config file that enables the extension (in `prefix`, default ``sys.prefix``)."""
    _config_file(prefix or sys.prefix).unlink(missing_ok=True)
