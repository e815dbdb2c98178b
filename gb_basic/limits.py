"""Budgets and size caps: what one message may cost, whatever the dialog or the user sends.

Every message runs under a :class:`Meter` (the machine's ``M``): a step budget, a wall-clock
deadline and the size caps of :class:`Limits`. Statements count steps in the compiled code;
the operators and built-ins whose work grows with the size of their inputs charge the meter
for that work, and refuse, before computing it, a result that would pass a cap. So a single
operation can neither hold the interpreter for long nor build a value that exhausts memory.

How work becomes steps (one step is about one statement):

* :data:`CHARS_PER_STEP` characters built, copied or scanned (``&``, REPLACE, JOIN, INSTR...);
* :data:`ITEMS_PER_STEP` list items built or copied by C code (RANGE, SPLIT, list ``+``), and
  SORT's comparisons;
* one step per item that Python code visits: a comparison, a key or a test per item (MIN, MAX,
  SUM, UNIQUE, CONTAINS, SORT's keys, a field looked up by case), and each node of a walk over
  lists and objects (JSON, comparisons, HEAR answers, the state saved at a HEAR); PyYAML is
  charged more (see TOYAML);
* below :data:`FREE_TEXT` characters and :data:`FREE_ITEMS` items nothing is charged or
  checked: the hot paths (short texts, small lists) stay as cheap as before.

A message can thus build at most ``max_steps * CHARS_PER_STEP`` characters (64 M with the
default budget), and no single value passes the caps: results are refused before they are
built, from their size computed first. The caps:

=====================  ==========  ===========================================================
``max_text_chars``      1,000,000  characters of one text
``max_list_items``        100,000  items of one list, keys of one object
``max_depth``                 200  levels of lists and objects inside each other
``max_number_digits``       4,300  decimal digits of an integer (CPython's int/str limit)
``max_output_chars``    1,000,000  characters one message may TALK in all
``max_state_chars``    10,000,000  characters of the variables a suspended dialog saves (about
                                   their JSON size)
``max_memory_mb``             256  megabytes the process may grow by while one message runs
=====================  ==========  ===========================================================

The memory ceiling is measured, not estimated: every :data:`PROBE_EVERY` steps the meter reads
the process's resident size (``/proc/self/statm``; no ceiling where that file does not exist)
and compares it with the size at its first probe. Messages that never run that many steps are
never probed, and the first probe's baseline leaves out what the message allocated before it
(at most a few megabytes: the caps bound each step's allocation). Messages running at the same
time in one process share its growth, so the ceiling is per message only approximately.

A caller that runs messages on an event loop may give one a :class:`Slice`: the steps and
seconds it may run there. Past them the message raises :class:`~gb_basic.errors.Offload`
(never caught by ON ERROR) and, since a run never changes the state it resumes, the caller
runs it again from the same state on a worker thread with its whole budget.

They are keyword arguments of :class:`~gb_basic.machine.Machine`. Outside a machine (unit
tests, the kernel's variable view) the default caps apply with no step budget and no deadline.
Floats never become infinite or NaN: an operation that overflows is an error (neither is JSON).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import sys
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, NamedTuple

from .errors import BudgetExceeded, LimitExceeded, Offload

__all__ = ["Limits", "Meter", "Slice", "meter", "metering", "resident_bytes", "CHARS_PER_STEP", "ITEMS_PER_STEP",
           "FREE_TEXT", "FREE_ITEMS", "SMALL_INT", "MAX_DEPTH_CEILING", "DEFAULT_LIMITS", "PROBE_EVERY"]

CHARS_PER_STEP = 64  # characters built, copied or scanned per step
ITEMS_PER_STEP = 8  # list items built or copied by C code per step
FREE_TEXT = 4_096  # characters: shorter texts are neither charged nor checked
FREE_ITEMS = 1_024  # items: smaller lists and objects are neither charged nor checked
SMALL_INT = 2**63  # integers below this (in size) skip the digit cap check
# Values are walked (JSON, comparisons, YAML) by recursive code: one Python frame per level.
MAX_DEPTH_CEILING = 500
PROBE_EVERY = 4_096  # steps between two reads of the process's resident size
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_NEVER = sys.maxsize


def resident_bytes() -> int | None:
    """The process's resident set size in bytes, or None where /proc/self/statm is missing."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


class Slice(NamedTuple):
    """What one message may run on the caller's thread before it is moved (see the module doc)."""

    steps: int
    seconds: float


