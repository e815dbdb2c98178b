"""Cron expressions as General Bots authors write them, and their next occurrence (croniter).

The forms (``SET SCHEDULE "..."``):

* five fields, ``minute hour day-of-month month day-of-week`` (``"0 9 * * 1-5"``: weekdays at
  9:00; names ``MON``/``JAN``, lists ``8,16``, ranges ``1-5``, steps ``*/15``, ``L``);
* six fields, seconds FIRST, as General Bots' server reads them (``"0 30 22 * * *"``: 22:30:00
  every day; ``"1 * * * * *"``: second 1 of every minute);
* the shorthands ``@hourly``, ``@daily`` (``@midnight``), ``@weekly``, ``@monthly``, ``@yearly``
  (``@annually``).

An expression is read in a time zone (the bot's ``timezone`` in config.csv, default UTC) and its
occurrences come back in UTC, so daylight saving time moves them as the wall clock does.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from dataclasses import dataclass

from croniter import CroniterBadDateError, CroniterError, croniter

__all__ = ["Cron", "CronError", "zone"]

FORMS = ('five fields "minute hour day month weekday" ("0 9 * * 1-5"), six with the seconds first '
         '("0 30 22 * * *"), or @hourly, @daily, @weekly, @monthly, @yearly')
_ALIASES = frozenset({"@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually"})
MAX_CHARS = 200  # an expression longer than this is not a schedule (the column holds 200)


class CronError(ValueError):
    """Not a cron expression, or one that never comes; the message says what is wrong."""


@dataclass(frozen=True)
class Cron:
    """A checked cron expression (see the module's forms)."""

    expr: str

    @classmethod
    def parse(cls, text: str) -> Cron:
        """The expression `text` (spaces normalised), checked: it parses and it comes again.

        Raises:
            CronError: it is none of the forms, a field is out of range, or it never comes
                (``0 0 30 2 *``: February has no 30th).
        """
        expr = " ".join(text.split())
        if not expr or len(expr) > MAX_CHARS:
            raise CronError(f"{_shown(text)} is not a cron expression: write {FORMS}")
        if expr.startswith("@"):
            if expr.lower() not in _ALIASES:
                raise CronError(f"{_shown(text)} is not a cron shorthand: write {FORMS}")
            expr = expr.lower()
        elif len(expr.split(" ")) not in (5, 6):
            raise CronError(f"{_shown(text)} is not a cron expression ({len(expr.split(' '))} fields): write {FORMS}")
        cron = cls(expr)
        try:
            cron.next_after(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        except CronError:  # next_after's: no date matches
            raise CronError(f"{_shown(text)} never comes (no date matches all its fields)") from None
        except (CroniterError, ValueError, KeyError) as exc:  # croniter's messages repeat the expression
            raise CronError(f"{_shown(text)} is not a cron expression ({_reason(exc)}): write {FORMS}") from None
        return cron

    def next_after(self, t: dt.datetime, timezone: str = "UTC") -> dt.datetime:
        """The first occurrence strictly after `t` (aware), read in `timezone`; in UTC.

        Raises:
            CronError: the expression never comes again; `timezone` is unknown.
        """
        try:
            start = t.astimezone(zone(timezone))
            found = croniter(self.expr, start, second_at_beginning=True).get_next(dt.datetime)
        except CroniterBadDateError:
            raise CronError(f"{_shown(self.expr)} never comes again") from None
        return found.astimezone(dt.UTC)  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=64)
def zone(name: str) -> zoneinfo.ZoneInfo:
    """The time zone `name` (IANA: ``America/Sao_Paulo``; ``UTC``).

    Raises:
        CronError: no such zone.
    """
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CronError(f"unknown time zone {name!r} (write an IANA name: UTC, Europe/Lisbon, "
                        "America/Sao_Paulo)") from None


def _reason(exc: Exception) -> str:
    """croniter's message without the expression it repeats in brackets."""
    text = re.sub(r"^\[[^\]]*\]\s*", "", str(exc)).strip()
    return text.removeprefix("is ").strip() or type(exc).__name__


def _shown(text: str, limit: int = 60) -> str:
    return '"' + (text if len(text) <= limit else text[:limit] + "...") + '"'
