"""Bot tables in SQL (gb_sessions.tables) on real SQLite and PostgreSQL: the namespace of each
bot, creating and extending tables, the column types and defaults, every operation with its
filters, values that try to be SQL, and the errors, which name the table and column."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from gb_basic.filters import Cond, Filter, parse_filter
from gb_sessions.config import Stores
from gb_sessions.errors import TableError
from gb_sessions.table_types import bot_namespace, table_name
from gb_sessions.tables import BotTables, TableStore
from tests.backends import open_backend
from tests.helpers.tables import CLASSES, STUDENTS, col, table, table_store, unique_bot

HOSTILE = ["'; DROP TABLE students; --", "x' OR '1'='1", 'a"b', "back\\slash", "100%_sure", "Robert'); --"]


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Stores, TableStore]]:
    async with open_backend(request.param, request, tmp_path) as stores, table_store(stores) as ts:
        yield stores, ts


async def school(ts: TableStore, name: str | None = None) -> BotTables:
    bot = ts.bot(name or unique_bot("school"))
    await bot.sync([CLASSES, STUDENTS])
    return bot


def where(text_: str) -> Filter:
    return parse_filter(text_)


async def sql_tables(stores: Stores, bot: BotTables) -> dict[str, list[str]]:
    """The bot's tables as the database has them: name -> columns (PostgreSQL: its schema)."""
    def look(conn: Any) -> dict[str, list[str]]:
        insp = inspect(conn)
        if bot.sqlite:
            prefix = f"bot_{bot.namespace}__"
            return {n.removeprefix(prefix): [c["name"] for c in insp.get_columns(n)]
                    for n in insp.get_table_names() if n.startswith(prefix)}
        return {n: [c["name"] for c in insp.get_columns(n, schema=bot.schema)]
                for n in insp.get_table_names(schema=bot.schema)}
    async with stores.engine.connect() as conn:
        return await conn.run_sync(look)


# --- names -----------------------------------------------------------------------------------------------

def test_a_plain_bot_name_is_its_namespace_and_any_other_is_hashed() -> None:
    assert bot_namespace("sales") == "sales" and bot_namespace("crm_2") == "crm_2"
    hashed = [bot_namespace(n) for n in ("my-bot", "my_bot_", "My_Bot", "vendas.v2", "café", "x" * 41, "a__b")]
    assert all("__" in h and len(h) <= 38 for h in hashed), hashed
    assert bot_namespace("my-bot") != bot_namespace("my_bot") and bot_namespace("My_Bot") != bot_namespace("my_bot")


@given(st.text(min_size=1, max_size=50), st.text(min_size=1, max_size=50),
       st.from_regex(r"[a-z][a-z0-9]{0,5}(_[a-z0-9]{1,5}){0,2}", fullmatch=True))
def test_two_bots_never_share_a_table_name(a: str, b: str, name: str) -> None:
    """On SQLite a table is ``bot_<namespace>__<table>``: no two (bot, table) pairs give one name."""
    if a != b:
        assert f"bot_{bot_namespace(a)}__{name}" != f"bot_{bot_namespace(b)}__{name}"
        assert bot_namespace(a) != bot_namespace(b)


@pytest.mark.parametrize("bad", ["other.students", '"bot_x"."students"', "../x", "a b", "a__b", "_a", "a;b",
                                 "students; DROP TABLE students", "", "x" * 64, "tábua"])
def test_table_names_are_checked(bad: str) -> None:
    with pytest.raises(TableError, match="is not a table name"):
        table_name(bad)


# --- sync --------------------------------------------------------------------------------------------------

async def test_sync_creates_the_tables_in_the_bots_namespace_once(db: tuple[Stores, TableStore]) -> None:
    stores, ts = db
    bot = ts.bot(unique_bot("school"))
    report = await bot.sync([CLASSES, STUDENTS])
    assert sorted(report.created) == ["classes", "students"] and report.added == []
    found = await sql_tables(stores, bot)
    assert found["students"] == ["id", "name", "age", "fee", "active", "status", "registeredat", "classid"]
    assert found["classes"] == ["id", "title"]
    again = await ts.bot(bot.bot).sync([CLASSES, STUDENTS])
    assert again.created == [] and again.added == []
    assert bot.names() == ["classes", "students"] and bot.keys("STUDENTS") == ["id"]


