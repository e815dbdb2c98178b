"""BASIC values and General Bots' coercions.

Values are plain Python objects: ``int``, ``float``, ``str``, ``bool``, ``None`` (NULL),
``list``, ``dict`` (objects) and ``datetime.datetime`` / ``datetime.date`` (dates).

Coercions follow what General Bots authors expect:

* ``+`` adds two numbers and concatenates as soon as one side is a string (``1 + "a"`` is
  ``"1a"``); ``&`` always concatenates.
* ``- * / \\ MOD ^`` read numeric strings as numbers (``"2" * 3`` is ``6``); a string that is
  not a number is an error that says so.
* Comparisons compare numerically when both sides are numbers or number strings
  (``"10" > 9``), otherwise as strings; NULL equals NULL, ``""`` and ``0``.

Values survive JSON (a saved dialog's state, session variables) through :func:`encode` and
:func:`decode`, exactly, and in a form every store holds: a date and time is
``{"$date": "2026-11-25T14:00:00"}``, a date ``{"$day": "2026-11-25"}``, a float of 1e16 or more
(whose JSON has an exponent, which PostgreSQL's jsonb turns into an integer) ``{"$float": "1e+20"}``,
a text with a NUL or a lone surrogate (which PostgreSQL and UTF-8 refuse) ``{"$text": "a\\u0000b"}``
(its JSON escapes), an object with such a key ``{"$pairs": [[key, value], ...]}``, and an object of
one key that starts with ``$`` (the user's own ``{"$date": "not-a-date"}``, say) is wrapped as
``{"$obj": {"$date": "not-a-date"}}`` so that it is never read as a tag. Any other object, list,
text, number, boolean and NULL is itself.

Sizes are capped and work is charged (see :mod:`gb_basic.limits`): ``&`` and ``+`` refuse a text
over ``max_text_chars`` and a list over ``max_list_items`` before building it (the compiled code
has its own fast path for texts, see :mod:`gb_basic.compiler`), ``^`` refuses an
integer over ``max_number_digits`` from an estimate of its size, ``*`` checks its integer
results; floats never overflow silently to infinity. ``+`` and ``-`` of integers grow a number
by one bit at most and are not checked (a number over the cap is refused where it is shown,
saved or multiplied). The walks over lists and objects (:func:`encode`, :func:`to_json`,
:func:`measure`, comparisons) refuse a value that contains itself or nests deeper than
``max_depth``, and charge for each item they visit.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import math
from collections.abc import Callable
from typing import Any

from .errors import BasicRuntimeError, LimitExceeded
from .limits import CHARS_PER_STEP, FREE_ITEMS, FREE_TEXT, SMALL_INT, meter

__all__ = [
    "Value",
    "is_number",
    "number_or_none",
    "to_number",
    "to_int",
    "to_str",
    "truthy",
    "add",
    "sub",
    "mul",
    "div",
    "intdiv",
    "mod",
    "power",
    "neg",
    "concat",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "type_name",
    "encode",
    "decode",
    "to_json",
    "measure",
]

Value = Any

_NUM = (int, float)


def is_number(x: Value) -> bool:
    """True for ints and floats, not for booleans."""
    return type(x) is int or type(x) is float


def number_or_none(x: Value) -> int | float | None:
    """The number `x` stands for (numbers, booleans, numeric strings), else None."""
    t = type(x)
    if t is int or t is float:
        return x  # type: ignore[no-any-return]  # narrowed by the type() test
    if t is bool:
        return int(x)
    if t is str:
        if len(x) > FREE_TEXT:
            meter().scan(len(x))
        s = x.strip()
        if not s or not (s[0].isdigit() or s[0] in "+-."):  # what int() and float() read starts so
            return None
        try:
            return int(s)
        except ValueError:
            pass
        try:
            f = float(s)
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None


def to_number(x: Value, what: str = "a number") -> int | float:
    """Coerce to a number for arithmetic; NULL is 0; anything else non-numeric is an error."""
    if x is None:
        return 0
    n = number_or_none(x)
    if n is None:
        raise BasicRuntimeError(f"{describe(x)} is not {what}")
    return n


def to_int(x: Value) -> int:
    """Coerce to an integer, truncating floats toward zero."""
    n = to_number(x)
    return n if type(n) is int else int(n)


_VALUE_TYPES = (type(None), int, float, str, list, tuple, dict, _dt.date)  # bool is an int, datetime a date


def describe(x: Value) -> str:
    """Short quoted form of a value for error messages."""
    if not isinstance(x, _VALUE_TYPES):  # no BASIC value (a caller's mistake): it has no text to show
        return f"a Python {type(x).__name__}"
    if isinstance(x, str):
        s = x if len(x) <= 30 else x[:27] + "..."
        return json.dumps(s, ensure_ascii=False)
    if type(x) is list or type(x) is dict:
        return f"{type_name(x)} {_preview(x, 30)}"
    if type(x) is int and not -SMALL_INT < x < SMALL_INT:
        return f"integer of {x.bit_length() * 0.30103:,.0f} digits"
    return f"{type_name(x)} {to_str(x)[:30]}".strip()


def _preview(x: Value, room: int) -> str:
    """The start of the JSON text of `x`, about `room` characters, without walking the rest of it
    (an error message about a huge or self-containing list stays short and cheap)."""
    out: list[str] = []
    _emit(x, out, room)
    text = "".join(out)
    return text if len(text) <= room else text[: room - 3] + "..."


def _emit(x: Value, out: list[str], room: int) -> int:
    """Append pieces of `x`'s JSON text to `out` until `room` characters are used; returns the room left."""
    t = type(x)
    if t is not list and t is not dict:
        if t is int and not -SMALL_INT < x < SMALL_INT:
            piece = "(a huge integer)"
        else:
            piece = json.dumps(x[:room], ensure_ascii=False) if t is str else to_str(x)[:room]
        out.append(piece)
        return room - len(piece)
    items = itertools.islice(x.items(), room) if t is dict else x[:room]
    out.append("[" if t is list else "{")
    room -= 1
    for n, item in enumerate(items):
        if room <= 0:
            return room
        if n:
            out.append(",")
            room -= 1
        if t is dict:
            key = json.dumps(str(item[0])[:room], ensure_ascii=False) + ":"
            out.append(key)
            room = _emit(item[1], out, room - len(key))
        else:
            room = _emit(item, out, room)
    out.append("]" if t is list else "}")
    return room - 1