@dataclasses.dataclass(frozen=True)
class Limits:
    """The size caps of one machine (see the module docstring for their meaning).

    Raises:
        ValueError: a cap below its floor (every dialog may build a :data:`FREE_TEXT` text and
            a :data:`FREE_ITEMS` list) or a depth above :data:`MAX_DEPTH_CEILING`.
    """

    max_text_chars: int = 1_000_000
    max_list_items: int = 100_000
    max_depth: int = 200
    max_number_digits: int = 4_300
    max_output_chars: int = 1_000_000
    max_state_chars: int = 10_000_000
    max_memory_mb: int = 256

    def __post_init__(self) -> None:
        floors = {"max_text_chars": FREE_TEXT, "max_list_items": FREE_ITEMS, "max_depth": 1,
                  "max_number_digits": 20, "max_output_chars": FREE_TEXT, "max_state_chars": FREE_TEXT,
                  "max_memory_mb": 16}
        for name, floor in floors.items():
            if getattr(self, name) < floor:
                raise ValueError(f"{name} must be at least {floor:,}, got {getattr(self, name):,}")
        if self.max_depth > MAX_DEPTH_CEILING:
            raise ValueError(f"max_depth must be at most {MAX_DEPTH_CEILING}, got {self.max_depth}")


DEFAULT_LIMITS = Limits()


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}"