async def test_new_columns_are_added_and_nothing_is_dropped(db: tuple[Stores, TableStore]) -> None:
    stores, ts = db
    bot = ts.bot(unique_bot("school"))
    await bot.sync([table("notes", col("title", "TEXT"), col("old", "INTEGER"))])
    await bot.insert("notes", [{"title": "first", "old": 7}])
    report = await bot.sync([table("notes", col("title", "TEXT"), col("Priority", "INTEGER", default="3"),
                                   col("due", "DATE"))])
    assert report.added == ["notes.priority", "notes.due"] and report.created == []
    assert (await sql_tables(stores, bot))["notes"] == ["id", "title", "old", "priority", "due"]
    rows = await bot.find("notes", Filter())
    assert rows == [{"id": 1, "title": "first", "priority": None, "due": None, "old": 7}]  # old: still readable
    await bot.insert("notes", [{"title": "second"}])
    assert [r["priority"] for r in await bot.find("notes", where("title = 'second'"))] == [3]
    assert bot.columns("notes") == ["id", "title", "priority", "due", "old"]


async def test_two_processes_syncing_at_once_both_succeed(db: tuple[Stores, TableStore]) -> None:
    stores, _ = db
    name = unique_bot("race")
    async with table_store(stores) as a, table_store(stores) as b:
        ra, rb = await asyncio.gather(a.bot(name).sync([CLASSES, STUDENTS]), b.bot(name).sync([CLASSES, STUDENTS]))
        assert sorted(ra.created + rb.created) == ["classes", "students"]
        await a.bot(name).insert("classes", [{"title": "Math"}])
        assert [r["title"] for r in await b.bot(name).find("classes", Filter())] == ["Math"]


async def test_a_table_without_a_key_gets_an_id_and_a_column_named_id_is_the_key(
        db: tuple[Stores, TableStore]) -> None:
    _, ts = db
    bot = ts.bot(unique_bot("keys"))
    await bot.sync([table("log", col("msg", "TEXT")), table("tags", col("id", "STRING", 10), col("label", "TEXT"))])
    assert await bot.insert("log", [{"msg": "a"}, {"msg": "b"}]) == [1, 2]
    assert bot.keys("log") == ["id"] and bot.keys("tags") == ["id"]
    assert await bot.insert("tags", [{"id": "t1", "label": "one"}]) == ["t1"]
    with pytest.raises(TableError, match=r"^table tags: .*(UNIQUE|duplicate key)"):
        await bot.insert("tags", [{"id": "t1", "label": "again"}])


async def test_declarations_gb_cannot_create_are_refused_with_their_line(db: tuple[Stores, TableStore]) -> None:
    _, ts = db
    bot = ts.bot(unique_bot("bad"))
    cases: list[tuple[list[Any], str]] = [
        ([table("a b", col("x", "TEXT"), line=4)], r"'a b' is not a table name .*\(line 4\)"),
        ([table("t", col("x", "TEXT")), table("T", col("y", "TEXT"), line=9)],
         r"table t is declared twice \(lines 1 and 9\)"),
        ([table("t", col("x", "TEXT", line=2), col("X", "TEXT", line=3))],
         r"column x is declared twice \(lines 2 and 3\)"),
        ([table("t", col("my col", "TEXT", line=6))], r"'my col' is not a column name .*\(line 6\)"),
        ([table("t", col("n", "INTEGER", default="'abc'", line=8))],
         r"DEFAULT 'abc': table t, column n \(line 8\): \"abc\" is not a whole number"),
    ]
    for specs, message in cases:
        with pytest.raises(TableError, match=message):
            await bot.sync(specs)


