"""The built-in functions of the BASIC dialect.

``BUILTINS`` maps each upper-case name to a callable that takes positional BASIC values and
returns one. The callable checks its argument count, and every error it raises names the
function (``LEFT expects 2 arguments, got 1``, ``MID: start must be a number, got "abc"``);
the machine adds the file and line.

``NOW``, ``TODAY``, ``RND``, ``RANDOM``, ``UUID`` and ``GUID`` (the names in ``NEEDS_ENV``) read the clock or the
random generator of an :class:`Env`, passed as an extra first argument, so that the language
stays pure and tests can fix both. Every other built-in is a pure function of its arguments.

Work that grows with the size of the arguments is charged to the running message's meter, and
results over the size caps are refused (see :mod:`gb_basic.limits`). Every text or list a
built-in returns is checked and charged for its size; REPLACE, SPLIT, JOIN, RANGE and FORMAT
refuse a result over a cap from its size computed before building it; INSTR, CONTAINS, VAL,
FROMJSON and comparisons charge for the characters they read, SORT for its comparisons,
MIN/MAX/SUM/AVG/UNIQUE/CONTAINS for the items they visit, TOJSON/TOYAML/FROMJSON for the
values they walk.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import json
import math
import random as _random
import re
import uuid
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any, Protocol, TypeVar

import yaml

from . import values as V
from .errors import BasicRuntimeError, BudgetExceeded, LimitExceeded
from .limits import FREE_ITEMS, FREE_TEXT, ITEMS_PER_STEP, meter

__all__ = ["BUILTINS", "DOCS", "NEEDS_ENV", "Env"]

Value = Any
Number = int | float
F = TypeVar("F", bound=Callable[..., Value])


class Env(Protocol):
    """What the impure built-ins need: a clock and a random generator."""

    random: _random.Random

    def now(self) -> _dt.datetime:
        """The current local time."""
        ...


BUILTINS: dict[str, Callable[..., Value]] = {}
DOCS: dict[str, str] = {}
NEEDS_ENV: frozenset[str] = frozenset({"NOW", "TODAY", "RND", "RANDOM", "UUID", "GUID"})


# --- registration -----------------------------------------------------------------------


def _builtin(names: str, lo: int, hi: int | None, doc: str) -> Callable[[F], F]:
    """Register a function under each of the space-separated `names`, with `lo`..`hi` arguments.

    `doc` is the DOCS entry; ``@`` in it stands for the name, so aliases document themselves.
    """

    def register(fn: F) -> F:
        for name in names.split():
            BUILTINS[name] = _checked(name, fn, lo, hi)
            DOCS[name] = doc.replace("@", name)
        return fn

    return register


def _checked(name: str, fn: Callable[..., Value], lo: int, hi: int | None) -> Callable[..., Value]:
    """Wrap `fn` so that it checks its argument count and names itself in every error."""
    skip = 1 if name in NEEDS_ENV else 0

    def call(*args: Value) -> Value:
        count = len(args) - skip
        if count < lo or (hi is not None and count > hi):
            raise BasicRuntimeError(f"{name} {_expects(lo, hi)}, got {count}")
        try:
            return _sized(fn(*args), args)
        except BudgetExceeded as exc:  # keeps its class: ON ERROR RESUME NEXT must not resume
            exc.message = f"{name}: {exc.message}"
            exc.args = (exc.message,)
            raise
        except BasicRuntimeError as exc:
            raise BasicRuntimeError(f"{name}: {exc.message}") from None
        except (OverflowError, InvalidOperation):
            raise BasicRuntimeError(f"{name}: number too large") from None

    call.__name__ = call.__qualname__ = name
    call.__doc__ = fn.__doc__
    return call


def _sized(result: Value, args: tuple[Value, ...]) -> Value:
    """`result`, checked against the caps and charged for its size when it is a new, large text or
    list (one of the arguments handed back, as IIF does, costs nothing)."""
    t = type(result)
    if t is str and len(result) > FREE_TEXT and not any(result is a for a in args):
        meter().text(len(result), "the result")
    elif t is list and len(result) > FREE_ITEMS and not any(result is a for a in args):
        meter().items(len(result), "the result")
    return result


def _expects(lo: int, hi: int | None) -> str:
    """The 'expects ...' part of an argument-count error."""
    if hi is None:
        return f"expects at least {lo} argument{'s' if lo != 1 else ''}"
    if lo == hi:
        return f"expects {lo} argument{'s' if lo != 1 else ''}" if lo else "expects no arguments"
    if hi == lo + 1:
        return f"expects {lo} or {hi} arguments"
    return f"expects {lo} to {hi} arguments"


# --- argument coercion ------------------------------------------------------------------


def _num(x: Value, what: str) -> Number:
    """`x` as a finite number (numbers, booleans, numeric text; NULL is 0)."""
    if x is None:
        return 0
    n = V.number_or_none(x)
    if n is None:
        raise BasicRuntimeError(f"{what} must be a number, got {V.describe(x)}")
    if type(n) is float and not math.isfinite(n):
        raise BasicRuntimeError(f"{what} must be a finite number, got {V.to_str(n)}")
    return n


def _int(x: Value, what: str) -> int:
    """`x` as a whole number, truncating toward zero."""
    n = _num(x, what)
    return n if type(n) is int else int(n)


def _list(x: Value, what: str) -> list[Value]:
    """`x` as a list; NULL is the empty list."""
    if x is None:
        return []
    if type(x) is not list:
        raise BasicRuntimeError(f"{what} must be a list, got {V.describe(x)}")
    return x


def _items(args: tuple[Value, ...], steps: int = 1) -> list[Value]:
    """The items of MIN/MAX/SUM/AVG: one list argument, or the arguments themselves (charged)."""
    items = args[0] if len(args) == 1 and type(args[0]) is list else list(args)
    _visit(items, steps)
    return items


# Steps per item of a BASIC comparison (numeric texts are parsed on each side) and equality.
_ORDER_STEPS = 4
_EQUAL_STEPS = 2


def _visit(items: list[Value] | dict[str, Value], steps: int = 1) -> None:
    """Charge for a Python loop over the items of a large list or object: `steps` per item."""
    if len(items) > FREE_ITEMS:
        meter().charge(len(items) * steps)


# --- strings ----------------------------------------------------------------------------


@_builtin("LEN", 1, 1, "@(x) -> the length of a text, list or object; 0 for NULL")
def _len(x: Value) -> int:
    """Characters of a text, items of a list, keys of an object."""
    if x is None:
        return 0
    if type(x) is list or type(x) is dict:
        return len(x)
    return len(V.to_str(x))


@_builtin("LEFT", 2, 2, "@(text, n) -> the first n characters of text")
def _left(text: Value, n: Value) -> str:
    """The first n characters; a negative n gives ""."""
    return V.to_str(text)[: max(_int(n, "n"), 0)]


@_builtin("RIGHT", 2, 2, "@(text, n) -> the last n characters of text")
def _right(text: Value, n: Value) -> str:
    """The last n characters; a negative n gives ""."""
    count = _int(n, "n")
    return V.to_str(text)[-count:] if count > 0 else ""


def _start(x: Value) -> int:
    """A 1-based start position."""
    start = _int(x, "start")
    if start < 1:
        raise BasicRuntimeError(f"start must be 1 or more (positions start at 1), got {start}")
    return start


@_builtin("MID", 2, 3, "@(text, start[, length]) -> length characters of text from start (1-based)")
def _mid(text: Value, start: Value, length: Value = None) -> str:
    """VB's Mid: a 1-based slice, to the end when length is absent."""
    s, first = V.to_str(text), _start(start) - 1
    if length is None:
        return s[first:]
    return s[first : first + max(_int(length, "length"), 0)]


