"""Tests of the built-in functions: one table of calls and results, one of errors."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from gb_basic.builtins import BUILTINS, DOCS, NEEDS_ENV
from gb_basic.errors import BasicRuntimeError

D = dt.date
DT = dt.datetime

# fmt: off
ALL_NAMES = [
    "LEN", "LEFT", "RIGHT", "MID", "INSTR", "REPLACE", "TRIM", "LTRIM", "RTRIM", "UPPER", "UCASE",
    "LOWER", "LCASE", "SPLIT", "JOIN", "STR", "VAL", "FORMAT",
    "ABS", "ROUND", "INT", "FIX", "CEIL", "FLOOR", "MOD", "SQR", "SQRT", "RND", "RANDOM",
    "MIN", "MAX", "SUM", "AVG", "COUNT",
    "NOW", "TODAY", "DATEADD", "DATEDIFF", "DAY", "MONTH", "YEAR", "HOUR", "MINUTE", "WEEKDAY",
    "FORMAT_DATE",
    "ISNULL", "ISEMPTY", "ISNUMERIC", "TYPEOF", "IIF", "NVL",
    "UBOUND", "PUSH", "CONTAINS", "SORT", "UNIQUE", "RANGE",
    "TOJSON", "FROMJSON", "TOYAML", "UUID", "GUID",
]
# fmt: on


class FakeEnv:
    """A fixed clock and a seeded random generator."""

    def __init__(self) -> None:
        self.random = random.Random(1)

    def now(self) -> dt.datetime:
        return DT(2026, 11, 25, 14, 30, 5)


def call(name: str, *args: Any) -> Any:
    """Call a built-in as the machine does, passing the env when it needs one."""
    if name in NEEDS_ENV:
        return BUILTINS[name](FakeEnv(), *args)
    return BUILTINS[name](*args)


def same(a: Any, b: Any) -> bool:
    """Equal values of the same type (so 3 and 3.0, or a date and a datetime, differ)."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


# --- registry ---------------------------------------------------------------------------


def test_every_builtin_is_registered_and_documented() -> None:
    assert set(BUILTINS) == set(ALL_NAMES)
    assert set(DOCS) == set(BUILTINS)
    assert NEEDS_ENV == {"NOW", "TODAY", "RND", "RANDOM", "UUID", "GUID"}


@pytest.mark.parametrize("name", ALL_NAMES)
def test_doc_is_a_signature_and_help(name: str) -> None:
    doc = DOCS[name]
    assert doc.startswith(f"{name}(")
    assert " -> " in doc
    assert "\n" not in doc


def test_aliases_document_their_own_name() -> None:
    assert DOCS["UCASE"].startswith("UCASE(")
    assert DOCS["SQRT"].startswith("SQRT(")


# --- results ----------------------------------------------------------------------------