async def test_a_reference_outside_the_bots_tables_is_left_out_and_logged(
        db: tuple[Stores, TableStore], caplog: pytest.LogCaptureFixture) -> None:
    _, ts = db
    bot = ts.bot(unique_bot("refs"))
    specs = [table("t", col("u", "UUID", references=("users", "id"), line=5),
                   col("s", "TEXT", references=("t", "nope"), line=6),
                   col("x", "BIGINT", references=("t", "id"), line=7),
                   col("y", "TEXT", references=("t", "id"), line=9),
                   col("code", "STRING", 5, unique=True, line=8)),
             table("p", col("a", "INTEGER", key=True), col("b", "INTEGER", key=True), line=10),
             table("q", col("pa", "INTEGER", references=("p", "a"), line=12),
                   col("tc", "STRING", 5, references=("t", "code")), line=11)]
    with caplog.at_level(logging.WARNING, logger="gb.tables"):
        await bot.sync(specs)
    assert "table t, column u (line 5): REFERENCES users(id) left out: users is not a table of bot" in caplog.text
    assert "column s (line 6): REFERENCES t(nope) left out: nope is not the key or a unique column of table t" \
        in caplog.text
    assert "column pa (line 12): REFERENCES p(a) left out" in caplog.text
    assert "column y (line 9): REFERENCES t(id) left out: t.id holds another type" in caplog.text
    assert "column x" not in caplog.text and "column tc" not in caplog.text
    u = str(uuid.uuid4())
    await bot.insert("t", [{"u": u, "s": "anything", "code": "c1"}])  # no constraint on u or s
    assert await bot.insert("q", [{"pa": 99, "tc": "c1"}]) == [1]
    with pytest.raises(TableError, match=r"(FOREIGN KEY|foreign key)"):
        await bot.insert("q", [{"tc": "nope"}])


async def test_a_default_gb_does_not_understand_is_left_out_and_logged(
        db: tuple[Stores, TableStore], caplog: pytest.LogCaptureFixture) -> None:
    _, ts = db
    bot = ts.bot(unique_bot("defaults"))
    with caplog.at_level(logging.WARNING, logger="gb.tables"):
        await bot.sync([table("t", col("n", "INTEGER", default="nextval('x'); DROP TABLE t", line=3))])
    assert "DEFAULT nextval('x'); DROP TABLE t is not understood" in caplog.text
    assert await bot.insert("t", [{}]) == [1]
    assert await bot.find("t", Filter()) == [{"id": 1, "n": None}]


# --- types and values ------------------------------------------------------------------------------------

TYPES = table(
    "everything",
    col("s", "STRING", 5), col("t", "TEXT"), col("u", "UUID"), col("i", "INT"), col("big", "BIGINT"),
    col("num", "NUMBER"), col("d", "DOUBLE"), col("dec", "DECIMAL", 10, 2), col("money", "MONEY"),
    col("b", "BOOLEAN"), col("day", "DATE"), col("at", "TIMESTAMP"), col("j", "JSONB"), col("tags", "TEXT[]"),
    col("e", "EMAIL"))


async def test_each_type_holds_and_gives_back_dialog_values(db: tuple[Stores, TableStore]) -> None:
    _, ts = db
    bot = ts.bot(unique_bot("types"))
    await bot.sync([TYPES])
    u = str(uuid.uuid4())
    written = {"s": 12345, "t": "long text", "u": u.upper(), "i": "42", "big": 2**40, "num": "1.5", "d": 2.25,
               "dec": "10.25", "money": 3, "b": "yes", "day": "2026-01-31", "at": dt.datetime(2026, 1, 31, 9, 30),
               "j": {"a": [1, 2], "when": dt.date(2026, 2, 1)}, "tags": ["x", "y"], "e": "ann@example.com"}
    await bot.insert("everything", [written])
    row = (await bot.find("everything", Filter()))[0]
    assert row == {"id": 1, "s": "12345", "t": "long text", "u": u, "i": 42, "big": 2**40, "num": 1.5, "d": 2.25,
                   "dec": 10.25, "money": 3, "b": True, "day": dt.date(2026, 1, 31),
                   "at": dt.datetime(2026, 1, 31, 9, 30),
                   "j": {"a": [1, 2], "when": dt.date(2026, 2, 1)}, "tags": ["x", "y"], "e": "ann@example.com"}
    assert {type(v) for v in row.values()} <= {int, float, str, bool, dt.date, dt.datetime, dict, list}
    await bot.insert("everything", [{"s": "", "i": "", "b": None, "day": ""}])  # "" is NULL but for text
    assert (await bot.find("everything", where("id = 2")))[0] | {"id": 2} == {k: None for k in row} | {"id": 2, "s": ""}