@_builtin("INSTR", 2, 3, "@([start, ]text, find) -> 1-based position of find in text, 0 if absent")
def _instr(*args: Value) -> int:
    """VB's InStr, case-sensitive; the optional start comes first."""
    start, text, find = (1, *args) if len(args) == 2 else args
    s = V.to_str(text)
    _scan(s)
    return s.find(V.to_str(find), _start(start) - 1) + 1 if s else 0


def _scan(s: str) -> None:
    """Charge for reading a long text."""
    if len(s) > FREE_TEXT:
        meter().scan(len(s))


@_builtin("REPLACE", 3, 3, "@(text, find, replacement) -> text with every find replaced")
def _replace(text: Value, find: Value, replacement: Value) -> str:
    """Replace every occurrence (case-sensitive); an empty find changes nothing."""
    s, old = V.to_str(text), V.to_str(find)
    if not old:
        return s
    new = V.to_str(replacement)
    if len(s) > FREE_TEXT or len(new) > len(old):
        _scan(s)
        meter().check_text(len(s) + s.count(old) * (len(new) - len(old)), "the result")
    return s.replace(old, new)


@_builtin("TRIM", 1, 1, "@(text) -> text without leading and trailing spaces")
def _trim(text: Value) -> str:
    """Strip both ends."""
    return V.to_str(text).strip()


@_builtin("LTRIM", 1, 1, "@(text) -> text without leading spaces")
def _ltrim(text: Value) -> str:
    """Strip the start."""
    return V.to_str(text).lstrip()


@_builtin("RTRIM", 1, 1, "@(text) -> text without trailing spaces")
def _rtrim(text: Value) -> str:
    """Strip the end."""
    return V.to_str(text).rstrip()


@_builtin("UPPER UCASE", 1, 1, "@(text) -> text in upper case")
def _upper(text: Value) -> str:
    """Upper case."""
    return V.to_str(text).upper()


@_builtin("LOWER LCASE", 1, 1, "@(text) -> text in lower case")
def _lower(text: Value) -> str:
    """Lower case."""
    return V.to_str(text).lower()