def _num_str(x: float) -> str:
    if x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(x)


def to_str(x: Value) -> str:
    """The text of a value as TALK shows it."""
    t = type(x)
    if t is str:
        return x  # type: ignore[no-any-return]  # narrowed by the type() test
    if t is int:
        try:
            return str(x)
        except ValueError:  # CPython refuses to write an integer of more than 4,300 digits
            raise LimitExceeded("number too large: an integer of more than 4,300 digits cannot be shown as "
                                "text") from None
    if t is float:
        return _num_str(x)
    if x is None:
        return ""
    if t is bool:
        return "true" if x else "false"
    if t is _dt.datetime:
        d: _dt.datetime = x
        if d.hour == d.minute == d.second == 0 and not d.microsecond:
            return d.strftime("%Y-%m-%d")
        return d.strftime("%Y-%m-%d %H:%M:%S")
    if t is _dt.date:
        day: _dt.date = x
        return day.isoformat()
    return to_json(x)


def truthy(x: Value) -> bool:
    """BASIC truth: FALSE, NULL, 0, "" and empty lists are false; so is the text "false"."""
    if type(x) is str:  # only a 5-character text can be "false": a long text is not lower-cased
        return bool(x) and not (len(x) == 5 and x.lower() == "false")
    return bool(x)


def type_name(x: Value) -> str:
    """The BASIC type name of a value, as TYPEOF returns it."""
    if x is None:
        return "null"
    t = type(x)
    if t is bool:
        return "boolean"
    if t is int:
        return "integer"
    if t is float:
        return "number"
    if t is str:
        return "string"
    if t is list:
        return "list"
    if t is dict:
        return "object"
    if t in (_dt.datetime, _dt.date):
        return "date"
    return t.__name__