@pytest.mark.parametrize(("column", "value", "message"), [
    ("s", "toolong", "table everything, column s: the text has 7 characters, the column holds 5"),
    ("u", "not-a-uuid", "table everything, column u: \"not-a-uuid\" is not a UUID"),
    ("i", "4.5", "column i: \"4.5\" is not a whole number"),
    ("i", "abc", "column i: \"abc\" is not a whole number"),
    ("num", "many", "column num: \"many\" is not a number"),
    ("b", "perhaps", "column b: \"perhaps\" is not true or false"),
    ("day", "31/01/2026", "column day: \"31/01/2026\" is not a date"),
    ("at", "soon", "column at: \"soon\" is not a date and time"),
    ("t", "a\x00b", "column t: the text has a NUL character"),
    ("nope", 1, "table everything has no column 'nope' (columns: id, s, t, u, i, big,"),
])
async def test_a_value_its_column_cannot_hold_is_refused(db: tuple[Stores, TableStore], column: str, value: Any,
                                                         message: str) -> None:
    _, ts = db
    bot = ts.bot(unique_bot("types"))
    await bot.sync([TYPES])
    with pytest.raises(TableError) as err:
        await bot.insert("everything", [{column: value}])
    assert message in str(err.value), str(err.value)
    assert await bot.find("everything", Filter()) == []


async def test_defaults_apply_python_side(db: tuple[Stores, TableStore]) -> None:
    _, ts = db
    bot = await school(ts)
    before = dt.datetime.now().replace(microsecond=0)
    key = (await bot.insert("students", [{"name": "Ann", "fee": None}]))[0]
    row = (await bot.find("students", Filter()))[0]
    assert str(uuid.UUID(key)) == key == row["id"]
    assert row["fee"] == 0 and row["active"] is True and row["status"] == "open"
    assert before <= row["registeredat"] <= dt.datetime.now() + dt.timedelta(seconds=1)


# --- operations --------------------------------------------------------------------------------------------

async def students(bot: BotTables) -> dict[str, str]:
    class_id = (await bot.insert("classes", [{"title": "Math"}]))[0]
    people = [{"Name": "Ann", "AGE": 30, "fee": 10.5, "ClassId": class_id},
              {"name": "bob", "age": 17, "active": False, "status": "closed"},
              {"name": "Carla", "age": None, "status": "100% done"},
              {"name": "Dan", "age": 45, "registeredat": "2025-01-02 09:00:00"}]
    keys = await bot.insert("students", people)
    return {p.get("Name") or p["name"]: k for p, k in zip(people, keys)}


@pytest.mark.parametrize(("text_", "names"), [
    ("name = 'Ann'", ["Ann"]),
    ("name = 'ann'", []),  # SQL equality is exact; LIKE ignores case
    ("name LIKE 'a%' OR name LIKE 'B%'", ["Ann", "bob"]),
    ("name NOT LIKE '%a%'", ["bob"]),
    ("age > 18", ["Ann", "Dan"]),
    ("age >= '17' AND age < 40", ["Ann", "bob"]),
    ("age <> 30", ["bob", "Carla", "Dan"]),  # NULL differs from 30, as in FILTER
    ("age IS NULL", ["Carla"]),
    ("age IN (17, '45')", ["Dan", "bob"]),
    ("age NOT IN (17)", ["Ann", "Carla", "Dan"]),
    ("age BETWEEN 20 AND 50", ["Ann", "Dan"]),
    ("active = false", ["bob"]),
    ("active = 'sim'", ["Ann", "Carla", "Dan"]),
    ("status CONTAINS '100%'", ["Carla"]),  # the % in the value is a character, not a wildcard
    ("status CONTAINS '0%_'", []),
    ("fee >= 10.5", ["Ann"]),
    ("registeredat < '2026-01-01'", ["Dan"]),
    ("DATE(registeredat) = DATE('2025-01-02')", ["Dan"]),
    ("id = 'not-a-uuid'", []),  # a value the column cannot hold matches no row
    ("id <> 'not-a-uuid'", ["Ann", "bob", "Carla", "Dan"]),
    ("classid IS NOT NULL", ["Ann"]),
    ("ORDER BY age DESC LIMIT 2", ["Dan", "Ann"]),
    ("age > 0 ORDER BY name DESC", ["bob", "Dan", "Ann"]),
])
async def test_find_filters_in_sql(db: tuple[Stores, TableStore], text_: str, names: list[str]) -> None:
    _, ts = db
    bot = await school(ts)
    await students(bot)
    found = [r["name"] for r in await bot.find("students", where(text_))]
    assert found == names if "ORDER BY" in text_ else sorted(found) == sorted(names), found