CASES: list[tuple[str, tuple[Any, ...], Any]] = [
    # strings
    ("LEN", ("hello",), 5),
    ("LEN", ("",), 0),
    ("LEN", (None,), 0),
    ("LEN", ([1, 2, 3],), 3),
    ("LEN", ({"a": 1},), 1),
    ("LEN", (123,), 3),
    ("LEFT", ("hello", 2), "he"),
    ("LEFT", ("hello", 10), "hello"),
    ("LEFT", ("hello", -1), ""),
    ("LEFT", ("hello", "3"), "hel"),
    ("LEFT", (None, 2), ""),
    ("RIGHT", ("hello", 3), "llo"),
    ("RIGHT", ("hello", 0), ""),
    ("RIGHT", ("hello", 9), "hello"),
    ("MID", ("hello", 2, 3), "ell"),
    ("MID", ("hello", 2), "ello"),
    ("MID", ("hello", 9, 2), ""),
    ("MID", ("hello", 1, 0), ""),
    ("INSTR", ("hello", "l"), 3),
    ("INSTR", ("hello", "z"), 0),
    ("INSTR", ("hello", "L"), 0),
    ("INSTR", (4, "hello", "l"), 4),
    ("INSTR", (5, "hello", "l"), 0),
    ("INSTR", ("", "a"), 0),
    ("REPLACE", ("a-b-c", "-", "+"), "a+b+c"),
    ("REPLACE", ("abc", "", "x"), "abc"),
    ("REPLACE", ("abc", "B", "x"), "abc"),
    ("TRIM", ("  a b  ",), "a b"),
    ("LTRIM", ("  a  ",), "a  "),
    ("RTRIM", ("  a  ",), "  a"),
    ("UPPER", ("Olá",), "OLÁ"),
    ("UCASE", ("abc",), "ABC"),
    ("LOWER", ("ÀBC",), "àbc"),
    ("LCASE", ("ABC",), "abc"),
    ("SPLIT", ("a,b,,c", ","), ["a", "b", "", "c"]),
    ("SPLIT", ("a  b c",), ["a", "b", "c"]),
    ("SPLIT", ("", ","), []),
    ("SPLIT", ("abc", ""), ["a", "b", "c"]),
    ("JOIN", (["a", 1, True], "-"), "a-1-true"),
    ("JOIN", (["a", "b"],), "a b"),
    ("JOIN", (None, ","), ""),
    ("STR", (3.0,), "3"),
    ("STR", (None,), ""),
    ("STR", (True,), "true"),
    ("STR", (D(2026, 11, 25),), "2026-11-25"),
    ("VAL", ("12abc",), 12),
    ("VAL", ("x",), 0),
    ("VAL", ("  -3.5 kg",), -3.5),
    ("VAL", ("",), 0),
    ("VAL", (None,), 0),
    ("VAL", (7,), 7),
    ("VAL", ("1e3",), 1000.0),
    ("FORMAT", (1234.5, "#,##0.00"), "1,234.50"),
    ("FORMAT", (3.14159, "0.00"), "3.14"),
    ("FORMAT", (2.5, "0"), "3"),
    ("FORMAT", (0.256, "0%"), "26%"),
    ("FORMAT", (0.1234, "0.0%"), "12.3%"),
    ("FORMAT", (7, "000"), "007"),
    ("FORMAT", (0.5, "#.##"), ".5"),
    ("FORMAT", (1.5, "0.0#"), "1.5"),
    ("FORMAT", (1.555, "0.0#"), "1.56"),
    ("FORMAT", (-1234.5, "$#,##0.00"), "-$1,234.50"),
    ("FORMAT", (-0.001, "0.00"), "0.00"),
    ("FORMAT", (1234567.891, "#,##0"), "1,234,568"),
    ("FORMAT", (1234.5, "R$ #.##0,00"), "R$ 1.234,50"),
    ("FORMAT", (3.5, "0,00"), "3,50"),
    ("FORMAT", ("42", "0.0"), "42.0"),
    ("FORMAT", (42,), "42"),
    ("FORMAT", (1e30, "#,##0.00"), "1,000,000,000,000,000,000,000,000,000,000.00"),
    ("FORMAT", (None, "0.00"), ""),
    ("FORMAT", (D(2026, 11, 5), "dd/MM/yyyy"), "05/11/2026"),
    ("FORMAT", ("2026-11-05", "d MMM yyyy"), "5 Nov 2026"),
    # math
    ("ABS", (-3,), 3),
    ("ABS", (-2.5,), 2.5),
    ("ABS", ("-4",), 4),
    ("ROUND", (2.5,), 3),
    ("ROUND", (-2.5,), -3),
    ("ROUND", (2.4,), 2),
    ("ROUND", (2.675, 2), 2.68),
    ("ROUND", (1.005, 2), 1.01),
    ("ROUND", (1234, -2), 1200),
    ("ROUND", (7, 0), 7),
    ("ROUND", ("3.7",), 4),
    ("INT", (3.7,), 3),
    ("INT", (-3.2,), -4),
    ("INT", (5,), 5),
    ("FIX", (3.7,), 3),
    ("FIX", (-3.7,), -3),
    ("CEIL", (3.2,), 4),
    ("CEIL", (-3.7,), -3),
    ("FLOOR", (3.7,), 3),
    ("FLOOR", (-3.2,), -4),
    ("MOD", (7, 3), 1),
    ("MOD", (-7, 3), -1),
    ("MOD", (7.5, 2), 1.5),
    ("MOD", ("10", 4), 2),
    ("SQR", (16,), 4.0),
    ("SQRT", (2.25,), 1.5),
    ("SQR", (0,), 0.0),
    ("MIN", (3, 1, 2), 1),
    ("MIN", ([5, 2, 9],), 2),
    ("MIN", (["b", "a"],), "a"),
    ("MIN", ([None, 4, 3],), 3),
    ("MIN", ([],), None),
    ("MAX", (3, 1, 2), 3),
    ("MAX", ([5, 2.5, 9],), 9),
    ("MAX", (["10", 9],), "10"),
    ("SUM", (1, 2, 3), 6),
    ("SUM", ([1, 2.5],), 3.5),
    ("SUM", (["1", None, 2],), 3),
    ("SUM", ([],), 0),
    ("AVG", (1, 2, 3), 2),
    ("AVG", ([1, 2],), 1.5),
    ("AVG", ([],), None),
    ("AVG", ([None, 4],), 4),
    ("COUNT", ([1, 2, 3],), 3),
    ("COUNT", (1, 2), 2),
    ("COUNT", (None,), 0),
    ("COUNT", ("x",), 1),
    ("COUNT", ({"a": 1, "b": 2},), 2),
    ("COUNT", (), 0),
    # dates
    ("DATEADD", (D(2026, 1, 31), 1, "m"), D(2026, 2, 28)),
    ("DATEADD", ("m", 1, D(2024, 1, 31)), D(2024, 2, 29)),
    ("DATEADD", ("2026-11-25", 10), D(2026, 12, 5)),
    ("DATEADD", ("2026-11-25", -1, "day"), D(2026, 11, 24)),
    ("DATEADD", ("d", 7, "25/11/2026"), D(2026, 12, 2)),
    ("DATEADD", (D(2026, 11, 25), 2, "ww"), D(2026, 12, 9)),
    ("DATEADD", (D(2026, 11, 25), 1, "week"), D(2026, 12, 2)),
    ("DATEADD", (D(2024, 2, 29), 1, "yyyy"), D(2025, 2, 28)),
    ("DATEADD", ("year", -2, D(2026, 5, 1)), D(2024, 5, 1)),
    ("DATEADD", (D(2026, 11, 25), 1, "q"), D(2027, 2, 25)),
    ("DATEADD", ("2026-11-25 14:00", 2, "h"), DT(2026, 11, 25, 16, 0)),
    ("DATEADD", (D(2026, 11, 25), 90, "n"), DT(2026, 11, 25, 1, 30)),
    ("DATEADD", ("s", 30, DT(2026, 11, 25, 23, 59, 45)), DT(2026, 11, 26, 0, 0, 15)),
    ("DATEADD", (DT(2026, 1, 31, 9, 0), 1, "MONTH"), DT(2026, 2, 28, 9, 0)),
    ("DATEDIFF", ("2026-01-01", "2026-03-01"), 59),
    ("DATEDIFF", (D(2026, 3, 1), D(2026, 1, 1)), -59),
    ("DATEDIFF", ("d", "2026-01-01", "2026-01-11"), 10),
    ("DATEDIFF", ("yyyy", D(2025, 12, 31), D(2026, 1, 1)), 1),
    ("DATEDIFF", (D(2000, 6, 15), D(2026, 6, 14), "year"), 26),
    ("DATEDIFF", ("m", D(2026, 1, 31), D(2026, 3, 1)), 2),
    ("DATEDIFF", ("q", D(2026, 3, 31), D(2026, 4, 1)), 1),
    ("DATEDIFF", ("ww", D(2026, 1, 1), D(2026, 1, 20)), 2),
    ("DATEDIFF", ("h", DT(2026, 1, 1, 10, 59), DT(2026, 1, 1, 11, 1)), 1),
    ("DATEDIFF", (DT(2026, 1, 1, 10, 0), DT(2026, 1, 1, 12, 30), "n"), 150),
    ("DATEDIFF", ("s", "2026-01-01 10:00", "2026-01-01 10:01:05"), 65),
    ("DATEDIFF", ("d", DT(2026, 1, 1, 23, 0), DT(2026, 1, 2, 1, 0)), 1),
    ("DAY", (D(2026, 11, 25),), 25),
    ("DAY", ("2026-11-25",), 25),
    ("MONTH", ("25/11/2026",), 11),
    ("YEAR", (DT(2026, 11, 25, 8, 0),), 2026),
    ("HOUR", (DT(2026, 11, 25, 14, 30),), 14),
    ("HOUR", ("14:30",), 14),
    ("HOUR", (D(2026, 11, 25),), 0),
    ("HOUR", ("2026-11-25T09:15:00",), 9),
    ("MINUTE", (DT(2026, 11, 25, 14, 30),), 30),
    ("MINUTE", ("08:05",), 5),
    ("WEEKDAY", (D(2026, 11, 22),), 1),  # a Sunday
    ("WEEKDAY", (D(2026, 11, 25),), 4),  # a Wednesday
    ("WEEKDAY", ("2026-11-28",), 7),  # a Saturday
    ("FORMAT_DATE", (D(2026, 11, 5), "dd/MM/yyyy"), "05/11/2026"),
    ("FORMAT_DATE", (D(2026, 11, 5), "d/M/yy"), "5/11/26"),
    ("FORMAT_DATE", (DT(2026, 11, 5, 14, 7, 9), "yyyy-MM-dd HH:mm:ss"), "2026-11-05 14:07:09"),
    ("FORMAT_DATE", (DT(2026, 11, 5, 14, 7), "hh:mm tt"), "02:07 PM"),
    ("FORMAT_DATE", (DT(2026, 11, 5, 0, 7), "h:mm tt"), "12:07 AM"),
    ("FORMAT_DATE", (DT(2026, 11, 5, 9, 7), "H:mm"), "9:07"),
    ("FORMAT_DATE", (D(2026, 1, 5), "MMMM d, yyyy"), "January 5, 2026"),
    ("FORMAT_DATE", (D(2026, 1, 5), "dd MMM"), "05 Jan"),
    ("FORMAT_DATE", ("2026-11-25", "dddd"), "Wednesday"),
    ("FORMAT_DATE", (D(2026, 11, 25), "dd 'de' MMMM"), "25 de November"),
    ("FORMAT_DATE", (D(2026, 11, 25), "DD/MM/YYYY"), "25/11/2026"),
    # types
    ("ISNULL", (None,), True),
    ("ISNULL", ("",), False),
    ("ISNULL", (0,), False),
    ("ISEMPTY", (None,), True),
    ("ISEMPTY", ("",), True),
    ("ISEMPTY", ([],), True),
    ("ISEMPTY", ({},), True),
    ("ISEMPTY", (" ",), False),
    ("ISEMPTY", (0,), False),
    ("ISNUMERIC", (3,), True),
    ("ISNUMERIC", (2.5,), True),
    ("ISNUMERIC", (" 12 ",), True),
    ("ISNUMERIC", ("-1.5",), True),
    ("ISNUMERIC", ("12abc",), False),
    ("ISNUMERIC", ("",), False),
    ("ISNUMERIC", (True,), False),
    ("ISNUMERIC", (None,), False),
    ("TYPEOF", (None,), "null"),
    ("TYPEOF", (True,), "boolean"),
    ("TYPEOF", (1,), "integer"),
    ("TYPEOF", (1.5,), "number"),
    ("TYPEOF", ("a",), "string"),
    ("TYPEOF", ([],), "list"),
    ("TYPEOF", ({},), "object"),
    ("TYPEOF", (D(2026, 1, 1),), "date"),
    ("IIF", (True, "a", "b"), "a"),
    ("IIF", (0, "a", "b"), "b"),
    ("IIF", ("false", "a", "b"), "b"),
    ("IIF", ([1], "a", "b"), "a"),
    ("NVL", (None, "x"), "x"),
    ("NVL", ("", "x"), ""),
    ("NVL", (0, "x"), 0),
    # lists
    ("UBOUND", ([1, 2, 3],), 2),
    ("UBOUND", ([],), -1),
    ("UBOUND", (None,), -1),
    ("PUSH", ([1], 2), [1, 2]),
    ("PUSH", (None, "a"), ["a"]),
    ("CONTAINS", ([1, 2, 3], 2), True),
    ("CONTAINS", ([1, 2, 3], "2"), True),
    ("CONTAINS", (["Apple", "pear"], "apple"), True),
    ("CONTAINS", ([1, 2], 5), False),
    ("CONTAINS", ("Hello World", "WORLD"), True),
    ("CONTAINS", ("Hello", "bye"), False),
    ("CONTAINS", ({"Name": 1}, "name"), True),
    ("CONTAINS", ({"a": 1}, "b"), False),
    ("CONTAINS", (None, "a"), False),
    ("SORT", ([3, 1, 2],), [1, 2, 3]),
    ("SORT", (["b", 10, "a", 2],), [2, 10, "a", "b"]),
    ("SORT", (["b", "B", "a"],), ["a", "b", "B"]),
    ("SORT", (["10", "9", 1.5],), [1.5, "9", "10"]),
    ("SORT", ([None, 1],), [None, 1]),
    ("SORT", ([D(2026, 1, 2), D(2026, 1, 1)],), [D(2026, 1, 1), D(2026, 1, 2)]),
    ("SORT", ([],), []),
    ("UNIQUE", ([1, 2, 1, 3, 2],), [1, 2, 3]),
    ("UNIQUE", (["a", "A", "a"],), ["a", "A"]),
    ("UNIQUE", ([1, 1.0, "1"],), [1, "1"]),
    ("UNIQUE", ([[1], [1], {"a": 1}, {"a": 1}],), [[1], {"a": 1}]),
    ("UNIQUE", ([True, 1],), [True, 1]),
    ("RANGE", (1, 5), [1, 2, 3, 4, 5]),
    ("RANGE", (3,), [0, 1, 2]),
    ("RANGE", (0,), []),
    ("RANGE", (5, 1), []),
    ("RANGE", (0, 10, 5), [0, 5, 10]),
    ("RANGE", (5, 1, -2), [5, 3, 1]),
    ("RANGE", ("2", "3"), [2, 3]),
    # JSON and YAML
    ("TOJSON", ({"a": [1, "é", None, True]},), '{"a":[1,"é",null,true]}'),
    ("TOJSON", (D(2026, 11, 25),), '"2026-11-25"'),
    ("TOJSON", ("x",), '"x"'),
    (
        "FROMJSON",
        ('{"a": [1, 2.5, "2026-11-25", null, false]}',),
        {"a": [1, 2.5, "2026-11-25", None, False]},
    ),
    ("FROMJSON", ("42",), 42),
    ("FROMJSON", (None,), None),
    ("TOYAML", ({"b": 1, "a": ["x", "é"]},), "b: 1\na:\n- x\n- é\n"),
    ("TOYAML", ([1, 2],), "- 1\n- 2\n"),
    ("TOYAML", (5,), "5\n"),
]