@_builtin(
    "SPLIT", 1, 2, "@(text[, sep]) -> list of the parts of text between seps (default: blanks)"
)
def _split(text: Value, sep: Value = None) -> list[Value]:
    """Split at sep, at runs of blanks when sep is absent, into characters when sep is ""."""
    s = V.to_str(text)
    _scan(s)
    if sep is None:  # at most half as many parts as characters: checked when built
        return s.split()
    if not s:
        return []
    mark = V.to_str(sep)
    parts = s.count(mark) + 1 if mark else len(s)
    if parts > FREE_ITEMS:
        meter().check_items(parts, "the result")
    return s.split(mark) if mark else list(s)


@_builtin("JOIN", 1, 2, "@(list[, sep]) -> the items as text, separated by sep (default ' ')")
def _join(items: Value, sep: Value = " ") -> str:
    """Join the items' texts; refused, before it is built, over ``max_text_chars``."""
    mark = V.to_str(sep)
    seq = _list(items, "the first argument")
    _visit(seq)
    texts = [V.to_str(i) for i in seq]
    total = sum(map(len, texts)) + len(mark) * max(len(texts) - 1, 0)
    if total > FREE_TEXT:
        meter().check_text(total, "the result")
    return mark.join(texts)


@_builtin("STR", 1, 1, "@(x) -> x as text")
def _str(x: Value) -> str:
    """The text TALK would show."""
    return V.to_str(x)


_LEADING_NUMBER = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


@_builtin("VAL", 1, 1, "@(text) -> the number at the start of text, 0 if none")
def _val(x: Value) -> Number:
    """VB's Val: VAL("12abc") is 12, VAL("x") is 0."""
    if type(x) is not str:
        n = V.number_or_none(x)
        return 0 if n is None else n
    m = _LEADING_NUMBER.match(x)
    if not m:
        return 0
    t = m.group().strip()
    _scan(t)
    if re.fullmatch(r"[+-]?\d+", t):
        digits = len(t.lstrip("+-").lstrip("0"))
        if digits > meter().max_digits:
            raise LimitExceeded(f"number too large: the text has {digits:,} digits (the limit is "
                                f"{meter().max_digits:,})")
        return int(t)
    f = float(t)
    if not math.isfinite(f):
        raise BasicRuntimeError("number too large")
    return f


# --- number and date formatting ---------------------------------------------------------


def _decimal(n: Number) -> Decimal:
    """A Decimal with the digits the number prints with (2.675 stays 2.675)."""
    return Decimal(repr(n)) if type(n) is float else Decimal(n)


# Enough digits for any float (about 1e308) with decimals; bigger results raise InvalidOperation.
_PRECISE = Context(prec=400)


def _round_decimal(d: Decimal, digits: int) -> Decimal:
    """Round half away from zero to `digits` decimals (negative: tens, hundreds...)."""
    return d.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP, context=_PRECISE)


_NUMBER_SPEC = re.compile(r"[#0][#0.,]*|[.,][#0]+")


def _split_spec(spec: str) -> tuple[str, str, str, str]:
    """(integer placeholders, fraction placeholders, grouping mark, decimal mark) of a pattern.

    "#,##0.00" is English style; "#.##0,00" and "0,00" are Brazilian style.
    """
    dot, comma = spec.rfind("."), spec.rfind(",")
    if comma > dot and (dot >= 0 or len(spec) - comma - 1 != 3):
        whole, frac = spec[:comma], spec[comma + 1 :]
        return whole.replace(".", ""), frac, "." if "." in whole else "", ","
    whole, frac = (spec[:dot], spec[dot + 1 :]) if dot >= 0 else (spec, "")
    return whole.replace(",", ""), frac, "," if "," in whole else "", "."


def _group(digits: str, mark: str) -> str:
    """Insert a grouping mark every three digits from the right (linear in the digits)."""
    head = len(digits) % 3 or 3
    return mark.join([digits[:head], *(digits[i : i + 3] for i in range(head, len(digits), 3))])


# Decimal places a pattern may ask for: more would only be zeros, and Decimal's precision is 400.
_MAX_DECIMALS = 100


def _format_number(n: Number, pattern: str) -> str:
    """Format a number with a VB/Excel pattern such as "0.00", "#,##0.00" or "0%"."""
    m = _NUMBER_SPEC.search(pattern)
    if not m:
        raise BasicRuntimeError(f"pattern {V.describe(pattern)} has no digit placeholder (0 or #)")
    spec = m.group().rstrip(".,") or m.group()
    prefix, suffix = pattern[: m.start()], pattern[m.start() + len(spec) :]
    whole, frac, group_mark, decimal_mark = _split_spec(spec)
    if len(frac) > _MAX_DECIMALS:
        raise BasicRuntimeError(f"the pattern asks for {len(frac):,} decimal places (at most {_MAX_DECIMALS})")
    d = _PRECISE.multiply(_decimal(n), 100 if "%" in prefix + suffix else 1)
    q = _round_decimal(d, len(frac))
    int_digits, _, frac_digits = f"{q.copy_abs():f}".partition(".")
    keep = frac.count("0")
    frac_digits = frac_digits[:keep] + frac_digits[keep:].rstrip("0")
    int_digits = int_digits.lstrip("0").zfill(whole.count("0"))
    if group_mark:
        int_digits = _group(int_digits, group_mark)
    body = int_digits + (decimal_mark + frac_digits if frac_digits else "")
    return ("-" if q < 0 else "") + prefix + (body or "0") + suffix


