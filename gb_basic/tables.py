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

from dataclasses import dataclass

__all__ = ["ColumnSpec", "TableSpec"]


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
