"""The machine: runs a compiled :class:`~gb_basic.compiler.Program` until it suspends or ends.

``Machine(program).run(state, input)`` returns :class:`Suspended` (the dialog waits for the
answer to a :class:`Request`) or :class:`Finished`. The machine does no I/O: TALK becomes an
:class:`Output`, and HEAR, session variables and every keyword that needs the outside world
become requests that the caller fulfils and answers with the next ``run``.

The state is plain JSON data::

    {"program": "welcome.bas", "version": "…", "frames": [{"unit": "main", "hash": "…",
     "pc": 3, "vars": {...}}], "waiting": {"kind": "hear", "var": "name", "line": 4, ...}}

A state resumes in any machine of a program whose units on the stack compiled to the same
code; otherwise :class:`~gb_basic.errors.DialogChanged` says so.
"""

from __future__ import annotations

import datetime as _dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from . import values
from .compiler import MAIN, Program
from .errors import BasicError, BasicRuntimeError, BudgetExceeded, DialogChanged
from .ops import Stop
from .validators import giveup_message, retry_message, validate

__all__ = ["Machine", "Suspended", "Finished", "Request", "Output", "STATE_FORMAT", "state_variables"]

STATE_FORMAT = 1
MAX_FRAMES = 200


@dataclass
class Output:
    """Something the dialog says: ``TALK`` (to the user, or ``to`` another address)."""

    text: str
    line: int
    to: str | None = None
    choices: list[str] | None = None
    kind: str = "talk"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        d: dict[str, Any] = {"kind": self.kind, "text": self.text, "line": self.line}
        if self.to is not None:
            d["to"] = self.to
        if self.choices:
            d["choices"] = self.choices
        return d


@dataclass
class Request:
    """What the dialog waits for: ``hear``, ``set``, ``get`` or ``keyword`` (USE KB, ...).

    ``data`` is plain JSON: for hear ``{"var", "type", "choices"}``, for set ``{"name",
    "value"}``, for get ``{"key"}``, for keyword ``{"keyword", "args"}``.
    """

    kind: str
    line: int
    column: int
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {"kind": self.kind, "line": self.line, "column": self.column, **self.data}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Request:
        """Inverse of :meth:`to_dict` (a state's ``waiting``)."""
        data = {k: v for k, v in d.items() if k not in ("kind", "line", "column")}
        return cls(d["kind"], d.get("line", 0), d.get("column", 0), data)

    def describe(self) -> str:
        """One line for people: ``HEAR name AS EMAIL, line 3``."""
        if self.kind == "hear":
            what = f"HEAR {self.data.get('var')}"
            if self.data.get("type"):
                what += f" AS {self.data['type']}"
            elif self.data.get("choices"):
                what += " AS " + ", ".join(f'"{c}"' for c in self.data["choices"])
            return f"{what}, line {self.line}"
        if self.kind == "keyword":
            return f"{self.data.get('keyword')}, line {self.line}"
        return f"{self.kind.upper()} {self.data.get('name') or self.data.get('key')}, line {self.line}"


def state_variables(state: dict[str, Any] | None) -> dict[str, Any]:
    """The variables of a suspended state's main unit (decoded values; none of the machine's
    own ``$`` slots): what a dialog waiting at HEAR holds so far."""
    frames = (state or {}).get("frames") or []
    if not frames:
        return {}
    return {k: v for k, v in values.decode(frames[0].get("vars") or {}).items() if not k.startswith("$")}


@dataclass
class Suspended:
    """The dialog waits for the answer to `request`; `state` resumes it."""

    state: dict[str, Any]
    outputs: list[Output]
    request: Request


@dataclass
class Finished:
    """The dialog ended; `variables` are the dialog's variables at the end."""

    state: dict[str, Any]
    outputs: list[Output]
    value: Any = None
    variables: dict[str, Any] = field(default_factory=dict)


class _Context:
    """What compiled code sees as ``M``: outputs, the step budget, the clock."""

    __slots__ = ("outputs", "steps", "max_steps", "start", "deadline", "max_seconds", "now", "random")

    def __init__(self, machine: Machine, budget: dict[str, Any] | None = None) -> None:
        self.outputs: list[Output] = []
        used = budget or {}
        self.steps = int(used.get("steps", 0))
        self.max_steps = machine.max_steps
        self.max_seconds = machine.max_seconds
        self.start = time.monotonic() - float(used.get("seconds", 0.0))
        self.deadline = self.start + machine.max_seconds
        self.now = machine.clock
        self.random = machine.rng

    def talk(self, text: str, pos: tuple[int, int], choices: list[str] | None = None,
             to: str | None = None) -> None:
        self.outputs.append(Output(text, pos[0], to, choices))

    def tick(self, n: int) -> int:
        """Count `n` steps; stop a runaway dialog. Returns 0 (the caller's new counter)."""
        self.steps += n
        if self.steps > self.max_steps:
            raise BudgetExceeded(f"the dialog ran more than {self.max_steps:,} steps for one message "
                                 "(an endless loop?)")
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(f"the dialog ran longer than {self.max_seconds:g} s for one message "
                                 "(an endless loop?)")
        return 0


