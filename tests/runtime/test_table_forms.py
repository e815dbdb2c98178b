"""The clause forms of the table keywords (``FIND "t" WHERE ...``, ``UPDATE "t" SET ... WHERE``,
``SAVE "t" WITH a AS x``, ``MERGE "t" WITH rows BY "k"``, ``INSERT INTO "t" VALUES {...}``,
``DELETE "t" WHERE ...``) end to end: dialogs of a bot that declares its TABLE blocks, run by the
DialogRuntime on real SQLite and PostgreSQL, across HEAR turns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gb_basic.filters import parse_filter
from gb_runtime import BotRegistry, DialogRuntime, Inbound
from gb_sessions.config import Stores
from gb_sessions.tables import TableStore
from tests.backends import open_backend
from tests.helpers.bots import make_bot, texts
from tests.helpers.tables import unique_bot

TABLES = """TABLE customers
    Id STRING(20) KEY
    Name STRING(100) NOT NULL
    Email STRING(100)
    Visits INTEGER DEFAULT 0
    Status VARCHAR(20) DEFAULT 'open'
END TABLE

TABLE audit
    id UUID KEY
    who STRING(100)
    what STRING(200)
END TABLE
"""

SHOP = """TALK "Your name?"
name = HEAR
email = LCASE(name) + "@example.com"
SAVE "customers" WITH Id AS "c1", Name AS name, Email AS email
SAVE "customers" WITH Id AS "c2", Name AS "Bob", Email AS "bob@example.com", Visits AS 5
list = [{"Id": "c3", "Name": "Cy", "Visits": 2}, {"Id": "c2", "Name": "Bob", "Visits": 6}]
MERGE "customers" WITH list BY "Id"
INSERT INTO "audit" VALUES {
    "who": name,
    "what": "signed up"
}
me = FIND "customers" WHERE Email = email AND Visits >= 0
TALK "Found " + me[0].Name + " with " + me[0].Visits + " visits"
UPDATE "customers" SET
    Visits = me[0].Visits + 1,
    Status = "regular"
WHERE Id = me[0].Id
UPDATE "customers" WITH Status AS "vip" WHERE Visits > 5 OR Name LIKE 'c%'
TALK "Which customers to drop? (a status)"
status = HEAR
n = DELETE "customers" WHERE Status = status
TALK "Dropped " + n
rows = FIND ALL "customers" WHERE Visits > 0 ORDER BY Visits DESC LIMIT 1 + 1
FOR EACH r IN rows
    TALK r.Id + " " + r.Name + " " + r.Visits + " " + r.Status
NEXT
logged = FIND "audit" WHERE who IS NOT NULL AND what IN ("signed up", "left")
TALK "Audit: " + logged[0].who + " " + logged[0].what
"""


@pytest.fixture(params=["sqlite", "postgres"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    async with open_backend(request.param, request, tmp_path) as s:
        yield s


async def test_a_dialog_uses_every_clause_form_on_its_declared_tables(stores: Stores, tables: TableStore,
                                                                     tmp_path: Path) -> None:
    name = unique_bot("shop")
    make_bot(tmp_path / "bots", name, {"tables": TABLES, "start": SHOP})
    rt = DialogRuntime(stores.store, BotRegistry(tmp_path / "bots", tmp_path / "data"), tables=tables)
    started = await rt.start(name)
    assert texts(started) == ["Your name?"]
    first = await rt.handle(Inbound(name, "Ann", token=started.token))
    assert first.error is None and texts(first) == ["Found Ann with 0 visits", "Which customers to drop? (a status)"]
    rows = await tables.bot(name).find("customers", parse_filter("ORDER BY id"))
    assert [(r["id"], r["name"], r["visits"], r["status"]) for r in rows] == [
        ("c1", "Ann", 1, "regular"), ("c2", "Bob", 6, "vip"), ("c3", "Cy", 2, "vip")]
    last = await rt.handle(Inbound(name, "regular", token=started.token))
    assert last.error is None, last.error
    assert texts(last) == ["Dropped 1", "c2 Bob 6 vip", "c3 Cy 2 vip", "Audit: Ann signed up"]


async def test_a_clause_value_is_bound_never_sql(stores: Stores, tables: TableStore, tmp_path: Path) -> None:
    name = unique_bot("shop")
    dialog = ('TALK "Name?"\nname = HEAR\nSAVE "customers" WITH Id AS "x1", Name AS name\n'
              'rows = FIND "customers" WHERE Name = name\nTALK "rows: " + COUNT(rows)\n'
              'n = DELETE "customers" WHERE Name = name + "\' OR 1=1 --"\nTALK "deleted: " + n\n')
    make_bot(tmp_path / "bots", name, {"tables": TABLES, "start": dialog})
    rt = DialogRuntime(stores.store, BotRegistry(tmp_path / "bots", tmp_path / "data"), tables=tables)
    started = await rt.start(name)
    typed = "x' OR '1'='1"
    result = await rt.handle(Inbound(name, typed, token=started.token))
    assert result.error is None and texts(result) == ["rows: 1", "deleted: 0"]
    rows = await tables.bot(name).find("customers", parse_filter(""))
    assert [r["name"] for r in rows] == [typed]


async def test_an_error_in_a_clause_value_names_the_statements_line(stores: Stores, tables: TableStore,
                                                                   tmp_path: Path) -> None:
    name = unique_bot("shop")
    dialog = 'TALK "go"\nx = 0\nrows = FIND "customers" WHERE\n    Name = "a" OR\n    Visits > 1 / x\n'
    make_bot(tmp_path / "bots", name, {"tables": TABLES, "start": dialog})
    rt = DialogRuntime(stores.store, BotRegistry(tmp_path / "bots", tmp_path / "data"), tables=tables)
    result = await rt.start(name)
    assert result.error is not None and result.error.headline == "[start.bas:3:8] Error: division by zero"
