"""The table keywords as a dialog's requests reach them (the Fulfiller), on real SQLite and
PostgreSQL: the forms General Bots authors write, FIND on CSV and XLSX files of the bot's folders,
FILTER / FIRST / LAST, the lazy creation of the tables, one bot against another's tables, and
errors placed at the statement's line. Then a dialog's SAVE into a table, end to end."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from gb_basic import BasicRuntimeError, Request, values
from gb_basic.filters import parse_filter
from gb_basic.tables import TableSpec
from gb_runtime import BotRegistry, DialogRuntime, Inbound
from gb_runtime.keywords import Fulfiller
from gb_runtime.tables import TableKeywords, sync_bot_tables
from gb_sessions import Session, utcnow
from gb_sessions.config import Stores
from gb_sessions.tables import TableStore
from tests.backends import open_backend
from tests.helpers.bots import make_bot, texts, write
from tests.helpers.tables import CLASSES, STUDENTS, col, table, unique_bot

LINE, COLUMN = 7, 3


@dataclass
class Bot:
    """One bot's Fulfiller over a real database, and where its files are."""

    fulfiller: Fulfiller
    storage: Path
    package: Path

    async def kw(self, keyword: str, *args: Any) -> Any:
        """Answer ``keyword args...`` as the dialog's request at line 7, column 3."""
        request = Request("keyword", LINE, COLUMN, {"keyword": keyword, "args": [values.encode(a) for a in args]})
        return await self.fulfiller.answer(request)

    async def refused(self, keyword: str, *args: Any) -> str:
        """The message of the BasicRuntimeError the request fails with, placed at its line."""
        with pytest.raises(BasicRuntimeError) as err:
            await self.kw(keyword, *args)
        assert (err.value.file, err.value.line, err.value.column) == ("school.bas", LINE, COLUMN), err.value.headline
        return err.value.message


