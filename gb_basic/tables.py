"""Bot table declarations: what ``TABLE name ... END TABLE`` says, as plain data.

A dialog (usually ``tables.bas``) declares the tables of its bot::

    TABLE students
        Id uuid key
        Name string(255)
        RegisteredAt TIMESTAMP DEFAULT NOW()
        ClassId UUID REFERENCES classes(id)
    END TABLE

The parser turns each block into a :class:`TableSpec`; the language never creates anything, the
runtime (:mod:`gb_runtime.tables`) creates the table in the bot's own namespace of the session
database and adds the columns that are new. Types keep the author's spelling, upper-cased
(``STRING``, ``UUID``, ``DECIMAL`` ...); sizes are the numbers in parentheses (``string(max)`` has
no size).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import BasicSyntaxError

__all__ = ["ColumnSpec", "TableSpec", "parse_table"]


@dataclass(frozen=True)
class ColumnSpec:
    """One field line of a TABLE block.

    Attributes:
        name: the column name as written (``RegisteredAt``); SQL names are lower-cased by the runtime.
        type: the type word upper-cased: STRING, TEXT, UUID, INTEGER, NUMBER, DOUBLE, DECIMAL,
            BOOLEAN, DATE, TIMESTAMP ... (unknown words are kept; the runtime maps them to text).
        size: the numbers in ``type(...)``: ``(255,)``, ``(15, 2)``; empty for none or ``max``.
        key: ``key`` or ``PRIMARY KEY``.
        not_null: ``NOT NULL``.
        unique: ``UNIQUE``.
        default: the DEFAULT expression as written (``NOW()``, ``0``, ``FALSE``, ``'open'``), or None.
        references: ``(table, column)`` of ``REFERENCES table(column)``, or None.
        line: the 1-based source line of the field.
    """

    name: str
    type: str
    size: tuple[int, ...] = ()
    key: bool = False
    not_null: bool = False
    unique: bool = False
    default: str | None = None
    references: tuple[str, str] | None = None
    line: int = 0


@dataclass(frozen=True)
class TableSpec:
    """A whole ``TABLE name ... END TABLE`` block: its name, its columns in order, its line."""

    name: str
    columns: tuple[ColumnSpec, ...]
    line: int = 0


# --- parsing a TABLE block -------------------------------------------------------------------------

_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:[^']|'')*'|"[^"\n]*")|(?P<num>[-+]?\d+(?:\.\d+)?)|(?P<word>[^\W\d][\w$]*)
                     |(?P<op>::|[()\[\],*.]|[^\s\w]))""", re.VERBOSE)
_COMMENT = re.compile(r"\s*(?:'|//|#|REM\b)", re.IGNORECASE)
# Lines that constrain the whole table (UNIQUE(a, b), CHECK (...)): accepted, not columns.
_TABLE_CONSTRAINT = re.compile(r"\s*(?:UNIQUE|CHECK|PRIMARY\s+KEY|FOREIGN\s+KEY|INDEX|CONSTRAINT)\s*\(",
                               re.IGNORECASE)
_MODIFIERS = "KEY, PRIMARY KEY, NOT NULL, NULL, UNIQUE, DEFAULT value, REFERENCES table(column), CHECK (...) " \
             "or GENERATED ALWAYS AS (...)"


class _Field:
    """The tokens of one field line and a cursor over them."""

    def __init__(self, text: str, line: int, error: _Error) -> None:
        self.text, self.line, self.error = text, line, error
        self.toks: list[tuple[str, str, int]] = []  # (kind, text, position)
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                break
            kind = m.lastgroup or "op"
            self.toks.append((kind, m.group(kind), m.start(kind)))
            pos = m.end()
        self.i = 0

    def peek(self, k: int = 0) -> tuple[str, str, int] | None:
        return self.toks[self.i + k] if self.i + k < len(self.toks) else None

    def word(self, k: int = 0) -> str:
        t = self.peek(k)
        return t[1].upper() if t is not None and t[0] == "word" else ""

    def take(self) -> tuple[str, str, int]:
        t = self.peek()
        if t is None:
            raise self.error(self.line, "the field line ends too early")
        self.i += 1
        return t

    def group(self) -> str:
        """A parenthesised group (``(a + b)``), its text without the outer parentheses."""
        t = self.take()
        if t[1] != "(":
            raise self.error(self.line, f"expected '(' after {self.toks[self.i - 2][1]}, got {t[1]!r}")
        depth, start = 1, t[2] + 1
        while depth:
            t = self.take()
            depth += {"(": 1, ")": -1}.get(t[1], 0)
        return self.text[start:t[2]]