_MONTHS = [calendar.month_name[i] for i in range(1, 13)]
_WEEKDAYS = [calendar.day_name[i] for i in range(7)]  # Monday first, like date.weekday()

_DATE_FIELDS: dict[str, Callable[[_dt.datetime], str]] = {
    "yyyy": lambda t: f"{t.year:04d}",
    "YYYY": lambda t: f"{t.year:04d}",
    "yy": lambda t: f"{t.year % 100:02d}",
    "YY": lambda t: f"{t.year % 100:02d}",
    "MMMM": lambda t: _MONTHS[t.month - 1],
    "MMM": lambda t: _MONTHS[t.month - 1][:3],
    "MM": lambda t: f"{t.month:02d}",
    "M": lambda t: str(t.month),
    "dddd": lambda t: _WEEKDAYS[t.weekday()],
    "ddd": lambda t: _WEEKDAYS[t.weekday()][:3],
    "dd": lambda t: f"{t.day:02d}",
    "DD": lambda t: f"{t.day:02d}",
    "d": lambda t: str(t.day),
    "HH": lambda t: f"{t.hour:02d}",
    "H": lambda t: str(t.hour),
    "hh": lambda t: f"{t.hour % 12 or 12:02d}",
    "h": lambda t: str(t.hour % 12 or 12),
    "mm": lambda t: f"{t.minute:02d}",
    "ss": lambda t: f"{t.second:02d}",
    "tt": lambda t: "AM" if t.hour < 12 else "PM",
}
# Longest tokens first; '...' is literal text.
_DATE_TOKEN = re.compile("'[^']*'|" + "|".join(sorted(_DATE_FIELDS, key=len, reverse=True)))


def _format_date(d: _dt.date, pattern: str) -> str:
    """Format a date with tokens dd d MM M MMM MMMM yyyy yy HH H hh h mm ss tt."""
    t = _as_datetime(d)

    def field(m: re.Match[str]) -> str:
        tok = m.group()
        return tok[1:-1] if tok.startswith("'") else _DATE_FIELDS[tok](t)

    return _DATE_TOKEN.sub(field, pattern)


@_builtin("FORMAT", 1, 2, "@(value[, pattern]) -> a number ('#,##0.00', '0%') or date as text")
def _format(value: Value, pattern: Value = None) -> str:
    """Format a number or a date with a pattern; without a pattern, the plain text."""
    if pattern is None:
        return V.to_str(value)
    pat = V.to_str(pattern)
    _scan(pat)
    if isinstance(value, _dt.date):
        return _format_date(value, pat)
    if value is None:
        return ""
    n = V.number_or_none(value)
    if n is None and type(value) is str and (d := _parse_date(value.strip())) is not None:
        return _format_date(d, pat)
    return _format_number(_num(value, "value"), pat)


@_builtin("FORMAT_DATE", 2, 2, "@(date, pattern) -> date as text, e.g. 'dd/MM/yyyy HH:mm'")
def _format_date_fn(date: Value, pattern: Value) -> str:
    """Format a date (or date text) with a date pattern."""
    pat = V.to_str(pattern)
    _scan(pat)
    return _format_date(_to_date(date, "date"), pat)


# --- math -------------------------------------------------------------------------------


@_builtin("ABS", 1, 1, "@(x) -> the absolute value of x")
def _abs(x: Value) -> Number:
    """Absolute value."""
    return abs(_num(x, "value"))


@_builtin("ROUND", 1, 2, "@(x[, digits]) -> x rounded half away from zero (an integer by default)")
def _round(x: Value, digits: Value = 0) -> Number:
    """Round half away from zero: ROUND(2.5) is 3, ROUND(-2.5) is -3."""
    n, places = _num(x, "value"), _int(digits, "digits")
    try:
        q = _round_decimal(_decimal(n), places)
    except InvalidOperation:  # more digits than Decimal's precision: nothing to round
        return n
    return int(q) if places <= 0 else float(q)


@_builtin("INT", 1, 1, "@(x) -> the largest integer not above x (floor)")
def _int_fn(x: Value) -> int:
    """VB's Int: floor."""
    return math.floor(_num(x, "value"))


@_builtin("FIX", 1, 1, "@(x) -> x truncated toward zero")
def _fix(x: Value) -> int:
    """VB's Fix: truncate."""
    return math.trunc(_num(x, "value"))


