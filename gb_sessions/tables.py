"""Bot tables: what ``TABLE name ... END TABLE`` declares, in the session database.

:class:`TableStore` holds the tables of every bot of one database; ``store.bot(name)`` is a
:class:`BotTables`, the only way to them, and it reaches its own bot's namespace alone (the
schema ``bot_<name>`` on PostgreSQL, the prefix ``bot_<name>__`` on SQLite: see
:mod:`.table_types`). A table name the dialog gives is looked up among the bot's declared
tables, never turned into SQL; a column is looked up among the table's columns; every value is a
bound parameter. So ``other.students``, ``"bot_other"."students"`` or ``../x`` are names of no
table: the error says so.

``sync(specs)`` creates the declared tables that are missing and adds the columns that are new
(never drops or changes one): one process at a time per bot (a PostgreSQL advisory lock; a lock
file beside the SQLite database). A column added later is nullable and without constraints (SQLite
cannot add a key or a unique column to a table that has rows). Columns that exist in the database
but that the TABLE block no longer declares stay readable.

Each operation (find, insert, update, delete, save, merge) is one short transaction. What the
database refuses (a duplicate key, a NOT NULL, a reference to no row) is a TableError naming the
table; an unreachable database is StoreUnavailable (503, retry).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import operator
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Date,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    cast,
    delete,
    false,
    func,
    insert,
    inspect,
    not_,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.schema import CreateSchema, CreateTable

from gb_basic import values
from gb_basic.filters import Cond, Filter, Junction, Node
from gb_basic.tables import ColumnSpec, TableSpec

from .errors import TableError
from .locks import advisory_key
from .sql import unavailable_on_error as _unavailable_on_error
from .table_types import (
    Unconvertible,
    bot_namespace,
    column_default,
    column_name,
    column_type,
    table_name,
    to_column,
    to_dialog,
)

__all__ = ["BotTables", "SyncReport", "TableStore", "MAX_ROWS"]

log = logging.getLogger("gb.tables")

MAX_ROWS = 10_000  # rows one FIND returns at most; past them it asks for a filter or a LIMIT
_KEY_CHUNK = 500  # key values per IN (...) when MERGE looks up which items exist


@dataclass
class SyncReport:
    """What one sync did: the tables it created and the columns (``table.column``) it added."""

    created: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)


class TableStore:
    """The bot tables of one database (the session store's engine).

    Args:
        engine: the async engine (PostgreSQL or SQLite).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._bots: dict[str, BotTables] = {}

    def bot(self, name: str) -> BotTables:
        """The tables of bot `name` (the same object on every call)."""
        tables = self._bots.get(name)
        if tables is None:
            tables = self._bots[name] = BotTables(self.engine, name)
        return tables


class BotTables:
    """One bot's tables. Build it through :meth:`TableStore.bot`.

    Args:
        engine: the database.
        bot: the bot's name (its namespace comes from it).
    """

    def __init__(self, engine: AsyncEngine, bot: str) -> None:
        self.engine = engine
        self.bot = bot
        self.sqlite = engine.dialect.name == "sqlite"
        self.namespace = bot_namespace(bot)
        self.schema = None if self.sqlite else f"bot_{self.namespace}"
        self._tables: dict[str, Table] = {}
        self._order: dict[str, list[str]] = {}  # table -> its declared columns, in order
        self._synced: tuple[TableSpec, ...] | None = None
        self._lock = asyncio.Lock()

    # --- names ---------------------------------------------------------------------------------------
    def sql_name(self, table: str) -> str:
        """The table's name in the database (inside the bot's schema on PostgreSQL)."""
        return table if not self.sqlite else f"bot_{self.namespace}__{table}"

    def names(self) -> list[str]:
        """The bot's tables (as synced), sorted."""
        return sorted(self._tables)

    def has(self, name: str) -> bool:
        """Whether `name` is one of the bot's tables (case-insensitive)."""
        return name.strip().lower() in self._tables

    def table(self, name: str) -> Table:
        """The bot's table `name`.

        Raises:
            TableError: the bot has no such table (the message lists those it has).
        """
        t = self._tables.get(name.strip().lower())
        if t is None:
            known = ", ".join(self.names()) or "none"
            raise TableError(f"bot {self.bot} has no table {name!r} (its tables: {known})")
        return t

    def columns(self, name: str) -> list[str]:
        """The columns of table `name`: the declared ones in their order, then the others."""
        return list(self._order[self.table(name).info["name"]])

    def declared(self, name: str) -> list[str]:
        """The columns the TABLE block of `name` declares, in its order (not the ``id`` gb adds)."""
        t = self.table(name)
        return [c for c in self._order[t.info["name"]]
                if c in t.info["declared"] and not t.columns[c].info.get("added")]

    def holds(self, name: str, column: str, value: Any) -> bool:
        """Whether column `column` of table `name` can hold `value` (NULL aside)."""
        c = self.column(self.table(name), column)
        try:
            return to_column(c.type, value, "") is not None
        except Unconvertible:
            return False

    def generated(self, name: str) -> set[str]:
        """The key columns of `name` whose value the database or gb makes (a default, a counter)."""
        return {c.name for c in self.table(name).primary_key.columns
                if c.default is not None or _counts_up(c)}

    def keys(self, name: str) -> list[str]:
        """The key (primary key) columns of table `name`."""
        return [c.name for c in self.table(name).primary_key.columns]

    def column(self, t: Table, name: str) -> Column[Any]:
        """The column `name` of `t` (case-insensitive).

        Raises:
            TableError: no such column (the message lists the table's columns).
        """
        c = t.columns.get(name.strip().lower())
        if c is None:
            raise TableError(f"table {t.info['name']} has no column {name!r} "
                             f"(columns: {', '.join(self._order[t.info['name']])})")
        return c

    # --- sync ------------------------------------------------------------------------------------------
    @property
    def synced(self) -> bool:
        """Whether this process synced the bot's tables at least once."""
        return self._synced is not None

    def is_synced(self, specs: Sequence[TableSpec]) -> bool:
        """Whether `specs` are what this process synced last."""
        return self._synced == tuple(specs)

    async def ensure(self, specs: Sequence[TableSpec]) -> None:
        """Sync `specs` unless they are what this process synced last (the lazy sync before a
        dialog's first table keyword).

        Raises:
            TableError: as :meth:`sync`.
        """
        if not self.is_synced(specs):
            await self.sync(specs)

    async def sync(self, specs: Sequence[TableSpec]) -> SyncReport:
        """Create the declared tables that are missing, add the columns that are new.

        Raises:
            TableError: a declaration gb cannot create (a bad name, a table declared twice, a
                reference to a table or column the bot does not declare, a DEFAULT its column
                cannot hold) or one the database refused; the message names the table and line.
            StoreUnavailable: the database cannot be reached.
        """
        specs = tuple(specs)
        metadata, order = self._plan(specs)
        report = SyncReport()
        if not specs:  # nothing declared: nothing to create, no database needed
            self._tables, self._order, self._synced = {}, {}, specs
            return report
        async with self._lock, self._one_process():
            async with _unavailable_on_error(), self._errors(f"the tables of bot {self.bot}"), \
                    self.engine.begin() as conn:
                if not self.sqlite:
                    await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                       {"k": advisory_key(f"tables:{self.bot}")})
                    await conn.execute(CreateSchema(self.schema or "", if_not_exists=True))
                existing = await conn.run_sync(_existing, [t.name for t in metadata.sorted_tables], self.schema)
                for t in metadata.sorted_tables:
                    await self._create_or_extend(conn, t, existing.get(t.name), report)
                for t in metadata.sorted_tables:  # columns no declaration names any more: still readable
                    for name, type_ in (existing.get(t.name) or {}).items():
                        if name.lower() not in t.columns:
                            t.append_column(Column(name, type_, key=name.lower()))
                            order[t.info["name"]].append(name.lower())
            self._tables = {t.info["name"]: t for t in metadata.tables.values()}
            self._order = order
            self._synced = specs
        if report.created or report.added:
            log.info("bot %s: tables created %s, columns added %s", self.bot, report.created or "none",
                     report.added or "none")
        return report

    async def _create_or_extend(self, conn: AsyncConnection, t: Table, existing: dict[str, Any] | None,
                                report: SyncReport) -> None:
        if existing is None:
            await conn.execute(CreateTable(t, if_not_exists=True))
            report.created.append(t.info["name"])
            return
        present = {n.lower() for n in existing}
        for c in t.columns:
            if c.name not in present:
                await conn.run_sync(_add_column, t.name, Column(c.name, c.type), self.schema)
                report.added.append(f"{t.info['name']}.{c.name}")

    @contextlib.asynccontextmanager
    async def _one_process(self) -> AsyncIterator[None]:
        """SQLite: one process syncs this database's bot tables at a time (a lock file beside
        it); PostgreSQL's advisory lock is taken in the sync's transaction instead."""
        db = self.engine.url.database if self.sqlite else None
        if not db or db == ":memory:":
            yield
            return
        path = Path(db)
        with open(path.with_name(path.name + ".tables.lock"), "w") as lock:
            await asyncio.to_thread(fcntl.flock, lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _plan(self, specs: tuple[TableSpec, ...]) -> tuple[MetaData, dict[str, list[str]]]:
        """The SQLAlchemy tables of `specs` (names, types, keys, defaults and references checked)."""
        metadata = MetaData(schema=self.schema)
        declared: dict[str, TableSpec] = {}
        for spec in specs:
            name = _checked(spec.line, table_name, spec.name)
            if name in declared:
                raise TableError(f"table {name} is declared twice (lines {declared[name].line} and {spec.line})")
            declared[name] = spec
        order: dict[str, list[str]] = {}
        for name, spec in declared.items():
            t = self._build(metadata, name, spec, declared)
            order[name] = [c.name for c in t.columns]
        return metadata, order

    def _build(self, metadata: MetaData, name: str, spec: TableSpec, declared: Mapping[str, TableSpec]) -> Table:
        columns: list[Column[Any]] = []
        seen: dict[str, int] = {}
        for c in spec.columns:
            cname = _checked(c.line, column_name, c.name, name)
            if cname in seen:
                raise TableError(f"table {name}: column {cname} is declared twice (lines {seen[cname]} and {c.line})")
            seen[cname] = c.line
            columns.append(self._column(name, c, cname, declared))
        if not any(c.primary_key for c in columns):
            named_id = next((c for c in columns if c.name == "id"), None)
            if named_id is not None:
                named_id.primary_key, named_id.nullable = True, False
            else:  # no key declared: a number the database counts up
                columns.insert(0, Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                                         autoincrement=True, info={"added": True}))
        return Table(self.sql_name(name), metadata, *columns,
                     info={"name": name, "line": spec.line, "declared": frozenset(c.name for c in columns)})

    def _column(self, table: str, c: ColumnSpec, cname: str, declared: Mapping[str, TableSpec]) -> Column[Any]:
        type_ = column_type(c)
        args: list[Any] = []
        target = self._reference(table, c, declared) if c.references is not None else None
        if target is not None:
            args.append(ForeignKey(target))
        default = column_default(c, type_, table)
        return Column(cname, type_, *args, key=cname, primary_key=c.key, nullable=not (c.key or c.not_null),
                      unique=c.unique or None, default=default, info={"line": c.line})

    def _reference(self, table: str, c: ColumnSpec, declared: Mapping[str, TableSpec]) -> str | None:
        """``[schema.]table.column`` of a REFERENCES, or None (logged: the column is kept without the
        constraint) when it names no table of this bot (a bot's tables reference its own tables
        only), no column of it, or a column that is not its one key or unique."""
        assert c.references is not None
        ref_table, ref_column = c.references
        target, column = ref_table.strip().lower(), ref_column.strip().lower()
        spec = declared.get(target)
        problem = None
        if spec is None:
            problem = f"{ref_table} is not a table of bot {self.bot}"
        elif column not in _unique_columns(spec):
            problem = f"{ref_column} is not the key or a unique column of table {target}"
        elif _family(column_type(c)) != _family(_type_of(spec, column)):
            problem = f"{target}.{column} holds another type"
        if problem is not None:
            log.warning("table %s, column %s (line %d): REFERENCES %s(%s) left out: %s", table, c.name.lower(),
                        c.line, ref_table, ref_column, problem)
            return None
        prefix = f"{self.schema}." if self.schema else ""
        return f"{prefix}{self.sql_name(target)}.{column}"

    # --- rows ------------------------------------------------------------------------------------------
    def row(self, t: Table, data: Mapping[str, Any], *, omit_null_defaults: bool = False) -> dict[str, Any]:
        """`data`'s fields as `t`'s columns hold them (names matched case-insensitively).

        Args:
            omit_null_defaults: a NULL for a column with a default leaves it out (an insert:
                the default applies).

        Raises:
            TableError: a field that is no column of `t`, or a value its column cannot hold.
        """
        out: dict[str, Any] = {}
        for key, value in data.items():
            c = self.column(t, str(key))
            if value is None and omit_null_defaults and (c.default is not None or (c.primary_key and _counts_up(c))):
                continue
            out[c.name] = to_column(c.type, value, f"table {t.info['name']}, column {c.name}")
        return out

    def _dialog_row(self, t: Table, r: Any) -> dict[str, Any]:
        m = r._mapping
        return {name: to_dialog(m[t.columns[name]]) for name in self._order[t.info["name"]]}

    def _key_of(self, t: Table, key: Sequence[Any] | None) -> Any:
        """A new row's key as the dialog gets it: the value of a one-column key, else an object."""
        names = [c.name for c in t.primary_key.columns]
        got = [to_dialog(v) for v in (key or [None] * len(names))]
        return got[0] if len(got) == 1 else dict(zip(names, got))

    # --- operations ------------------------------------------------------------------------------------
    async def find(self, name: str, f: Filter, *, max_rows: int = MAX_ROWS) -> list[dict[str, Any]]:
        """The rows of table `name` that `f` keeps, as dialog values, in its ORDER BY (else by key).

        Raises:
            TableError: no such table or column, a comparison its column cannot make, more than
                `max_rows` rows.
        """
        t = self.table(name)
        q = select(t)
        if f.where is not None:
            q = q.where(self.where(t, f.where))
        # NULLs first going up, last going down, on both databases (as FILTER sorts a list)
        order: list[Any] = [self.column(t, c).desc().nulls_last() if d else self.column(t, c).asc().nulls_first()
                            for c, d in f.order]
        q = q.order_by(*(order or list(t.primary_key.columns)))
        limit = max_rows + 1 if f.limit is None else min(f.limit, max_rows + 1)
        async with _unavailable_on_error(), self._errors(f"table {t.info['name']}"), self.engine.connect() as conn:
            rows = (await conn.execute(q.limit(limit))).all()
        if len(rows) > max_rows:
            raise TableError(f"table {t.info['name']}: more than {max_rows:,} rows match; add a filter or a LIMIT")
        return [self._dialog_row(t, r) for r in rows]

    async def insert(self, name: str, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Insert `rows` (objects whose fields are columns); the new rows' keys.

        Raises:
            TableError: a field that is no column, a value its column cannot hold, a duplicate
                key, a NULL where the column needs a value, a reference to no row.
        """
        t = self.table(name)
        prepared = [self.row(t, r, omit_null_defaults=True) for r in rows]
        keys: list[Any] = []
        async with _unavailable_on_error(), self._errors(f"table {t.info['name']}"), self.engine.begin() as conn:
            for data in prepared:
                result = await conn.execute(insert(t).values(data))
                keys.append(self._key_of(t, result.inserted_primary_key))
        return keys

    async def update(self, name: str, f: Filter, changes: Mapping[str, Any]) -> int:
        """Set `changes` in the rows `f` keeps (ORDER BY is ignored); how many rows changed.

        Raises:
            TableError: as :meth:`insert`; a LIMIT in `f`; no changes.
        """
        t = self.table(name)
        data = self.row(t, changes)
        if not data:
            raise TableError(f"table {t.info['name']}: nothing to update (no field given)")
        if f.limit is not None:
            raise TableError(f"table {t.info['name']}: an UPDATE's filter cannot have a LIMIT")
        stmt = update(t).values(data)
        if f.where is not None:
            stmt = stmt.where(self.where(t, f.where))
        async with _unavailable_on_error(), self._errors(f"table {t.info['name']}"), self.engine.begin() as conn:
            return int((await conn.execute(stmt)).rowcount or 0)

    async def delete(self, name: str, f: Filter) -> int:
        """Delete the rows `f` keeps; how many.

        Raises:
            TableError: no such table or column; a LIMIT in `f`; a row other rows reference.
        """
        t = self.table(name)
        if f.limit is not None:
            raise TableError(f"table {t.info['name']}: a DELETE's filter cannot have a LIMIT")
        stmt = delete(t)
        if f.where is not None:
            stmt = stmt.where(self.where(t, f.where))
        async with _unavailable_on_error(), self._errors(f"table {t.info['name']}"), self.engine.begin() as conn:
            return int((await conn.execute(stmt)).rowcount or 0)

    async def save(self, name: str, key: Any, changes: Mapping[str, Any]) -> Any:
        """Insert the row whose key is `key`, or update it if it exists (one atomic statement);
        the key.

        Raises:
            TableError: the table's key is not one column; as :meth:`insert`.
        """
        t = self.table(name)
        pk = list(t.primary_key.columns)
        if len(pk) != 1:
            raise TableError(f"table {t.info['name']}: SAVE with a key needs a table whose key is one column")
        data = self.row(t, changes)
        ident = to_column(pk[0].type, key, f"table {t.info['name']}, column {pk[0].name}")
        if ident is None:
            raise TableError(f"table {t.info['name']}: SAVE with a key needs a key value, got NULL")
        changes_only = {k: v for k, v in data.items() if k != pk[0].name}
        # not INSERT ... ON CONFLICT: the row it proposes must satisfy NOT NULL before the conflict is seen
        async with _unavailable_on_error(), self._errors(f"table {t.info['name']}"), self.engine.begin() as conn:
            if not self.sqlite:  # two SAVEs of one new key: one inserts, the other updates
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                   {"k": advisory_key(f"save:{self.bot}:{t.info['name']}:{ident}")})
            found = (await conn.execute(update(t).where(pk[0] == ident).values(changes_only))).rowcount \
                if changes_only else len((await conn.execute(select(pk[0]).where(pk[0] == ident))).all())
            if not found:  # SQLite: the UPDATE took the write lock, nobody inserts in between
                await conn.execute(insert(t).values({**data, pk[0].name: ident}))
        return to_dialog(ident)

    async def merge(self, name: str, items: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> dict[str, int]:
        """Upsert `items` by the `keys` columns: an item whose keys match rows updates them, the
        others are inserted; ``{"inserted": n, "updated": m}``. One transaction.

        Raises:
            TableError: an item without a value for a key; as :meth:`insert`.
        """
        t = self.table(name)
        key_columns = [self.column(t, k) for k in keys]
        prepared = [self.row(t, item, omit_null_defaults=True) for item in items]
        for i, data in enumerate(prepared, start=1):
            missing = [c.name for c in key_columns if data.get(c.name) is None]
            if missing:
                raise TableError(f"table {t.info['name']}: item {i} has no value for {', '.join(missing)}")
        inserted = updated = 0
        async with _unavailable_on_error(), self._errors(f"table {t.info['name']}"), self.engine.begin() as conn:
            if not self.sqlite:  # two merges into one table: one after the other
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                   {"k": advisory_key(f"merge:{self.bot}:{t.info['name']}")})
            present = await self._present(conn, t, key_columns, prepared)
            for data in prepared:
                ident = tuple(data[c.name] for c in key_columns)
                if ident in present:
                    changes = {k: v for k, v in data.items() if k not in {c.name for c in key_columns}}
                    if changes:
                        await conn.execute(update(t).where(*(c == v for c, v in zip(key_columns, ident)))
                                           .values(changes))
                    updated += 1
                else:
                    await conn.execute(insert(t).values(data))
                    present.add(ident)
                    inserted += 1
        return {"inserted": inserted, "updated": updated}

    async def _present(self, conn: AsyncConnection, t: Table, key_columns: list[Column[Any]],
                       prepared: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
        """Which of the items' key values have rows already."""
        idents = list(dict.fromkeys(tuple(d[c.name] for c in key_columns) for d in prepared))
        present: set[tuple[Any, ...]] = set()
        for start in range(0, len(idents), _KEY_CHUNK):
            chunk = idents[start:start + _KEY_CHUNK]
            if len(key_columns) == 1:
                cond: ColumnElement[bool] = key_columns[0].in_([i[0] for i in chunk])
            else:
                cond = or_(*(and_(*(c == v for c, v in zip(key_columns, i))) for i in chunk))
            rows = (await conn.execute(select(*key_columns).where(cond))).all()
            got = {tuple(to_column(c.type, v, "") for c, v in zip(key_columns, r)) for r in rows}
            present |= got & set(chunk)
        return present

    # --- filters in SQL --------------------------------------------------------------------------------
    def where(self, t: Table, node: Node) -> ColumnElement[bool]:
        """A filter's condition over `t`, its values bound as parameters.

        Raises:
            TableError: a column `t` does not have; an ordering (<, >, ...) against a value its
                column cannot hold.
        """
        if isinstance(node, Cond):
            return self._cond(t, node)
        if isinstance(node, Junction):
            parts = [self.where(t, p) for p in node.parts]
            return and_(*parts) if node.op == "AND" else or_(*parts)
        return not_(self.where(t, node.part))

    def _cond(self, t: Table, c: Cond) -> ColumnElement[bool]:
        col = self.column(t, c.column)
        target: ColumnElement[Any] = func.date(col, type_=Date()) if c.date_of else col
        type_ = Date() if c.date_of else col.type
        where = f"table {t.info['name']}, column {col.name}"
        op = c.op
        if op == "IS NULL":
            return col.is_(None)
        if op == "IS NOT NULL":
            return col.is_not(None)
        if op in ("LIKE", "NOT LIKE", "CONTAINS"):
            as_text = target if isinstance(type_, String) else cast(target, String())
            pattern = values.to_str(c.value)
            if op == "CONTAINS":
                pattern = "%" + pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            like = as_text.ilike(pattern, escape="\\")
            return or_(not_(like), col.is_(None)) if op == "NOT LIKE" else like
        if op in ("IN", "NOT IN"):
            held = [v for v in (_held(type_, v, where) for v in c.value) if v is not _NONE]
            inside = target.in_(held) if held else false()
            return inside if op == "IN" else or_(not_(inside), col.is_(None))
        if op == "BETWEEN":
            low, high = (to_column(type_, v, where) for v in c.value)
            return and_(target >= low, target <= high)
        value = _held(type_, c.value, where)
        if value is _NONE:  # a value the column cannot hold: equal to no row
            if op in ("=", "<>"):
                return false() if op == "=" else true()
            raise TableError(f"{where}: cannot compare with {values.describe(c.value)}")
        if value is None:
            return col.is_(None) if op == "=" else col.is_not(None) if op == "<>" else false()
        if op == "<>":  # NULL differs from every value, as in FILTER
            return or_(target != value, col.is_(None))
        result: ColumnElement[bool] = _ORDERINGS[op](target, value)
        return result

    # --- errors ----------------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _errors(self, what: str) -> AsyncIterator[None]:
        """What the database refuses, as a TableError naming `what` (no namespace in it)."""
        try:
            yield
        except IntegrityError as exc:
            raise TableError(f"{what}: {self._message(exc)}") from None
        except DBAPIError as exc:
            if exc.connection_invalidated or _is_connection_error(exc):
                raise  # _unavailable_on_error makes it StoreUnavailable
            raise TableError(f"{what}: the database refused it: {self._message(exc)}") from None
        except SQLAlchemyError as exc:
            if isinstance(exc, DBAPIError):
                raise
            raise TableError(f"{what}: {exc}") from None

    def _message(self, exc: DBAPIError) -> str:
        """The database's own words, on one line, without the bot's namespace."""
        raw = " ".join(str(exc.orig).split()) if exc.orig is not None else str(exc)
        for prefix in (f'"bot_{self.namespace}".', f"bot_{self.namespace}.", f"bot_{self.namespace}__"):
            raw = raw.replace(prefix, "")
        return raw[:500]


_NONE = object()
_ORDERINGS: dict[str, Callable[[Any, Any], Any]] = {"=": operator.eq, "<": operator.lt, ">": operator.gt,
                                                   "<=": operator.le, ">=": operator.ge}


def _held(type_: Any, value: Any, where: str) -> Any:
    """`value` as the column holds it, or _NONE when it cannot be (a filter: no row has it)."""
    try:
        return to_column(type_, value, where)
    except Unconvertible:
        return _NONE


def _checked(line: int, check: Callable[..., str], *args: str) -> str:
    """`check(*args)` (a name checked), its TableError placed at the TABLE block's `line`."""
    try:
        return check(*args)
    except TableError as exc:
        raise TableError(f"{exc} (line {line})") from None


def _unique_columns(spec: TableSpec) -> set[str]:
    """The columns of a declared table that one row alone has: its one key column (``id`` when it
    declares no key: gb's), and its UNIQUE columns."""
    keys = [c.name.lower() for c in spec.columns if c.key]
    unique = {c.name.lower() for c in spec.columns if c.unique}
    return unique | ({keys[0]} if len(keys) == 1 else {"id"} if not keys else set())


def _type_of(spec: TableSpec, column: str) -> Any:
    """The type of a column of a declared table (gb's own ``id`` is a counter)."""
    for c in spec.columns:
        if c.name.lower() == column:
            return column_type(c)
    return BigInteger()


def _family(type_: Any) -> str:
    """Types a reference may join (PostgreSQL compares them with one operator)."""
    if isinstance(type_, Integer):
        return "integer"
    if isinstance(type_, String):
        return "text"
    return type(type_).__name__


def _existing(sync_conn: Connection, names: Iterable[str], schema: str | None) -> dict[str, dict[str, Any]]:
    """The tables among `names` that exist, each with its columns' names and reflected types."""
    insp = inspect(sync_conn)
    present = set(insp.get_table_names(schema=schema))
    return {n: {c["name"]: c["type"] for c in insp.get_columns(n, schema=schema)} for n in names if n in present}


def _add_column(sync_conn: Connection, table: str, column: Column[Any], schema: str | None) -> None:
    """ALTER TABLE ... ADD COLUMN, rendered by Alembic from a checked name and a SQLAlchemy type."""
    ops = Operations(MigrationContext.configure(sync_conn))
    ops.add_column(table, column, schema=schema, if_not_exists=sync_conn.dialect.name == "postgresql" or None)


def _counts_up(c: Column[Any]) -> bool:
    """A one-column integer key: the database numbers new rows (SERIAL, SQLite's rowid)."""
    t = c.table
    return len(t.primary_key.columns) == 1 and isinstance(c.type, Integer) and c.autoincrement in (True, "auto")


def _is_connection_error(exc: Exception) -> bool:
    words = str(exc).lower()
    return any(s in words for s in ("connection", "could not connect", "terminating", "server closed",
                                    "the database system is", "database is locked", "admin shutdown"))