class _Error:
    """Builds the errors of one TABLE block: at the field's line, naming the table."""

    def __init__(self, table: str, source: str | None, file: str | None) -> None:
        self.table, self.source, self.file = table, source, file

    def __call__(self, line: int, message: str) -> BasicSyntaxError:
        return BasicSyntaxError(f"TABLE {self.table}: {message}", file=self.file or "<dialog>", line=line,
                                column=1, source=self.source)


def parse_table(block: str, line: int = 1, *, file: str | None = None, source: str | None = None) -> TableSpec:
    """Read a ``TABLE name`` ... block (without its ``END TABLE`` line) into a :class:`TableSpec`.

    Field lines are ``name type[(size[, scale])] [modifiers]``: ``Id uuid key``, ``Name string(255)``,
    ``Amount DECIMAL(15,2) DEFAULT 0``, ``id UUID PRIMARY KEY DEFAULT uuid_generate_v4()``,
    ``ClassId UUID REFERENCES classes(id)``, ``Date DATE NOT NULL``, ``x string(max)``, and the
    older ``FIELD name AS type``. A ``*`` after the name (``Price* double``) is accepted. Comment
    and blank lines are skipped, as are lines that constrain the whole table (``UNIQUE(a, b)``,
    ``CHECK (...)``), which a column cannot hold; ``CHECK (...)`` and ``GENERATED ALWAYS AS (...)``
    on a field are accepted and not kept. A field whose parentheses are open goes on to the next lines.

    Args:
        block: the block's text, its ``TABLE name`` line first.
        line: the source line of the ``TABLE`` line.
        file: the file name errors carry.
        source: the whole source, for the errors' excerpts.

    Returns:
        The table and its columns, in order.

    Raises:
        BasicSyntaxError: a field line that is not a field, or a column declared twice, at its line.
    """
    lines = block.split("\n")
    head = lines[0].split()
    name = head[1] if len(head) > 1 else ""
    error = _Error(name, source, file)
    columns: list[ColumnSpec] = []
    seen: dict[str, int] = {}
    i = 1
    while i < len(lines):
        text, at = lines[i], line + i
        i += 1
        if not text.strip() or _COMMENT.match(text) or _TABLE_CONSTRAINT.match(text):
            continue
        while i < len(lines) and (text.count("(") > text.count(")") or text.rstrip().upper().endswith(" AS")
                                  or lines[i].lstrip().startswith("(")):  # GENERATED ALWAYS AS (a\n || b)
            text += "\n" + lines[i]
            i += 1
        col = _column(_Field(text, at, error))
        key = col.name.lower()
        if key in seen:
            raise error(at, f"column {col.name} is declared twice (first at line {seen[key]})")
        seen[key] = at
        columns.append(col)
    return TableSpec(name, tuple(columns), line)


