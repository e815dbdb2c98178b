"""Hostile dialogs: one message can never freeze a server, exhaust its memory or break a session.

Each attack runs on a real Machine with the default budget (1,000,000 steps, 10 s) and caps, and
must stop (a) with the right error naming its line, (b) in a small fraction of the deadline,
because the caps refuse before the work is done, and (c) without building a value over a cap.
The time bounds are loose for a loaded 2-core machine; without the caps each attack takes from
tens of seconds to minutes, or gigabytes.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
import tracemalloc
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gb_basic import (
    BasicError,
    BasicRuntimeError,
    BasicSyntaxError,
    BudgetExceeded,
    Finished,
    LimitExceeded,
    Machine,
    Suspended,
    check_source,
    compile_source,
    values,
)
from gb_basic.builtins import BUILTINS
from gb_basic.lexer import name_key
from gb_basic.limits import Limits

FAST = 1.0  # seconds: an attack the caps refuse before doing any work
BOUNDED = 2.0  # seconds: an attack stopped by the step budget, charged for its work


def run(src: str, answers: tuple[str, ...] = (), **caps: Any) -> Suspended | Finished:
    """Run a dialog, answering its HEARs in order."""
    machine = Machine(compile_source(src, "dialog.bas"), **caps)
    result = machine.run()
    for answer in answers:
        assert isinstance(result, Suspended)
        result = machine.run(result.state, answer)
    return result


def fails(src: str, error: type[BasicError], answers: tuple[str, ...] = (), **caps: Any) -> tuple[BasicError, float]:
    """The error a dialog fails with, and how long it took (seconds)."""
    start = time.monotonic()
    with pytest.raises(error) as info:
        run(src, answers, **caps)
    return info.value, time.monotonic() - start


def names_line(err: BasicError, line: int, message: str) -> None:
    """The error is at `line` of dialog.bas, says `message`, and names the line in its text."""
    assert err.headline.startswith(f"[dialog.bas:{line}:"), err.headline
    assert message in err.message, err.message
    if isinstance(err, LimitExceeded):
        assert err.message.endswith(f"(line {line})"), err.message


def doubled(expr: str, times: int) -> str:
    """A dialog that doubles `s` (starting at "ab") `times` times with `expr`, one line each."""
    return 's = "ab"\n' + f"s = {expr}\n" * times + "TALK LEN(s)"


# --- numbers ------------------------------------------------------------------------------


def test_power_is_refused_before_it_is_computed():
    err, seconds = fails("x = 3 ^ 100000000\nTALK x", LimitExceeded)
    names_line(err, 1, "number too large: 3 ^ 100000000 would have about 47,712,125 digits (the limit is 4,300)")
    assert seconds < FAST  # it took 92.8 s


def test_power_from_the_users_answers_fails_and_leaves_the_state_as_it_was():
    src = "HEAR a AS INTEGER\nHEAR b AS INTEGER\nTALK a ^ b"
    machine = Machine(compile_source(src, "dialog.bas"))
    r = machine.run(machine.run().state, "3")
    assert isinstance(r, Suspended)
    before = copy.deepcopy(r.state)
    start = time.monotonic()
    with pytest.raises(LimitExceeded) as info:
        machine.run(r.state, "100000000")
    assert time.monotonic() - start < FAST
    names_line(info.value, 3, "number too large: 3 ^ 100000000")
    assert r.state == before  # nothing of the failed turn is in it: it still waits at line 2
    again = machine.run(r.state, "4")
    assert isinstance(again, Finished) and [o.text for o in again.outputs] == ["81"]


@pytest.mark.parametrize(("src", "line"), [
    ("x = 3 ^ 1000\nFOR i = 1 TO 20\n  x = x * x\nNEXT", 3),  # the product of two 4,300-digit numbers
    ("x = 7 ^ 6000", 1),
    ("x = (2 ^ 62) * (2 ^ 62) * (10 ^ 4280)", 1),  # past the inline 63-bit fast path
])
def test_integers_stay_within_the_digit_cap(src, line):
    err, seconds = fails(src, LimitExceeded)
    names_line(err, line, "number too large")
    assert seconds < FAST


@pytest.mark.parametrize(("src", "line"), [
    ("x = 1e308 * 10", 1),
    ("x = 1e308 + 1e308", 1),
    ("x = -1e308 - 1e308", 1),
    ("x = 1e308 / 1e-308", 1),
    ('x = VAL("1e999")', 1),
    ('x = FROMJSON("[1e999]")', 1),
    ("x = SUM([1e308, 1e308])", 1),
    ("x = 2.0 ^ 5000", 1),
])
def test_floats_never_overflow_to_infinity(src, line):
    err, _ = fails(src, BasicRuntimeError)
    names_line(err, line, "number too large")


def test_a_number_answer_beyond_a_float_is_asked_again():
    r = run("HEAR x AS NUMBER\nTALK x", ("1" + "0" * 400,))
    assert isinstance(r, Suspended) and r.request.data["type"] == "NUMBER"
    r = run("HEAR x AS INTEGER\nTALK x", ("9" * 5000,))
    assert isinstance(r, Suspended)


def test_numbers_too_long_to_show_are_an_error_not_a_python_exception():
    x = 10**5000  # not a value the machine builds (+ grows by a bit at most): from outside
    with pytest.raises(LimitExceeded, match="number too large"):
        values.to_str(x)
    with pytest.raises(LimitExceeded, match="number too large"):
        values.encode([x])
    assert values.describe(x).startswith("integer of")


# --- texts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("expr", ["s & s", "s + s", '"${s}${s}"', '"{s}{s}"', 'JOIN([s, s], "")',
                                  'REPLACE(s, "a", "aa")', "LEFT(s & s, 3000000)"])
def test_doubling_a_text_stops_at_the_cap_with_little_memory(expr):
    tracemalloc.start()
    try:
        err, seconds = fails(doubled(expr, 31), LimitExceeded)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    line = 21 if "REPLACE" in expr else 20  # "ab" has 2**20 characters after 19 doublings
    names_line(err, line, "text too long")
    assert "(the limit is 1,000,000)" in err.message
    assert peak < 50_000_000  # bytes: the largest text built is under 1 MB (it took 3.25 GB)
    assert seconds < BOUNDED


def test_a_text_just_under_the_cap_is_built():
    r = run(doubled("s & s", 18) + '\nt = s & LEFT(s, 475000)\nTALK LEN(t)')
    assert [o.text for o in r.outputs] == ["524288", "999288"]


@pytest.mark.parametrize("pattern", ["z", 'z & ",000"', '"#,##" & z', '"#,##0." & z', '"dd/MM/yyyy " & z'])
def test_format_with_a_huge_pattern_is_linear(pattern):
    """A 131,072-character pattern: zeros to pad, to group by threes, or far too many decimals."""
    src = f'z = "0"\nFOR i = 1 TO 17\n  z = z & z\nNEXT\np = {pattern}\nx = FORMAT(1234567, p)\nTALK LEN(x)'
    start = time.monotonic()
    try:
        r = run(src)
        assert isinstance(r, Finished)
    except BasicRuntimeError as exc:  # too many decimal places: a clear error, also fast
        names_line(exc, 6, "FORMAT: the pattern asks for")
    assert time.monotonic() - start < FAST  # it took 139.8 s


def test_format_groups_a_long_number_by_threes():
    assert BUILTINS["FORMAT"](1234567, "#,##0") == "1,234,567"
    assert BUILTINS["FORMAT"](1234567.5, "#.##0,00") == "1.234.567,50"
    assert BUILTINS["FORMAT"](123, "0" * 7 + ",000") == "0,000,000,123"
    assert BUILTINS["FORMAT"](1, "#,##0") == "1"


def test_talking_too_much_in_one_message_is_refused():
    src = doubled("s & s", 16) + "\nFOR i = 1 TO 1000\n  TALK s\nNEXT"
    err, seconds = fails(src, LimitExceeded)
    names_line(err, 20, "too much output: the dialog said more than 1,000,000 characters for one message")
    assert len(err.outputs) == 8  # what it said before, 131,072 characters each
    assert seconds < FAST


def test_a_long_answer_is_refused_at_its_hear_and_the_dialog_still_waits():
    machine = Machine(compile_source("HEAR x\nTALK LEN(x)", "dialog.bas"))
    waiting = machine.run()
    with pytest.raises(LimitExceeded) as info:
        machine.run(waiting.state, "a" * 1_000_001)
    names_line(info.value, 1, "text too long: the answer would have 1,000,001 characters")
    r = machine.run(waiting.state, "short")
    assert [o.text for o in r.outputs] == ["5"]


# --- lists ---------------------------------------------------------------------------------


def test_range_over_the_cap_is_refused_before_it_is_built():
    err, seconds = fails("l = RANGE(1000000)\nFOR i = 1 TO 40\n  s = SORT(l)\nNEXT", LimitExceeded)
    names_line(err, 1, "RANGE: too many items: the list would have 1,000,000 items (the limit is 100,000)")
    assert seconds < FAST


def test_sorting_is_charged_for_its_comparisons():
    err, seconds = fails("l = RANGE(100000)\nFOR i = 1 TO 40\n  s = SORT(l)\nNEXT", BudgetExceeded)
    names_line(err, 3, "SORT: the dialog ran more than 1,000,000 steps")
    assert seconds < BOUNDED  # 40 sorts of a million items took 14.3 s


@pytest.mark.parametrize(("src", "line"), [
    ("l = [1]\nFOR i = 1 TO 20\n  l = l + l\nNEXT", 3),
    ("l = []\nFOR i = 1 TO 200000\n  PUSH(l, i)\nNEXT", 3),
    ("l = []\nFOR i = 0 TO 200000\n  l[i] = i\nNEXT", 3),
    ("o = {}\nFOR i = 0 TO 200000\n  o[i] = i\nNEXT", 3),
    ('s = "ab"\nFOR i = 1 TO 17\n  s = s & s\nNEXT\nl = SPLIT(s, "")', 5),
    ('s = "a,"\nFOR i = 1 TO 17\n  s = s & s\nNEXT\nl = SPLIT(s, ",")', 5),
    ('l = FROMJSON("[" & JOIN(RANGE(100001), ",") & "]")', 1),
])
def test_lists_and_objects_stay_within_the_item_cap(src, line):
    err, seconds = fails(src, LimitExceeded)
    names_line(err, line, "too many items")
    assert seconds < BOUNDED


@pytest.mark.parametrize(("src", "line", "message"), [
    ("l = RANGE(100000)\nm = []\nFOR i = 1 TO 100000\n  PUSH(m, l)\nNEXT\nTALK LEN(TOJSON(m))", 6, "TOJSON: too large"),
    ('s = "ab"\nFOR i = 1 TO 9\n  s = s & s\nNEXT\nl = []\nFOR i = 1 TO 1000\n  PUSH(l, s)\nNEXT\n'
     "m = [l, l, l, l, l, l, l, l, l, l, l]\nHEAR x", 10,
     "too large: the value would take more than 10,000,000 characters"),
    ('s = "ab"\nFOR i = 1 TO 18\n  s = s & s\nNEXT\nl = []\nFOR i = 1 TO 1000\n  PUSH(l, s)\nNEXT\n'
     'x = JOIN(l, ",")', 9, "JOIN: text too long"),
])
def test_shared_values_do_not_multiply_into_huge_texts(src, line, message):
    err, seconds = fails(src, LimitExceeded)
    names_line(err, line, message)
    assert seconds < BOUNDED


@pytest.mark.parametrize(("src", "line"), [
    ("o = {}\nFOR i = 1 TO 100000\n  o[i] = 1\nNEXT\nFOR i = 1 TO 100000\n  y = o.missing\nNEXT", 6),
    ('s = "1"\nFOR i = 1 TO 19\n  s = s & s\nNEXT\nFOR i = 1 TO 100000\n  IF s > 5 THEN x = 1\nNEXT', 6),
    ('s = "a"\nFOR i = 1 TO 19\n  s = s & s\nNEXT\nFOR i = 1 TO 100000\n  x = INSTR(s, "b")\nNEXT', 6),
    ("l = RANGE(100000)\nm = []\nn = []\nFOR i = 1 TO 1000\n  PUSH(m, l)\n  PUSH(n, RANGE(100000))\nNEXT\n"
     'IF m = n THEN TALK "same"', 6),
    ("l = RANGE(50000)\nFOR i = 1 TO 100\n  x = TOYAML(l)\nNEXT", 3),
    ("l = RANGE(100000)\nFOR i = 1 TO 1000\n  x = MAX(l)\nNEXT", 3),
    ("l = RANGE(100000)\nFOR i = 1 TO 1000\n  x = UNIQUE(l)\nNEXT", 3),
    ('l = SPLIT(RANGE(40000), ",")\nFOR i = 1 TO 1000\n  x = MIN(l)\nNEXT', 3),
    ("l = RANGE(100000)\nFOR i = 1 TO 1000\n  x = CONTAINS(l, -1)\nNEXT", 3),
    ("l = RANGE(100000)\nFOR i = 1 TO 1000\n  x = JOIN(l, \",\")\nNEXT", 3),
])
def test_work_inside_built_ins_and_operators_is_charged(src, line):
    err, seconds = fails(src, BudgetExceeded, max_memory_mb=1_000_000)  # the steps, not the memory ceiling
    assert err.headline.startswith(f"[dialog.bas:{line}:"), err.headline
    assert "steps for one message" in err.message
    assert seconds < BOUNDED


def test_the_deadline_holds_inside_built_ins():
    src = "l = RANGE(100000)\nFOR i = 1 TO 1000000\n  s = SORT(l)\nNEXT"
    err, seconds = fails(src, BudgetExceeded, max_steps=10**12, max_seconds=0.3)
    names_line(err, 3, "SORT: the dialog ran longer than 0.3 s")
    assert seconds < BOUNDED


# --- nesting and values that contain themselves --------------------------------------------


@pytest.mark.parametrize(("src", "line", "message"), [
    ("o = {}\no.me = o\nTALK o", 3, "the value contains itself: a object cannot hold itself"),
    ("l = [1]\nPUSH(l, l)\nHEAR x", 3, "the value contains itself: a list cannot hold itself"),
    ("l = [1]\nl[1] = l\nx = TOJSON(l)", 3, "TOJSON: the value contains itself"),
    ("l = [1]\nPUSH(l, l)\nm = [1]\nPUSH(m, m)\nIF l = m THEN TALK 1", 5, "the value compared contains itself"),
    ("l = [1]\nPUSH(l, l)\nx = TOYAML(l)", 3, "TOYAML: the value contains itself"),
    ("l = [1]\nPUSH(l, l)\nx = UNIQUE([l, l])", 3, "UNIQUE: the value contains itself"),
    ("l = [1]\nPUSH(l, l)\nSET v = l", 3, "the value contains itself"),
    ("l = 1\nFOR i = 1 TO 200000\n  l = [l]\nNEXT\nHEAR x", 5, "nested too deeply: the value has more than 200 levels"),
    ("l = 1\nFOR i = 1 TO 200000\n  l = [l]\nNEXT\nTALK l", 5, "nested too deeply"),
    ("l = 1\nFOR i = 1 TO 300\n  l = [l]\nNEXT\nm = 1\nFOR i = 1 TO 300\n  m = [m]\nNEXT\nIF l = m THEN TALK 1",
     9, "nested too deeply"),
    ('x = FROMJSON("' + "[" * 100_000 + '")', 1, "FROMJSON: nested too deeply"),
    ('x = FROMJSON("' + "[" * 300 + "]" * 300 + '")', 1, "FROMJSON: nested too deeply"),
])
def test_self_containing_and_too_deep_values_are_clear_errors(src, line, message):
    err, seconds = fails(src, LimitExceeded)
    names_line(err, line, message)
    assert seconds < BOUNDED


def test_walks_refuse_cycles_and_depth_outside_a_machine_too():
    cyclic: list[Any] = [1]
    cyclic.append(cyclic)
    deep: Any = 1
    for _ in range(200_000):
        deep = [deep]
    for fn in (values.encode, values.to_json, values.to_str, values.measure):
        for value in (cyclic, deep):
            with pytest.raises(LimitExceeded):
                fn(value)
    assert values.describe(cyclic).startswith("list [1,[1,[1,")  # a bounded preview
    assert len(values.describe(deep)) < 60
    with pytest.raises(LimitExceeded):
        values.decode(json.loads("[" * 300 + "]" * 300))


def test_a_deep_or_self_containing_answer_is_refused_at_its_hear():
    machine = Machine(compile_source("HEAR x\nTALK TYPEOF(x)", "dialog.bas"))
    waiting = machine.run()
    deep: Any = {}
    for _ in range(200_000):
        deep = {"a": deep}
    for answer in (deep, [list(range(100_001))]):
        with pytest.raises(LimitExceeded) as info:
            machine.run(waiting.state, answer)
        names_line(info.value, 1, "")
    assert [o.text for o in machine.run(waiting.state, {"a": [1]}).outputs] == ["object"]


def test_on_error_resume_next_does_not_swallow_a_cap():
    err, _ = fails("ON ERROR RESUME NEXT\nx = 3 ^ 100000000\nTALK \"after\"", LimitExceeded)
    names_line(err, 2, "number too large")


# --- parse and compile errors ---------------------------------------------------------------


@pytest.mark.parametrize(("src", "position", "message"), [
    ("x = " + "[" * 300 + "1" + "]" * 300, (1, 105), "expression nested too deeply: more than 100 levels"),
    ("x = " + "(1 + " * 300 + "1" + ")" * 300, (1, 501), "expression nested too deeply"),
    ("x = " + "ABS(" * 150 + "1" + ")" * 150, (1, 405), "expression nested too deeply"),
    ("x = 1" + " & 1" * 150, (1, 5), "expression nested too deeply"),
    ("x = " + "NOT " * 500 + "1", (1, 261), "more than 64 NOT, - or + in a row"),
    ("x = " + "-" * 500 + "1", (1, 69), "more than 64 NOT, - or + in a row"),
    ("IF 1 THEN\n" * 100 + "TALK 1\n" + "END IF\n" * 100, (65, 1), "blocks nested too deeply: more than 64"),
    ("".join(f"FOR i{k} = 1 TO 1\n" for k in range(20)) + "TALK 1\n" + "NEXT\n" * 20, (17, 1),
     "loops nested too deeply: more than 16"),
    ("x = " + "1" * 5001, (1, 5), "number too large: the literal has 5,001 digits (the limit is 4,300)"),
    ("x = 1e999", (1, 5), "number too large: 1e999 is beyond the largest number"),
    ("x = 0." + "0" * 10 + "1e400", (1, 5), "number too large"),
    ("FUNCTION main(a)\n  main = a\nEND FUNCTION", (1, 10), "FUNCTION main: main is the dialog itself"),
    ("SUB Main\nEND SUB", (1, 5), "SUB Main: main is the dialog itself"),
])
def test_deep_or_huge_source_is_a_syntax_error_with_its_position(src, position, message):
    start = time.monotonic()
    with pytest.raises(BasicSyntaxError) as info:
        compile_source(src, "dialog.bas")
    assert (info.value.line, info.value.column) == position, info.value.headline
    assert message in info.value.message
    program, errors = check_source(src, "dialog.bas")  # gb check reports it too
    assert program is None and message in errors[0].message
    assert time.monotonic() - start < FAST


def test_nesting_within_the_limits_compiles_and_runs():
    src = ("a = 1\n" + "IF a THEN\n" * 64 + "x = " + "[" * 99 + "a" + "]" * 99 + "\n" + "END IF\n" * 64
           + "".join(f"FOR i{k} = 1 TO 1\n" for k in range(16)) + "y = " + "(a + " * 99 + "a" + ")" * 99
           + "\n" + "NEXT\n" * 16 + 'TALK y\nTALK "${1 + 2}" & 4300 - 1')
    r = run(src)
    assert [o.text for o in r.outputs] == ["100", "34299"]
    assert run("x = " + "9" * 4300 + "\nTALK LEN(STR(x))").outputs[0].text == "4300"


def test_the_largest_float_literal_is_accepted():
    assert run("TALK 1.7976931348623157e308 > 1").outputs[0].text == "true"


# --- identifiers ---------------------------------------------------------------------------


def test_identifiers_are_nfkc_normalised_on_purpose():
    r = run('ﬁ = "a"\nfi = "b"\nTALK ﬁ & FI\nHEAR x')
    assert [o.text for o in r.outputs] == ["bb"]
    variables = r.state["frames"][0]["vars"]
    assert variables == {"fi": "b"}  # one variable, under its normalised name
    assert [o.text for o in run("ｘ² = 3\nTALK x2 * 2\nTALK \"ｘ² ﬁ\"").outputs] == ["6", "ｘ² ﬁ"]
    assert name_key("Ｆﬁ") == "ffi"
    start = Machine(compile_source("TALK ﬁx + 1", "dialog.bas")).start(variables={"FIX": 41})
    assert [o.text for o in start.outputs] == ["42"]


def test_labels_and_soft_interpolation_use_the_same_rule():
    src = 'nº = 7\nTALK "{no} and {nº}"\nGOTO ﬁnish\nTALK "skipped"\nfinish:\nTALK "done"'
    assert [o.text for o in run(src).outputs] == ["7 and 7", "done"]


# --- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(("caps", "src", "message"), [
    ({"max_text_chars": 5_000}, 's = "ab"\nFOR i = 1 TO 12\n  s = s & s\nNEXT', "(the limit is 5,000)"),
    ({"max_list_items": 2_000}, "l = RANGE(3000)", "(the limit is 2,000)"),
    ({"max_depth": 10}, "l = 1\nFOR i = 1 TO 11\n  l = [l]\nNEXT\nTALK l", "more than 10 levels"),
    ({"max_number_digits": 50}, "x = 10 ^ 60", "(the limit is 50)"),
    ({"max_output_chars": 5_000}, 'FOR i = 1 TO 1000\n  TALK "0123456789"\nNEXT', "more than 5,000 characters"),
    ({"max_state_chars": 5_000}, "l = RANGE(1000)\nHEAR x", "more than 5,000 characters"),
])
def test_caps_are_configured_on_the_machine(caps, src, message):
    err, _ = fails(src, LimitExceeded, **caps)
    assert message in err.message


def test_caps_have_floors_and_a_ceiling():
    assert Limits().max_text_chars == 1_000_000
    for bad in ({"max_text_chars": 10}, {"max_list_items": 5}, {"max_depth": 0}, {"max_depth": 10_000},
                {"max_number_digits": 3}):
        with pytest.raises(ValueError):
            Machine(compile_source("TALK 1", "dialog.bas"), **bad)


def test_hot_paths_are_unchanged_for_small_values():
    src = 'total = 0\nt = ""\nFOR i = 1 TO 1000\n  total = total + i * 2\n  t = "x" & i\nNEXT\nTALK total & t'
    assert [o.text for o in run(src).outputs] == ["1001000x1000"]


# --- random programs of the operations that grow -------------------------------------------

GROWING = [
    "s = s & s", "s = s + t", 's = "${s}${t}${s}"', 's = REPLACE(s, "a", s)', 'l = SPLIT(s, "")',
    "l = SPLIT(s)", "s = JOIN(l, s)", "l = l + l", "PUSH(l, l)", "PUSH(l, s)", "l = RANGE(n)",
    "l = RANGE(n, n * k)", "l = SORT(l)", "l = UNIQUE(l)", "s = TOJSON(l)", "l = FROMJSON(s)", "n = n * n",
    "n = n ^ k", "n = k ^ n", "s = FORMAT(n, s)", "s = FORMAT(k, \"#,##0.00\")", "s = UPPER(s)",
    "s = MID(s, 2)", "o.x = l", "o[s] = o", "l = [l, l, o]", "s = TOYAML(l)", "x = CONTAINS(l, s)",
    "x = INSTR(s, t)", "n = LEN(s)", "x = (l = l)", "x = (s > t)", "s = STR(n)", "n = VAL(s)",
    "s = FORMAT_DATE(NOW(), s)", "x = MIN(l)", "n = SUM(RANGE(k))", "t = LEFT(s, n)", "l[0] = l",
    "s = TRIM(s & t & s)", "n = n + n", "x = TYPEOF(o)",
]


@st.composite
def hostile_programs(draw: Any) -> str:
    lines = [f"s = {json.dumps(draw(st.text('ab ,.0#', max_size=8)))}",
             f"t = {json.dumps(draw(st.text('ab0', max_size=4)))}",
             f"n = {draw(st.integers(-5, 300))}", f"k = {draw(st.integers(-3, 40))}", "l = [1, \"a\"]", "o = {}"]
    for _ in range(draw(st.integers(1, 6))):
        body = draw(st.lists(st.sampled_from(GROWING), min_size=1, max_size=4))
        times = draw(st.integers(1, 30))
        lines += [f"FOR i{len(lines)} = 1 TO {times}", *body, "NEXT"]
    lines.append("HEAR answer")  # the state is saved: encoded and measured
    return "\n".join(lines)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_programs())
def test_random_growing_programs_stop_fast_with_basic_errors_only(src):
    program = compile_source(src, "dialog.bas")
    start = time.monotonic()
    try:
        r = Machine(program, clock=lambda: dt.datetime(2026, 11, 25, 14, 30)).run()
        assert isinstance(r, Suspended)
        json.dumps(r.state)  # the state is JSON
    except BasicError:
        pass
    assert time.monotonic() - start < 2.5, src


def test_the_depth_cap_is_exact_for_saved_and_shown_values():
    nested = "l = 1\nFOR i = 1 TO {n}\n  l = [l]\nNEXT\nSET v = l\nHEAR x\nTALK LEN(TOJSON(l))"
    r = run(nested.format(n=200))
    while isinstance(r, Suspended) and r.request.kind != "hear":
        r = Machine(compile_source(nested.format(n=200), "dialog.bas")).run(r.state, None)
    assert isinstance(r, Suspended) and r.request.kind == "hear"
    err, _ = fails(nested.format(n=201), LimitExceeded)
    names_line(err, 5, "nested too deeply: the value has more than 200 levels")


def test_talk_of_several_texts_is_refused_before_it_is_joined():
    err, _ = fails(doubled("s & s", 18) + "\nTALK s, s", LimitExceeded)
    names_line(err, 21, "text too long: the text would have 1,048,577 characters")