async def test_find_refuses_what_it_cannot_compare_and_unknown_names(db: tuple[Stores, TableStore]) -> None:
    _, ts = db
    bot = await school(ts)
    with pytest.raises(TableError, match=r'table students, column age: cannot compare with "abc"'):
        await bot.find("students", where("age > 'abc'"))
    with pytest.raises(TableError, match=r"table students has no column 'height' \(columns: id, name, age, fee"):
        await bot.find("students", where("height > 2"))
    with pytest.raises(TableError, match=r"table students has no column 'x'"):
        await bot.find("students", where("ORDER BY x"))
    with pytest.raises(TableError, match=r"bot \S+ has no table 'teachers' \(its tables: classes, students\)"):
        await bot.find("teachers", Filter())
    await bot.insert("classes", [{"title": f"c{i}"} for i in range(3)])
    with pytest.raises(TableError, match="more than 2 rows match; add a filter or a LIMIT"):
        await bot.find("classes", Filter(), max_rows=2)
    assert len(await bot.find("classes", where("LIMIT 2"), max_rows=2)) == 2


@pytest.mark.parametrize("value", HOSTILE)
async def test_values_that_look_like_sql_are_only_values(db: tuple[Stores, TableStore], value: str) -> None:
    stores, ts = db
    bot = await school(ts)
    key = (await bot.insert("students", [{"name": value, "status": value[:20]}]))[0]
    quoted = "name = '" + value.replace("'", "''") + "'"  # a quote doubled inside a quoted text
    assert [r["id"] for r in await bot.find("students", parse_filter(quoted))] == [key]
    assert [r["name"] for r in await bot.find("students", Filter(Cond("name", "=", value)))] == [value]
    assert [r["name"] for r in await bot.find("students", Filter(Cond("name", "CONTAINS", value)))] == [value]
    assert await bot.update("students", Filter(Cond("status", "=", value[:20])), {"age": 1}) == 1
    assert await bot.merge("students", [{"name": value, "age": 2}], ["name"]) == {"inserted": 0, "updated": 1}
    assert sorted(await sql_tables(stores, bot)) == ["classes", "students"]
    assert await bot.delete("students", Filter(Cond("name", "=", value))) == 1
    assert await bot.find("students", Filter()) == []


async def test_update_and_delete_count_rows(db: tuple[Stores, TableStore]) -> None:
    _, ts = db
    bot = await school(ts)
    keys = await students(bot)
    assert await bot.update("students", where("age < 40"), {"Status": "young", "fee": "1.5"}) == 2
    assert sorted(r["name"] for r in await bot.find("students", where("status = 'young'"))) == ["Ann", "bob"]
    assert await bot.update("students", where(f"id = '{keys['Dan']}'"), {"age": None}) == 1
    assert [r["name"] for r in await bot.find("students", where("age IS NULL ORDER BY name"))] == ["Carla", "Dan"]
    assert await bot.update("students", where("name = 'nobody'"), {"age": 1}) == 0
    assert await bot.delete("students", where("age IS NULL")) == 2
    assert sorted(r["name"] for r in await bot.find("students", Filter())) == ["Ann", "bob"]
    with pytest.raises(TableError, match="an UPDATE's filter cannot have a LIMIT"):
        await bot.update("students", where("LIMIT 1"), {"age": 1})
    with pytest.raises(TableError, match="a DELETE's filter cannot have a LIMIT"):
        await bot.delete("students", where("LIMIT 1"))
    with pytest.raises(TableError, match="nothing to update"):
        await bot.update("students", Filter(), {})
    with pytest.raises(TableError, match=r"^table classes: .*(FOREIGN KEY|foreign key)"):
        await bot.delete("classes", Filter())


async def test_save_inserts_or_updates_the_row_with_a_key(db: tuple[Stores, TableStore]) -> None:
    _, ts = db
    bot = await school(ts)
    key = str(uuid.uuid4())
    assert await bot.save("students", key, {"name": "Ann", "age": 30}) == key
    assert await bot.save("students", key.upper(), {"age": 31}) == key
    rows = await bot.find("students", Filter())
    assert [(r["id"], r["name"], r["age"], r["status"]) for r in rows] == [(key, "Ann", 31, "open")]
    composite = ts.bot(unique_bot("pairs"))
    await composite.sync([table("pairs", col("a", "INTEGER", key=True), col("b", "INTEGER", key=True))])
    with pytest.raises(TableError, match="SAVE with a key needs a table whose key is one column"):
        await composite.save("pairs", 1, {"b": 2})
    assert await composite.insert("pairs", [{"a": 1, "b": 2}]) == [{"a": 1, "b": 2}]


