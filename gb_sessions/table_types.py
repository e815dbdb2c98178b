"""What a bot table is in SQL: its names, its column types and defaults, the values it holds.

* **Names.** A bot's tables live in its own namespace: the schema ``bot_<bot>`` on PostgreSQL,
  the name prefix ``bot_<bot>__`` on SQLite. A bot name that is not a plain lower-case name
  (``Sales-Bot``, ``vendas.v2``) becomes ``<slug>__<12 hex of its SHA-256>``, so that two bots
  never share a namespace (``my-bot`` and ``my_bot`` differ). Table names are letters, digits
  and single underscores (no ``__``: the SQLite prefix ends with one), lower-cased; column names
  are lower-cased identifiers. Nothing the dialog writes becomes SQL text: names are checked
  here and quoted by SQLAlchemy, values are bound parameters.
* **Types.** :func:`column_type` maps the TABLE block's type words (``STRING(255)``, ``UUID``,
  ``DECIMAL(15,2)`` ...) to SQLAlchemy types; a word it does not know is text.
* **Values.** :func:`to_column` turns a dialog value into what a column holds (``"42"`` into 42
  for an INTEGER, ``"2026-01-31"`` into a date), refusing what cannot be (a TableError naming
  the column and the value); :func:`to_dialog` turns what the database gives back into a
  dialog value (Decimal into float, UUID into text).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    Float,
    Integer,
    Numeric,
    String,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

from gb_basic import values
from gb_basic.tables import ColumnSpec

from .errors import TableError

__all__ = ["MAX_NAME", "bot_namespace", "column_default", "column_name", "column_type", "table_name", "to_column",
           "to_dialog", "Unconvertible"]

log = logging.getLogger("gb.tables")

MAX_NAME = 63  # characters of a table or column name (PostgreSQL's limit for an identifier)
MAX_PLAIN_BOT = 40  # a longer bot name is hashed: the schema name stays under 63 characters
_PLAIN = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*\Z")
_COLUMN = re.compile(r"[a-z_][a-z0-9_]*\Z")


class Unconvertible(TableError):
    """A value a column cannot hold (a filter compares it as "no row matches")."""


def bot_namespace(bot: str) -> str:
    """The bot's part of the names of its tables: the bot name itself when it is plain
    (``sales``, ``crm_2``), else ``<slug>__<hash>``; never the same for two bots."""
    if len(bot) <= MAX_PLAIN_BOT and _PLAIN.match(bot):
        return bot
    slug = re.sub(r"[^a-z0-9]+", "_", bot.lower()).strip("_")[:24].strip("_") or "bot"
    digest = hashlib.sha256(bot.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{slug}__{digest}"


def table_name(name: str) -> str:
    """A table's SQL name (lower-cased), checked.

    Raises:
        TableError: not letters, digits and single underscores starting with a letter, or too long.
    """
    low = name.strip().lower()
    if not _PLAIN.match(low) or len(low) > MAX_NAME:
        raise TableError(f"{name!r} is not a table name (letters a-z, digits and single underscores, "
                         f"starting with a letter, at most {MAX_NAME} characters)")
    return low


def column_name(name: str, table: str) -> str:
    """A column's SQL name (lower-cased), checked.

    Raises:
        TableError: not an identifier of letters a-z, digits and underscores, or too long.
    """
    low = name.strip().lower()
    if not _COLUMN.match(low) or len(low) > MAX_NAME:
        raise TableError(f"table {table}: {name!r} is not a column name (letters a-z, digits and "
                         f"underscores, at most {MAX_NAME} characters)")
    return low


# --- types -------------------------------------------------------------------------------------------

_TEXT = {"STRING", "VARCHAR", "NVARCHAR", "CHAR", "NCHAR", "CHARACTER", "VARCHAR2"}
_INTEGER = {"INTEGER", "INT", "SMALLINT", "TINYINT", "MEDIUMINT", "SERIAL", "INT4", "INT2"}
_BIGINT = {"BIGINT", "LONG", "BIGSERIAL", "INT8"}
_FLOAT = {"NUMBER", "FLOAT", "REAL", "FLOAT4", "SINGLE"}
_DOUBLE = {"DOUBLE", "FLOAT8", "DOUBLE PRECISION"}
_DECIMAL = {"DECIMAL", "NUMERIC", "MONEY", "CURRENCY", "DEC"}
_BOOLEAN = {"BOOLEAN", "BOOL", "BIT", "YESNO"}
_DATETIME = {"TIMESTAMP", "DATETIME", "TIMESTAMPTZ", "DATETIME2", "SMALLDATETIME"}
_JSON = {"JSON", "JSONB", "OBJECT", "ARRAY"}
_UUID = {"UUID", "GUID", "UNIQUEIDENTIFIER"}


def column_type(c: ColumnSpec) -> TypeEngine[Any]:
    """The SQLAlchemy type of a declared column (text for a type word nobody knows)."""
    word = c.type.upper().strip()
    if word.endswith("[]") or word in _JSON:
        return JSON().with_variant(JSONB(), "postgresql")
    if word in _TEXT:
        return String(c.size[0]) if c.size else Text()
    if word in _UUID:
        return Uuid(as_uuid=False).with_variant(String(36), "sqlite")
    if word in _INTEGER:
        return Integer()
    if word in _BIGINT:
        return BigInteger().with_variant(Integer(), "sqlite")
    if word in _DOUBLE:
        return Double()
    if word in _DECIMAL or (word == "NUMBER" and len(c.size) == 2):
        sizes: tuple[int | None, ...] = c.size or ((19, 4) if word == "MONEY" else ())
        precision, scale = (*sizes, None, None)[:2]
        return Numeric(precision, scale, asdecimal=False)
    if word in _FLOAT:
        return Float()
    if word in _BOOLEAN:
        return Boolean()
    if word == "DATE":
        return Date()
    if word in _DATETIME:
        return DateTime()
    return Text()


# --- defaults ------------------------------------------------------------------------------------------

_NOW = {"NOW()", "CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP()", "GETDATE()", "LOCALTIMESTAMP", "NOW", "SYSDATE"}
_TODAY = {"CURRENT_DATE", "TODAY()", "CURDATE()", "CURRENT_DATE()"}
_NEW_UUID = {"UUID_GENERATE_V4()", "GEN_RANDOM_UUID()", "UUID()", "NEWID()", "UUID_V4()"}
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")


def _new_uuid() -> str:
    return str(uuid.uuid4())


def _now() -> dt.datetime:
    """The local time without a zone, as the dialog's NOW() is."""
    return dt.datetime.now().replace(microsecond=0)