class Machine:
    """Runs one program's dialogs. Cheap to create; holds no dialog state itself.

    Args:
        program: the compiled .bas.
        max_steps: statements one message may run (loops count each pass).
        max_seconds: wall time one message may run.
        hear_tries: answers a typed HEAR accepts before it gives up (the variable is NULL).
        language: "en" or "pt-BR", for the re-ask messages.
        clock: returns "now" (NOW(), TODAY()); default the local time.
        rng: random numbers for RND/RANDOM.
    """

    def __init__(self, program: Program, *, max_steps: int = 1_000_000, max_seconds: float = 10.0,
                 hear_tries: int = 3, language: str = "en",
                 clock: Callable[[], _dt.datetime] | None = None, rng: random.Random | None = None) -> None:
        self.program = program
        self.max_steps = max_steps
        self.max_seconds = max_seconds
        self.hear_tries = hear_tries
        self.language = language
        self.clock = clock or _dt.datetime.now
        self.rng = rng or random.Random()

    # --- public ----------------------------------------------------------------------------------
    def start(self, entry: str = MAIN, args: list[Any] | None = None,
              variables: dict[str, Any] | None = None) -> Suspended | Finished:
        """Run a unit from its start: the dialog (``main``), ``on login``, or a FUNCTION/SUB.

        Args:
            entry: the unit to run.
            args: the arguments of a FUNCTION/SUB.
            variables: initial dialog variables (names lower case), e.g. a notebook's.
        """
        unit = self.program.units.get(entry)
        if unit is None:
            raise BasicRuntimeError(f"{self.program.name} has no {entry}", file=self.program.name)
        frame_vars = {k.lower(): v for k, v in (variables or {}).items() if v is not None}
        frame_vars.update((k, v) for k, v in zip(unit.params, args or []) if v is not None)
        frames = [{"unit": entry, "hash": unit.hash, "pc": 0, "vars": frame_vars}]
        return self._loop(_Context(self), frames, None)

    def run(self, state: dict[str, Any] | None = None, input: Any = None) -> Suspended | Finished:
        """Start a dialog (no state) or resume one with the answer to its request."""
        if state is None:
            return self.start()
        frames = self._restore(state)
        waiting = state.get("waiting") or {}
        # A message's budget spans the requests it makes (SET, GET, keywords): only an
        # answer to HEAR starts a new message.
        ctx = _Context(self, state.get("budget") if waiting.get("kind") != "hear" else None)
        if waiting.get("kind") != "hear":
            try:
                ctx.tick(1)
            except BudgetExceeded as exc:
                raise exc.locate(file=self.program.name, line=waiting.get("line", 0),
                                 column=waiting.get("column", 0), source=self.program.source) from None
        if waiting.get("kind") == "hear":
            ok, value = self._check_answer(ctx, waiting, input)
            if not ok:
                retry = dict(state, waiting=dict(waiting, tries=waiting.get("tries", 0) + 1))
                return Suspended(retry, ctx.outputs, Request.from_dict(retry["waiting"]))
            input = value
        else:
            input = values.decode(input)
        return self._loop(ctx, frames, input)

    # --- resuming -----------------------------------------------------------------------------------
    def _restore(self, state: dict[str, Any]) -> list[dict[str, Any]]:
        frames = state.get("frames") or []
        if not frames:
            raise BasicRuntimeError("this dialog has already ended", file=self.program.name)
        same = state.get("version") == self.program.version
        out = []
        for f in frames:
            unit = self.program.units.get(f["unit"])
            if not same and (unit is None or unit.hash != f.get("hash")):
                where = f" (it waits at line {state.get('waiting', {}).get('line')})" if state.get("waiting") else ""
                what = "its code" if f["unit"] == MAIN else f"FUNCTION/SUB {f['unit']}"
                raise DialogChanged(f"dialog changed since it was suspended{where}: {what} is different now; "
                                    "start the dialog again", file=self.program.name)
            out.append({"unit": f["unit"], "hash": unit.hash if unit else f.get("hash"), "pc": f["pc"],
                        "vars": values.decode(f.get("vars") or {})})
        return out

    def _check_answer(self, ctx: _Context, waiting: dict[str, Any], answer: Any) -> tuple[bool, Any]:
        """Validate the answer to a typed HEAR or a menu; say why and ask again if it is wrong."""
        typ, choices = waiting.get("type"), waiting.get("choices")
        if not typ and not choices:
            if answer is None:
                return True, ""
            return True, answer if isinstance(answer, (str, dict)) else values.to_str(answer)
        ok, value = validate(typ or "MENU", answer, choices=choices, language=self.language,
                             today=self.clock().date())
        if ok:
            return True, value
        line = waiting.get("line", 0)
        tries = waiting.get("tries", 0) + 1
        if tries >= self.hear_tries:
            ctx.outputs.append(Output(giveup_message(language=self.language), line))
            return True, None
        ctx.outputs.append(Output(retry_message(typ or "MENU", language=self.language, choices=choices),
                                  line, choices=choices))
        return False, None

    # --- the run loop ---------------------------------------------------------------------------------
    def _loop(self, ctx: _Context, frames: list[dict[str, Any]], inp: Any) -> Suspended | Finished:
        units = self.program.units
        bottom = frames[0]["vars"]
        while True:
            frame = frames[-1]
            unit = units[frame["unit"]]
            try:
                sig = unit.fn(ctx, frame["vars"], frames[0]["vars"], frame["pc"], inp)
            except Stop:
                return Finished(self._state([], None), ctx.outputs, None, bottom)
            except Exception as exc:  # every error leaves as a BasicError at its BASIC position
                err = self._locate(exc, unit.name)
                err.outputs = ctx.outputs  # what the dialog said before it failed
                raise err from (None if isinstance(exc, BasicError) else exc)
            code = sig[0]
            if code == 0:
                frame["pc"] = sig[1]
                request = self._request(unit.name, sig[2], sig[3], sig[4])
                state = self._state(frames, request.to_dict())
                if request.kind != "hear":
                    state["budget"] = {"steps": ctx.steps, "seconds": round(time.monotonic() - ctx.start, 6)}
                return Suspended(state, ctx.outputs, request)
            if code == 1:
                frames.pop()
                if not frames:
                    return Finished(self._state(frames, None), ctx.outputs, sig[1], bottom)
                inp = sig[1]
            elif code == 2:
                frame["pc"] = sig[1]
                callee = units[sig[3]]
                if len(frames) >= MAX_FRAMES:
                    line, col = self.program.position(unit.name, sig[2])
                    raise BasicRuntimeError(f"too many nested calls of {sig[3]} (more than {MAX_FRAMES})",
                                            file=self.program.name, line=line, column=col,
                                            source=self.program.source)
                frames.append({"unit": callee.name, "hash": callee.hash, "pc": 0,
                               "vars": {k: v for k, v in zip(callee.params, sig[4]) if v is not None}})
                inp = None
            else:
                return Finished(self._state([], None), ctx.outputs, None, bottom)

    def _request(self, unit: str, site: int, kind: str, payload: dict[str, Any]) -> Request:
        line, col = self.program.position(unit, site)
        return Request(kind, line, col, values.encode(payload))

    def _state(self, frames: list[dict[str, Any]], waiting: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "program": self.program.name,
            "version": self.program.version,
            "frames": [{"unit": f["unit"], "hash": f["hash"], "pc": f["pc"],
                        "vars": values.encode(f["vars"])} for f in frames],
            "waiting": waiting,
        }

    # --- errors ---------------------------------------------------------------------------------------
    def _locate(self, exc: BaseException, unit: str) -> BasicError:
        """Turn any exception from compiled code into a BasicError at its BASIC position."""
        line, col = self._position(exc.__traceback__, unit)
        prog = self.program
        if isinstance(exc, BasicError):
            return exc.locate(file=prog.name, line=line, column=col, source=prog.source)
        if isinstance(exc, RecursionError):
            msg = "too many nested calls (endless recursion?)"
        elif isinstance(exc, ZeroDivisionError):
            msg = "division by zero"
        elif isinstance(exc, (OverflowError, MemoryError)):
            msg = "number or text too large"
        else:
            msg = f"{type(exc).__name__}: {exc}"
        return BasicRuntimeError(msg, file=prog.name, line=line, column=col, source=prog.source)

    def _position(self, tb: TracebackType | None, unit: str) -> tuple[int, int]:
        best = (0, 0)
        prog = self.program
        while tb is not None:
            code = tb.tb_frame.f_code
            if code.co_filename == prog.filename:
                lineno = tb.tb_lineno
                if 0 < lineno < len(prog.py_lines):
                    u, site = prog.py_lines[lineno]
                    if site >= 0:
                        best = prog.position(u, site)
            tb = tb.tb_next
        return best
