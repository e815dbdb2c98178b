"""Hypothesis strategies for every value a BASIC dialog can build, and a type-exact equality."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from hypothesis import strategies as st

__all__ = ["TAGS", "LOOKALIKES", "basic_values", "levels_of", "same", "through_json"]

# Texts and keys that look like gb's own encoding, or like what it encodes.
TAGS = ["$date", "$day", "$obj", "$float", "$text", "$pairs", "$", "$$date", "$type", "$loop1", "$DATE", " $date",
        "date"]
LOOKALIKES = ["2026-11-25T14:00:00", "2026-11-25", "not-a-date", "1e+20", "-1e+300", "nan", "inf", "",
              '{"$date": "2026-11-25T14:00:00"}', "\x00", "\ud800", "🙂", "\u202e"]

DIGITS = 4_300  # the default max_number_digits
texts = st.one_of(st.text(st.characters(codec=None)), st.sampled_from(TAGS + LOOKALIKES))
keys = st.one_of(st.text(st.characters(codec=None), max_size=12), st.sampled_from(TAGS))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**DIGITS - 1), max_value=10**DIGITS - 1),
    st.sampled_from([10**DIGITS - 1, -(10**DIGITS - 1), 2**63, -(2**63) - 1]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e16, -1e16, 1.7976931348623157e308, 5e-324, -0.0, 9999999999999998.0, 1e-5]),
    texts,
    st.datetimes(),
    st.datetimes(timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-3))])),
    st.dates(),
)


def tagged_objects(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects of one ``$`` key: the shapes encode's tags have, with user data in them."""
    return st.one_of(
        st.builds(lambda k, v: {k: v}, st.sampled_from(TAGS), st.one_of(texts, inner)),
        st.builds(lambda v: {"$obj": v}, st.dictionaries(keys, inner, max_size=3)),
        st.builds(lambda d: {"$date": d.isoformat()}, st.datetimes()),
        st.builds(lambda d: {"$day": d.isoformat()}, st.dates()),
        st.builds(lambda t: {"$text": t}, st.sampled_from(["a\\u0000b", "\\ud800", "\\", '"', "plain"])),
        st.builds(lambda v: {"$pairs": [["\x00", v], ["k", v]]}, inner),
    )


basic_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=5),
                            tagged_objects(inner)),
    max_leaves=40,
)


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (1 is not 1.0 nor True; a date is not a
    datetime; -0.0 is not 0.0), objects with the same keys in the same order."""
    if type(a) is not type(b):
        return False
    if type(a) is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if type(a) is float:
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if type(a) is dt.datetime:
        return a == b and a.utcoffset() == b.utcoffset()
    return bool(a == b)


def levels_of(x: Any) -> int:
    """Levels of lists and objects in `x`."""
    if type(x) is list:
        return 1 + max(map(levels_of, x), default=0)
    if type(x) is dict:
        return 1 + max(map(levels_of, x.values()), default=0)
    return 0


def through_json(data: Any) -> Any:
    """What a store gives back: the JSON text of `data` read again. The text must be one every
    store holds: UTF-8 (no lone surrogate), no NUL (PostgreSQL refuses it, even escaped)."""
    text = json.dumps(data, ensure_ascii=False)
    text.encode("utf-8")  # no lone surrogate
    assert "\\u0000" not in text.replace("\\\\", "")  # no NUL (json writes it \u0000); an escaped \ is not one
    return json.loads(text)
