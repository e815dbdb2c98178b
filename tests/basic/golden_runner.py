"""The golden-file runner: each tests/basic/golden/**/*.bas is a dialog plus its expected transcript.

Directives are comments, in file order:

* ``' input: TEXT``: the user's next answer to a HEAR (inputs are consumed in order);
* ``' expect: TEXT``: the next line of the transcript (bot messages, ``(choices: a | b)`` for a
  menu, ``[KEYWORD args]`` for a keyword request the runtime fulfils);
* ``' expect error: [file:line:col] Error...``: the dialog fails to compile or to run with
  exactly this headline, after the expected transcript;
* ``' language: pt-BR``: the language of re-ask messages.

NOW() is 2026-11-25 14:30:00 and RND is seeded, so transcripts are exact.

The keyword host is production's: every request but HEAR (SET, GET, keywords) is answered by
``gb_runtime.keywords.Fulfiller`` over a real ``Session`` in a ``MemoryStore``, in the bot
package ``golden_bot/golden.gbai`` (its KBs, tools and template are the ones the cases name).
Turns end as in production: at each HEAR the session is saved (messages, bot memory writes)
and loaded again for the next answer. With ``restart``, EVERY suspension is a restart: the
session goes through the store, the state through JSON, into a new program and machine.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gb_basic import BasicError, Finished, Machine, Output, Program, Request, Suspended, compile_source, values
from gb_runtime import BotPackage, BotRegistry
from gb_runtime.keywords import Fulfiller
from gb_sessions import MemoryStore, Session

GOLDEN = Path(__file__).parent / "golden"
BOTS = Path(__file__).parent / "golden_bot"  # the bot package the cases run in: golden.gbai
NOW = dt.datetime(2026, 11, 25, 14, 30, 0)
SESSION_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
CHANNEL = "test"

_DIRECTIVE = re.compile(r"'\s*(expect error|expect|input|language):[ ]?(.*?)\s*$")


@dataclass
class Case:
    path: Path
    source: str
    inputs: list[str] = field(default_factory=list)
    expects: list[str] = field(default_factory=list)
    error: str | None = None
    language: str = "en"

    @property
    def name(self) -> str:
        return str(self.path.relative_to(GOLDEN))


def load(path: Path) -> Case:
    source = path.read_text(encoding="utf-8")
    case = Case(path, source)
    for line in source.splitlines():
        m = _DIRECTIVE.search(line)
        if not m:
            continue
        kind, text = m.groups()
        if kind == "expect":
            case.expects.append(text)
        elif kind == "input":
            case.inputs.append(text)
        elif kind == "expect error":
            case.error = text
        else:
            case.language = text
    return case


def cases() -> list[Path]:
    return sorted(GOLDEN.rglob("*.bas"))


def machine_for(case: Case) -> Callable[[Program], Machine]:
    def make(program: Program) -> Machine:
        return Machine(program, language=case.language, clock=lambda: NOW, rng=random.Random(7),
                       max_steps=200_000)
    return make


class Transcript(list[str]):
    """Lines of a conversation, as the golden files write them."""

    def add_output(self, out: Output) -> None:
        """A bot message (``(to X) text`` for TALK TO), one line per line of text."""
        prefix = f"(to {out.to}) " if out.to else ""
        self.extend((prefix + out.text).split("\n"))

    def add_request(self, req: Request) -> None:
        """``(choices: a | b)`` for a menu, ``[KEYWORD args]`` for a keyword request."""
        if req.kind == "hear" and req.data.get("choices"):
            self.append("(choices: " + " | ".join(req.data["choices"]) + ")")
        elif req.kind == "keyword":
            args = ", ".join(json.dumps(values.decode(a), ensure_ascii=False, default=values.to_str)
                             for a in req.data.get("args") or [])
            self.append(f"[{req.data['keyword']}{' ' + args if args else ''}]")


@dataclass
class Outcome:
    transcript: list[str]
    error: str | None
    suspensions: int
    waiting: str | None


def run(case: Case, *, restart: bool) -> Outcome:
    """Run a case; with `restart`, every suspension goes through JSON into a new program and machine."""
    transcript = Transcript()
    try:
        program = compile_source(case.source, case.path.name)
    except BasicError as exc:
        return Outcome(list(transcript), exc.headline, 0, None)
    with tempfile.TemporaryDirectory() as data_dir:  # SAVE writes under <data_dir>/bots/golden/files
        host = Host(BotRegistry(BOTS, Path(data_dir)).get("golden"), case.path.name)
        dialog = Dialog(case, host, transcript, restart=restart)
        try:
            result = asyncio.run(dialog.converse(program))
        except BasicError as exc:
            return Outcome(list(transcript), exc.headline, dialog.restarts, None)
    waiting = result.request.describe() if isinstance(result, Suspended) else None
    return Outcome(list(transcript), None, dialog.restarts, waiting)


class Host:
    """Production's keyword host: a session in a MemoryStore, the real Fulfiller, one bot package."""

    def __init__(self, bot: BotPackage, dialog: str) -> None:
        self.bot = bot
        self.dialog = dialog
        self.store = MemoryStore()
        self.session = Session(id=SESSION_ID, bot_id=bot.name, channel=CHANNEL, token_hash="",
                               created_at=NOW, last_activity=NOW)
        self.fulfiller = Fulfiller(self.session, bot, self.store, dialog=dialog)

    async def open(self) -> None:
        """Create the session in the store (as ``DialogRuntime.start`` does)."""
        await self.store.create(self.session)

    async def reload(self) -> None:
        """End the turn: save the session (messages, bot memory writes), load it as a new turn does."""
        await self.store.save(self.session)
        loaded = await self.store.load(SESSION_ID, with_history=False, fresh=True)
        assert loaded is not None
        self.session = loaded
        self.fulfiller = Fulfiller(loaded, self.bot, self.store, dialog=self.dialog)

    def say(self, out: Output) -> None:
        """Record a bot message in the session, as the runtime does."""
        self.session.add("assistant" if out.to is None else "system",
                         out.text if out.to is None else f"TALK TO {out.to}: {out.text}")

    def hear(self, text: str) -> None:
        """Record the user's answer in the session, as the runtime does."""
        self.session.add("user", text, channel=CHANNEL)

    async def answer(self, request: Request) -> tuple[Any, list[str]]:
        """The Fulfiller's answer to a request that is not a HEAR, and the extra replies it made."""
        value = await self.fulfiller.answer(request)
        extra, self.fulfiller.extra_replies = self.fulfiller.extra_replies, []
        return value, extra