# --- arithmetic -------------------------------------------------------------------------


def _is_date(x: Value) -> bool:
    return type(x) is _dt.datetime or type(x) is _dt.date


def _float(r: Value) -> Value:
    """`r`, the result of a float operation, unless it overflowed to infinity (not a JSON number).

    Raises:
        BasicRuntimeError: ``number too large``.
    """
    if type(r) is float and r - r != 0.0:  # inf - inf is NaN; a finite r gives 0.0
        raise BasicRuntimeError("number too large")
    return r


def _number(r: Value) -> Value:
    """`r`, a product or power: an integer within ``max_number_digits``, a finite float."""
    if type(r) is int:
        return r if -SMALL_INT < r < SMALL_INT else meter().number(r)
    return _float(r)


def _join(x: str, y: str) -> str:
    """``x + y``, refused over ``max_text_chars`` before it is built."""
    n = len(x) + len(y)
    if n > FREE_TEXT:
        meter().text(n)
    return x + y


def add(a: Value, b: Value) -> Value:
    """``a + b``: numbers add, a string on either side concatenates, date + n adds days."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return a + b
    if (ta is int or ta is float) and (tb is int or tb is float):
        return _float(a + b)
    if ta is str or tb is str:
        return _join(to_str(a), to_str(b))
    if ta is list and tb is list:
        if len(a) + len(b) > FREE_ITEMS:
            meter().items(len(a) + len(b))
        return a + b
    if _is_date(a) and number_or_none(b) is not None:
        return a + _dt.timedelta(days=to_number(b))
    if a is None:
        return b if b is not None else None
    if b is None:
        return a
    return _float(to_number(a) + to_number(b))


def sub(a: Value, b: Value) -> Value:
    """``a - b``; date - date is a number of days, date - n goes back n days."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return a - b
    if (ta is int or ta is float) and (tb is int or tb is float):
        return _float(a - b)
    if _is_date(a):
        if _is_date(b):
            d = a - b
            days = d.days + d.seconds / 86400
            return int(days) if float(days).is_integer() else days
        return a - _dt.timedelta(days=to_number(b))
    return _float(to_number(a) - to_number(b))


def mul(a: Value, b: Value) -> Value:
    """``a * b`` with numeric strings read as numbers."""
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return _number(a * b)
    return _number(to_number(a) * to_number(b))


def div(a: Value, b: Value) -> Value:
    """``a / b``: exact integer quotients stay integers (``6 / 2`` is ``3``), else a float."""
    x, y = to_number(a), to_number(b)
    if y == 0:
        raise BasicRuntimeError("division by zero")
    if type(x) is int and type(y) is int and x % y == 0:
        return x // y
    return _float(x / y)


def intdiv(a: Value, b: Value) -> int:
    """``a \\ b``: integer division, truncating toward zero like BASIC."""
    x, y = to_number(a), to_number(b)
    if y == 0:
        raise BasicRuntimeError("division by zero")
    if isinstance(x, int) and isinstance(y, int):
        return _trunc_div(x, y)
    return int(x / y)


def _trunc_div(x: int, y: int) -> int:
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y >= 0) else -q


def mod(a: Value, b: Value) -> Value:
    """``a MOD b``: the remainder takes the sign of the dividend, like BASIC."""
    x, y = to_number(a), to_number(b)
    if y == 0:
        raise BasicRuntimeError("division by zero")
    if isinstance(x, int) and isinstance(y, int):
        return x - y * _trunc_div(x, y)
    return math.fmod(x, y)


def power(a: Value, b: Value) -> Value:
    """``a ^ b``; an integer power is refused, before it is computed, when it would have more than
    ``max_number_digits`` digits (``3 ^ 100000000``)."""
    x, y = to_number(a), to_number(b)
    if type(x) is int and type(y) is int and y > 1 and (x > 1 or x < -1):
        _power_digits(x, y)
    try:
        r = x**y
    except ZeroDivisionError:
        raise BasicRuntimeError("division by zero") from None
    except OverflowError:
        raise BasicRuntimeError("number too large") from None
    if type(r) is complex:
        raise BasicRuntimeError(f"{_short(x)} ^ {_short(y)} is not a real number")
    return _number(r)


