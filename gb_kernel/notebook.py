"""The notebook's session: the same DialogRuntime and store as the server, channel ``notebook``.

A notebook keeps its session across kernel restarts: the session id per notebook (and bot) is
recorded in ``<data dir>/notebooks.json``. By default the kernel finds the project's ``bots/``
folder upward from its working directory and uses the ``data/`` folder beside it, so the
notebook and the bot server share one embedded SQLite file (``make run``).
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from gb_basic.values import decode
from gb_runtime import (
    BotRegistry,
    DialogRuntime,
    Inbound,
    Message,
    Result,
    SessionNotFound,
    SessionRecord,
    StoreSettings,
)
from gb_runtime.setup import Services, open_services

__all__ = ["NotebookSession", "find_project"]

CHANNEL = "notebook"


def find_project(start: Path | None = None) -> tuple[Path, Path]:
    """(bots folder, data folder): GB_BOTS_DIR / GB_DATA_DIR, else a ``bots/`` folder found
    upward from `start` and the ``data/`` beside it."""
    env_bots, env_data = os.environ.get("GB_BOTS_DIR"), os.environ.get("GB_DATA_DIR")
    here = (start or Path.cwd()).resolve()
    root = next((p for p in (here, *here.parents) if any((p / "bots").glob("*.gbai"))), here)
    bots = Path(env_bots) if env_bots else root / "bots"
    data = Path(env_data) if env_data else root / "data"
    return bots.resolve(), data.resolve()


class NotebookSession:
    """The bot and session a notebook talks to, and the runtime that runs its cells."""

    def __init__(self, *, bots_dir: Path | None = None, data_dir: Path | None = None,
                 notebook: str | None = None) -> None:
        found_bots, found_data = find_project()
        self.bots_dir = bots_dir or found_bots
        self.data_dir = data_dir or found_data
        self.notebook = notebook or os.environ.get("JPY_SESSION_NAME") or "default"
        self.services: Services | None = None
        self.runtime: DialogRuntime | None = None
        self.bots: BotRegistry | None = None
        self.bot = ""
        self._session_id: uuid.UUID | None = None
        self.variables: dict[str, Any] = {}  # the last known, for completion
        self.listeners: list[Callable[[dict[str, Any]], None]] = []

    # --- live turns -----------------------------------------------------------------------------------
    @property
    def session_id(self) -> uuid.UUID | None:
        """The session the notebook talks to; its committed turns, from any process (a web chat
        attached to it, this kernel), reach `listeners`."""
        return self._session_id

    @session_id.setter
    def session_id(self, sid: uuid.UUID | None) -> None:
        if sid == self._session_id:
            return
        if self.runtime is not None and self._session_id is not None:
            self.runtime.unsubscribe(self._session_id, self._turn)
        self._session_id = sid
        if self.runtime is not None and sid is not None:
            self.runtime.subscribe(sid, self._turn)

    def on_turn(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Call `listener` with each committed turn of the notebook's session (the runtime's event)."""
        self.listeners.append(listener)

    def _turn(self, event: dict[str, Any]) -> None:
        if self.services is not None and self._session_id is not None \
                and event.get("runtime") != self.services.runtime.instance:
            self.services.changed_elsewhere(self._session_id)  # a turn of another process: reload
        for listener in list(self.listeners):
            listener(event)

    # --- opening ----------------------------------------------------------------------------------
    async def open(self) -> None:
        if self.runtime is not None:
            return
        self.services = await open_services(StoreSettings.from_env(data_dir=self.data_dir), self.bots_dir,
                                            write_behind=True, apologize=False, run_schedules=False)
        self.runtime = self.services.runtime
        self.bots = self.runtime.bots
        saved = self._mapping().get(self.notebook, {})
        self.bot = saved.get("bot") or ("default" if "default" in self.bots.names() else (self.bots.names() or [""])[0])

    async def close(self) -> None:
        """Flush the background saves, then close the database."""
        if self.services is not None:
            self.session_id = None  # unsubscribed while the runtime is still there
            await self.services.close()
        self.services = self.runtime = None

    def _mapping_path(self) -> Path:
        return self.data_dir / "notebooks.json"

    def _mapping(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self._mapping_path().read_text())
            return data
        except (OSError, ValueError):
            return {}

    def _remember(self) -> None:
        mapping = self._mapping()
        entry = mapping.setdefault(self.notebook, {})
        entry["bot"] = self.bot
        entry.setdefault("sessions", {})[self.bot] = str(self.session_id)
        path = self._mapping_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(mapping, indent=1))
        tmp.replace(path)

    # --- the session ---------------------------------------------------------------------------------
    def _rt(self) -> DialogRuntime:
        assert self.runtime is not None, "open() first"
        return self.runtime

    async def ensure(self) -> uuid.UUID:
        """The notebook's session: the one it had (even before a kernel restart), else a new one."""
        await self.open()
        if self.session_id is not None:
            return self.session_id
        saved = self._mapping().get(self.notebook, {}).get("sessions", {}).get(self.bot)
        if saved:
            try:
                summary = await self._rt().summary(uuid.UUID(saved))
            except SessionNotFound:
                summary = None
            if summary is not None and summary.status == "active" and summary.bot == self.bot:
                self.session_id = summary.id
                self.variables = await self._rt().variables(summary.id)
                return summary.id
        return await self.new()

    async def new(self, bot: str | None = None, *, remember: bool = True) -> uuid.UUID:
        """A fresh session (start.bas does not run: `%run start` runs it); `remember`: the
        notebook continues it after a kernel restart (a %%transcript's session is not)."""
        await self.open()
        if bot is not None:
            assert self.bots is not None
            self.bot = self.bots.get(bot).name
        started = await self._rt().start(self.bot, channel=CHANNEL, run_start=False)
        self.session_id = started.session_id
        self.variables = {}
        if remember:
            self._remember()
        return started.session_id

    async def attach(self, session_id: uuid.UUID) -> uuid.UUID:
        """Talk to an existing session (a web chat's, an earlier notebook's)."""
        await self.open()
        summary = await self._rt().summary(session_id)
        self.bot, self.session_id = summary.bot, summary.id
        self.variables = await self._rt().variables(summary.id)
        self._remember()
        return summary.id

    async def end(self) -> None:
        if self.session_id is not None:
            await self._rt().end(self.session_id)
        self.session_id = None

    # --- running --------------------------------------------------------------------------------------
    async def run_cell(self, source: str, name: str, *, result_var: str | None = None) -> Result:
        sid = await self.ensure()
        result = await self._rt().run_source(sid, source, name, result_var=result_var)
        self.variables = decode(result.variables or {}, -1)
        return result

    async def send(self, text: str, *, on_delta: Callable[[str], Awaitable[None]] | None = None,
                   stop: asyncio.Event | None = None) -> Result:
        """A user message (the answer to a HEAR, or a message to the bot); `on_delta` gets an
        LLM's answer piece by piece as it is generated, and `stop` set stops it (nothing kept)."""
        sid = await self.ensure()
        assert self.bot
        return await self._rt().handle(Inbound(self.bot, text, channel=CHANNEL, session_id=sid, on_delta=on_delta,
                                               stop=stop))

    async def run_dialog(self, name: str) -> Result:
        sid = await self.ensure()
        return await self._rt().start_dialog(sid, name)

    # --- looking -----------------------------------------------------------------------------------------
    async def state(self) -> dict[str, Any]:
        """id, bot, status, channel, what the dialog waits for (described, and the HEAR's type), the
        variables (the session's, with those of a cell waiting at HEAR on top) and the suggestions
        the bot offers now."""
        sid = await self.ensure()
        summary = await self._rt().summary(sid)
        self.variables = await self._rt().variables(sid)
        waiting = summary.waiting.describe() if summary.waiting else None
        return {"id": str(summary.id), "bot": summary.bot, "status": summary.status, "channel": summary.channel,
                "waiting": waiting, "hear_type": summary.waiting.type if summary.waiting else None,
                "variables": self.variables, "message_count": summary.message_count,
                "suggestions": [s.to_dict() for s in summary.suggestions]}

    async def menu(self) -> list[str]:
        """The choices of the menu the session's dialog waits at (none when it waits for text)."""
        if self.session_id is None:
            return []
        waiting = (await self._rt().summary(self.session_id)).waiting
        return list(waiting.choices or []) if waiting else []

    async def history(self, limit: int | None = None) -> list[Message]:
        """The session's messages (the last `limit`), system notes included."""
        sid = await self.ensure()
        return await self._rt().history(sid, limit=limit, roles=("user", "assistant", "system"))

    async def sessions(self) -> list[SessionRecord]:
        await self.open()
        return await self._rt().recent(self.bot)

    def take_warnings(self) -> list[str]:
        """Messages about cells whose changes could not be saved (shown once)."""
        return self.services.take_warnings() if self.services is not None else []

    def dialog_names(self) -> list[str]:
        return self.bots.get(self.bot).dialog_names() if self.bots is not None and self.bot else []

