"""Bot tables for tests: TableSpecs written compactly, a TableStore per backend, a bot name per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text

from gb_basic.tables import ColumnSpec, TableSpec
from gb_sessions.config import Stores
from gb_sessions.tables import TableStore

__all__ = ["col", "table", "unique_bot", "table_store", "STUDENTS", "CLASSES"]


def col(name: str, type_: str, *size: int, line: int = 0, **kw: Any) -> ColumnSpec:
    """A column as a TABLE block declares it: ``col("Name", "STRING", 100, not_null=True)``."""
    return ColumnSpec(name, type_.upper(), tuple(size), line=line, **kw)


def table(name: str, *columns: ColumnSpec, line: int = 1) -> TableSpec:
    return TableSpec(name, tuple(columns), line)


def unique_bot(prefix: str = "bot") -> str:
    """A bot name no other test uses (the PostgreSQL database is shared by the whole run)."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


CLASSES = table("classes", col("id", "UUID", key=True, default="uuid_generate_v4()", line=2),
                col("title", "STRING", 100, not_null=True, line=3), line=1)
STUDENTS = table(
    "Students",
    col("Id", "UUID", key=True, default="uuid_generate_v4()", line=6),
    col("Name", "STRING", 40, not_null=True, line=7),
    col("Age", "INTEGER", line=8),
    col("Fee", "DECIMAL", 10, 2, default="0", line=9),
    col("Active", "BOOLEAN", default="TRUE", line=10),
    col("Status", "VARCHAR", 20, default="'open'", line=11),
    col("RegisteredAt", "TIMESTAMP", default="NOW()", line=12),
    col("ClassId", "UUID", references=("classes", "id"), line=13),
    line=5)


@asynccontextmanager
async def table_store(stores: Stores) -> AsyncIterator[TableStore]:
    """A TableStore on `stores`' database; the PostgreSQL schemas of its bots are dropped after."""
    ts = TableStore(stores.engine)
    try:
        yield ts
    finally:
        if stores.engine.dialect.name == "postgresql":
            async with stores.engine.begin() as conn:
                for bot in list(ts._bots.values()):
                    await conn.execute(text(f'DROP SCHEMA IF EXISTS "{bot.schema}" CASCADE'))