def _power_digits(x: int, y: int) -> None:
    """Refuse ``x ^ y`` (integers, y > 1, |x| > 1) when it would pass the digit cap: its digits are
    about y * log10|x|. Charges for the digits it will compute."""
    try:
        digits = y * math.log10(abs(x))
    except OverflowError:  # y has more than 308 digits
        digits = math.inf
    meter().digits(digits, f"{_short(x)} ^ {_short(y)}")


def _short(n: int | float) -> str:
    """A number for a message: its text, or its size when it is long."""
    if type(n) is int and not -SMALL_INT < n < SMALL_INT:
        return f"(an integer of about {n.bit_length() * 0.30103:,.0f} digits)"
    return to_str(n)


def neg(a: Value) -> Value:
    """Unary minus."""
    if type(a) is int or type(a) is float:
        return -a
    return -to_number(a)


def concat(a: Value, b: Value) -> str:
    """``a & b``: always text."""
    return _join(to_str(a), to_str(b))


# --- comparison -------------------------------------------------------------------------


def _cmp_pair(a: Value, b: Value) -> tuple[Any, Any]:
    """Return a pair of comparable Python values following BASIC's rules."""
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a, b
    if ta is str and tb is str:
        na, nb = number_or_none(a), number_or_none(b)
        if na is not None and nb is not None:
            return na, nb
        return a, b
    if _is_date(a) and _is_date(b):
        return _as_datetime(a), _as_datetime(b)
    na, nb = number_or_none(a), number_or_none(b)
    if na is not None and nb is not None:
        return na, nb
    if a is None or b is None:
        return (0 if a is None else a), (0 if b is None else b)
    return to_str(a), to_str(b)


def _as_datetime(d: Value) -> _dt.datetime:
    return d if type(d) is _dt.datetime else _dt.datetime(d.year, d.month, d.day)


def eq(a: Value, b: Value) -> bool:
    """``a = b``: NULL equals NULL, "" and 0; number strings compare as numbers."""
    if type(a) is type(b) and type(a) is not str:
        if type(a) is list or type(a) is dict:
            return _same_tree(a, b)
        return bool(a == b)
    if a is None:
        return b is None or b == "" or b == 0
    if b is None:
        return bool(a == "" or a == 0)
    if type(a) is list or type(b) is list or type(a) is dict or type(b) is dict:
        return bool(a == b)
    x, y = _cmp_pair(a, b)
    return bool(x == y)


def _same_tree(a: Value, b: Value) -> bool:
    """Equality of two lists or objects: both are measured first (charged; no value that contains
    itself or nests too deeply), so Python's own comparison is bounded."""
    if a is b:
        return True
    measure(a, "the value compared")
    measure(b, "the value compared")
    try:
        return bool(a == b)
    except RecursionError:
        raise LimitExceeded("nested too deeply: the values are too deep to compare") from None


def ne(a: Value, b: Value) -> bool:
    """``a <> b``."""
    return not eq(a, b)


def _order(a: Value, b: Value) -> tuple[Any, Any]:
    x, y = _cmp_pair(a, b)
    if type(x) is not type(y) and not (is_number(x) and is_number(y)):
        return to_str(x), to_str(y)
    return x, y


def lt(a: Value, b: Value) -> bool:
    """``a < b``."""
    x, y = _order(a, b)
    return bool(x < y)


def le(a: Value, b: Value) -> bool:
    """``a <= b``."""
    x, y = _order(a, b)
    return bool(x <= y)


def gt(a: Value, b: Value) -> bool:
    """``a > b``."""
    x, y = _order(a, b)
    return bool(x > y)


def ge(a: Value, b: Value) -> bool:
    """``a >= b``."""
    x, y = _order(a, b)
    return bool(x >= y)


# --- JSON ---------------------------------------------------------------------------------


