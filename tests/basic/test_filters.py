"""The filter texts of FIND, FILTER, UPDATE and DELETE (gb_basic.filters): how they read, how
they match rows in Python, and the errors that quote them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gb_basic.errors import BasicRuntimeError
from gb_basic.filters import Cond, Filter, Junction, Negation, column_names, equals, matches, parse_filter

NOW = dt.datetime(2026, 11, 25, 14, 30, 5)


def read(text: str) -> Filter:
    return parse_filter(text, lambda: NOW)


# the forms of the shared corpus (../shared/gb-corpus), and what they read as
@pytest.mark.parametrize(("text", "where"), [
    ("status=pending", Cond("status", "=", "pending")),
    ("item_code = 'A-1'", Cond("item_code", "=", "A-1")),
    ("CHAMADO=5521979047667-44129-10", Cond("CHAMADO", "=", "5521979047667-44129-10")),
    ("Cod=007", Cond("Cod", "=", "007")),  # a bare number stays text: the column decides
    ("a=1,b=2", Junction("AND", (Cond("a", "=", "1"), Cond("b", "=", "2")))),
    ("stage != 'closed_won' AND stage <> 'closed_lost'",
     Junction("AND", (Cond("stage", "<>", "closed_won"), Cond("stage", "<>", "closed_lost")))),
    ("status = 'warm' OR status = 'cold'", Junction("OR", (Cond("status", "=", "warm"), Cond("status", "=", "cold")))),
    ("a = 1 OR b = 2 AND c = 3",
     Junction("OR", (Cond("a", "=", "1"), Junction("AND", (Cond("b", "=", "2"), Cond("c", "=", "3")))))),
    ("(a = 1 OR b = 2) AND NOT c = 3",
     Junction("AND", (Junction("OR", (Cond("a", "=", "1"), Cond("b", "=", "2"))), Negation(Cond("c", "=", "3"))))),
    ("name LIKE '%smith%'", Cond("name", "LIKE", "%smith%")),
    ("name ILIKE '%smith%'", Cond("name", "LIKE", "%smith%")),
    ("name NOT LIKE 'x%'", Cond("name", "NOT LIKE", "x%")),
    ("description CONTAINS 'late'", Cond("description", "CONTAINS", "late")),
    ("is_active = true", Cond("is_active", "=", True)),
    ("is_active = FALSE", Cond("is_active", "=", False)),
    ("closed_at IS NULL", Cond("closed_at", "IS NULL")),
    ("closed_at is not null", Cond("closed_at", "IS NOT NULL")),
    ("x = NULL", Cond("x", "=", None)),
    ("status IN ('a', 'b', c)", Cond("status", "IN", ("a", "b", "c"))),
    ("status NOT IN ('a')", Cond("status", "NOT IN", ("a",))),
    ("n BETWEEN 1 AND 5", Cond("n", "BETWEEN", ("1", "5"))),
    ("balance_due > 0", Cond("balance_due", ">", "0")),
    ("date>=2026-01-01", Cond("date", ">=", "2026-01-01")),  # a column named date
    ("created_at >= NOW()", Cond("created_at", ">=", NOW)),
    ("created_at < TODAY()", Cond("created_at", "<", NOW.date())),
    ("DATE(created_at) = DATE('2026-11-25')", Cond("created_at", "=", dt.date(2026, 11, 25), date_of=True)),
    ("[Product Name] = 'Pen'", Cond("Product Name", "=", "Pen")),
    ("name = 'O''Brien'", Cond("name", "=", "O'Brien")),
    ('name = "Ann ""A"""', Cond("name", "=", 'Ann "A"')),
    ("nome = 'José'", Cond("nome", "=", "José")),
])
def test_filters_read(text: str, where: Any) -> None:
    assert read(text).where == where