@pytest.fixture(params=["sqlite", "postgres"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    async with open_backend(request.param, request, tmp_path) as s:
        yield s


def open_bot(stores: Stores, tables: TableStore | None, tmp_path: Path, name: str | None = None, *,
             specs: Sequence[TableSpec] = (CLASSES, STUDENTS), config: str | None = None) -> Bot:
    """A bot package on disk and a Fulfiller of one session of it; its TABLE blocks are `specs`."""
    name = name or unique_bot("school")
    make_bot(tmp_path / "bots", name, config=config)
    package = BotRegistry(tmp_path / "bots", tmp_path / "data").get(name)
    now = utcnow()
    session = Session(id=uuid.uuid4(), bot_id=name, channel="test", token_hash="", created_at=now, last_activity=now)
    fulfiller = Fulfiller(session, package, stores.store, dialog="school.bas", tables=tables)
    fulfiller.tables = TableKeywords(package, tables, specs=lambda _bot: list(specs))
    return Bot(fulfiller, package.storage_dir, package.path)


# --- SAVE, INSERT, FIND ---------------------------------------------------------------------------------

async def test_the_first_table_keyword_creates_the_tables(stores: Stores, tables: TableStore, tmp_path: Path) -> None:
    bot = open_bot(stores, tables, tmp_path)
    assert not tables.bot(bot.fulfiller.bot.name).synced
    assert await bot.kw("FIND", "students") == []
    assert tables.bot(bot.fulfiller.bot.name).names() == ["classes", "students"]


async def test_save_forms(stores: Stores, tables: TableStore, tmp_path: Path) -> None:
    bot = open_bot(stores, tables, tmp_path)
    ann = await bot.kw("SAVE", "students", {"NAME": "Ann", "age": "30"})  # an object: its fields are columns
    assert str(uuid.UUID(ann)) == ann
    key = str(uuid.uuid4())
    assert await bot.kw("SAVE", "Students", key, {"name": "Bob", "Age": 17}) == key  # a key, then the fields
    assert await bot.kw("SAVE", "students", key, {"age": 18}) == key  # the same key: an update
    dan = await bot.kw("SAVE", "students", "Dan", 45, 2.5)  # positional; the generated key is skipped
    carla = await bot.kw("SAVE", ".students", str(uuid.uuid4()), "Carla", None, 1, False)  # a key first; ".t": own
    rows = {r["name"]: r for r in await bot.kw("FIND", "students")}
    assert sorted(rows) == ["Ann", "Bob", "Carla", "Dan"]
    assert (rows["Ann"]["id"], rows["Ann"]["age"], rows["Bob"]["age"]) == (ann, 30, 18)
    assert (rows["Dan"]["id"], rows["Dan"]["age"], rows["Dan"]["fee"]) == (dan, 45, 2.5)
    assert (rows["Carla"]["id"], rows["Carla"]["active"], rows["Carla"]["fee"]) == (carla, False, 1)
    message = await bot.refused("SAVE", "students", *range(9))
    assert message == ("SAVE: table students has 8 column(s) to fill (id, name, age, fee, active, status, "
                       "registeredat, classid), got 9 values")
    assert await bot.refused("SAVE", "students", {"nome": "x"}) == \
        ("SAVE: table students has no column 'nome' (columns: id, name, age, fee, active, status, registeredat, "
         "classid)")


async def test_save_to_a_name_that_is_no_table_writes_a_file_as_before(stores: Stores, tables: TableStore,
                                                                        tmp_path: Path) -> None:
    bot = open_bot(stores, tables, tmp_path)
    assert await bot.kw("SAVE", "notes.txt", "hello") is None
    assert await bot.kw("SAVE", "teachers", {"name": "Ann"}) is None
    assert (bot.storage / "notes.txt").read_text() == "hello"
    assert (bot.storage / "teachers").read_text() == '{"name": "Ann"}'
    assert await bot.kw("FIND", "students") == []  # nothing went into a table
    plain = open_bot(stores, tables, tmp_path, specs=())  # a bot without TABLE blocks: files only
    assert await plain.kw("SAVE", "students", "text") is None
    assert (plain.storage / "students").read_text() == "text"


async def test_insert_forms(stores: Stores, tables: TableStore, tmp_path: Path) -> None:
    bot = open_bot(stores, tables, tmp_path, specs=[table("log", col("msg", "TEXT"), col("level", "INTEGER"))])
    assert await bot.kw("INSERT", "log", {"msg": "one", "level": 1}) == 1
    assert await bot.kw("INSERT INTO", "log", [{"msg": "two"}, {"msg": "three", "level": "3"}]) == [2, 3]
    assert await bot.kw("INSERT", "log", "four", 4) == 4
    assert [(r["msg"], r["level"]) for r in await bot.kw("FIND", "log")] == \
        [("one", 1), ("two", None), ("three", 3), ("four", 4)]


async def find_names(bot: Bot, *args: Any) -> list[str]:
    return [r["name"] for r in await bot.kw("FIND", "students", *args)]


async def test_find_forms(stores: Stores, tables: TableStore, tmp_path: Path) -> None:
    bot = open_bot(stores, tables, tmp_path)
    for name, age in (("Ann", 30), ("Bob", 17), ("Carla", 52)):
        await bot.kw("SAVE", "students", {"name": name, "age": age})
    assert await find_names(bot, "name = '" + "Bob" + "'") == ["Bob"]
    assert await find_names(bot, "name=" + "Bob") == ["Bob"]  # bare value
    assert await find_names(bot, "age > 18 ORDER BY age DESC") == ["Carla", "Ann"]
    assert await find_names(bot, "age>18,name<>Ann") == ["Carla"]  # a comma is AND
    assert await find_names(bot, "age > 18", "age < 40") == ["Ann"]  # two filters: both
    assert await find_names(bot, "name", "Carla") == ["Carla"]  # a column and a value
    assert await find_names(bot, {"Name": "Ann", "age": 30}) == ["Ann"]  # an object: every field equals
    where = {"$where": [["age", ">", 18], "AND", ["name", "<>", "Ann"], "OR", ["name", "=", "Bob"]],
             "$order": [["name", "DESC"]], "$limit": 5}  # FIND ... WHERE, as a parser passes it
    assert await find_names(bot, where) == ["Carla", "Bob"]
    ages = {"$where": [["age", "IN", [17, 52]]], "$order": ["age DESC"], "$limit": 1}
    assert await find_names(bot, ages) == ["Carla"]
    assert [r["name"] for r in await bot.kw("FIND ALL", "students", "ORDER BY name LIMIT 1")] == ["Ann"]
    assert await find_names(bot, "name = 'Nobody'") == []


async def test_find_returns_rows_as_general_bots_3_when_the_bot_says_so(stores: Stores, tables: TableStore,
                                                                        tmp_path: Path) -> None:
    bot = open_bot(stores, tables, tmp_path, config="find-returns,row\n")
    assert await bot.kw("FIND", "students", "name = 'Ann'") is None
    await bot.kw("SAVE", "students", {"name": "Ann"})
    row = await bot.kw("FIND", "students", "name = 'Ann'")
    assert isinstance(row, dict) and row["name"] == "Ann"
    await bot.kw("SAVE", "students", {"name": "Ann"})
    assert [r["name"] for r in await bot.kw("FIND", "students", "name = 'Ann'")] == ["Ann", "Ann"]
    assert len(await bot.kw("FIND ALL", "students", "name = 'Nobody'")) == 0


# --- UPDATE, DELETE, MERGE -------------------------------------------------------------------------------

async def test_update_forms(stores: Stores, tables: TableStore, tmp_path: Path) -> None:
    bot = open_bot(stores, tables, tmp_path)
    ann = await bot.kw("SAVE", "students", {"name": "Ann", "age": 30})
    await bot.kw("SAVE", "students", {"name": "Bob", "age": 17})
    assert await bot.kw("UPDATE", "students", "age < 20", {"status": "young"}) == 1
    assert await bot.kw("UPDATE", "students", ann, {"age": 31}) == 1  # by key
    assert await bot.kw("UPDATE", "students", ann, "status", "closed") == 1  # a column and its value
    assert await bot.kw("UPDATE", "students", {"name": "Bob"}, {"age": 18}) == 1
    assert await bot.kw("UPDATE", "students", str(uuid.uuid4()), {"age": 1}) == 0
    set_where = {"$where": [["name", "=", "Bob"], "OR", ["age", ">", 100]]}  # UPDATE t SET ... WHERE, parsed
    assert await bot.kw("UPDATE", "students", set_where, {"age": 18, "fee": 2}) == 1
    rows = {r["name"]: (r["age"], r["status"]) for r in await bot.kw("FIND", "students")}
    assert rows == {"Ann": (31, "closed"), "Bob": (18, "young")}
    assert "UPDATE expects a table, a filter (or a key), then an object" in await bot.refused(
        "UPDATE", "students", ann, "a", "b", "c")
    assert await bot.refused("UPDATE", "deals.csv", "id=1", {"a": 1}) == \
        "UPDATE 'deals.csv': files are read by FIND, not updated; declare a TABLE"


async def test_delete_forms_and_a_url_is_http(stores: Stores, tables: TableStore, tmp_path: Path) -> None:
    bot = open_bot(stores, tables, tmp_path)
    ann = await bot.kw("SAVE", "students", {"name": "Ann", "age": 30})
    for name in ("Bob", "Carla", "Dan"):
        await bot.kw("SAVE", "students", {"name": name, "age": 10})
    assert await bot.kw("DELETE", "students", "name = 'Bob'") == 1
    assert await bot.kw("DELETE", "students", "name", "Carla") == 1
    assert await bot.kw("DELETE", "students", ann) == 1  # by key
    assert await find_names(bot) == ["Dan"]
    assert await bot.refused("DELETE", "students", "") == \
        "DELETE students: the filter is empty; DELETE removes the rows a filter names"
    assert await bot.refused("DELETE", "https://api.example.com/items/1") == (  # a URL goes to HTTP, never a table
        "DELETE https://api.example.com/items/1: HTTP requests are not available here (the runtime has no HTTP client)")
    assert await find_names(bot) == ["Dan"]


async def test_merge(stores: Stores, tables: TableStore, tmp_path: Path) -> None:
    bot = open_bot(stores, tables, tmp_path, specs=[table("customers", col("email", "STRING", 100),
                                                          col("name", "TEXT"), col("region", "TEXT"))])
    await bot.kw("INSERT", "customers", {"email": "a@x.com", "name": "Ann", "region": "south"})
    external = [{"email": "a@x.com", "name": "Ann B."}, {"email": "b@x.com", "name": "Bob"}]
    assert await bot.kw("MERGE", "customers", external, "email") == {"inserted": 1, "updated": 1}
    assert await bot.kw("MERGE", "customers", {"email": "c@x.com"}, ["email"]) == {"inserted": 1, "updated": 0}
    assert sorted((r["email"], r["name"]) for r in await bot.kw("FIND", "customers")) == \
        [("a@x.com", "Ann B."), ("b@x.com", "Bob"), ("c@x.com", None)]
    assert await bot.refused("MERGE", "customers", "not a list", "email") == \
        "MERGE customers: the items must be a list of objects, got \"not a list\""
    assert await bot.refused("MERGE", "customers", [{"name": "x"}], "email") == \
        "MERGE: table customers: item 1 has no value for email"


# --- values that try to be SQL, names that try to leave the bot ---------------------------------------------

HOSTILE = ["'; DROP TABLE students; --", "x' OR '1'='1", "Robert'); DROP TABLE students;--", "%", "\\"]


@pytest.mark.parametrize("value", HOSTILE)
async def test_hostile_values_are_stored_and_found_as_they_are(stores: Stores, tables: TableStore,
                                                               tmp_path: Path, value: str) -> None:
    bot = open_bot(stores, tables, tmp_path)
    key = await bot.kw("SAVE", "students", {"name": value, "status": value[:20]})
    assert [r["id"] for r in await bot.kw("FIND", "students", "name", value)] == [key]
    assert [r["id"] for r in await bot.kw("FIND", "students", {"name": value})] == [key]
    assert [r["id"] for r in await bot.kw("FIND", "students", "name = '" + value.replace("'", "''") + "'")] == [key]
    for spliced in ("name=" + value, "name = '" + value + "'", "status = '" + value + "' OR name <> ''"):
        try:  # what a dialog that splices a value into a filter gets: that row, no row, or a refusal
            found = [r["id"] for r in await bot.kw("FIND", "students", spliced)]
        except BasicRuntimeError as exc:
            assert exc.message.startswith("FIND: filter "), exc.message
        else:
            assert found in ([], [key]), (spliced, found)
    assert await bot.kw("UPDATE", "students", {"name": value}, {"age": 3}) == 1
    assert [r["name"] for r in await bot.kw("FIND", "students")] == [value]  # the table is still there


async def test_one_bot_cannot_reach_another_bots_tables(stores: Stores, tables: TableStore, tmp_path: Path) -> None:
    other = open_bot(stores, tables, tmp_path, unique_bot("other"))
    await other.kw("SAVE", "students", {"name": "secret"})
    bot = open_bot(stores, tables, tmp_path)
    await bot.kw("SAVE", "students", {"name": "mine"})
    theirs = other.fulfiller.bot.name
    namespace = tables.bot(theirs).namespace
    for name in (f"{theirs}.students", f"{theirs}..students", f"bot_{namespace}.students",
                 f'"bot_{namespace}"."students"', f"main.bot_{namespace}__students", "public.sessions"):
        message = await bot.refused("FIND", name)
        assert message.endswith(": a table of another database or bot cannot be reached: a bot has its own tables "
                                "only"), message
        assert "secret" not in message
    for name in (f"bot_{namespace}__students", "sessions", "bot_memory", "students; DROP TABLE students",
                 f"../{theirs}/students", "students --"):
        message = await bot.refused("FIND", name)
        assert any(m in message for m in ("has no table", "not a table name", "cannot be reached")), message
    for keyword, args in (("INSERT", [{"name": "x"}]), ("UPDATE", ["name = 'secret'", {"age": 1}]),
                          ("DELETE", ["name = 'secret'"]), ("MERGE", [[{"name": "x"}], "name"])):
        assert "cannot be reached" in await bot.refused(keyword, f"{theirs}.students", *args)
    assert await bot.kw("SAVE", f"{theirs}.students", {"name": "x"}) is None  # no table of its own: a file, as ever
    assert (bot.storage / f"{theirs}.students").read_text() == '{"name": "x"}'
    assert [r["name"] for r in await other.kw("FIND", "students")] == ["secret"]
    assert [r["name"] for r in await bot.kw("FIND", "students")] == ["mine"]


async def test_errors_name_the_keyword_table_and_column(stores: Stores, tables: TableStore, tmp_path: Path) -> None:
    bot = open_bot(stores, tables, tmp_path)
    name = bot.fulfiller.bot.name
    assert await bot.refused("FIND", "teachers") == \
        f"FIND: bot {name} has no table 'teachers' (its tables: classes, students)"
    assert await bot.refused("FIND", "students", "height > 2") == ("FIND: table students has no column 'height' "
                                                                   "(columns: id, name, age, fee, active, status, "
                                                                   "registeredat, classid)")
    assert await bot.refused("FIND", "students", "age > 'old'") == \
        'FIND: table students, column age: cannot compare with "old"'
    assert await bot.refused("FIND", "students", "name = 'x") == \
        "FIND: filter \"name = 'x\": the text that starts with ' is not closed at position 8"
    assert await bot.refused("SAVE", "students", {"name": "Ann", "age": "old"}) == \
        'SAVE: table students, column age: "old" is not a whole number'
    assert (await bot.refused("SAVE", "students", {"name": "Ann", "classid": str(uuid.uuid4())})).startswith(
        "SAVE: table students: ")
    assert await bot.refused("FIND") == "FIND expects 1 argument(s), got 0"
    assert await bot.refused("FIND", "students", 42) == \
        "FIND: a filter is a text such as \"name = 'Ann'\" or an object, got integer 42"
    broken = open_bot(stores, tables, tmp_path, specs=[table("t", col("n", "INTEGER", default="'x'", line=4), line=3)])
    assert (await broken.refused("FIND", "t")).startswith("TABLE: DEFAULT 'x': table t, column n (line 4)")


async def test_without_a_database_table_keywords_say_so_and_save_writes_files(stores: Stores, tmp_path: Path) -> None:
    bot = open_bot(stores, None, tmp_path)
    bot.fulfiller.tables = TableKeywords(bot.fulfiller.bot, None, specs=lambda _b: [STUDENTS])
    assert await bot.refused("FIND", "students") == "FIND: bot tables need a database, and this run has none"
    assert await bot.kw("SAVE", "students", "text") is None
    assert (bot.storage / "students").read_text() == "text"


# --- files ---------------------------------------------------------------------------------------------------

def write_xlsx(path: Path, rows: list[list[Any]], *, sheet: str = "Data") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    for r in rows:
        ws.append(r)
    book.create_sheet("Other").append(["not", "this"])
    book.save(path)


async def test_find_in_csv_files(stores: Stores, tables: TableStore, tmp_path: Path) -> None:
    bot = open_bot(stores, tables, tmp_path, specs=())
    write(bot.storage / "products.csv", "\ufeffid,name,price,category\n1,Pen,2.5,office\n2,Café,3,food\n\n"
                                        "3,Paper,10,office\n")
    write(bot.package / f"{bot.fulfiller.bot.name}.gbdata" / "reminder.csv",
          "when;subject\n10:00;Call Ann\n11:00;Lunch\n")  # a ; as the separator
    assert [r["name"] for r in await bot.kw("FIND", "products.csv")] == ["Pen", "Café", "Paper"]
    assert await bot.kw("FIND", "products.csv", "category=OFFICE", "price > 5") == \
        [{"id": "3", "name": "Paper", "price": "10", "category": "office"}]
    assert [r["name"] for r in await bot.kw("FIND", "products.csv", "name = 'cafe'")] == ["Café"]  # accents ignored
    by_price = await bot.kw("FIND", "products.csv", "price >= 3 ORDER BY price DESC")
    assert [r["name"] for r in by_price] == ["Paper", "Café"]
    assert [r["name"] for r in await bot.kw("FIND", "products.csv", "id", 2)] == ["Café"]
    assert await bot.kw("FIND", "reminder.csv", "when=" + "10:00") == [{"when": "10:00", "subject": "Call Ann"}]
    assert await bot.refused("FIND", "products.csv", "colour = red") == \
        "FIND products.csv: no column 'colour' (columns: id, name, price, category)"
    assert await bot.refused("FIND", "missing.csv") == \
        (f"FIND 'missing.csv': no such file in the bot's storage or in {bot.fulfiller.bot.name}.gbdata / "
         f"{bot.fulfiller.bot.name}.gbdrive")
    for name in ("../../secret.csv", "/etc/passwd.csv", "a/../../b.csv"):
        assert await bot.refused("FIND", name) == f"FIND {name!r}: the file name must stay inside the bot's folders"
    assert await bot.refused("FIND", "old.xls") == "FIND 'old.xls': .xls files are not read; save it as .xlsx"


async def test_find_in_xlsx_files(stores: Stores, tables: TableStore, tmp_path: Path) -> None:
    bot = open_bot(stores, tables, tmp_path, specs=())
    write_xlsx(bot.package / f"{bot.fulfiller.bot.name}.gbdrive" / "Cadastro.xlsx", [
        [None, None, None],
        ["Cod", "Nome", "Nascimento", "Ativo"],
        [7, "Ana", dt.datetime(1990, 5, 1), True],
        ["008", "João", dt.datetime(2001, 1, 2), False],
        [9.0, "Zé", None, True]])
    rows = await bot.kw("FIND", "Cadastro.xlsx")
    assert rows[0] == {"Cod": 7, "Nome": "Ana", "Nascimento": dt.datetime(1990, 5, 1), "Ativo": True}
    assert [r["Cod"] for r in rows] == [7, "008", 9]
    assert [r["Nome"] for r in await bot.kw("FIND", "Cadastro.xlsx", "Cod=" + "9")] == ["Zé"]
    assert [r["Nome"] for r in await bot.kw("FIND", "Cadastro.xlsx", "Cod=8")] == ["João"]
    assert [r["Nome"] for r in await bot.kw("FIND", "Cadastro.xlsx", "nome = 'JOAO'")] == ["João"]
    assert [r["Nome"] for r in await bot.kw("FIND", "Cadastro.xlsx", "Nascimento < 2000-01-01")] == ["Ana"]
    active = await bot.kw("FIND", "Cadastro.xlsx", "ativo = true ORDER BY Nome DESC")
    assert [r["Nome"] for r in active] == ["Zé", "Ana"]
    write(bot.storage / "broken.xlsx", "not a workbook")
    assert (await bot.refused("FIND", "broken.xlsx")).startswith("FIND 'broken.xlsx': the file cannot be read (")


# --- lists -----------------------------------------------------------------------------------------------------

async def test_filter_first_and_last(stores: Stores, tables: TableStore, tmp_path: Path) -> None:
    bot = open_bot(stores, tables, tmp_path, specs=())
    deals = [{"name": "a", "stage": "Closed Won", "amount": 1500}, {"name": "b", "stage": "open", "amount": "200"},
             {"name": "c", "stage": "Closed Lost", "amount": 3000.5}]
    assert await bot.kw("FILTER", deals, "stage = 'closed won'") == [deals[0]]
    assert await bot.kw("FILTER", deals, "stage <> 'Closed Won' AND stage <> 'Closed Lost'") == [deals[1]]
    assert await bot.kw("FILTER", deals, "amount > 1000 ORDER BY amount DESC") == [deals[2], deals[0]]
    assert await bot.kw("FILTER", [], "amount > 1") == [] and await bot.kw("FILTER", None, "a = 1") == []
    assert await bot.refused("FILTER", deals, "price > 1") == \
        "FILTER the list: no column 'price' (columns: amount, name, stage)"
    assert await bot.refused("FILTER", [1, 2], "a = 1") == "FILTER works on a list of objects (rows), not on integer 1"
    assert await bot.kw("FIRST", deals) == deals[0] and await bot.kw("LAST", deals) == deals[2]
    assert await bot.kw("FIRST", []) is None and await bot.kw("LAST", None) is None
    assert await bot.kw("FIRST", deals[1]) == deals[1]  # a row (General Bots 3's FIND of one row) is itself
    assert await bot.refused("FIRST", "text") == 'FIRST expects a list, got "text"'


# --- at bot load, and end to end -------------------------------------------------------------------------------

async def test_sync_bot_tables_at_load(stores: Stores, tables: TableStore, tmp_path: Path) -> None:
    """Until the parser gives Program.tables, a bot's dialogs declare no tables: the sync at load
    creates nothing and touches no database; the specs given straight to BotTables are kept."""
    name = unique_bot("load")
    make_bot(tmp_path / "bots", name, {"start": 'TALK "hi"', "broken": "IF x THEN\n"})
    package = BotRegistry(tmp_path / "bots", tmp_path / "data").get(name)
    report = await sync_bot_tables(package, tables)
    assert report.created == [] and tables.bot(name).synced and tables.bot(name).names() == []


async def test_a_dialog_saves_what_it_hears_into_its_table(stores: Stores, tables: TableStore, tmp_path: Path) -> None:
    name = unique_bot("enrol")
    dialog = ('TALK "Your name?"\nname = HEAR\nstudent = NULL\nstudent.name = name\nstudent.age = 20\n'
              'SAVE "students", student\nTALK "Saved " + name\n')
    make_bot(tmp_path / "bots", name, {"start": dialog})
    await tables.bot(name).sync([CLASSES, STUDENTS])  # what the lead's load does once Program.tables exists
    rt = DialogRuntime(stores.store, BotRegistry(tmp_path / "bots", tmp_path / "data"), tables=tables)
    for typed in ("Ann", "'; DROP TABLE students; --"):
        started = await rt.start(name)
        assert texts(started) == ["Your name?"]
        result = await rt.handle(Inbound(name, typed, token=started.token))
        assert texts(result) == [f"Saved {typed}"] and result.error is None
    rows = await tables.bot(name).find("students", parse_filter("ORDER BY name"))
    assert [(r["name"], r["age"], r["status"]) for r in rows] == \
        [("'; DROP TABLE students; --", 20, "open"), ("Ann", 20, "open")]