def _column(f: _Field) -> ColumnSpec:
    """One field line: its name, type, size and modifiers."""
    if f.word() == "FIELD" and f.peek(1) is not None and f.peek(1)[0] == "word":  # type: ignore[index]
        f.take()
    kind, name, _ = f.take()
    if kind != "word":
        raise f.error(f.line, f"expected a column name, got {name!r}")
    if f.peek() is not None and f.peek()[1] == "*":  # type: ignore[index]
        f.take()
    if f.word() == "AS":
        f.take()
    kind, typ, _ = f.take() if f.peek() is not None else ("", "", 0)
    if kind != "word":
        raise f.error(f.line, f"column {name} needs a type (STRING, INTEGER, DATE, ...), got "
                              f"{typ!r}" if typ else f"column {name} needs a type (STRING, INTEGER, DATE, ...)")
    typ = typ.upper()
    size: tuple[int, ...] = ()
    if f.peek() is not None and f.peek()[1] == "(":  # type: ignore[index]
        size = _size(f.group(), f, name)
    if f.peek() is not None and f.peek()[1] == "[" and f.peek(1) is not None and f.peek(1)[1] == "]":  # type: ignore[index]
        f.take(), f.take()
        typ += "[]"
    key = not_null = unique = False
    default: str | None = None
    references: tuple[str, str] | None = None
    while f.peek() is not None:
        w = f.word()
        if w == "KEY":
            f.take()
            key = True
        elif w == "PRIMARY" and f.word(1) == "KEY":
            f.take(), f.take()
            key = True
        elif w == "NOT" and f.word(1) == "NULL":
            f.take(), f.take()
            not_null = True
        elif w == "NULL":
            f.take()
        elif w == "UNIQUE":
            f.take()
            unique = True
        elif w == "DEFAULT":
            f.take()
            default = _default(f, name)
        elif w == "REFERENCES":
            f.take()
            references = _references(f, name)
        elif w == "CHECK":
            f.take()
            f.group()
        elif w == "GENERATED":
            _generated(f, name)
        elif w in ("AUTO_INCREMENT", "AUTOINCREMENT", "SERIAL"):
            f.take()
        else:
            t = f.take()
            raise f.error(f.line, f"unexpected {t[1]!r} in the field {name} (expected {_MODIFIERS})")
    return ColumnSpec(name, typ, size, key, not_null, unique, default, references, f.line)


def _size(inner: str, f: _Field, name: str) -> tuple[int, ...]:
    parts = [p.strip() for p in inner.split(",")]
    if len(parts) == 1 and parts[0].upper() == "MAX":
        return ()
    if not all(p.isdigit() for p in parts) or len(parts) > 2:
        raise f.error(f.line, f"the size of {name} must be (n), (n, scale) or (max), got ({inner})")
    return tuple(int(p) for p in parts)


def _default(f: _Field, name: str) -> str:
    """The DEFAULT value as written: ``0``, ``'open'``, ``TRUE``, ``NOW()``, ``'[]'::jsonb``."""
    t = f.peek()
    if t is None or (t[0] == "op" and t[1] not in ("(",)):
        raise f.error(f.line, f"DEFAULT of {name} needs a value")
    start = t[2]
    if t[1] == "(":
        f.group()
    else:
        f.take()
        if t[0] == "word" and f.peek() is not None and f.peek()[1] == "(":  # type: ignore[index]
            f.group()
    while f.peek() is not None and f.peek()[1] == "::" and f.peek(1) is not None:  # type: ignore[index]
        f.take(), f.take()
    end = f.toks[f.i - 1]
    return f.text[start:end[2] + len(end[1])]


def _references(f: _Field, name: str) -> tuple[str, str]:
    kind, table, _ = f.take() if f.peek() is not None else ("", "", 0)
    if kind != "word":
        raise f.error(f.line, f"REFERENCES of {name} needs a table name")
    column = "id"
    if f.peek() is not None and f.peek()[1] == "(":  # type: ignore[index]
        column = f.group().strip()
        if not re.fullmatch(r"[^\W\d]\w*", column):
            raise f.error(f.line, f"REFERENCES {table}({column}): one column name expected")
    while f.word() == "ON" and f.word(1) in ("DELETE", "UPDATE"):  # ON DELETE CASCADE
        f.take(), f.take()
        while f.word() in ("CASCADE", "SET", "NULL", "RESTRICT", "NO", "ACTION", "DEFAULT"):
            f.take()
    return table, column


def _generated(f: _Field, name: str) -> None:
    """``GENERATED ALWAYS AS (expr) [STORED]``: accepted; the column is kept as a plain column."""
    f.take()
    if f.word() != "ALWAYS" or f.word(1) != "AS":
        raise f.error(f.line, f"expected GENERATED ALWAYS AS (...) in the field {name}")
    f.take(), f.take()
    f.group()
    if f.word() in ("STORED", "VIRTUAL"):
        f.take()