def test_order_by_and_limit() -> None:
    f = read("status = 'open' ORDER BY priority DESC, created_at LIMIT 5")
    assert f == Filter(Cond("status", "=", "open"), (("priority", True), ("created_at", False)), 5)
    assert read("ORDER BY name") == Filter(None, (("name", False),))
    assert read("") == Filter() and read("   ") == Filter()


def test_two_filters_combine_with_and() -> None:
    f = read("a = 1 LIMIT 3") & read("b = 2 ORDER BY a")
    assert f == Filter(Junction("AND", (Cond("a", "=", "1"), Cond("b", "=", "2"))), (("a", False),), 3)
    assert column_names(f.where) == ["a", "b"]


# hostile and broken texts: each refused with the filter quoted and the position given, never read
@pytest.mark.parametrize(("text", "message"), [
    ("name = ''; DROP TABLE students; --'", "unexpected '; DROP TABLE student' at position 10"),
    ("name = 'x' OR '1'='1'", "expected a column name, found \"'1'='1'\" at position 15"),
    ("id = '' OR 1=1", "expected a column name, found '1=1'"),
    ("name = 'unclosed", "the text that starts with ' is not closed"),
    ("name", "expected an operator"),
    ("name =", "expected a value, found 'the end'"),
    ("(a = 1", "expected ')'"),
    ("a IN 1", "expected '(' after IN"),
    ("a = 1 LIMIT x", "expected a whole number after LIMIT"),
    ("a = DATE('soon')", 'DATE("soon") is not a date'),
    ("[Name = 1", "expected ']' to end the column name"),
])
def test_bad_filters_are_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(BasicRuntimeError) as err:
        read(text)
    assert f"filter {text!r}" in err.value.message and message in err.value.message, err.value.message


def test_a_huge_filter_is_refused_before_it_is_read() -> None:
    with pytest.raises(BasicRuntimeError, match="at most 10,000"):
        read("a = " + "x" * 20_000)


ROWS = [
    {"Name": "Ann", "age": "30", "city": "São Paulo", "joined": dt.date(2024, 5, 1), "vip": True},
    {"Name": "bob", "age": 17, "city": "Lisboa", "joined": dt.datetime(2025, 1, 2, 9, 0), "vip": False},
    {"Name": "Carla", "age": "", "city": "sao paulo", "joined": None, "vip": "true"},
]


@pytest.mark.parametrize(("text", "names"), [
    ("name = 'ANN'", ["Ann"]),  # case and accents do not matter (General Bots' own FIND on files)
    ("city = 'Sao Paulo'", ["Ann", "Carla"]),
    ("age > 18", ["Ann"]),  # "30" is a number; "" is NULL and compares with nothing
    ("age >= 17 ORDER BY age DESC", ["Ann", "bob"]),
    ("age IS NULL", ["Carla"]),
    ("age <> 30", ["bob", "Carla"]),  # NULL differs from 30
    ("name LIKE 'a%' OR name LIKE '_ob'", ["Ann", "bob"]),
    ("city CONTAINS 'PAULO'", ["Ann", "Carla"]),
    ("joined >= 2025-01-01", ["bob"]),  # a date and a time against a day
    ("joined < '2025-01-01'", ["Ann"]),
    ("DATE(joined) = DATE('2025-01-02')", ["bob"]),
    ("vip = true", ["Ann", "Carla"]),
    ("name IN ('ann', 'carla')", ["Ann", "Carla"]),
    ("age BETWEEN 10 AND 20", ["bob"]),
    ("ORDER BY name DESC LIMIT 2", ["Carla", "bob"]),
    ("NOT (name = 'Ann')", ["bob", "Carla"]),
])
def test_matching_rows_in_python(text: str, names: list[str]) -> None:
    assert [r["Name"] for r in matches(ROWS, read(text))] == names


def test_equality_of_values() -> None:
    assert equals(None, "") and equals("", None) and not equals("x", None)
    assert equals(3, "3.0") and equals("Éva", "eva") and not equals("10", "1")
    assert equals(dt.datetime(2026, 1, 1), "2026-01-01") and equals(True, "TRUE")