async def test_merge_upserts_by_key_columns(db: tuple[Stores, TableStore]) -> None:
    _, ts = db
    bot = ts.bot(unique_bot("crm"))
    await bot.sync([table("customers", col("email", "STRING", 100), col("name", "TEXT"), col("region", "TEXT"),
                          col("visits", "INTEGER", default="0"))])
    await bot.insert("customers", [{"email": "a@x.com", "name": "Ann", "region": "south"}])
    result = await bot.merge("customers", [{"Email": "a@x.com", "name": "Ann B."}, {"email": "b@x.com", "name": "Bob"},
                                           {"email": "b@x.com", "visits": 2}], ["EMAIL"])
    assert result == {"inserted": 1, "updated": 2}
    rows = {r["email"]: r for r in await bot.find("customers", Filter())}
    assert (rows["a@x.com"]["name"], rows["a@x.com"]["region"]) == ("Ann B.", "south")
    assert (rows["b@x.com"]["name"], rows["b@x.com"]["visits"]) == ("Bob", 2)
    assert await bot.merge("customers", [{"email": "a@x.com", "region": "north", "name": "Ann"}],
                           ["email", "name"]) == {"inserted": 1, "updated": 0}
    with pytest.raises(TableError, match="item 2 has no value for email"):
        await bot.merge("customers", [{"email": "c@x.com"}, {"name": "nobody"}], ["email"])
    with pytest.raises(TableError, match="has no column 'mail'"):
        await bot.merge("customers", [{"email": "c@x.com"}], ["mail"])
    assert len(await bot.find("customers", Filter())) == 3  # a refused merge changed nothing
    many = [{"email": f"u{i}@x.com", "name": str(i)} for i in range(1200)]  # past one IN (...) of keys
    assert await bot.merge("customers", many, ["email"]) == {"inserted": 1200, "updated": 0}
    assert await bot.merge("customers", many, ["email"]) == {"inserted": 0, "updated": 1200}


async def test_database_refusals_name_the_table_not_the_namespace(db: tuple[Stores, TableStore]) -> None:
    _, ts = db
    bot = await school(ts)
    with pytest.raises(TableError) as err:
        await bot.insert("students", [{"name": "Ann", "classid": str(uuid.uuid4())}])
    message = str(err.value)
    assert message.startswith("table students: ") and bot.namespace not in message, message
    with pytest.raises(TableError, match=r"^table students: .*(NOT NULL|not-null)"):
        await bot.insert("students", [{"age": 3}])


# --- isolation ------------------------------------------------------------------------------------------------

async def test_one_bot_never_reaches_another_bots_tables(db: tuple[Stores, TableStore]) -> None:
    stores, ts = db
    a, b = await school(ts, unique_bot("a")), await school(ts, unique_bot("b"))
    await a.insert("students", [{"name": "only in a"}])
    await b.insert("students", [{"name": "only in b"}])
    assert [r["name"] for r in await a.find("students", Filter())] == ["only in a"]
    assert [r["name"] for r in await b.find("students", Filter())] == ["only in b"]
    sql_b = f"bot_{b.namespace}__students" if b.sqlite else f"{b.schema}.students"
    for name in (f"{b.bot}.students", f'"{b.schema or "main"}"."students"', sql_b, f"bot_{b.namespace}__students",
                 f"../{b.bot}/students", "students; DROP TABLE students", f"{b.bot}__students"):
        with pytest.raises(TableError, match=f"bot {a.bot} has no table"):
            await a.find(name, Filter())
        with pytest.raises(TableError, match=f"bot {a.bot} has no table"):
            await a.insert(name, [{"name": "x"}])
    assert [r["name"] for r in await b.find("students", Filter())] == ["only in b"]
    # the same bot names with one character apart: separate namespaces
    c, d = await school(ts, "my-bot-" + a.bot), await school(ts, "my_bot_" + a.bot)
    await c.insert("classes", [{"title": "c"}])
    assert await d.find("classes", Filter()) == []
    if not a.sqlite:  # each bot's own schema
        async with stores.engine.connect() as conn:
            schemas = set((await conn.execute(text("SELECT schema_name FROM information_schema.schemata"))).scalars())
        assert {a.schema, b.schema, c.schema, d.schema} <= schemas