class Dialog:
    """One run of a case: the machine, answered by `host` and by the case's inputs."""

    def __init__(self, case: Case, host: Host, transcript: Transcript, *, restart: bool) -> None:
        self.case = case
        self.host = host
        self.transcript = transcript
        self.restart = restart
        self.restarts = 0
        self.inputs: Iterator[str] = iter(case.inputs)
        self.make = machine_for(case)

    async def converse(self, program: Program) -> Suspended | Finished:
        """Run the dialog until it ends or waits at a HEAR with no input left."""
        await self.host.open()
        machine = self.make(program)
        try:
            result = machine.run()
            while True:
                self._said(result.outputs)
                if isinstance(result, Finished):
                    return result
                machine, state = await self._suspended(machine, result)
                answer = await self._answer(result.request)
                if answer is _NO_INPUT:
                    return result
                result = machine.run(state, answer)
        except BasicError as exc:
            self._said(exc.outputs)
            raise

    async def _suspended(self, machine: Machine, result: Suspended) -> tuple[Machine, dict[str, Any]]:
        """At a HEAR the turn ends; with `restart` every suspension is a new process."""
        if not self.restart:
            if result.request.kind == "hear":
                await self.host.reload()
            return machine, result.state
        self.restarts += 1
        await self.host.reload()
        program = compile_source(self.case.source, self.case.path.name)
        return self.make(program), json.loads(json.dumps(result.state))

    async def _answer(self, req: Request) -> Any:
        if req.kind != "hear":
            self.transcript.add_request(req)  # recorded before it is fulfilled: a failing keyword shows
            value, extra = await self.host.answer(req)
            self._said([Output(text, req.line) for text in extra])
            return value
        if not req.data.get("tries"):
            self.transcript.add_request(req)
        text = next(self.inputs, None)
        if text is None:
            return _NO_INPUT
        self.host.hear(text)
        return text

    def _said(self, outputs: list[Output]) -> None:
        for out in outputs:
            self.transcript.add_output(out)
            self.host.say(out)


_NO_INPUT = object()  # the case has no more inputs: the dialog stays suspended at its HEAR