def column_default(c: ColumnSpec, type_: TypeEngine[Any], table: str) -> Any:
    """The Python-side default of a declared column: a value, a function of no arguments, or
    None. The author's DEFAULT text never reaches SQL; one gb does not understand is left out
    (logged).

    Raises:
        TableError: a literal default the column's type cannot hold (``DEFAULT 'x'`` on an INTEGER).
    """
    if c.default is None:
        return _new_uuid if c.key and isinstance(type_, Uuid) else None
    text = c.default.strip()
    word = re.sub(r"\s+", "", text).upper()
    if word in _NOW:
        return dt.date.today if isinstance(type_, Date) else _now
    if word in _TODAY:
        return dt.date.today
    if word in _NEW_UUID:
        return _new_uuid
    literal = _literal(text)
    if literal is _UNKNOWN:
        log.warning("table %s, column %s (line %d): DEFAULT %s is not understood; the column has no default",
                    table, c.name, c.line, text)
        return None
    where = f"table {table}, column {c.name.lower()} (line {c.line})"
    try:
        return to_column(type_, literal, where)
    except TableError as exc:
        raise TableError(f"DEFAULT {text}: {exc}") from None


_UNKNOWN = object()


def _literal(text: str) -> Any:
    """The value of a literal DEFAULT (a quoted text, a number, TRUE, FALSE, NULL), else _UNKNOWN."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].replace(text[0] * 2, text[0])
    up = text.upper()
    if up in ("TRUE", "FALSE"):
        return up == "TRUE"
    if up == "NULL":
        return None
    if _NUMBER.match(text):
        return text
    return _UNKNOWN


# --- values in and out ------------------------------------------------------------------------------------

_TRUE = {"true", "yes", "y", "1", "sim", "s", "on", "verdadeiro"}
_FALSE = {"false", "no", "n", "0", "nao", "não", "off", "falso"}


def to_column(type_: TypeEngine[Any], value: Any, where: str) -> Any:
    """`value` as the column of type `type_` holds it (None is NULL; ``""`` is NULL but for text).

    Args:
        where: the column, as a message names it (``table students, column age``).

    Raises:
        Unconvertible: the value cannot be of that type (the message names `where` and the value).
    """
    if value is None:
        return None
    if isinstance(type_, String):  # Text too
        return _text(type_, value, where)
    if value == "":
        return None
    if isinstance(type_, JSON):
        return values.encode(value)
    try:
        convert = _CONVERT.get(type(type_)) or next(f for t, f in _CONVERT.items() if isinstance(type_, t))
    except StopIteration:
        return values.to_str(value) if isinstance(value, (dict, list)) else value
    try:
        return convert(value)
    except (ValueError, TypeError, ArithmeticError, OverflowError):
        raise Unconvertible(f"{where}: {values.describe(value)} is not {_kind(type_)}") from None


def _kind(type_: TypeEngine[Any]) -> str:
    for t, what in _WHAT.items():
        if isinstance(type_, t):
            return what
    return "a value of this column"


def _text(type_: String, value: Any, where: str) -> str:
    text = json.dumps(values.encode(value), ensure_ascii=False) if isinstance(value, (dict, list)) else \
        values.to_str(value)
    if type_.length is not None and len(text) > type_.length:
        raise Unconvertible(f"{where}: the text has {len(text):,} characters, the column holds {type_.length:,}")
    if "\x00" in text:
        raise Unconvertible(f"{where}: the text has a NUL character, which a table cannot hold")
    return text


def _uuid(v: Any) -> str:
    if isinstance(v, uuid.UUID):
        return str(v)
    if not isinstance(v, str):
        raise ValueError(v)
    return str(uuid.UUID(v.strip()))


def _int(v: Any) -> int:
    if isinstance(v, bool):
        return int(v)
    n = values.number_or_none(v)
    if n is None or n != int(n):
        raise ValueError(v)
    return int(n)


def _float(v: Any) -> float:
    n = values.number_or_none(v)
    if n is None:
        raise ValueError(v)
    return float(n)


def _decimal(v: Any) -> decimal.Decimal:
    n = values.number_or_none(v)
    if n is None:
        raise ValueError(v)
    return decimal.Decimal(str(n))


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
        return v.strip().lower() in _TRUE
    raise ValueError(v)


def _date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        s = v.strip()
        return dt.datetime.fromisoformat(s).date() if len(s) > 10 else dt.date.fromisoformat(s)
    raise ValueError(v)


def _datetime(v: Any) -> dt.datetime:
    if isinstance(v, dt.datetime):
        return v.astimezone().replace(tzinfo=None) if v.tzinfo is not None else v
    if isinstance(v, dt.date):
        return dt.datetime.combine(v, dt.time())
    if isinstance(v, str):
        return _datetime(dt.datetime.fromisoformat(v.strip().replace("Z", "+00:00")))
    raise ValueError(v)


_CONVERT: dict[type, Callable[[Any], Any]] = {
    Uuid: _uuid, BigInteger: _int, Integer: _int, Double: _float, Float: _float, Numeric: _decimal,
    Boolean: _bool, DateTime: _datetime, Date: _date,
}
_WHAT: dict[type, str] = {
    Uuid: "a UUID", BigInteger: "a whole number", Integer: "a whole number", Double: "a number", Float: "a number",
    Numeric: "a number", Boolean: "true or false", DateTime: "a date and time", Date: "a date",
}


def to_dialog(value: Any) -> Any:
    """A value the database gave back, as a dialog value (int, float, str, bool, None, date,
    datetime, list, dict)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent == 0 else float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone().replace(tzinfo=None) if value.tzinfo is not None else value
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (dict, list)):
        return values.decode(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)