class Meter:
    """The budget and caps of one message: charged by compiled code, operators and built-ins.

    Args:
        limits: the size caps.
        max_steps: steps the message may take; None for no budget.
        max_seconds: wall time the message may take; None for no deadline.
        used: ``{"steps", "seconds"}`` already used by this message (it resumes after a
            request that was not a HEAR).
    """

    __slots__ = ("steps", "max_steps", "start", "deadline", "max_seconds", "limits", "max_text", "max_items",
                 "max_depth", "max_digits", "big", "nbig", "said", "check_at", "until", "slice_at",
                 "probe_at", "baseline")

    def __init__(self, limits: Limits = DEFAULT_LIMITS, *, max_steps: int | None = None,
                 max_seconds: float | None = None, used: dict[str, Any] | None = None,
                 within: Slice | None = None) -> None:
        used = used or {}
        self.steps = int(used.get("steps", 0))
        self.max_steps = sys.maxsize if max_steps is None else max_steps
        self.max_seconds = float("inf") if max_seconds is None else max_seconds
        self.start = time.monotonic() - float(used.get("seconds", 0.0))
        self.deadline = self.start + self.max_seconds
        self.limits = limits
        self.max_text, self.max_items = limits.max_text_chars, limits.max_list_items
        self.max_depth, self.max_digits = limits.max_depth, limits.max_number_digits
        self.big = _ten_to(limits.max_number_digits)  # the first integer with too many digits
        self.nbig = -self.big
        self.said = 0  # characters TALKed by this message
        # tick() compares with two numbers only: the first step count and the first time at which
        # something must be looked at (the budget, the slice, the next memory probe)
        self.slice_at = self.steps + within.steps if within else _NEVER
        self.probe_at = self.steps + PROBE_EVERY if max_steps is not None else _NEVER
        self.baseline: int | None = None
        self.check_at = min(self.max_steps, self.slice_at, self.probe_at)
        self.until = min(self.deadline, time.monotonic() + within.seconds) if within else self.deadline

    # --- the step budget and the deadline -------------------------------------------------------
    def tick(self, n: int) -> int:
        """Count `n` steps; stop a runaway dialog. Returns 0 (the caller's new counter).

        Raises:
            BudgetExceeded: the message ran out of steps or of time.
            LimitExceeded: the process grew by more than ``max_memory_mb`` during the message.
            Offload: the message ran past its :class:`Slice`.
        """
        self.steps += n
        if self.steps > self.check_at:
            self._steps_over()
        if time.monotonic() > self.until:
            self._time_over()
        return 0

    def _steps_over(self) -> None:
        if self.steps > self.max_steps:
            raise BudgetExceeded(f"the dialog ran more than {self.max_steps:,} steps for one message "
                                 "(an endless loop?)")
        if self.steps > self.slice_at:
            raise Offload("the message outgrew its slice of the event loop")
        if self.steps > self.probe_at:
            self.probe_at = self.steps + PROBE_EVERY
            self._probe()
        self.check_at = min(self.max_steps, self.slice_at, self.probe_at)

    def _time_over(self) -> None:
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(f"the dialog ran longer than {self.max_seconds:g} s for one message "
                                 "(an endless loop?)")
        raise Offload("the message outgrew its slice of the event loop")

    def _probe(self) -> None:
        """Compare the process's resident size with the message's first probe."""
        rss = resident_bytes()
        if rss is None:
            self.probe_at = _NEVER
        elif self.baseline is None:
            self.baseline = rss
        elif rss - self.baseline > self.limits.max_memory_mb * 1024 * 1024:
            raise LimitExceeded(f"too much memory: the dialog used more than {self.limits.max_memory_mb:,} MB "
                                "for one message")

    def charge(self, steps: int) -> None:
        """Charge `steps` of work done (or about to be done) inside one operation, and check the
        deadline: long operations call this before and while they work."""
        self.tick(steps)

    def scan(self, chars: int) -> None:
        """Charge for reading `chars` characters (searching, parsing, case folding)."""
        self.tick(chars // CHARS_PER_STEP)

    # --- caps -----------------------------------------------------------------------------------
    def check_text(self, chars: int, what: str = "the text") -> None:
        """Refuse a text of `chars` characters over the cap, before it is built (no charge).

        Raises:
            LimitExceeded: `chars` is over ``max_text_chars``.
        """
        if chars > self.max_text:
            raise LimitExceeded(f"text too long: {what} would have {_count(chars, 'characters')} "
                                f"(the limit is {self.max_text:,})")

    def text(self, chars: int, what: str = "the text") -> None:
        """Check a text of `chars` characters about to be built, and charge for building it."""
        self.check_text(chars, what)
        self.tick(chars // CHARS_PER_STEP)

    def check_items(self, items: int, what: str = "the list") -> None:
        """Refuse a list (or object) of `items` items over the cap, before it is built.

        Raises:
            LimitExceeded: `items` is over ``max_list_items``.
        """
        if items > self.max_items:
            raise LimitExceeded(f"too many items: {what} would have {_count(items, 'items')} "
                                f"(the limit is {self.max_items:,})")

    def items(self, items: int, what: str = "the list") -> None:
        """Check a list of `items` items about to be built, and charge for building it."""
        self.check_items(items, what)
        self.tick(items // ITEMS_PER_STEP)

    def number(self, x: int) -> int:
        """`x`, an integer result, if it has at most ``max_number_digits`` digits.

        Raises:
            LimitExceeded: it has more.
        """
        if self.nbig < x < self.big:
            return x
        raise LimitExceeded(f"number too large: the result has more than {self.max_digits:,} digits")

    def digits(self, digits: float, what: str) -> None:
        """Refuse an integer result estimated at `digits` digits before computing it; charge for it."""
        if digits > self.max_digits:
            raise LimitExceeded(f"number too large: {what} would have about {digits:,.0f} digits "
                                f"(the limit is {self.max_digits:,})")
        self.tick(int(digits) // CHARS_PER_STEP)

    def concat(self, parts: tuple[str, ...]) -> str:
        """Join texts whose total is over :data:`FREE_TEXT` (the compiled ``&`` calls this):
        refused before they are joined."""
        self.text(sum(map(len, parts)))
        return "".join(parts)

    def joined(self, sep: str, parts: tuple[str, ...]) -> str:
        """``sep.join(parts)``, refused before it is built over the text cap (``TALK a, b``)."""
        total = sum(map(len, parts)) + len(sep) * (len(parts) - 1)
        if total > FREE_TEXT:
            self.text(total)
        return sep.join(parts)


@functools.lru_cache(maxsize=8)
def _ten_to(digits: int) -> int:
    """10 ** digits, computed once per cap (a machine is made for every message)."""
    power: int = 10**digits
    return power


_DEFAULT = Meter()  # outside a machine: the default caps, no budget, no deadline
_ACTIVE: ContextVar[Meter] = ContextVar("gb_basic_meter", default=_DEFAULT)


def meter() -> Meter:
    """The meter of the message running now (the machine's), or the default one outside a machine."""
    return _ACTIVE.get()


@contextlib.contextmanager
def metering(m: Meter) -> Iterator[Meter]:
    """Make `m` the meter that operators and built-ins charge, for the duration of a ``with``."""
    token = _ACTIVE.set(m)
    try:
        yield m
    finally:
        _ACTIVE.reset(token)
