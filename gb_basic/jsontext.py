"""JSON text of plain data, fast: orjson, with the standard library for what orjson refuses.

The message path encodes a session's variables, context, dialog state and messages several
times a turn (the SQL row, the Valkey copy, the reply), and ``json.dumps`` was a measurable part
of a turn under load (bench/server.py). orjson is about ten times faster; it refuses integers
beyond 64 bits and texts with a lone surrogate, which gb's values can hold (``2 ^ 100``, a
client's broken UTF-16), so those fall back to ``json`` and come out the same as before.
The text is compact (no spaces after ``,`` and ``:``) and not ASCII-escaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import orjson

__all__ = ["dumps", "dumps_bytes", "loads"]

# what json has no form for goes to `default` (or fails) as with json, not orjson's own forms
_AS_JSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_LONG_DIGITS = re.compile(r"\d{19}")
_LONG_DIGITS_B = re.compile(rb"\d{19}")


def dumps(data: Any) -> str:
    """`data` as JSON text.

    Raises:
        TypeError: `data` holds something JSON cannot represent.
    """
    try:
        return orjson.dumps(data, option=_AS_JSON).decode()
    except TypeError:  # an integer over 64 bits, a lone surrogate, a non-text key ...
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def dumps_bytes(data: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """`data` as UTF-8 JSON (a lone surrogate goes out as its ``\\u`` escape, which UTF-8 cannot
    carry); `default` turns what JSON has no form for into something it has (as json's).

    Raises:
        TypeError: `data` holds something JSON cannot represent (and `default` does not help).
    """
    try:
        return orjson.dumps(data, default=default, option=_AS_JSON)
    except TypeError:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=default)
        try:
            return text.encode()
        except UnicodeEncodeError:
            return json.dumps(data, separators=(",", ":"), default=default).encode("ascii")


def loads(text: str | bytes) -> Any:
    """The data of a JSON text this module (or ``json``) wrote.

    Raises:
        ValueError: `text` is not JSON.
    """
    # orjson reads an integer over 64 bits as a float: a text with 19 digits in a row goes to json
    if (_LONG_DIGITS_B if isinstance(text, bytes) else _LONG_DIGITS).search(text) is not None:  # type: ignore[arg-type]
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # a lone surrogate's \\u escape, NaN ...: json reads what json wrote
        return json.loads(text)