@_builtin("CEIL", 1, 1, "@(x) -> the smallest integer not below x")
def _ceil(x: Value) -> int:
    """Ceiling."""
    return math.ceil(_num(x, "value"))


@_builtin("FLOOR", 1, 1, "@(x) -> the largest integer not above x")
def _floor(x: Value) -> int:
    """Floor."""
    return math.floor(_num(x, "value"))


@_builtin("MOD", 2, 2, "@(a, b) -> the remainder of a / b, with the sign of a")
def _mod(a: Value, b: Value) -> Number:
    """Like the MOD operator."""
    result: Number = V.mod(_num(a, "a"), _num(b, "b"))
    return result


@_builtin("SQR SQRT", 1, 1, "@(x) -> the square root of x")
def _sqrt(x: Value) -> float:
    """Square root of a non-negative number."""
    n = _num(x, "value")
    if n < 0:
        raise BasicRuntimeError(f"cannot take the square root of a negative number ({n})")
    return math.sqrt(n)


@_builtin("RND", 0, 1, "@() -> a random number in [0, 1)")
def _rnd(env: Env, _ignored: Value = None) -> float:
    """A random float; an argument (VB's seed) is accepted and ignored."""
    return env.random.random()


@_builtin("RANDOM", 2, 2, "@(a, b) -> a random integer from a to b inclusive")
def _random_int(env: Env, a: Value, b: Value) -> int:
    """A random integer between two bounds, in either order."""
    lo, hi = sorted((_int(a, "a"), _int(b, "b")))
    return env.random.randint(lo, hi)


@_builtin("UUID", 0, 0, "@() -> a new random id (a version 4 UUID, as text)")
def _uuid(env: Env) -> str:
    """A random UUID from the dialog's random source (General Bots' ids of new rows)."""
    return str(uuid.UUID(int=env.random.getrandbits(128), version=4))


@_builtin("GUID", 0, 0, "@() -> the same as UUID()")
def _guid(env: Env) -> str:
    return _uuid(env)


def _extreme(args: tuple[Value, ...], better: Callable[[Value, Value], bool]) -> Value:
    """The item for which `better` holds against every other; NULL items are skipped."""
    best = None
    for item in _items(args, _ORDER_STEPS):
        if item is not None and (best is None or better(item, best)):
            best = item
    return best


@_builtin("MIN", 1, None, "@(a, b, ... | list) -> the smallest value; NULL for an empty list")
def _min(*args: Value) -> Value:
    """Smallest, with BASIC comparison."""
    return _extreme(args, V.lt)


@_builtin("MAX", 1, None, "@(a, b, ... | list) -> the largest value; NULL for an empty list")
def _max(*args: Value) -> Value:
    """Largest, with BASIC comparison."""
    return _extreme(args, V.gt)


def _numbers(args: tuple[Value, ...]) -> list[Number]:
    """The non-NULL items as numbers."""
    return [_num(x, "every item") for x in _items(args) if x is not None]


@_builtin("SUM", 1, None, "@(a, b, ... | list) -> the total of the numbers")
def _sum(*args: Value) -> Number:
    """Total; NULL items are skipped, an empty list is 0."""
    return _finite(sum(_numbers(args), 0))


def _finite(n: Number) -> Number:
    """`n`, unless a float sum overflowed to infinity."""
    if type(n) is float and not math.isfinite(n):
        raise BasicRuntimeError("number too large")
    return n


@_builtin("AVG", 1, None, "@(a, b, ... | list) -> the average of the numbers; NULL if none")
def _avg(*args: Value) -> Value:
    """Mean of the non-NULL items; exact integer means stay integers."""
    nums = _numbers(args)
    return V.div(_finite(sum(nums, 0)), len(nums)) if nums else None


@_builtin("COUNT", 0, None, "@(list | a, b, ...) -> the number of items (0 for NULL)")
def _count(*args: Value) -> int:
    """Items of a list or object, or the number of arguments."""
    if len(args) == 1:
        x = args[0]
        if type(x) is list or type(x) is dict:
            return len(x)
        return 0 if x is None else 1
    return len(args)


# --- dates ------------------------------------------------------------------------------


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def _parse_date(s: str) -> _dt.date | None:
    """A date from ISO text or dd/mm/yyyy [HH:MM[:SS]], else None."""
    try:
        if _ISO_DAY.fullmatch(s):
            return _dt.date.fromisoformat(s)
        m = _DMY.fullmatch(s)
        if m:
            day, month, year, hh, mm, ss = (int(g or 0) for g in m.groups())
            if m.group(4) is None:
                return _dt.date(year, month, day)
            return _dt.datetime(year, month, day, hh, mm, ss)
        return _dt.datetime.fromisoformat(s).replace(tzinfo=None)
    except ValueError:
        return None


