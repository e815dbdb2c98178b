"""Helpers the compiled code calls: containers, iteration, SELECT CASE, errors.

The arithmetic and comparisons live in :mod:`gb_basic.values`; this module adds what only
compiled statements need. Everything here is pure. Growing a list or an object past
``max_list_items`` is refused; walking a large one (a field looked up by case, FOR EACH over
an object or a text) is charged (see :mod:`gb_basic.limits`).
"""

from __future__ import annotations

from typing import Any

from .errors import BasicRuntimeError, UnsupportedKeyword
from .keywords import PENDING
from .limits import FREE_ITEMS, ITEMS_PER_STEP, meter
from .values import describe, eq, ge, gt, le, lt, ne, number_or_none, to_number, to_str

__all__ = ["attr", "index", "set_attr", "set_item", "iterate", "case_match", "unsupported", "get_key",
           "num", "Stop"]


class Stop(Exception):
    """END (or the dialog's own RETURN x, its value the argument): stops the whole dialog."""


def attr(obj: Any, name: str) -> Any:
    """``obj.name``: a field of an object; ``.length``/``.count`` of lists and text."""
    t = type(obj)
    if t is dict:
        v = obj.get(name)
        if v is None and name not in obj:
            if len(obj) > FREE_ITEMS:  # the search by case visits every key: a step each
                meter().charge(len(obj))
            low = name.lower()
            for k, val in obj.items():
                if k.lower() == low:
                    return val
        return v
    if obj is None:
        return None
    if name.lower() in ("length", "count") and (t is list or t is str):
        return len(obj)
    for field in ("year", "month", "day", "hour", "minute", "second"):
        if name.lower() == field and hasattr(obj, field):
            return getattr(obj, field)
    raise BasicRuntimeError(f"{describe(obj)} has no field {name!r}")


def index(obj: Any, key: Any) -> Any:
    """``obj[key]``: 0-based for lists and text, by key for objects; out of range is NULL."""
    t = type(obj)
    if t is list or t is str:
        i = number_or_none(key)
        if i is None or int(i) != i:
            raise BasicRuntimeError(f"index {describe(key)} is not a whole number")
        i = int(i)
        if -len(obj) <= i < len(obj):
            return obj[i]
        return None
    if t is dict:
        return attr(obj, to_str(key))
    if obj is None:
        return None
    raise BasicRuntimeError(f"cannot index {describe(obj)}")


def set_attr(obj: Any, name: str, value: Any) -> dict[str, Any]:
    """``obj.name = value``; a NULL ``obj`` becomes a new object. Returns the object."""
    if obj is None:
        obj = {}
    elif type(obj) is not dict:
        raise BasicRuntimeError(f"cannot set field {name!r} on {describe(obj)}")
    if len(obj) >= FREE_ITEMS and name not in obj:
        meter().check_items(len(obj) + 1, "the object")
    obj[name] = value
    return obj  # type: ignore[no-any-return]


def set_item(obj: Any, key: Any, value: Any) -> Any:
    """``obj[key] = value``; index len(list) appends; a NULL ``obj`` becomes a list or object."""
    if obj is None:
        obj = [] if number_or_none(key) is not None and type(key) is not str else {}
    t = type(obj)
    if t is dict:
        k = to_str(key)
        if len(obj) >= FREE_ITEMS and k not in obj:
            meter().check_items(len(obj) + 1, "the object")
        obj[k] = value
        return obj
    if t is list:
        i = int(to_number(key, "an index"))
        if 0 <= i < len(obj):
            obj[i] = value
        elif i == len(obj):
            if i >= FREE_ITEMS:
                meter().check_items(i + 1)
            obj.append(value)
        else:
            raise BasicRuntimeError(f"index {i} is out of range (the list has {len(obj)} items)")
        return obj
    raise BasicRuntimeError(f"cannot set an item of {describe(obj)}")


def iterate(x: Any) -> list[Any]:
    """What FOR EACH walks: list items, object keys, characters of text; NULL is empty."""
    t = type(x)
    if t is list:
        return x  # type: ignore[no-any-return]
    if x is None:
        return []
    if t is dict or t is str:
        if len(x) > FREE_ITEMS:
            meter().charge(len(x) // ITEMS_PER_STEP)
        return list(x)
    raise BasicRuntimeError(f"cannot loop over {describe(x)}")


def num(x: Any, what: str) -> int | float:
    """A number for a FOR bound; `what` names it in the error."""
    return to_number(x, f"a number ({what})")


_IS = {"=": eq, "<>": ne, "<": lt, ">": gt, "<=": le, ">=": ge}


def case_match(subject: Any, kind: str, a: Any, b: Any = None, op: str | None = None) -> bool:
    """One CASE item: a value, ``a TO b`` or ``IS op a``."""
    if kind == "eq":
        return eq(subject, a)
    if kind == "range":
        return ge(subject, a) and le(subject, b)
    return _IS[op or "="](subject, a)


def get_key(value: Any, name: str) -> str:
    """The key of ``x = GET name`` when `name` is a variable of the dialog: its value when that
    is an http:// or https:// URL (the runtime fetches it), else `name` (the session variable)."""
    if isinstance(value, str) and value.lstrip()[:8].lower().startswith(("http://", "https://")):
        return value
    return name


def unsupported(keyword: str, what: str = "keyword") -> None:
    """Raise for a keyword (or function) gb parses but does not implement (saying what it waits
    for: "channel not configured", "no LLM configured", where the keyword table knows)."""
    raise UnsupportedKeyword(keyword, what, PENDING.get(keyword, "") if what == "keyword" else "")
