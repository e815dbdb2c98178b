"""User memory: what a bot remembers of one user (SET USER MEMORY, REMEMBER; GET USER MEMORY, RECALL).

One memory per (bot, user): ``SET USER MEMORY key, value`` is ``REMEMBER key, value`` without a
duration, and ``RECALL key`` reads what either wrote (as ``GET USER MEMORY(key)`` does). The
user is the session's user account, so every session of that user with the bot (on any
channel, after any restart) reads the same memory; an anonymous session has a memory of its own,
which goes when the session is deleted (7 days after its last message, ``session-expiry-days``).
Another bot never sees it.

The entries are rows of ``user_memory`` in the session database (``bot_id, owner, key, value,
expires_at``), written in the turn's own transaction (with its messages and state, like bot
memory): what a reply acknowledges is stored, and a turn that is not saved leaves nothing. An
entry past its expiry reads as NULL; the cleanup job deletes it.

Durations (``REMEMBER "code", code, "5 minutes"``): ``N unit`` with unit one of seconds, minutes,
hours, days, weeks, months (30 days), years (365 days), singular or plural, in English or
Portuguese (``"30 dias"``) or abbreviated (``s``, ``min``, ``h``, ``d``, ``w``); a bare number
is days; ``"forever"`` / ``"permanent"`` (or no duration, or NULL) keep the entry until it is
written again.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from gb_basic import BasicRuntimeError, values

__all__ = ["MAX_KEY", "memory_key", "remember_until", "duration_seconds"]

MAX_KEY = 500  # characters of a key (the column's size)
MAX_DAYS = 100 * 365  # the longest duration: a century
_UNITS: dict[str, float] = {}
for _names, _seconds in (
        (("s", "sec", "secs", "second", "seconds", "segundo", "segundos"), 1),
        (("m", "min", "mins", "minute", "minutes", "minuto", "minutos"), 60),
        (("h", "hr", "hrs", "hour", "hours", "hora", "horas"), 3600),
        (("d", "day", "days", "dia", "dias"), 86400),
        (("w", "wk", "week", "weeks", "semana", "semanas"), 7 * 86400),
        (("mo", "month", "months", "mes", "mês", "meses"), 30 * 86400),
        (("y", "yr", "year", "years", "ano", "anos"), 365 * 86400)):
    _UNITS.update(dict.fromkeys(_names, _seconds))
_FOREVER = frozenset({"", "forever", "permanent", "never", "sempre", "permanente"})
_DURATION = re.compile(r"([0-9]+(?:[.,][0-9]+)?)\s*([^\W\d_]*)")


def memory_key(keyword: str, key: Any) -> str:
    """The key a dialog wrote, as text.

    Raises:
        BasicRuntimeError: NULL, empty, or longer than MAX_KEY characters.
    """
    if key is None:
        raise BasicRuntimeError(f"{keyword} needs a key, got NULL")
    text = values.to_str(key)
    if not text.strip():
        raise BasicRuntimeError(f"{keyword} needs a key, got an empty text")
    if len(text) > MAX_KEY:
        raise BasicRuntimeError(f"{keyword}: the key has {len(text):,} characters (at most {MAX_KEY})")
    return text


def duration_seconds(duration: Any) -> float | None:
    """The seconds a REMEMBER duration means; None for "forever" (or NULL).

    Raises:
        BasicRuntimeError: a text that is not a duration, a number of 0 or less, over a century.
    """
    if duration is None:
        return None
    if values.is_number(duration):
        try:
            seconds = float(values.to_number(duration)) * 86400
        except OverflowError:  # an int too large for a float: over any limit
            seconds = math.inf
    elif isinstance(duration, str):
        text = duration.strip().lower()
        if text in _FOREVER:
            return None
        parts = _DURATION.fullmatch(text)
        unit = parts.group(2) if parts else None
        if parts is None or (unit and unit not in _UNITS):
            raise BasicRuntimeError(f"the duration {values.to_str(duration)!r} is not understood (write \"30 days\", "
                                    "\"2 hours\", \"10 minutes\", a number of days, or \"forever\")")
        seconds = float(parts.group(1).replace(",", ".")) * (_UNITS[unit] if unit else 86400)
    else:
        raise BasicRuntimeError(f"a duration must be a text like \"30 days\" or a number of days, "
                                f"got {values.type_name(duration)}")
    if not 0 < seconds <= MAX_DAYS * 86400:  # NaN fails this too
        raise BasicRuntimeError(f"a duration must be more than 0 and at most {MAX_DAYS // 365} years, "
                                f"got {values.to_str(duration)}")
    return seconds


def remember_until(key: str, duration: Any, now: dt.datetime) -> dt.datetime | None:
    """When an entry REMEMBERed at `now` for `duration` expires (None: it does not).

    Raises:
        BasicRuntimeError: the duration is refused (see :func:`duration_seconds`), naming the key.
    """
    try:
        seconds = duration_seconds(duration)
    except BasicRuntimeError as exc:
        raise BasicRuntimeError(f"REMEMBER {key!r}: {exc.message}") from None
    return None if seconds is None else now + dt.timedelta(seconds=seconds)
