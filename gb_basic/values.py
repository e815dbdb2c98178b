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

Dates survive JSON as ``{"$date": "2026-11-25T14:00:00"}`` (see :func:`encode` / :func:`decode`).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from typing import Any

from .errors import BasicRuntimeError

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
        s = x.strip()
        if not s:
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


def describe(x: Value) -> str:
    """Short quoted form of a value for error messages."""
    if isinstance(x, str):
        s = x if len(x) <= 30 else x[:27] + "..."
        return json.dumps(s, ensure_ascii=False)
    return f"{type_name(x)} {to_str(x)[:30]}".strip()


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
        return str(x)
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
    if type(x) is str:
        return bool(x) and x.lower() != "false"
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


def add(a: Value, b: Value) -> Value:
    """``a + b``: numbers add, a string on either side concatenates, date + n adds days."""
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a + b
    if ta is str or tb is str:
        return to_str(a) + to_str(b)
    if ta is list and tb is list:
        return a + b
    if _is_date(a) and number_or_none(b) is not None:
        return a + _dt.timedelta(days=to_number(b))
    if a is None:
        return b if b is not None else None
    if b is None:
        return a
    return to_number(a) + to_number(b)


def sub(a: Value, b: Value) -> Value:
    """``a - b``; date - date is a number of days, date - n goes back n days."""
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a - b
    if _is_date(a):
        if _is_date(b):
            d = a - b
            days = d.days + d.seconds / 86400
            return int(days) if float(days).is_integer() else days
        return a - _dt.timedelta(days=to_number(b))
    return to_number(a) - to_number(b)


def mul(a: Value, b: Value) -> Value:
    """``a * b`` with numeric strings read as numbers."""
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a * b
    return to_number(a) * to_number(b)


def div(a: Value, b: Value) -> Value:
    """``a / b``: exact integer quotients stay integers (``6 / 2`` is ``3``), else a float."""
    x, y = to_number(a), to_number(b)
    if y == 0:
        raise BasicRuntimeError("division by zero")
    if type(x) is int and type(y) is int and x % y == 0:
        return x // y
    return x / y


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
    """``a ^ b``."""
    x, y = to_number(a), to_number(b)
    try:
        r = x**y
    except ZeroDivisionError:
        raise BasicRuntimeError("division by zero") from None
    except OverflowError:
        raise BasicRuntimeError("number too large") from None
    if type(r) is complex:
        raise BasicRuntimeError(f"{to_str(x)} ^ {to_str(y)} is not a real number")
    return r


def neg(a: Value) -> Value:
    """Unary minus."""
    if type(a) is int or type(a) is float:
        return -a
    return -to_number(a)


def concat(a: Value, b: Value) -> str:
    """``a & b``: always text."""
    return to_str(a) + to_str(b)


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
        return bool(a == b)
    if a is None:
        return b is None or b == "" or b == 0
    if b is None:
        return bool(a == "" or a == 0)
    if type(a) is list or type(b) is list or type(a) is dict or type(b) is dict:
        return bool(a == b)
    x, y = _cmp_pair(a, b)
    return bool(x == y)


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


# --- JSON -------------------------------------------------------------------------------


def encode(x: Value) -> Any:
    """Turn a value into plain JSON data (dates become ``{"$date": iso}``)."""
    t = type(x)
    if t is str or t is int or t is bool or x is None:
        return x
    if t is float:
        return x if math.isfinite(x) else to_str(x)
    if t is list:
        return [encode(i) for i in x]
    if t is dict:
        return {str(k): encode(v) for k, v in x.items()}
    if t is _dt.datetime:
        return {"$date": x.isoformat()}
    if t is _dt.date:
        return {"$day": x.isoformat()}
    if t is tuple:
        return [encode(i) for i in x]
    return to_str(x)


def decode(x: Any) -> Value:
    """Inverse of :func:`encode`."""
    t = type(x)
    if t is list:
        return [decode(i) for i in x]
    if t is dict:
        if len(x) == 1:
            if "$date" in x:
                return _dt.datetime.fromisoformat(x["$date"])
            if "$day" in x:
                return _dt.date.fromisoformat(x["$day"])
        return {k: decode(v) for k, v in x.items()}
    return x


def to_json(x: Value) -> str:
    """Compact JSON text of a value, dates as ISO strings."""
    return json.dumps(_plain(x), ensure_ascii=False, separators=(",", ":"))


def _plain(x: Value) -> Any:
    t = type(x)
    if t is list or t is tuple:
        return [_plain(i) for i in x]
    if t is dict:
        return {str(k): _plain(v) for k, v in x.items()}
    if t is _dt.datetime or t is _dt.date:
        return to_str(x)
    if t is float and not math.isfinite(x):
        return to_str(x)
    return x
