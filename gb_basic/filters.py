"""The filters of FIND, FILTER, UPDATE and DELETE, read into plain data.

General Bots authors write a filter as text, built with ``+`` from the dialog's values::

    FIND "items", "item_code = '" + code + "'"
    FIND "cases", "status != 'closed' AND priority = 'high' ORDER BY created_at DESC LIMIT 5"
    FIND "orders.xlsx", "status=pending"
    FIND "leads", "email=" + email + ",status=warm"          ' a comma is AND
    FILTER opportunities, "stage <> 'Closed Won' AND amount > 1000"

:func:`parse_filter` reads such a text into a :class:`Filter` (conditions joined by AND, OR, NOT
and parentheses, then ORDER BY and LIMIT); a value is never SQL: the runtime binds it as a
parameter (:mod:`gb_sessions.tables`) or compares it in Python (:func:`matches`, for lists and
the rows of a CSV or XLSX file). What a condition says:

* ``column op value`` with ``= == <> != < > <= >= LIKE ILIKE NOT LIKE CONTAINS``; ``column [NOT] IN
  (v1, v2)``; ``column BETWEEN a AND b``; ``column IS [NOT] NULL``; ``DATE(column) = DATE('...')``.
* A value is a quoted text (``'...'`` or ``"..."``, a doubled quote inside is one quote), ``TRUE``,
  ``FALSE``, ``NULL``, ``NOW()``, ``TODAY()``, ``DATE('2026-01-31')``, or bare text up to the next
  ``AND``, ``OR``, comma, ``)``, ``ORDER BY`` or ``LIMIT`` (``status=pending``). Numbers stay text
  here (``Cod=007`` keeps its zeros): the column's type decides what a value means.
* A column is a name (letters, digits, ``_``), or ``[any text]`` / a backquoted name for a
  spreadsheet header with spaces.

Pure and synchronous: no I/O, no SQL. Errors are BasicRuntimeErrors that quote the filter and
say where it went wrong.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import BasicRuntimeError
from .values import describe, number_or_none, to_str

__all__ = ["Cond", "Filter", "Junction", "Negation", "Node", "column_names", "equals", "matches",
           "parse_filter", "fold"]

MAX_FILTER_CHARS = 10_000  # a filter longer than this is refused before it is read
COMPARISONS = ("=", "<>", "<", ">", "<=", ">=")
_OPS = ("<=", ">=", "<>", "!=", "==", "=", "<", ">")
_STOP = re.compile(r"\s*(?:\b(?:AND|OR|ORDER\s+BY|LIMIT)\b|,|\)|$)", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d]\w*", re.UNICODE)
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


@dataclass(frozen=True)
class Cond:
    """One condition: `column` `op` `value`.

    Attributes:
        column: the column as written (matched to the table's columns case-insensitively).
        op: one of ``= <> < > <= >= LIKE NOT LIKE CONTAINS IN NOT IN IS NULL IS NOT NULL``.
        value: a text, bool, None, date or datetime; a tuple of them for IN.
        date_of: ``DATE(column)``: the column's date part is compared.
    """

    column: str
    op: str
    value: Any = None
    date_of: bool = False


@dataclass(frozen=True)
class Junction:
    """Conditions joined by ``AND`` or ``OR`` (`op`)."""

    op: str
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Negation:
    """``NOT condition``."""

    part: Node


Node = Cond | Junction | Negation


@dataclass(frozen=True)
class Filter:
    """A whole filter: its condition (None: every row), ORDER BY (column, descending) pairs, LIMIT."""

    where: Node | None = None
    order: tuple[tuple[str, bool], ...] = ()
    limit: int | None = None

    def __and__(self, other: Filter) -> Filter:
        """Both filters' conditions; the order and limit of `other` if it has them."""
        parts = tuple(w for w in (self.where, other.where) if w is not None)
        where = parts[0] if len(parts) == 1 else Junction("AND", parts) if parts else None
        return Filter(where, other.order or self.order, other.limit if other.limit is not None else self.limit)


def parse_filter(text: str, now: Callable[[], _dt.datetime] = _dt.datetime.now) -> Filter:
    """Read a filter text (see the module's docstring). An empty text is every row.

    Args:
        text: the filter as the dialog built it.
        now: the clock of ``NOW()`` and ``TODAY()`` (the dialog's local time).

    Raises:
        BasicRuntimeError: the text is not a filter; the message quotes it and says where.
    """
    if len(text) > MAX_FILTER_CHARS:
        raise BasicRuntimeError(f"the filter has {len(text):,} characters (at most {MAX_FILTER_CHARS:,})")
    return _Reader(text, now).read()


def column_names(node: Node | None) -> list[str]:
    """The columns a condition names, in order, each once."""
    out: list[str] = []
    stack = [node] if node is not None else []
    while stack:
        n = stack.pop(0)
        if isinstance(n, Cond):
            if n.column not in out:
                out.append(n.column)
        elif isinstance(n, Junction):
            stack[:0] = list(n.parts)
        else:
            stack.insert(0, n.part)
    return out


class _Reader:
    """A recursive-descent reader over the raw text (bare values need the text, not tokens)."""

    def __init__(self, text: str, now: Callable[[], _dt.datetime]) -> None:
        self.text = text
        self.pos = 0
        self.now = now

    def fail(self, what: str) -> BasicRuntimeError:
        shown = self.text if len(self.text) <= 120 else self.text[:117] + "..."
        return BasicRuntimeError(f"filter {shown!r}: {what} at position {self.pos + 1}")

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def keyword(self, *words: str) -> bool:
        """Consume the words (case-insensitive, whole words) if they come next."""
        self.skip()
        pattern = r"\s+".join(re.escape(w) for w in words) + r"\b"
        m = re.compile(pattern, re.IGNORECASE).match(self.text, self.pos)
        if m is None:
            return False
        self.pos = m.end()
        return True

    def symbol(self, s: str) -> bool:
        self.skip()
        if self.text.startswith(s, self.pos):
            self.pos += len(s)
            return True
        return False

    def read(self) -> Filter:
        self.skip()
        where = None if self.at_clause() else self.disjunction()
        order = self.order_by()
        limit = self.limit()
        self.skip()
        if self.pos < len(self.text):
            raise self.fail(f"unexpected {self.text[self.pos:self.pos + 20]!r}")
        return Filter(where, order, limit)

    def at_clause(self) -> bool:
        self.skip()
        rest = self.text[self.pos:]
        return not rest or re.match(r"(?:ORDER\s+BY|LIMIT)\b", rest, re.IGNORECASE) is not None

    def disjunction(self) -> Node:
        parts = [self.conjunction()]
        while self.keyword("OR"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Junction("OR", tuple(parts))

    def conjunction(self) -> Node:
        parts = [self.negation()]
        while self.keyword("AND") or self.symbol(","):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else Junction("AND", tuple(parts))

    def negation(self) -> Node:
        if self.keyword("NOT"):
            return Negation(self.negation())
        if self.symbol("("):
            inner = self.disjunction()
            if not self.symbol(")"):
                raise self.fail("expected ')'")
            return inner
        return self.condition()

    def condition(self) -> Cond:
        column, date_of = self.column()
        if self.keyword("IS", "NOT", "NULL"):
            return Cond(column, "IS NOT NULL", None, date_of)
        if self.keyword("IS", "NULL"):
            return Cond(column, "IS NULL", None, date_of)
        if self.keyword("NOT", "IN"):
            return Cond(column, "NOT IN", self.value_list(), date_of)
        if self.keyword("IN"):
            return Cond(column, "IN", self.value_list(), date_of)
        if self.keyword("BETWEEN"):
            low = self.value()
            if not self.keyword("AND"):
                raise self.fail("expected AND in BETWEEN ... AND ...")
            return Cond(column, "BETWEEN", (low, self.value()), date_of)
        for words, op in ((("NOT", "LIKE"), "NOT LIKE"), (("NOT", "ILIKE"), "NOT LIKE"), (("LIKE",), "LIKE"),
                          (("ILIKE",), "LIKE"), (("CONTAINS",), "CONTAINS")):
            if self.keyword(*words):
                return Cond(column, op, self.value(), date_of)
        return Cond(column, self.operator(), self.value(), date_of)

    def column(self) -> tuple[str, bool]:
        """A column name, or DATE(column)."""
        self.skip()
        start = self.pos
        if self.keyword("DATE") and self.symbol("("):
            name = self.name()
            if not self.symbol(")"):
                raise self.fail("expected ')' after DATE(column")
            return name, True
        self.pos = start  # a column named "date"
        return self.name(), False

    def name(self) -> str:
        self.skip()
        for open_, close in (("[", "]"), ("`", "`")):
            if self.text.startswith(open_, self.pos):
                end = self.text.find(close, self.pos + 1)
                if end < 0:
                    raise self.fail(f"expected {close!r} to end the column name")
                name = self.text[self.pos + 1:end].strip()
                self.pos = end + 1
                if not name:
                    raise self.fail("empty column name")
                return name
        m = _WORD.match(self.text, self.pos)
        if m is None:
            found = self.text[self.pos:self.pos + 20] or "the end"
            raise self.fail(f"expected a column name, found {found!r}")
        self.pos = m.end()
        return m.group()

    def operator(self) -> str:
        self.skip()
        for op in _OPS:
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                return {"!=": "<>", "==": "="}.get(op, op)
        found = self.text[self.pos:self.pos + 20] or "the end"
        raise self.fail(f"expected an operator (=, <>, <, >, <=, >=, LIKE, IN, IS NULL), found {found!r}")

    def value_list(self) -> tuple[Any, ...]:
        if not self.symbol("("):
            raise self.fail("expected '(' after IN")
        items = [self.value()]
        while self.symbol(","):
            items.append(self.value())
        if not self.symbol(")"):
            raise self.fail("expected ')' to end the IN list")
        return tuple(items)

    def value(self) -> Any:
        self.skip()
        if self.pos < len(self.text) and self.text[self.pos] in "'\"":
            return self.quoted()
        start = self.pos
        for word, constant in (("NULL", None), ("TRUE", True), ("FALSE", False)):
            if self.keyword(word) and _STOP.match(self.text, self.pos):
                return constant
            self.pos = start
        clock = self.clock()
        if clock is not None:
            return clock
        return self.bare()

    def clock(self) -> Any:
        """NOW(), TODAY(), CURRENT_TIMESTAMP, CURRENT_DATE or DATE('...'), else None (nothing read)."""
        start = self.pos
        if (self.keyword("NOW") and self.symbol("(") and self.symbol(")")) or self.keyword("CURRENT_TIMESTAMP"):
            return self.now()
        self.pos = start
        if (self.keyword("TODAY") and self.symbol("(") and self.symbol(")")) or self.keyword("CURRENT_DATE"):
            return self.now().date()
        self.pos = start
        if self.keyword("DATE") and self.symbol("("):
            inner = self.value()
            if not self.symbol(")"):
                raise self.fail("expected ')' after DATE(")
            day = as_date(inner)
            if day is None:
                raise self.fail(f"DATE({describe(inner)}) is not a date")
            return day
        self.pos = start
        return None

    def quoted(self) -> str:
        quote = self.text[self.pos]
        out: list[str] = []
        i = self.pos + 1
        while i < len(self.text):
            c = self.text[i]
            if c == quote:
                if self.text.startswith(quote * 2, i):  # a doubled quote is one quote
                    out.append(quote)
                    i += 2
                    continue
                self.pos = i + 1
                return "".join(out)
            out.append(c)
            i += 1
        raise self.fail(f"the text that starts with {quote} is not closed")

    def bare(self) -> str:
        m = _STOP.search(self.text, self.pos)
        end = m.start() if m is not None else len(self.text)
        raw = self.text[self.pos:end].strip()
        if not raw:
            found = self.text[self.pos:self.pos + 20] or "the end"
            raise self.fail(f"expected a value, found {found!r}")
        self.pos = end
        return raw

    def order_by(self) -> tuple[tuple[str, bool], ...]:
        if not self.keyword("ORDER", "BY"):
            return ()
        out = []
        while True:
            name = self.name()
            desc = self.keyword("DESC")
            if not desc:
                self.keyword("ASC")
            out.append((name, desc))
            if not self.symbol(","):
                return tuple(out)

    def limit(self) -> int | None:
        if not self.keyword("LIMIT"):
            return None
        self.skip()
        m = re.compile(r"\d+").match(self.text, self.pos)
        if m is None:
            raise self.fail("expected a whole number after LIMIT")
        self.pos = m.end()
        return int(m.group())


# --- matching in Python (lists, CSV and XLSX rows) -------------------------------------------------


def fold(text: str) -> str:
    """`text` lower-cased, accents stripped: how General Bots compares texts of files and lists."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def as_date(x: Any) -> _dt.date | None:
    """A date or datetime from `x` (a date, or ISO text such as ``2026-01-31 10:00``), else None."""
    if isinstance(x, _dt.date):
        return x
    if type(x) is not str:
        return None
    s = x.strip()
    if not re.match(r"\d{4}-\d{2}-\d{2}", s):
        return None
    try:
        return _dt.datetime.fromisoformat(s) if len(s) > 10 else _dt.date.fromisoformat(s)
    except ValueError:
        return None


def _key(a: Any, b: Any) -> tuple[Any, Any] | None:
    """`a` and `b` made comparable (dates, then numbers, then folded texts); None for NULLs."""
    if a is None or b is None or a == "" or b == "":
        return None
    if isinstance(a, _dt.date) or isinstance(b, _dt.date):
        da, db = as_date(a), as_date(b)
        if da is not None and db is not None:
            if isinstance(da, _dt.datetime) != isinstance(db, _dt.datetime):  # a day against a time: its start
                da = da if isinstance(da, _dt.datetime) else _dt.datetime.combine(da, _dt.time())
                db = db if isinstance(db, _dt.datetime) else _dt.datetime.combine(db, _dt.time())
            return _naive(da), _naive(db)
    na, nb = number_or_none(a), number_or_none(b)
    if na is not None and nb is not None and type(a) is not bool and type(b) is not bool:
        return na, nb
    return fold(to_str(a)), fold(to_str(b))


def _naive(d: _dt.date) -> _dt.date:
    return d.replace(tzinfo=None) if isinstance(d, _dt.datetime) else d


def equals(a: Any, b: Any) -> bool:
    """Whether a row's value `a` equals a filter's value `b` (``""`` is NULL; see :func:`matches`)."""
    if (a is None or a == "") and (b is None or b == ""):
        return True
    k = _key(a, b)
    return k is not None and k[0] == k[1]


def _like(pattern: str) -> re.Pattern[str]:
    """SQL's LIKE (``%`` any text, ``_`` one character) as a regular expression over folded text."""
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in fold(pattern)]
    return re.compile("".join(parts), re.DOTALL)


def _test(value: Any, c: Cond) -> bool:
    op = c.op
    if c.date_of:
        day = as_date(value)
        value = day.date() if isinstance(day, _dt.datetime) else day
    if op == "IS NULL":
        return value is None or value == ""
    if op == "IS NOT NULL":
        return not (value is None or value == "")
    if op in ("IN", "NOT IN"):
        return any(equals(value, v) for v in c.value) == (op == "IN")
    if op == "=":
        return equals(value, c.value)
    if op == "<>":
        return not equals(value, c.value)
    if op in ("LIKE", "NOT LIKE", "CONTAINS"):
        if value is None:
            return op == "NOT LIKE"
        text = fold(to_str(value))
        if op == "CONTAINS":
            found = fold(to_str(c.value)) in text
        else:
            found = _like(to_str(c.value)).fullmatch(text) is not None
        return found != (op == "NOT LIKE")
    if op == "BETWEEN":
        low, high = (_key(value, v) for v in c.value)
        return low is not None and high is not None and low[1] <= low[0] and high[0] <= high[1]
    k = _key(value, c.value)
    if k is None:
        return False
    try:
        return bool({"<": k[0] < k[1], ">": k[0] > k[1], "<=": k[0] <= k[1], ">=": k[0] >= k[1]}[op])
    except TypeError:  # a number against a text that is not one
        return False


def _field(row: Mapping[str, Any], column: str) -> Any:
    if column in row:
        return row[column]
    low = column.lower()
    for k, v in row.items():
        if k.lower() == low:
            return v
    return None


def _holds(row: Mapping[str, Any], node: Node) -> bool:
    if isinstance(node, Cond):
        return _test(_field(row, node.column), node)
    if isinstance(node, Negation):
        return not _holds(row, node.part)
    if node.op == "AND":
        return all(_holds(row, p) for p in node.parts)
    return any(_holds(row, p) for p in node.parts)


def matches(rows: Iterable[Mapping[str, Any]], f: Filter) -> list[Mapping[str, Any]]:
    """The rows `f` keeps, sorted and cut as it says; texts compare as General Bots compares
    them in files (case and accents ignored), numbers as numbers, dates as dates; ``""`` is NULL.
    Column names are matched case-insensitively (the caller checks that they exist)."""
    kept = [r for r in rows if f.where is None or _holds(r, f.where)]
    for column, desc in reversed(f.order):
        kept.sort(key=lambda r: _sort_key(_field(r, column)), reverse=desc)
    return kept[:f.limit] if f.limit is not None else kept


def _sort_key(v: Any) -> tuple[int, Any]:
    """NULLs first, then numbers, dates, texts (each among its kind)."""
    if v is None or v == "":
        return (0, 0)
    n = number_or_none(v)
    if n is not None and type(v) is not bool:
        return (1, n)
    if isinstance(v, _dt.date):
        return (2, _dt.datetime.combine(v, _dt.time()) if not isinstance(v, _dt.datetime) else _naive(v))
    return (3, fold(to_str(v)))
