"""The table keywords: FIND, SAVE, INSERT, UPDATE, DELETE, MERGE on a bot's own tables; FIND on
the CSV and XLSX files of its folders; FILTER, FIRST and LAST on lists.

A bot's tables are the ``TABLE name ... END TABLE`` blocks of its dialogs (``Program.tables``):
:func:`bot_table_specs` collects them, :func:`sync_bot_tables` creates what is missing (call it
when a bot is loaded), and :class:`TableKeywords` syncs them lazily before a dialog's first table
keyword when that has not happened in this process (or the blocks changed). The SQL is
:mod:`gb_sessions.tables`: names are checked and looked up, values bound, never spliced.

The forms General Bots authors write (the arguments arrive decoded)::

    rows = FIND "students", "age > 18 AND name LIKE 'A%' ORDER BY name LIMIT 10"
    rows = FIND "students", "name=" + name          ' bare value: the column's type reads it
    rows = FIND "contacts", "email", address         ' column and value
    rows = FIND "products.csv", "category=books"     ' a file of the bot's folders
    id = SAVE "students", student                    ' an object's fields are columns
    SAVE "students", id, student                     ' insert or update the row with key id
    SAVE "students", v1, v2, v3                      ' positional, in the columns' order
    id = INSERT "students", student
    n = UPDATE "students", "id=" + id, changes       ' or UPDATE "students", id, changes
    UPDATE "students", id, "name", "Ann"
    n = DELETE "students", "age < 5"
    r = MERGE "customers", list, "email"             ' r.inserted, r.updated
    adults = FILTER rows, "age >= 18"
    first = FIRST(rows)  /  last = LAST(rows)

A parser that reads ``FIND t WHERE a = x AND b > y ORDER BY c DESC LIMIT 5`` passes the filter
as an object, its values already evaluated: ``{"$where": [["a", "=", x], ["b", ">", y]],
"$order": [["c", "DESC"]], "$limit": 5}`` (an ``"OR"`` between two conditions joins them with
OR; AND binds tighter). A plain object as a filter means "every field equals".

FIND returns a list of row objects (dicts). A bot whose config.csv says ``find-returns,row``
gets General Bots 3's shape instead: NULL when nothing matches, the row itself when one does,
the list when several do. Every refusal is a BasicRuntimeError naming the keyword, the table
and the column or value (the Fulfiller places it at the statement's line).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import logging
import re
import zipfile
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from gb_basic import BasicError, BasicRuntimeError, values
from gb_basic.filters import Cond, Filter, Junction, Node, column_names, matches, parse_filter
from gb_basic.tables import TableSpec
from gb_sessions.errors import TableError
from gb_sessions.tables import MAX_ROWS, BotTables, SyncReport, TableStore

from .bots import BotPackage

__all__ = ["FILE_SUFFIXES", "TableKeywords", "bot_table_specs", "sync_bot_tables"]

log = logging.getLogger("gb.tables")

FILE_SUFFIXES = (".csv", ".xlsx", ".xlsm")
MAX_FILE_BYTES = 50 * 1024 * 1024  # a CSV or XLSX file FIND reads (bigger: use a TABLE)
MAX_FILE_ROWS = 200_000  # rows of a file FIND reads before it filters
_IDENTIFIER = re.compile(r"[^\W\d]\w*\Z")
_COMPARE = {"=", "==", "<>", "!=", "<", ">", "<=", ">=", "LIKE", "NOT LIKE", "ILIKE", "CONTAINS", "IN", "NOT IN",
            "IS NULL", "IS NOT NULL"}


def bot_table_specs(bot: BotPackage) -> list[TableSpec]:
    """The TABLE blocks of every dialog of `bot`, in dialog name order (a dialog that does not
    compile is skipped and logged: its own run reports it).

    Raises:
        BasicRuntimeError: one table is declared in two dialogs (the message names both).
    """
    specs: list[TableSpec] = []
    where: dict[str, str] = {}
    for name in bot.dialog_names():
        try:
            program = bot.dialog(name)
        except BasicError as exc:
            log.warning("bot %s: %s.bas does not compile, its tables are left out: %s", bot.name, name, exc.headline)
            continue
        for spec in getattr(program, "tables", None) or ():
            key = spec.name.strip().lower()
            if key in where and where[key] != name:
                raise BasicRuntimeError(f"table {spec.name} is declared in {where[key]}.bas and in {name}.bas "
                                        f"(line {spec.line}): a table is declared once")
            where[key] = name
            specs.append(spec)
    return specs


async def sync_bot_tables(bot: BotPackage, tables: TableStore) -> SyncReport:
    """Create the tables `bot` declares and add their new columns (at bot load, or `gb serve`'s start).

    Raises:
        BasicRuntimeError: a declaration gb cannot create, or the database refused it.
        StoreUnavailable: the database cannot be reached.
    """
    specs = bot_table_specs(bot)
    try:
        return await tables.bot(bot.name).sync(specs)
    except TableError as exc:
        raise BasicRuntimeError(f"TABLE: {exc}") from None


@asynccontextmanager
async def _as_dialog_error(keyword: str) -> AsyncIterator[None]:
    """A TableError as the dialog's BasicRuntimeError, the keyword first."""
    try:
        yield
    except TableError as exc:
        raise BasicRuntimeError(f"{keyword}: {exc}") from None


class TableKeywords:
    """The table keywords of one turn of one bot.

    Args:
        bot: the bot package (its TABLE blocks, its folders, its settings).
        tables: the database's bot tables; None where there is no database (``gb run``): a
            table keyword then says so, and SAVE keeps writing files.
        now: the clock of NOW() and TODAY() in filters (local time, like the dialog's).
        specs: where the bot's TABLE blocks come from (:func:`bot_table_specs`).
    """

    def __init__(self, bot: BotPackage, tables: TableStore | None,
                 now: Callable[[], dt.datetime] = dt.datetime.now,
                 specs: Callable[[BotPackage], list[TableSpec]] = bot_table_specs) -> None:
        self.bot = bot
        self.store = tables
        self.now = now
        self.specs = specs
        self._ready: BotTables | None = None

    # --- the bot's tables ----------------------------------------------------------------------------
    async def tables(self, keyword: str) -> BotTables:
        """The bot's tables, synced with its TABLE blocks.

        Raises:
            BasicRuntimeError: there is no database, or the blocks cannot be created.
        """
        if self._ready is not None:
            return self._ready
        if self.store is None:
            raise BasicRuntimeError(f"{keyword}: bot tables need a database, and this run has none")
        specs = self.specs(self.bot)
        tables = self.store.bot(self.bot.name)
        if specs or not tables.synced:  # no blocks found: what was synced at load stays
            async with _as_dialog_error("TABLE"):
                await tables.ensure(specs)
        self._ready = tables
        return tables

    async def is_table(self, raw: Any) -> bool:
        """Whether SAVE's first argument names one of the bot's declared tables (else SAVE
        writes a file, as it always did). A bot without tables never touches the database."""
        if self.store is None or not isinstance(raw, str) or _is_file(raw):
            return False
        name = raw.strip().removeprefix(".")
        if not _IDENTIFIER.match(name) or not (self.store.bot(self.bot.name).names() or self.specs(self.bot)):
            return False
        return (await self.tables("SAVE")).has(name)

    async def _table(self, keyword: str, raw: Any) -> tuple[BotTables, str]:
        """The bot's tables and the table name a dialog wrote (``.name`` is the bot's own).

        Raises:
            BasicRuntimeError: a name that reaches outside the bot (``other.students``), or no such table.
        """
        name = values.to_str(raw).strip()
        shown = name if len(name) <= 80 else name[:77] + "..."
        if name.startswith("."):  # General Bots' ".table": the bot's own database
            name = name[1:]
        if not _IDENTIFIER.match(name):
            reason = ("a table of another database or bot cannot be reached: a bot has its own tables only"
                      if "." in name else "not a table name")
            raise BasicRuntimeError(f"{keyword} {shown!r}: {reason}")
        tables = await self.tables(keyword)
        async with _as_dialog_error(keyword):
            tables.table(name)
        return tables, name

    # --- FIND ------------------------------------------------------------------------------------------
    async def find(self, args: list[Any], *, keyword: str = "FIND", always_list: bool = False) -> Any:
        """``FIND table|file [, filter...]``: the matching rows (see the module's docstring)."""
        _need(keyword, args, 1)
        target = args[0]
        if isinstance(target, str) and _is_file(target):
            rows = await self._file_rows(keyword, target, args[1:])
        else:
            tables, name = await self._table(keyword, target)
            f = self._filter(keyword, args[1:])
            async with _as_dialog_error(keyword):
                rows = await tables.find(name, f)
        return rows if always_list else self._shaped(rows)

    async def find_all(self, args: list[Any]) -> Any:
        """``FIND ALL``: always the list."""
        return await self.find(args, keyword="FIND ALL", always_list=True)

    def _shaped(self, rows: list[Any]) -> Any:
        """The list, or General Bots 3's NULL / row / list for a bot with ``find-returns,row``."""
        if self.bot.settings.extra.get("find-returns", "list").strip().lower() != "row":
            return rows
        return None if not rows else rows[0] if len(rows) == 1 else rows

    async def _file_rows(self, keyword: str, name: str, rest: list[Any]) -> list[dict[str, Any]]:
        path = self._data_file(keyword, name)
        try:
            headers, rows = await asyncio.to_thread(_read_file, path)
        except (OSError, ValueError) as exc:
            raise BasicRuntimeError(f"{keyword} {name!r}: the file cannot be read ({_reason(exc)})") from None
        f = self._filter(keyword, rest)
        _check_columns(keyword, name, f, headers)
        kept = matches(rows, f)
        if len(kept) > MAX_ROWS and f.limit is None:
            raise BasicRuntimeError(f"{keyword} {name!r}: more than {MAX_ROWS:,} rows match; add a filter or a LIMIT")
        return [dict(r) for r in kept]

    def _data_file(self, keyword: str, name: str) -> Path:
        """The file `name` in the bot's folders: its storage (where SAVE writes), then the
        package's ``<bot>.gbdata`` and ``<bot>.gbdrive`` folders.

        Raises:
            BasicRuntimeError: the name leaves those folders, or no such file.
        """
        clean = name.strip().replace("\\", "/")
        if (not clean or "\x00" in clean or PurePosixPath(clean).is_absolute() or PureWindowsPath(name).drive
                or ".." in PurePosixPath(clean).parts):
            raise BasicRuntimeError(f"{keyword} {name!r}: the file name must stay inside the bot's folders")
        if clean.lower().endswith(".xls"):
            raise BasicRuntimeError(f"{keyword} {name!r}: .xls files are not read; save it as .xlsx")
        folders = [self.bot.storage_dir, self.bot.path / f"{self.bot.name}.gbdata",
                   self.bot.path / f"{self.bot.name}.gbdrive"]
        for base in folders:
            base = base.resolve()
            target = (base / clean).resolve()
            if target.is_relative_to(base) and target != base and target.is_file():
                return target
        raise BasicRuntimeError(f"{keyword} {name!r}: no such file in the bot's storage or in "
                                f"{self.bot.name}.gbdata / {self.bot.name}.gbdrive")

    # --- filters ---------------------------------------------------------------------------------------
    def _filter(self, keyword: str, rest: Sequence[Any]) -> Filter:
        """The filter of a keyword's arguments after the table (texts, objects, or a column and a value)."""
        if len(rest) == 2 and isinstance(rest[0], str) and _IDENTIFIER.match(rest[0].strip()):
            return Filter(Cond(rest[0].strip(), "=", rest[1]))
        f = Filter()
        for item in rest:
            if item is None or item == "":
                continue
            if isinstance(item, dict):
                f = f & _object_filter(keyword, item)
            elif isinstance(item, str):
                try:
                    f = f & parse_filter(item, self.now)
                except BasicRuntimeError as exc:
                    raise BasicRuntimeError(f"{keyword}: {exc.message}") from None
            else:
                raise BasicRuntimeError(f"{keyword}: a filter is a text such as \"name = 'Ann'\" or an object, "
                                        f"got {values.describe(item)}")
        return f

    # --- writes ----------------------------------------------------------------------------------------
    async def save(self, args: list[Any]) -> Any:
        """``SAVE table, object`` / ``SAVE table, key, object`` / ``SAVE table, v1, v2...``: the row's key."""
        _need("SAVE", args, 2)
        tables, name = await self._table("SAVE", args[0])
        rest = args[1:]
        async with _as_dialog_error("SAVE"):
            if len(rest) == 2 and not isinstance(rest[0], (dict, list)) and isinstance(rest[1], dict):
                return await tables.save(name, rest[0], rest[1])
            return await self._insert(tables, name, rest)

    async def insert(self, args: list[Any]) -> Any:
        """``INSERT table, object`` (its key), ``INSERT table, list`` (their keys), ``INSERT table, v1, v2...``."""
        _need("INSERT", args, 2)
        tables, name = await self._table("INSERT", args[0])
        async with _as_dialog_error("INSERT"):
            return await self._insert(tables, name, args[1:])

    async def _insert(self, tables: BotTables, name: str, rest: list[Any]) -> Any:
        if len(rest) == 1 and isinstance(rest[0], dict):
            return (await tables.insert(name, [rest[0]]))[0]
        if len(rest) == 1 and isinstance(rest[0], list) and rest[0] and all(isinstance(i, dict) for i in rest[0]):
            return await tables.insert(name, rest[0])
        return (await tables.insert(name, [_positional(tables, name, rest)]))[0]

    async def update(self, args: list[Any]) -> int:
        """``UPDATE table, filter|key, object`` or ``UPDATE table, filter|key, column, value``:
        how many rows changed."""
        _need("UPDATE", args, 3)
        if isinstance(args[0], str) and _is_file(args[0]):
            raise BasicRuntimeError(f"UPDATE {args[0]!r}: files are read by FIND, not updated; declare a TABLE")
        tables, name = await self._table("UPDATE", args[0])
        if len(args) == 3 and isinstance(args[2], dict):
            changes: dict[str, Any] = args[2]
        elif len(args) == 4 and isinstance(args[2], str):
            changes = {args[2]: args[3]}
        else:
            raise BasicRuntimeError("UPDATE expects a table, a filter (or a key), then an object of changes "
                                    "or a column and its value")
        f = await self._rows_of("UPDATE", tables, name, args[1])
        async with _as_dialog_error("UPDATE"):
            return await tables.update(name, f, changes)

    async def delete(self, args: list[Any]) -> int:
        """``DELETE table, filter`` or ``DELETE table, column, value``: how many rows went."""
        _need("DELETE", args, 2)
        tables, name = await self._table("DELETE", args[0])
        if args[1] is None or args[1] == "" or args[1] == {}:
            raise BasicRuntimeError(f"DELETE {name}: the filter is empty; DELETE removes the rows a filter names")
        f = self._filter("DELETE", args[1:]) if len(args) == 3 else await self._rows_of("DELETE", tables, name, args[1])
        if f.where is None:
            raise BasicRuntimeError(f"DELETE {name}: the filter is empty; DELETE removes the rows a filter names")
        async with _as_dialog_error("DELETE"):
            return await tables.delete(name, f)

    async def merge(self, args: list[Any]) -> dict[str, int]:
        """``MERGE table, list, key``: insert the items whose key is new, update the others;
        ``{"inserted": n, "updated": m}``. The key is a column, or several ("a,b")."""
        _need("MERGE", args, 3)
        tables, name = await self._table("MERGE", args[0])
        items = [args[1]] if isinstance(args[1], dict) else args[1] if isinstance(args[1], list) else None
        if items is None or not all(isinstance(i, dict) for i in items):
            raise BasicRuntimeError(f"MERGE {name}: the items must be a list of objects, got "
                                    f"{values.describe(args[1])}")
        keys = args[2] if isinstance(args[2], list) else [k for k in values.to_str(args[2]).split(",") if k.strip()]
        if not keys:
            raise BasicRuntimeError(f"MERGE {name}: name the key column(s) the items are matched by")
        async with _as_dialog_error("MERGE"):
            return await tables.merge(name, items, [values.to_str(k).strip() for k in keys])

    async def _rows_of(self, keyword: str, tables: BotTables, name: str, which: Any) -> Filter:
        """UPDATE's and DELETE's second argument: a filter (text or object), or a key value."""
        if isinstance(which, dict) or (isinstance(which, str) and _is_filter(which)):
            return self._filter(keyword, [which])
        keys = tables.keys(name)
        if len(keys) != 1:
            raise BasicRuntimeError(f"{keyword} {name}: the table's key has {len(keys)} columns; use a filter")
        return Filter(Cond(keys[0], "=", which))

    # --- lists -----------------------------------------------------------------------------------------
    def filter(self, args: list[Any]) -> list[Any]:
        """``FILTER list, "condition"``: the items (objects) the condition keeps, in order."""
        _need("FILTER", args, 2)
        items = _items("FILTER", args[0])
        f = self._filter("FILTER", args[1:])
        if not all(isinstance(i, dict) for i in items):
            raise BasicRuntimeError("FILTER works on a list of objects (rows), not on "
                                    f"{values.describe(next(i for i in items if not isinstance(i, dict)))}")
        if items:
            known = {k.lower() for i in items for k in i}
            _check_columns("FILTER", "the list", f, known, names_known=False)
        return list(matches(items, f))

    def first(self, args: list[Any]) -> Any:
        """``FIRST(list)``: its first item (NULL for an empty list; a row object is itself)."""
        _need("FIRST", args, 1)
        items = _items("FIRST", args[0])
        return items[0] if items else None

    def last(self, args: list[Any]) -> Any:
        """``LAST(list)``: its last item (NULL for an empty list; a row object is itself)."""
        _need("LAST", args, 1)
        items = _items("LAST", args[0])
        return items[-1] if items else None


# --- helpers ---------------------------------------------------------------------------------------------


def _need(keyword: str, args: list[Any], n: int) -> None:
    if len(args) < n:
        raise BasicRuntimeError(f"{keyword} expects {n} argument(s), got {len(args)}")


def _is_file(name: str) -> bool:
    return name.strip().lower().endswith((*FILE_SUFFIXES, ".xls"))


def _is_filter(text: str) -> bool:
    """Whether UPDATE's or DELETE's text is a filter (``"id=3"``) rather than a key value (``"A-12"``)."""
    try:
        return parse_filter(text).where is not None
    except BasicRuntimeError:
        return False


def _items(keyword: str, x: Any) -> list[Any]:
    if x is None:
        return []
    if isinstance(x, dict):
        return [x]
    if isinstance(x, list):
        return x
    raise BasicRuntimeError(f"{keyword} expects a list, got {values.describe(x)}")


def _positional(tables: BotTables, name: str, vals: list[Any]) -> dict[str, Any]:
    """``SAVE table, v1, v2...``: the values in the declared columns' order. With fewer values
    than columns, a first key column whose value gb or the database makes (a UUID default) is
    skipped unless the first value could be a key (``SAVE "t", id, name`` and ``SAVE "t", name``
    both work); the ``id`` gb adds to a table without a key is never filled positionally."""
    columns = tables.declared(name)
    generated = tables.generated(name)
    if len(vals) < len(columns) and columns and columns[0] in generated and vals \
            and not tables.holds(name, columns[0], vals[0]):
        columns = columns[1:]
    if len(vals) > len(columns):
        raise TableError(f"table {name} has {len(columns)} column(s) to fill ({', '.join(columns)}), "
                         f"got {len(vals)} values")
    return dict(zip(columns, vals))


def _object_filter(keyword: str, obj: Mapping[str, Any]) -> Filter:
    """A filter object: ``{"$where": [...], "$order": [...], "$limit": n}``, or "every field equals"."""
    if not any(k in obj for k in ("$where", "$order", "$limit")):
        conds = tuple(Cond(str(k), "=", v) for k, v in obj.items())
        return Filter(conds[0] if len(conds) == 1 else Junction("AND", conds) if conds else None)
    where = _where_list(keyword, obj.get("$where") or [])
    order = tuple(_order_item(keyword, o) for o in (obj.get("$order") or []))
    limit = obj.get("$limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise BasicRuntimeError(f"{keyword}: LIMIT must be a whole number of 0 or more, got {values.describe(limit)}")
    return Filter(where, order, limit)


def _where_list(keyword: str, items: list[Any]) -> Node | None:
    """``[[col, op, value], "AND"|"OR", [col, op, value], ...]``: AND binds tighter than OR."""
    groups: list[list[Node]] = [[]]
    for item in items:
        if isinstance(item, str) and item.strip().upper() in ("AND", "OR"):
            if item.strip().upper() == "OR":
                groups.append([])
            continue
        if not (isinstance(item, list) and len(item) in (2, 3) and isinstance(item[0], str)):
            raise BasicRuntimeError(f"{keyword}: a WHERE condition is [column, operator, value], "
                                    f"got {values.describe(item)}")
        op = str(item[1]).strip().upper() if len(item) == 3 else "="
        value = item[2] if len(item) == 3 else item[1]
        if op not in _COMPARE:
            raise BasicRuntimeError(f"{keyword}: unknown operator {op!r} in WHERE")
        op = {"==": "=", "!=": "<>", "ILIKE": "LIKE"}.get(op, op)
        if op in ("IN", "NOT IN"):
            value = tuple(value) if isinstance(value, list) else (value,)
        groups[-1].append(Cond(item[0], op, value))
    ands: list[Node] = [g[0] if len(g) == 1 else Junction("AND", tuple(g)) for g in groups if g]
    if not ands:
        return None
    return ands[0] if len(ands) == 1 else Junction("OR", tuple(ands))


def _order_item(keyword: str, o: Any) -> tuple[str, bool]:
    if isinstance(o, list) and o and isinstance(o[0], str):
        return o[0], len(o) > 1 and str(o[1]).strip().upper() == "DESC"
    if isinstance(o, str) and o.split():
        words = o.split()
        return words[0], len(words) > 1 and words[1].upper() == "DESC"
    raise BasicRuntimeError(f"{keyword}: ORDER BY wants a column (and ASC or DESC), got {values.describe(o)}")


def _check_columns(keyword: str, what: str, f: Filter, known: Any, *, names_known: bool = True) -> None:
    """Every column `f` names is one of `known` (lower-cased names): else an error naming it."""
    low = {str(k).lower() for k in known}
    for column in [*column_names(f.where), *(c for c, _ in f.order)]:
        if column.lower() not in low:
            listed = ", ".join(str(k) for k in known) if names_known else ", ".join(sorted(low))
            raise BasicRuntimeError(f"{keyword} {what!s}: no column {column!r} (columns: {listed or 'none'})")


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return str(exc)[:200] or type(exc).__name__


# --- files ------------------------------------------------------------------------------------------------


def _read_file(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """The header and the rows of a CSV or XLSX file (in a worker thread: disk I/O).

    Raises:
        ValueError: too large, or not a CSV / workbook.
        OSError: it cannot be read.
    """
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{size:,} bytes, at most {MAX_FILE_BYTES:,}")
    table = _xlsx_rows(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _csv_rows(path)
    return _as_rows(table)


def _csv_rows(path: Path) -> list[list[Any]]:
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    return [row for _, row in zip(range(MAX_FILE_ROWS + 1), csv.reader(io.StringIO(text), dialect))]


def _xlsx_rows(path: Path) -> list[list[Any]]:
    import openpyxl  # only a bot with spreadsheets pays for the import
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, TypeError, EOFError) as exc:
        raise ValueError(f"not an .xlsx workbook: {exc}") from None
    try:
        sheet = book.worksheets[0]
        return [list(r) for _, r in zip(range(MAX_FILE_ROWS + 1), sheet.iter_rows(values_only=True))]
    except (KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise ValueError(f"a damaged workbook: {exc}") from None
    finally:
        book.close()


def _as_rows(table: list[list[Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """The first non-empty row is the header; each later row an object (empty rows skipped)."""
    start = next((i for i, r in enumerate(table) if any(_cell(c) not in (None, "") for c in r)), None)
    if start is None:
        return [], []
    headers = [values.to_str(_cell(h)).strip() for h in table[start]]
    rows = []
    for raw in table[start + 1:]:
        cells = [_cell(c) for c in raw]
        if all(c in (None, "") for c in cells):
            continue
        rows.append({h: cells[i] if i < len(cells) else None for i, h in enumerate(headers) if h})
    return [h for h in headers if h], rows


def _cell(c: Any) -> Any:
    """A spreadsheet cell as a dialog value (a time of day is text, a whole float an int)."""
    if isinstance(c, (dt.datetime, dt.date, str, bool, int)) or c is None:
        return c
    if isinstance(c, float):
        return int(c) if c.is_integer() and abs(c) < 2**53 else c
    if isinstance(c, dt.time):
        return c.isoformat()
    return values.to_str(c) if isinstance(c, (list, dict)) else str(c)