class _Walk:
    """One walk over a value tree, for :func:`encode`, :func:`to_json` and :func:`measure`.

    It refuses a list or object that contains itself, nesting deeper than ``max_depth``, a list
    or object over ``max_list_items`` and an integer over ``max_number_digits``; it keeps `size`,
    about the length of the value's JSON text, and refuses it over `max_size`; and it charges
    the meter for the nodes it visits and the characters the JSON text will hold. The walk
    recurses, one frame per level: ``max_depth`` is at most ``MAX_DEPTH_CEILING``.
    """

    __slots__ = ("m", "path", "size", "max_size", "nodes", "count", "what", "dates")

    def __init__(self, what: str, max_size: int | None = None, *, dates: bool = True) -> None:
        self.m = meter()
        self.path: set[int] = set()  # ids of the lists and objects being walked (for cycles)
        self.size = 0  # characters of JSON text, about
        self.max_size = self.m.max_text if max_size is None else max_size
        self.nodes = 0  # nodes not charged yet
        self.count = 1  # nodes visited
        self.what = what
        self.dates = dates  # True: encode's tags (dates, huge floats, "$" objects); False: to_json's plain JSON

    def enter(self, x: list[Any] | dict[Any, Any] | tuple[Any, ...], depth: int) -> None:
        """Step into the list or object `x`, `depth` levels down."""
        if id(x) in self.path:
            raise LimitExceeded(f"{self.what} contains itself: a {type_name(x)} cannot hold itself")
        if depth >= self.m.max_depth:
            raise LimitExceeded(f"nested too deeply: {self.what} has more than {self.m.max_depth:,} levels "
                                "of lists and objects")
        if len(x) > FREE_ITEMS:
            self.m.check_items(len(x), f"a {type_name(x)} in {self.what}")
        self.path.add(id(x))
        self.count += len(x)
        self.nodes += len(x) + 4  # a list or object costs about 4 items to enter and leave
        self.size += 2
        if self.nodes >= 4096:  # charge as it goes (a step per node), which also checks the deadline
            self.check_size()
            self.m.tick(self.nodes)
            self.nodes = 0

    def check_size(self) -> None:
        if self.size > self.max_size:
            raise LimitExceeded(f"too large: {self.what} would take more than {self.max_size:,} characters "
                                "as JSON")

    def finish(self) -> None:
        """Charge what is left: the nodes, and the characters of the JSON text."""
        self.check_size()
        self.m.tick(self.nodes + self.size // CHARS_PER_STEP)
        self.nodes = 0

    def copy(self, x: Value, depth: int) -> Any:
        """Plain JSON data for `x` (lists for tuples, text keys)."""
        t = type(x)
        if t is list or t is tuple:
            self.enter(x, depth)
            out = []
            size = 0
            escape = self.dates
            for item in x:  # texts and small integers inline: the common items, walked fast
                ti = type(item)
                if ti is str:
                    size += len(item) + 3
                    if escape and ("\x00" in item or (not item.isascii() and _unstorable(item))):
                        item = _escaped(item)
                    out.append(item)
                elif ti is int and _SMALL_NEG < item < _SMALL_POS:
                    size += 8
                    out.append(item)
                else:
                    out.append(self.copy(item, depth + 1))
            self.size += size
            self.path.discard(id(x))
            return out
        if t is dict:
            self.enter(x, depth)
            obj = {}
            odd = False
            escape = self.dates
            check = escape and depth >= 0  # keys of the dicts of variables (depth < 0) are names
            for k, v in x.items():
                key = k if type(k) is str else str(k)
                self.size += len(key) + 3
                if check and ("\x00" in key or (not key.isascii() and _unstorable(key))):
                    odd = True
                if type(v) is str:  # texts inline, as in lists
                    self.size += len(v) + 3
                    if escape and ("\x00" in v or (not v.isascii() and _unstorable(v))):
                        v = _escaped(v)
                    obj[key] = v
                else:
                    obj[key] = self.copy(v, depth + 1)
            self.path.discard(id(x))
            if self.dates:
                if odd:  # a key no store can hold: the object as [key, value] pairs, keys escaped
                    self.size += 12 + 4 * len(obj)
                    return {"$pairs": [[_stored_text(k), v] for k, v in obj.items()]}
                if len(obj) == 1 and key[:1] == "$":  # one "$" key (key is it): not a tag
                    self.size += 10
                    return {"$obj": obj}
            return obj
        return self.leaf(x, t)

    def leaf(self, x: Value, t: type) -> Any:
        """A scalar as JSON data; counts its size (a number as its longest text)."""
        if t is str:
            self.size += len(x) + 3
            if self.dates and ("\x00" in x or (not x.isascii() and _unstorable(x))):
                return _escaped(x)
            return x
        if t is int:
            if not -SMALL_INT < x < SMALL_INT:
                self.m.number(x)
            self.size += 8 if _SMALL_NEG < x < _SMALL_POS else (x.bit_length() * 78 >> 8) + 3  # 78/256 > log10(2)
            return x
        self.size += 24  # the longest float (and date) text
        if t is bool or x is None:
            return x
        if t is float:
            if not math.isfinite(x):
                return to_str(x)
            if self.dates and not -1e16 < x < 1e16:  # its JSON has an exponent (1e+16): PostgreSQL's
                return {"$float": repr(x)}  # jsonb would give back the integer 10000000000000000
            return x
        if t is _dt.datetime and self.dates:
            return {"$date": x.isoformat()}
        if t is _dt.date and self.dates:
            return {"$day": x.isoformat()}
        return to_str(x)

    def visit(self, x: Value, depth: int) -> None:
        """Walk `x` without copying it (see :func:`measure`)."""
        t = type(x)
        if t is list or t is tuple:
            self.enter(x, depth)
            size = 0
            for item in x:  # as in copy
                ti = type(item)
                if ti is str:
                    size += len(item) + 3
                elif ti is int and _SMALL_NEG < item < _SMALL_POS:
                    size += 8
                else:
                    self.visit(item, depth + 1)
            self.size += size
            self.path.discard(id(x))
        elif t is dict:
            self.enter(x, depth)
            for k, v in x.items():
                self.size += len(k) + 3 if type(k) is str else 8
                self.visit(v, depth + 1)
            self.path.discard(id(x))
        else:
            self.leaf(x, t)


def _stored_text(s: str) -> Any:
    """`s`, or ``{"$text": its JSON escapes}`` (ASCII) when it holds what no store can: a NUL
    (PostgreSQL refuses it) or a lone surrogate (not UTF-8)."""
    if "\x00" not in s and (s.isascii() or not _unstorable(s)):
        return s
    return _escaped(s)


def _unstorable(s: str) -> bool:
    """Whether the text `s` has a lone surrogate (or a NUL)."""
    try:
        s.encode()  # faster than a regular expression, most of all on long texts
    except UnicodeEncodeError:
        return True
    return "\x00" in s


def _escaped(s: str) -> dict[str, str]:
    return {"$text": json.dumps(s)[1:-1]}


# Integers of at most 7 digits: counted as 8 characters of JSON (with the comma) without a look.
_SMALL_POS = 10_000_000
_SMALL_NEG = -10_000_000


def encode(x: Value, *, max_chars: int | None = None, level: int = 0) -> Any:
    """Turn a value into plain JSON data that :func:`decode` turns back into an equal value and
    that every store holds (dates become ``{"$date": iso}`` and ``{"$day": iso}``, a float of 1e16
    or more ``{"$float": "1e+16"}``, a text with a NUL ``{"$text": "\\u0000"}``, an object of one
    ``$`` key ``{"$obj": {...}}``: see the module's docstring).

    Args:
        x: the value.
        max_chars: the JSON size it may have, about; default ``max_state_chars``.
        level: the nesting level of `x` itself: -1 for a dict of variables (or a request's
            payload), whose values count their own levels from 0.

    Raises:
        LimitExceeded: `x` contains itself, nests too deeply, or is too large.
    """
    t = type(x)
    if t is str:
        return _stored_text(x)
    if t is bool or x is None or (t is int and -SMALL_INT < x < SMALL_INT):
        return x
    walk = _Walk("the value", meter().limits.max_state_chars if max_chars is None else max_chars)
    out = walk.copy(x, level)
    walk.finish()
    return out


def decode(x: Any, depth: int = 0) -> Value:
    """Inverse of :func:`encode`; `depth` is the nesting level of `x` (-1 for a dict of variables).

    Total on JSON data: an object of one ``$`` key that is not a tag of :func:`encode` (an unknown
    tag, a ``$date`` whose text is not a date) is an object, as in states saved before such objects
    were wrapped (``{"$date": "not-a-date"}``, the machine's own ``{"$loop1": 3}``).

    Raises:
        LimitExceeded: `x` nests deeper than ``max_depth``.
    """
    t = type(x)
    if t is not list and t is not dict:
        return x
    if t is dict and len(x) == 1:  # a tag of encode?
        (key, body), = x.items()
        read = _SCALAR_TAGS.get(key)
        if read is not None:
            if type(body) is str:
                try:
                    return read(body)
                except ValueError:
                    pass
        elif key == "$obj" and type(body) is dict:
            x = body  # its keys are the object's own
        elif key == "$pairs" and type(body) is list:
            pairs = _pairs(body)
            if pairs is not None:
                x = pairs
    if depth >= meter().max_depth:
        raise LimitExceeded(f"nested too deeply: the value has more than {meter().max_depth:,} levels")
    if t is list:
        out = []
        for i in x:
            out.append(decode(i, depth + 1))
        return out
    obj = {}
    for k, v in x.items():
        obj[k] = decode(v, depth + 1)
    return obj


def _finite(body: str) -> float:
    """The float of a ``{"$float": body}``.

    Raises:
        ValueError: `body` is not a finite number.
    """
    f = float(body)
    if not math.isfinite(f):
        raise ValueError(body)
    return f


def _unescaped(body: str) -> str:
    """The text of a ``{"$text": body}``.

    Raises:
        ValueError: `body` is not the inside of a JSON string.
    """
    text = json.loads('"' + body + '"')
    if type(text) is not str:
        raise ValueError("not a JSON string")
    return text


# the tags of encode that hold one value written as text, and how each is read back
_SCALAR_TAGS: dict[str, Callable[[str], Value]] = {
    "$date": _dt.datetime.fromisoformat, "$day": _dt.date.fromisoformat, "$float": _finite, "$text": _unescaped}


def _pairs(pairs: list[Any]) -> dict[str, Any] | None:
    """The object of ``{"$pairs": [[key, value], ...]}`` (values still encoded), or None when
    `pairs` is not that."""
    obj = {}
    for pair in pairs:
        if type(pair) is not list or len(pair) != 2:
            return None
        key = pair[0]
        if type(key) is dict and len(key) == 1 and type(key.get("$text")) is str:
            try:
                key = _unescaped(key["$text"])
            except ValueError:
                return None
        if type(key) is not str:
            return None
        obj[key] = pair[1]
    return obj


def to_json(x: Value) -> str:
    """Compact JSON text of a value, dates as ISO strings.

    Raises:
        LimitExceeded: `x` contains itself, nests too deeply, or its text would be longer than
            ``max_text_chars``.
    """
    walk = _Walk("the value", dates=False)
    plain = walk.copy(x, 0)
    walk.finish()
    text = json.dumps(plain, ensure_ascii=False, separators=(",", ":"))
    if len(text) > FREE_TEXT:
        walk.m.check_text(len(text), "its JSON text")  # escapes make it longer than estimated
    return text


def measure(x: Value, what: str = "the value", max_chars: int | None = None) -> tuple[int, int]:
    """Check a value against the caps without copying it; returns its nodes (the value, and each
    item and field inside it) and about the characters of its JSON text.

    Used where values come from outside or are compared: HEAR answers, FROMJSON, ``=``.

    Args:
        x: the value.
        what: how messages name it.
        max_chars: the JSON size it may have; default ``max_text_chars``.

    Raises:
        LimitExceeded: `x` contains itself, nests too deeply, or is too large.
    """
    walk = _Walk(what, max_chars)
    walk.visit(x, 0)
    walk.finish()
    return walk.count, walk.size