def _to_date(x: Value, what: str) -> _dt.date:
    """A date or datetime from a date value or date text."""
    if isinstance(x, _dt.date):
        return x
    if type(x) is str:
        d = _parse_date(x.strip())
        if d is not None:
            return d
    raise BasicRuntimeError(f"{what} must be a date, got {V.describe(x)}")


def _as_datetime(d: _dt.date) -> _dt.datetime:
    """A datetime for a date (midnight) or the datetime itself."""
    return d if type(d) is _dt.datetime else _dt.datetime(d.year, d.month, d.day)


_UNITS = {
    **dict.fromkeys(("yyyy", "year", "years"), "year"),
    **dict.fromkeys(("q", "quarter", "quarters"), "quarter"),
    **dict.fromkeys(("m", "month", "months"), "month"),
    **dict.fromkeys(("d", "day", "days"), "day"),
    **dict.fromkeys(("ww", "week", "weeks"), "week"),
    **dict.fromkeys(("h", "hour", "hours"), "hour"),
    **dict.fromkeys(("n", "minute", "minutes"), "minute"),
    **dict.fromkeys(("s", "second", "seconds"), "second"),
}
_MONTHS_PER = {"year": 12, "quarter": 3, "month": 1}
_SECONDS_PER = {"week": 604800, "day": 86400, "hour": 3600, "minute": 60, "second": 1}


def _unit_or_none(x: Value) -> str | None:
    """The canonical unit a text names, else None."""
    return _UNITS.get(x.strip().lower()) if type(x) is str else None


def _unit(x: Value) -> str:
    """The canonical unit, or an error listing the valid ones."""
    unit = _unit_or_none(x)
    if unit is None:
        raise BasicRuntimeError(
            f"unit must be one of yyyy, q, m, d, ww, h, n, s (or year, month, day...), "
            f"got {V.describe(x)}"
        )
    return unit


def _add_months(d: _dt.date, months: int) -> _dt.date:
    """Move by whole months, clamping the day to the end of the target month."""
    year, month0 = divmod(d.year * 12 + d.month - 1 + months, 12)
    if not 1 <= year <= 9999:
        raise BasicRuntimeError("the resulting date is out of range")
    day = min(d.day, calendar.monthrange(year, month0 + 1)[1])
    return d.replace(year=year, month=month0 + 1, day=day)