@pytest.mark.parametrize(
    ("name", "args", "expected"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_builtin(name: str, args: tuple[Any, ...], expected: Any) -> None:
    result = call(name, *args)
    if isinstance(expected, (list, dict)):
        assert result == expected
    else:
        assert same(result, expected), f"{name}{args} = {result!r}, expected {expected!r}"


def test_every_builtin_has_a_case() -> None:
    tested = {c[0] for c in CASES} | NEEDS_ENV
    assert tested == set(ALL_NAMES)


@pytest.mark.parametrize("name", ["LEN", "len", "Len"])
def test_names_are_upper_case_keys(name: str) -> None:
    assert BUILTINS.get(name.upper()) is BUILTINS["LEN"]


def test_push_appends_in_place() -> None:
    items = [1]
    assert call("PUSH", items, 2) is items
    assert items == [1, 2]


def test_sort_and_unique_return_new_lists() -> None:
    items = [2, 1, 2]
    assert call("SORT", items) == [1, 2, 2]
    assert call("UNIQUE", items) == [2, 1]
    assert items == [2, 1, 2]


def test_sort_is_stable() -> None:
    assert call("SORT", ["b", "a", "B", "A"]) == ["a", "A", "b", "B"]


# --- the environment --------------------------------------------------------------------


def test_now_and_today_read_the_env_clock() -> None:
    assert same(call("NOW"), DT(2026, 11, 25, 14, 30, 5))
    assert same(call("TODAY"), D(2026, 11, 25))


def test_rnd_is_in_unit_interval_and_seeded() -> None:
    env = FakeEnv()
    values = [BUILTINS["RND"](env) for _ in range(200)]
    assert all(isinstance(v, float) and 0 <= v < 1 for v in values)
    assert BUILTINS["RND"](FakeEnv()) == random.Random(1).random()
    assert 0 <= BUILTINS["RND"](env, 5) < 1


def test_random_is_an_int_within_inclusive_bounds() -> None:
    env = FakeEnv()
    values = {BUILTINS["RANDOM"](env, 1, 3) for _ in range(200)}
    assert values == {1, 2, 3}
    assert all(type(v) is int for v in values)
    assert 5 <= BUILTINS["RANDOM"](env, 10, 5) <= 10
    assert BUILTINS["RANDOM"](env, 7, 7) == 7


def test_env_functions_take_no_basic_arguments() -> None:
    with pytest.raises(BasicRuntimeError, match="NOW expects no arguments, got 1"):
        BUILTINS["NOW"](FakeEnv(), 1)
    with pytest.raises(BasicRuntimeError, match="RANDOM expects 2 arguments, got 1"):
        BUILTINS["RANDOM"](FakeEnv(), 1)


# --- errors -----------------------------------------------------------------------------


ERRORS: list[tuple[str, tuple[Any, ...], str]] = [
    ("LEFT", ("a",), "LEFT expects 2 arguments, got 1"),
    ("LEN", (), "LEN expects 1 argument, got 0"),
    ("LEN", ("a", "b"), "LEN expects 1 argument, got 2"),
    ("MID", ("a",), "MID expects 2 or 3 arguments, got 1"),
    ("RANGE", (1, 2, 3, 4), "RANGE expects 1 to 3 arguments, got 4"),
    ("MIN", (), "MIN expects at least 1 argument, got 0"),
    ("SUM", (), "SUM expects at least 1 argument, got 0"),
    ("UCASE", (), "UCASE expects 1 argument, got 0"),
    ("MID", ("hello", "abc"), 'MID: start must be a number, got "abc"'),
    ("MID", ("hello", 0), "MID: start must be 1 or more"),
    ("INSTR", (0, "a", "b"), "INSTR: start must be 1 or more"),
    ("LEFT", ("a", "x"), 'LEFT: n must be a number, got "x"'),
    ("RIGHT", ("a", [1]), "RIGHT: n must be a number, got list"),
    ("ABS", ("x",), 'ABS: value must be a number, got "x"'),
    ("ROUND", (1.5, "x"), 'ROUND: digits must be a number, got "x"'),
    ("INT", (float("inf"),), "INT: value must be a finite number"),
    ("SQR", (-1,), "SQR: cannot take the square root of a negative number"),
    ("SQRT", ("a",), "SQRT: value must be a number"),
    ("MOD", (1, 0), "MOD: division by zero"),
    ("SUM", ([1, "x"],), 'SUM: every item must be a number, got "x"'),
    ("AVG", ("a", "b"), "AVG: every item must be a number"),
    ("FORMAT", ("abc", "0.00"), 'FORMAT: value must be a number, got "abc"'),
    ("FORMAT", (10**500, "0"), "FORMAT: number too large"),
    ("FORMAT", (5, "abc"), 'FORMAT: pattern "abc" has no digit placeholder'),
    ("FORMAT_DATE", ("nope", "dd"), 'FORMAT_DATE: date must be a date, got "nope"'),
    ("DATEADD", ("2026-11-25", 1, "fortnight"), "DATEADD: unit must be one of"),
    ("DATEADD", ("soon", 1, "d"), 'DATEADD: date must be a date, got "soon"'),
    ("DATEADD", ("2026-11-25", "x", "d"), 'DATEADD: n must be a number, got "x"'),
    ("DATEADD", (D(9999, 12, 1), 1, "m"), "DATEADD: the resulting date is out of range"),
    ("DATEADD", (D(9999, 12, 31), 1, "d"), "DATEADD: number too large"),
    ("DATEDIFF", ("2026-13-01", "2026-01-01"), "DATEDIFF: date1 must be a date"),
    ("DATEDIFF", ("2026-01-01", 5), "DATEDIFF: date2 must be a date, got integer 5"),
    ("DATEDIFF", ("2026-01-01", "2026-01-02", "eon"), "DATEDIFF: unit must be one of"),
    ("DAY", ("31/02/2026",), "DAY: date must be a date"),
    ("MONTH", (None,), "MONTH: date must be a date, got null"),
    ("YEAR", (5,), "YEAR: date must be a date"),
    ("HOUR", ("25:00",), "HOUR: time must be a date"),
    ("MINUTE", ("x",), "MINUTE: time must be a date"),
    ("WEEKDAY", ("x",), "WEEKDAY: date must be a date"),
    ("JOIN", ("abc", ","), 'JOIN: the first argument must be a list, got "abc"'),
    ("UBOUND", ("abc",), "UBOUND: the argument must be a list"),
    ("PUSH", ("abc", 1), "PUSH: the first argument must be a list"),
    ("SORT", (5,), "SORT: the argument must be a list"),
    ("UNIQUE", ({"a": 1},), "UNIQUE: the argument must be a list"),
    ("CONTAINS", (5, 1), "CONTAINS: the first argument must be a list, text or object"),
    ("RANGE", (1, 5, 0), "RANGE: step must not be 0"),
    ("RANGE", (10**7,), "RANGE: too many items"),
    ("RANGE", ("a",), 'RANGE: n must be a number, got "a"'),
    ("FROMJSON", ('{"a": 1,}',), "FROMJSON: invalid JSON at line 1, column 9"),
    ("FROMJSON", ("[1,\n 2",), "FROMJSON: invalid JSON at line 2"),
    ("FROMJSON", ("NaN",), "FROMJSON: invalid JSON"),
    ("FROMJSON", (5,), "FROMJSON: the argument must be JSON text"),
    ("IIF", (True, 1), "IIF expects 3 arguments, got 2"),
    ("NVL", (None,), "NVL expects 2 arguments, got 1"),
    ("TYPEOF", (), "TYPEOF expects 1 argument, got 0"),
    ("ISNULL", (1, 2), "ISNULL expects 1 argument, got 2"),
    ("ISEMPTY", (), "ISEMPTY expects 1 argument, got 0"),
    ("ISNUMERIC", (), "ISNUMERIC expects 1 argument, got 0"),
    ("TOJSON", (), "TOJSON expects 1 argument, got 0"),
    ("TOYAML", (1, 2), "TOYAML expects 1 argument, got 2"),
    ("STR", (), "STR expects 1 argument, got 0"),
    ("VAL", (), "VAL expects 1 argument, got 0"),
    ("REPLACE", ("a", "b"), "REPLACE expects 3 arguments, got 2"),
    ("TRIM", (), "TRIM expects 1 argument, got 0"),
    ("LTRIM", (), "LTRIM expects 1 argument, got 0"),
    ("RTRIM", (), "RTRIM expects 1 argument, got 0"),
    ("UPPER", (), "UPPER expects 1 argument, got 0"),
    ("LOWER", (), "LOWER expects 1 argument, got 0"),
    ("LCASE", (), "LCASE expects 1 argument, got 0"),
    ("SPLIT", (), "SPLIT expects 1 or 2 arguments, got 0"),
    ("FIX", (), "FIX expects 1 argument, got 0"),
    ("CEIL", ("x",), "CEIL: value must be a number"),
    ("FLOOR", ("x",), "FLOOR: value must be a number"),
    ("MAX", (), "MAX expects at least 1 argument, got 0"),
    ("TODAY", (1,), "TODAY expects no arguments, got 1"),
    ("RND", (1, 2), "RND expects 0 or 1 arguments, got 2"),
]


@pytest.mark.parametrize(
    ("name", "args", "message"), ERRORS, ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)]
)
def test_builtin_error(name: str, args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(BasicRuntimeError) as info:
        call(name, *args)
    assert info.value.message.startswith(name)
    assert message in info.value.message


VARIADIC = {"MIN", "MAX", "SUM", "AVG", "COUNT"}


def arity_error(name: str, *args: Any) -> str:
    """The message of the error a call raises."""
    with pytest.raises(BasicRuntimeError) as info:
        call(name, *args)
    return info.value.message


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_builtin_rejects_a_wrong_argument_count(name: str) -> None:
    if name not in VARIADIC:
        assert arity_error(name, *range(5)).startswith(f"{name} expects ")
    if name not in ("COUNT", "RND", "NOW", "TODAY", "UUID", "GUID"):  # these take none
        assert arity_error(name).startswith(f"{name} expects ")


def test_errors_carry_no_position() -> None:
    with pytest.raises(BasicRuntimeError) as info:
        call("LEFT", "a")
    assert info.value.line == 0
    assert info.value.file == "<dialog>"


def test_uuid_and_guid_are_new_random_ids() -> None:
    import re as _re

    from gb_basic import Machine, compile_source

    r = Machine(compile_source('a = UUID()\nb = GUID()\nTALK a\nTALK b\n', "ids.bas")).run()
    a, b = (o.text for o in r.outputs)
    shape = _re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")
    assert shape.match(a) and shape.match(b) and a != b
