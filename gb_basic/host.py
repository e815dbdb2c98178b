"""A host that fulfils a dialog's requests in memory: ``gb run``, golden tests, notebooks offline.

The production host is ``gb_runtime.DialogRuntime`` (sessions in SQL and Valkey); this one keeps
session variables, bot memory and the session context in dicts and does no I/O, so the
language can be run and tested alone.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from . import values
from .compiler import Program
from .errors import BasicError, BasicRuntimeError
from .machine import Finished, Machine, Output, Request, Suspended

__all__ = ["MemoryHost", "Transcript", "converse"]

# Keyword requests the memory host records in the session context.
_CONTEXT_KEYWORDS = {
    "USE KB": ("kb", "add"), "CLEAR KB": ("kb", "clear"), "USE TOOL": ("tools", "add"),
    "ADD TOOL": ("tools", "add"), "CLEAR TOOLS": ("tools", "clear"),
    "ADD SUGGESTION": ("suggestions", "add"), "CLEAR SUGGESTIONS": ("suggestions", "clear"),
}


class MemoryHost:
    """Session variables, bot memory and context in memory.

    Args:
        channel: what ``GET "session.channel"`` answers.
        user: what ``GET "session.user"`` answers.
    """

    def __init__(self, *, channel: str = "terminal", user: str | None = None) -> None:
        self.session_id = str(uuid.uuid4())
        self.channel = channel
        self.user = user
        self.variables: dict[str, Any] = {}
        self.bot_memory: dict[str, Any] = {}
        self.context: dict[str, Any] = {"kb": [], "tools": [], "suggestions": [], "system_prompt": None}
        self.history: list[dict[str, str]] = []
        self.saved: dict[str, str] = {}
        self.sent: list[dict[str, Any]] = []

    def answer(self, request: Request) -> Any:
        """The answer to a request that is not a HEAR."""
        data = request.data
        if request.kind == "set":
            self.variables[data["name"]] = data["value"]
            return None
        if request.kind == "get":
            return self.get(data["key"])
        return self.keyword(data["keyword"], data.get("args") or [])

    def get(self, key: str) -> Any:
        facts = {
            "session.id": self.session_id,
            "session.message_count": sum(1 for m in self.history if m["role"] == "user"),
            "session.history": "\n".join(f"{m['role']}: {m['content']}" for m in self.history),
            "session.channel": self.channel,
            "session.user": self.user,
        }
        if key.lower() in facts:
            return facts[key.lower()]
        return self.variables.get(key.lower())

    def keyword(self, keyword: str, args: list[Any]) -> Any:
        if keyword in _CONTEXT_KEYWORDS:
            slot, action = _CONTEXT_KEYWORDS[keyword]
            if action == "clear":
                self.context[slot] = []
            elif args:
                item = values.to_str(args[-1]) if slot == "suggestions" else values.to_str(args[0])
                if item not in self.context[slot]:
                    self.context[slot].append(item)
            return None
        if keyword == "SET BOT MEMORY":
            self._need(keyword, args, 2)
            self.bot_memory[values.to_str(args[0])] = args[1]
            return None
        if keyword == "GET BOT MEMORY":
            self._need(keyword, args, 1)
            return self.bot_memory.get(values.to_str(args[0]))
        if keyword == "SYSTEM PROMPT" or keyword == "SET CONTEXT":
            key = "system_prompt" if keyword == "SYSTEM PROMPT" else values.to_str(args[0])
            self.context[key] = values.to_str(args[-1]) if args else None
            return None
        if keyword == "SAVE":
            self._need(keyword, args, 2)
            self.saved[values.to_str(args[0])] = values.to_str(args[1])
            return None
        self.sent.append({"keyword": keyword, "args": args})
        return None

    def _need(self, keyword: str, args: list[Any], n: int) -> None:
        if len(args) < n:
            raise BasicRuntimeError(f"{keyword} expects {n} arguments, got {len(args)}")


class Transcript(list):  # type: ignore[type-arg]
    """Lines of a conversation, as the golden tests write them."""

    def add_output(self, out: Output) -> None:
        prefix = f"(to {out.to}) " if out.to else ""
        self.extend((prefix + out.text).split("\n"))

    def add_request(self, req: Request) -> None:
        if req.kind == "hear" and req.data.get("choices"):
            self.append("(choices: " + " | ".join(req.data["choices"]) + ")")
        elif req.kind == "keyword":
            args = ", ".join(json.dumps(values.decode(a), ensure_ascii=False, default=values.to_str)
                             for a in req.data.get("args") or [])
            self.append(f"[{req.data['keyword']}{' ' + args if args else ''}]")


Answers = Callable[[Request], Any]


def converse(program: Program, host: MemoryHost, answers: Answers, *,
             machine_factory: Callable[[Program], Machine] = Machine,
             restart: Callable[[dict[str, Any]], tuple[Program, dict[str, Any]]] | None = None,
             transcript: Transcript | None = None) -> tuple[Transcript, Suspended | Finished]:
    """Run a dialog to its end, answering HEARs with `answers` and the rest with `host`.

    `answers(request)` returns the user's text, or raises StopIteration when there is none:
    the dialog stays suspended. `restart(state)`, if given, is called at every suspension and
    returns the (program, state) to continue with, to test resuming after a restart.
    """
    out = transcript if transcript is not None else Transcript()
    try:
        return _converse(program, host, answers, machine_factory, restart, out)
    except BasicError as exc:
        for o in exc.outputs:
            out.add_output(o)
        raise


def _converse(program: Program, host: MemoryHost, answers: Answers,
              machine_factory: Callable[[Program], Machine],
              restart: Callable[[dict[str, Any]], tuple[Program, dict[str, Any]]] | None,
              out: Transcript) -> tuple[Transcript, Suspended | Finished]:
    machine = machine_factory(program)
    result = machine.run()
    while True:
        for o in result.outputs:
            out.add_output(o)
            host.history.append({"role": "assistant", "content": o.text})
        if isinstance(result, Finished):
            return out, result
        req = result.request
        state = result.state
        if restart is not None:
            program, state = restart(state)
            machine = machine_factory(program)
        if req.kind == "hear":
            if not req.data.get("tries"):
                out.add_request(req)
            try:
                text = answers(req)
            except StopIteration:
                return out, result
            host.history.append({"role": "user", "content": values.to_str(text)})
            result = machine.run(state, text)
        else:
            out.add_request(req)
            result = machine.run(state, host.answer(req))
