"""The machine: runs a compiled :class:`~gb_basic.compiler.Program` until it suspends or ends.

``Machine(program).run(state, input)`` returns :class:`Suspended` (the dialog waits for the
answer to a :class:`Request`) or :class:`Finished`. The machine does no I/O: TALK becomes an
:class:`Output`, and HEAR, session variables and every keyword that needs the outside world
become requests that the caller fulfils and answers with the next ``run``.

The state is plain JSON data::

    {"program": "welcome.bas", "version": "…", "frames": [{"unit": "main", "hash": "…",
     "pc": 3, "vars": {...}}], "waiting": {"kind": "hear", "var": "name", "line": 4, ...}}

A state resumes in any machine of a program whose units on the stack compiled to the same
code; otherwise :class:`~gb_basic.errors.DialogChanged` says so. A state that is not one the
machine saves (corrupt, another format, variables that do not decode) raises
:class:`~gb_basic.errors.StateUnreadable`, which is not an error of the dialog.

One message (a run from one HEAR to the next) has a step budget, a wall-clock deadline and size
caps (see :mod:`gb_basic.limits`); past them it fails with
:class:`~gb_basic.errors.BudgetExceeded` or :class:`~gb_basic.errors.LimitExceeded` at its line,
and the state the caller passed in is left as it was.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from . import values
from .compiler import MAIN, Program
from .errors import BasicError, BasicRuntimeError, DialogChanged, LimitExceeded, StateUnreadable
from .lexer import name_key
from .limits import Limits, Meter, Slice, metering
from .ops import Stop
from .validators import giveup_message, retry_message, validate

__all__ = ["Machine", "Suspended", "Finished", "Request", "Output", "STATE_FORMAT", "check_state", "state_variables"]

STATE_FORMAT = 1
MAX_FRAMES = 200
_NO_CHOICES: list[str] = []


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
    if state is None:
        return {}
    try:
        check_state(state)
        frames = state["frames"]
        variables = values.decode(frames[0].get("vars") or {}, -1) if frames and type(frames[0]) is dict else {}
    except (StateUnreadable, LimitExceeded):  # it does not load: the next message starts over
        return {}
    return {k: v for k, v in variables.items() if not k.startswith("$")} if type(variables) is dict else {}


def check_state(state: Any) -> None:
    """Refuse, before anything reads it, a state that is not of the shape :meth:`Machine.run` saves
    (its frames, one by one, are checked as they are restored).

    Raises:
        StateUnreadable: it is not an object of format :data:`STATE_FORMAT` whose ``frames``,
            ``waiting`` and ``budget`` are what the machine writes there.
    """
    if type(state) is not dict:
        raise StateUnreadable(f"the saved state is {values.describe(state)}, not a dialog's state")
    form = state.get("format")
    if form != STATE_FORMAT:
        shown = str(form) if type(form) is int else values.describe(form)
        raise StateUnreadable(f"the saved state is of format {shown}; this version of gb reads format {STATE_FORMAT}")
    if type(state.get("frames")) is not list:  # each frame is checked as it is restored
        raise StateUnreadable("the saved state's frames are not valid")
    waiting = state.get("waiting")
    if waiting is not None and (
            type(waiting) is not dict or type(waiting.get("kind")) is not str
            or type(waiting.get("line", 0)) is not int or type(waiting.get("column", 0)) is not int
            or type(waiting.get("tries", 0)) is not int or type(waiting.get("type") or "") is not str
            or type(waiting.get("choices") or _NO_CHOICES) is not list):
        raise StateUnreadable("what the saved state waits for is not valid")
    budget = state.get("budget")
    if budget is not None and (type(budget) is not dict or type(budget.get("steps", 0)) is not int
                               or type(budget.get("seconds", 0)) not in (int, float)):
        raise StateUnreadable("the saved state's budget is not valid")


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


class _Context(Meter):
    """What compiled code sees as ``M``: the message's meter (steps, deadline, caps), its outputs,
    the clock and the random generator."""

    __slots__ = ("outputs", "now", "random")

    def __init__(self, machine: Machine, budget: dict[str, Any] | None = None, within: Slice | None = None) -> None:
        super().__init__(machine.limits, max_steps=machine.max_steps, max_seconds=machine.max_seconds, used=budget,
                         within=within)
        self.outputs: list[Output] = []
        self.now = machine.clock
        self.random = machine.rng

    def talk(self, text: str, pos: tuple[int, int], choices: list[str] | None = None,
             to: str | None = None) -> None:
        """A TALK: refused past ``max_output_chars`` for the message (addresses count too)."""
        self.said += len(text) + (len(to) if to else 0)
        if self.said > self.limits.max_output_chars:
            raise LimitExceeded(f"too much output: the dialog said more than {self.limits.max_output_chars:,} "
                                "characters for one message")
        self.outputs.append(Output(text, pos[0], to, choices))


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
        max_text_chars: characters one text may have.
        max_list_items: items one list (or keys one object) may have.
        max_depth: levels of lists and objects inside each other (at most 500).
        max_number_digits: decimal digits one integer may have.
        max_output_chars: characters one message may TALK in all.
        max_state_chars: characters (about, as JSON) of the variables saved when the dialog waits.
        max_memory_mb: megabytes the process may grow by while one message runs.

    The caps are explained in :mod:`gb_basic.limits`; a value over one raises
    :class:`~gb_basic.errors.LimitExceeded` before it is built.

    Raises:
        ValueError: a cap below its floor (see :class:`~gb_basic.limits.Limits`).
    """

    def __init__(self, program: Program, *, max_steps: int = 1_000_000, max_seconds: float = 10.0,
                 hear_tries: int = 3, language: str = "en",
                 clock: Callable[[], _dt.datetime] | None = None, rng: random.Random | None = None,
                 max_text_chars: int = 1_000_000, max_list_items: int = 100_000, max_depth: int = 200,
                 max_number_digits: int = 4_300, max_output_chars: int = 1_000_000,
                 max_state_chars: int = 10_000_000, max_memory_mb: int = 256) -> None:
        self.program = program
        self.max_steps = max_steps
        self.max_seconds = max_seconds
        self.limits = Limits(max_text_chars, max_list_items, max_depth, max_number_digits, max_output_chars,
                             max_state_chars, max_memory_mb)
        self.hear_tries = hear_tries
        self.language = language
        self.clock = clock or _dt.datetime.now
        self.rng = rng or random.Random()

    # --- public ----------------------------------------------------------------------------------
    def options(self) -> dict[str, Any]:
        """The keyword arguments that make an equal machine of the same program (all but the
        clock and the random generator): another process rebuilds it from them."""
        return {"max_steps": self.max_steps, "max_seconds": self.max_seconds, "hear_tries": self.hear_tries,
                "language": self.language, **dataclasses.asdict(self.limits)}

    def start(self, entry: str = MAIN, args: list[Any] | None = None,
              variables: dict[str, Any] | None = None, *, within: Slice | None = None) -> Suspended | Finished:
        """Run a unit from its start: the dialog (``main``), ``on login``, or a FUNCTION/SUB.

        Args:
            entry: the unit to run.
            args: the arguments of a FUNCTION/SUB.
            variables: initial dialog variables (names lower case), e.g. a notebook's.
            within: run at most this much, else raise :class:`~gb_basic.errors.Offload` (see
                :mod:`gb_basic.limits`). The dialog may change lists and objects of `variables`
                in place: pass fresh ones to run it again.
        """
        unit = self.program.units.get(entry)
        if unit is None:
            raise BasicRuntimeError(f"{self.program.name} has no {entry}", file=self.program.name)
        frame_vars = {name_key(k): v for k, v in (variables or {}).items() if v is not None}
        frame_vars.update((k, v) for k, v in zip(unit.params, args or []) if v is not None)
        frames = [{"unit": entry, "hash": unit.hash, "pc": 0, "vars": frame_vars}]
        ctx = _Context(self, within=within)
        with metering(ctx):
            return self._loop(ctx, frames, None)

    def run(self, state: dict[str, Any] | None = None, input: Any = None, *,
            within: Slice | None = None) -> Suspended | Finished:
        """Start a dialog (no state) or resume one with the answer to its request.

        `within` bounds the run as in :meth:`start`; an answer that is a list or an object may
        be changed in place by the dialog, so pass a fresh one to run it again.

        Raises:
            BasicError: the dialog failed (its ``outputs`` are what it said first). `state` is
                never changed by a run, so after an error the caller may keep it: the dialog
                still waits where it waited (at its HEAR), as if the message had not come.
            DialogChanged: (a BasicError) the code the state waits in changed.
            StateUnreadable: `state` is not one a machine saves, or its variables do not decode
                here (nested deeper than this machine's ``max_depth``): nothing ran.
        """
        if state is None:
            return self.start(within=within)
        check_state(state)
        waiting = state.get("waiting") or {}
        # A message's budget spans the requests it makes (SET, GET, keywords): only an
        # answer to HEAR starts a new message.
        ctx = _Context(self, state.get("budget") if waiting.get("kind") != "hear" else None, within)
        with metering(ctx):
            try:
                frames = self._restore(state)
                input = self._answer(ctx, state, waiting, input)
            except StateUnreadable:
                raise
            except Exception as exc:  # as in _loop: every error leaves as a BasicError, here at the request
                err = exc if isinstance(exc, BasicError) else BasicRuntimeError(f"{type(exc).__name__}: {exc}")
                raise err.locate(file=self.program.name, line=waiting.get("line", 0), column=waiting.get("column", 0),
                                 source=self.program.source) from (None if err is exc else exc)
            if isinstance(input, Suspended):
                return input
            return self._loop(ctx, frames, input)

    def _answer(self, ctx: _Context, state: dict[str, Any], waiting: dict[str, Any], input: Any) -> Any:
        """The value the dialog resumes with, or a :class:`Suspended` that asks the same HEAR again."""
        if waiting.get("kind") != "hear":
            ctx.tick(1)
            return values.decode(input)
        ok, value = self._check_answer(ctx, waiting, input)
        if not ok:
            retry = dict(state, waiting=dict(waiting, tries=waiting.get("tries", 0) + 1))
            return Suspended(retry, ctx.outputs, Request.from_dict(retry["waiting"]))
        return value

    # --- resuming -----------------------------------------------------------------------------------
    def _restore(self, state: dict[str, Any]) -> list[dict[str, Any]]:
        """The frames of a checked state (see :func:`check_state`), their variables decoded.

        Raises:
            DialogChanged: a unit on the stack compiled to other code.
            StateUnreadable: a unit on the stack is unknown to this very version of the program, or
                the variables do not decode.
        """
        frames = state["frames"]
        if not frames:
            raise BasicRuntimeError("this dialog has already ended", file=self.program.name)
        same = state.get("version") == self.program.version
        out = []
        for f in frames:
            if type(f) is not dict or type(f.get("unit")) is not str or type(f.get("pc")) is not int:
                raise StateUnreadable("the saved state's frames are not valid")
            unit = self.program.units.get(f["unit"])
            if not same and (unit is None or unit.hash != f.get("hash")):
                where = f" (it waits at line {state.get('waiting', {}).get('line')})" if state.get("waiting") else ""
                what = "its code" if f["unit"] == MAIN else f"FUNCTION/SUB {f['unit']}"
                raise DialogChanged(f"dialog changed since it was suspended{where}: {what} is different now; "
                                    "start the dialog again", file=self.program.name)
            if unit is None:
                raise StateUnreadable(f"the saved state waits in {values.describe(f['unit'])}, which "
                                      f"{self.program.name} does not have")
            try:
                variables = values.decode(f.get("vars") or {}, -1)
            except LimitExceeded as exc:  # saved by a machine with a higher max_depth
                raise StateUnreadable(f"its saved variables do not load: {exc.message}") from exc
            if type(variables) is not dict:
                raise StateUnreadable("the saved state's variables are not an object")
            out.append({"unit": f["unit"], "hash": unit.hash, "pc": f["pc"], "vars": variables})
        return out

    def _check_answer(self, ctx: _Context, waiting: dict[str, Any], answer: Any) -> tuple[bool, Any]:
        """Validate the answer to a typed HEAR or a menu; say why and ask again if it is wrong."""
        typ, choices = waiting.get("type"), waiting.get("choices")
        if type(answer) is str:
            ctx.check_text(len(answer), "the answer")
            ctx.scan(len(answer))  # validating reads it
        elif answer is not None:
            values.measure(answer, "the answer")
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
            except Stop as stop:  # END (no value), or RETURN x in the dialog's own code
                return Finished(self._state([], None), ctx.outputs, stop.args[0] if stop.args else None, bottom)
            except Exception as exc:  # every error leaves as a BasicError at its BASIC position
                err = self._locate(exc, unit.name)
                err.outputs = ctx.outputs  # what the dialog said before it failed
                raise err from (None if isinstance(exc, BasicError) else exc)
            code = sig[0]
            if code == 0:
                frame["pc"] = sig[1]
                return self._suspend(ctx, frames, unit.name, sig)
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
            else:  # END (no value), or RETURN x in the dialog's own code
                return Finished(self._state([], None), ctx.outputs, sig[1], bottom)

    def _suspend(self, ctx: _Context, frames: list[dict[str, Any]], unit: str, sig: tuple[Any, ...]) -> Suspended:
        """The dialog waits for a request: its state (refused over the caps, at the request's line)."""
        line, col = self.program.position(unit, sig[2])
        try:
            payload = values.encode(sig[4], max_chars=self.limits.max_state_chars, level=-1)
            request = Request(sig[3], line, col, payload)
            state = self._state(frames, request.to_dict())
        except BasicError as exc:
            exc.locate(file=self.program.name, line=line, column=col, source=self.program.source)
            exc.outputs = ctx.outputs
            raise
        if request.kind != "hear":
            state["budget"] = {"steps": ctx.steps, "seconds": round(time.monotonic() - ctx.start, 6)}
        return Suspended(state, ctx.outputs, request)

    def _state(self, frames: list[dict[str, Any]], waiting: dict[str, Any] | None) -> dict[str, Any]:
        """The JSON state; the variables of all frames together are capped by ``max_state_chars``."""
        # one walk for all frames (one size cap); each frame's variables count their levels from 0
        saved = values.encode([f["vars"] for f in frames], max_chars=self.limits.max_state_chars, level=-2)
        return {
            "format": STATE_FORMAT,
            "program": self.program.name,
            "version": self.program.version,
            "frames": [{"unit": f["unit"], "hash": f["hash"], "pc": f["pc"], "vars": v}
                       for f, v in zip(frames, saved)],
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