def _add(d: _dt.date, n: Number, unit: str) -> _dt.date:
    """Add n units; a date stays a date unless the step is shorter than a day."""
    if unit in _MONTHS_PER:
        return _add_months(d, int(n) * _MONTHS_PER[unit])
    seconds = n * _SECONDS_PER[unit]
    if type(d) is _dt.date and seconds % 86400 == 0:
        return d + _dt.timedelta(days=int(seconds // 86400))
    return _as_datetime(d) + _dt.timedelta(seconds=seconds)


@_builtin(
    "DATEADD", 2, 3, "@(date, n[, unit]) or @(unit, n, date) -> date plus n units (default days)"
)
def _dateadd(a: Value, b: Value, c: Value = None) -> _dt.date:
    """Add to a date; units yyyy q m d ww h n s or their English names."""
    if c is not None and _unit_or_none(a) is not None:
        a, c = c, a  # VB order: DATEADD(unit, n, date)
    return _add(_to_date(a, "date"), _num(b, "n"), _unit("d" if c is None else c))


def _ticks(d: _dt.date) -> int:
    """Whole seconds since 0001-01-01, for counting unit boundaries."""
    delta = _as_datetime(d) - _dt.datetime.min
    return delta.days * 86400 + delta.seconds


def _diff(d1: _dt.date, d2: _dt.date, unit: str) -> int:
    """How many unit boundaries lie between d1 and d2 (VB's DateDiff); weeks are days // 7."""
    if unit in _MONTHS_PER:
        per = _MONTHS_PER[unit]
        return (d2.year * 12 + d2.month - 1) // per - (d1.year * 12 + d1.month - 1) // per
    if unit == "week":
        return math.trunc(_diff(d1, d2, "day") / 7)
    size = _SECONDS_PER[unit]
    return _ticks(d2) // size - _ticks(d1) // size


@_builtin(
    "DATEDIFF", 2, 3, "@(date1, date2[, unit]) or @(unit, date1, date2) -> date2 - date1 in units"
)
def _datediff(a: Value, b: Value, c: Value = None) -> int:
    """Difference between two dates in a unit (default days)."""
    if c is not None and _unit_or_none(a) is not None:
        a, b, c = b, c, a  # VB order: DATEDIFF(unit, date1, date2)
    d1, d2 = _to_date(a, "date1"), _to_date(b, "date2")
    return _diff(d1, d2, _unit("d" if c is None else c))


@_builtin("DAY", 1, 1, "@(date) -> the day of the month, 1..31")
def _day(date: Value) -> int:
    """Day of the month."""
    return _to_date(date, "date").day


@_builtin("MONTH", 1, 1, "@(date) -> the month, 1..12")
def _month(date: Value) -> int:
    """Month number."""
    return _to_date(date, "date").month


@_builtin("YEAR", 1, 1, "@(date) -> the year")
def _year(date: Value) -> int:
    """Year."""
    return _to_date(date, "date").year


_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def _clock(x: Value) -> tuple[int, int]:
    """(hour, minute) of a date, a datetime or "HH:MM" text (as HEAR AS HOUR gives)."""
    if type(x) is str and (m := _CLOCK.fullmatch(x.strip())):
        hour, minute = int(m.group(1)), int(m.group(2))
        if hour < 24 and minute < 60:
            return hour, minute
    t = _as_datetime(_to_date(x, "time"))
    return t.hour, t.minute


@_builtin("HOUR", 1, 1, "@(time) -> the hour, 0..23, of a date/time or 'HH:MM' text")
def _hour(x: Value) -> int:
    """Hour of the day."""
    return _clock(x)[0]


@_builtin("MINUTE", 1, 1, "@(time) -> the minute, 0..59, of a date/time or 'HH:MM' text")
def _minute(x: Value) -> int:
    """Minute of the hour."""
    return _clock(x)[1]


@_builtin("WEEKDAY", 1, 1, "@(date) -> the day of the week, 1 = Sunday .. 7 = Saturday")
def _weekday(date: Value) -> int:
    """VB's Weekday with Sunday first."""
    return _to_date(date, "date").isoweekday() % 7 + 1


@_builtin("NOW", 0, 0, "@() -> the current date and time")
def _now(env: Env) -> _dt.datetime:
    """The environment's clock."""
    return env.now()


@_builtin("TODAY", 0, 0, "@() -> the current date, without time")
def _today(env: Env) -> _dt.date:
    """The environment's date."""
    return env.now().date()


# --- types ------------------------------------------------------------------------------


@_builtin("ISNULL", 1, 1, "@(x) -> TRUE when x is NULL")
def _isnull(x: Value) -> bool:
    """NULL test."""
    return x is None


@_builtin("ISEMPTY", 1, 1, '@(x) -> TRUE when x is NULL, "" or an empty list or object')
def _isempty(x: Value) -> bool:
    """Empty test."""
    return x is None or (type(x) in (str, list, dict) and len(x) == 0)


@_builtin("ISNUMERIC", 1, 1, "@(x) -> TRUE when x is a number or numeric text")
def _isnumeric(x: Value) -> bool:
    """Number or numeric text (booleans are not numeric)."""
    return V.is_number(x) or (type(x) is str and V.number_or_none(x) is not None)


@_builtin("TYPEOF", 1, 1, "@(x) -> null, boolean, integer, number, string, list, object or date")
def _typeof(x: Value) -> str:
    """BASIC type name."""
    return V.type_name(x)


@_builtin("IIF", 3, 3, "@(condition, a, b) -> a when condition is true, else b")
def _iif(cond: Value, a: Value, b: Value) -> Value:
    """Inline if, with BASIC truth."""
    return a if V.truthy(cond) else b


@_builtin("NVL", 2, 2, "@(x, default) -> x, or default when x is NULL")
def _nvl(x: Value, default: Value) -> Value:
    """NULL replacement."""
    return default if x is None else x


# --- lists ------------------------------------------------------------------------------


@_builtin("UBOUND", 1, 1, "@(list) -> the last index of list (its length - 1)")
def _ubound(items: Value) -> int:
    """Last 0-based index; -1 for an empty list or NULL."""
    return len(_list(items, "the argument")) - 1


@_builtin("PUSH", 2, 2, "@(list, x) -> list with x appended (in place)")
def _push(items: Value, x: Value) -> list[Value]:
    """Append in place; a NULL list becomes a new list."""
    target = [] if items is None else _list(items, "the first argument")
    if len(target) >= FREE_ITEMS:
        meter().check_items(len(target) + 1)
    target.append(x)
    return target


def _same(a: Value, b: Value) -> bool:
    """BASIC equality, case-insensitive for two texts."""
    if type(a) is str and type(b) is str:
        if len(a) + len(b) > FREE_TEXT:
            meter().scan(len(a) + len(b))
        return a.casefold() == b.casefold()
    return V.eq(a, b)


@_builtin("CONTAINS", 2, 2, "@(list | text | object, x) -> TRUE if x is an item, substring or key")
def _contains(where: Value, x: Value) -> bool:
    """Membership, case-insensitive for text."""
    if where is None:
        return False
    if type(where) is str:
        find = V.to_str(x)
        if len(where) + len(find) > FREE_TEXT:  # case folding copies both
            meter().scan(len(where) + len(find))
        return find.casefold() in where.casefold()
    if type(where) is list or type(where) is dict:
        _visit(where, _EQUAL_STEPS)
    if type(where) is list:
        return any(_same(item, x) for item in where)
    if type(where) is dict:
        return any(_same(V.to_str(key), V.to_str(x)) for key in where)
    raise BasicRuntimeError(
        f"the first argument must be a list, text or object, got {V.describe(where)}"
    )


def _sort_key(x: Value) -> tuple[int, Any]:
    """NULLs, then numbers (and numeric text), dates, texts (ignoring case), the rest."""
    if x is None:
        return (0, 0)
    n = V.number_or_none(x)
    if n is not None:
        return (1, n)
    if isinstance(x, _dt.date):
        return (2, _as_datetime(x))
    if type(x) is str:
        _scan(x)
        return (3, x.casefold())
    return (4, V.to_str(x))


@_builtin("SORT", 1, 1, "@(list) -> a new sorted list: numbers before texts, texts ignoring case")
def _sort(items: Value) -> list[Value]:
    """Stable sort into a new list; charged for its keys and n log n comparisons before it starts."""
    seq = _list(items, "the argument")
    if len(seq) > 16:
        meter().charge(len(seq) + len(seq) * len(seq).bit_length() // ITEMS_PER_STEP)
    return sorted(seq, key=_sort_key)


def _identity(x: Value) -> tuple[str, Any]:
    """A hashable key that is equal for equal values (1 and 1.0 are one value)."""
    if type(x) is list or type(x) is dict:
        return ("json", V.to_json(x))
    if V.is_number(x):
        return ("number", x)
    return (type(x).__name__, x)


@_builtin("UNIQUE", 1, 1, "@(list) -> a new list without repeated items, first occurrences kept")
def _unique(items: Value) -> list[Value]:
    """Drop repeats, keeping order."""
    seen: set[tuple[str, Any]] = set()
    result = []
    seq = _list(items, "the argument")
    _visit(seq, _EQUAL_STEPS)
    for item in seq:
        key = _identity(item)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result


@_builtin("RANGE", 1, 3, "@(n) -> [0 .. n-1]; @(a, b[, step]) -> [a .. b] inclusive")
def _range(a: Value, b: Value = None, step: Value = None) -> list[int]:
    """A list of integers."""
    if b is None:
        start, stop, by = 0, _int(a, "n"), 1
    else:
        start, by = _int(a, "start"), 1 if step is None else _int(step, "step")
        if by == 0:
            raise BasicRuntimeError("step must not be 0")
        stop = _int(b, "end") + (1 if by > 0 else -1)
    r = range(start, stop, by)
    if len(r) > FREE_ITEMS:
        meter().check_items(len(r), "the list")
    return list(r)


# --- JSON and YAML ----------------------------------------------------------------------


@_builtin("TOJSON", 1, 1, "@(x) -> x as compact JSON text")
def _tojson(x: Value) -> str:
    """JSON text; dates become ISO text."""
    return V.to_json(x)


def _reject_constant(name: str) -> None:
    """Refuse NaN and Infinity, which are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


def _json_float(text: str) -> float:
    """A JSON number with a fraction or exponent; one beyond a float (1e999) is refused."""
    f = float(text)
    if not math.isfinite(f):
        raise BasicRuntimeError(f"number too large: {text[:20]} is beyond the largest number (about 1.8e308)")
    return f


def _json_int(text: str) -> int:
    """A JSON integer, within ``max_number_digits``."""
    digits = len(text.lstrip("-").lstrip("0"))
    if digits > 18 and digits > meter().max_digits:
        raise LimitExceeded(f"number too large: the JSON has an integer of {digits:,} digits (the limit is "
                            f"{meter().max_digits:,})")
    return int(text)


@_builtin("FROMJSON", 1, 1, "@(text) -> the value the JSON text describes")
def _fromjson(text: Value) -> Value:
    """Parse JSON; dates stay text; NULL gives NULL."""
    if text is None:
        return None
    if type(text) is not str:
        raise BasicRuntimeError(f"the argument must be JSON text, got {V.describe(text)}")
    _scan(text)
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_json_float, parse_int=_json_int)
    except RecursionError:
        raise LimitExceeded(f"nested too deeply: the JSON has more than {meter().max_depth:,} levels") from None
    except json.JSONDecodeError as exc:
        raise BasicRuntimeError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:
        raise BasicRuntimeError(f"invalid JSON: {exc}") from None
    V.measure(value, "the JSON value")  # lists within max_list_items, nesting within max_depth
    return value


# PyYAML spends some 40 microseconds per node: about a hundred statements' worth (steps per node).
_YAML_STEPS_PER_NODE = 64


@_builtin("TOYAML", 1, 1, "@(x) -> x as YAML text")
def _toyaml(x: Value) -> str:
    """Block-style YAML, keys in their order; the value is measured and charged first."""
    nodes, _chars = V.measure(x, "the value")
    meter().charge(nodes * _YAML_STEPS_PER_NODE)
    try:
        text: str = yaml.safe_dump(x, allow_unicode=True, sort_keys=False)
    except RecursionError:
        raise LimitExceeded("nested too deeply for YAML") from None
    return text.removesuffix("...\n")
