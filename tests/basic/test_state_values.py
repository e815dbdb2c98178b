"""Every value a dialog can build survives a saved state: values.encode / values.decode, and a
Machine suspended at HEAR and resumed from the state's JSON text, give back an equal value of
the same types, whatever texts and keys the user chose (``{"$date": "not-a-date"}`` included)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gb_basic import LimitExceeded, Machine, StateUnreadable, compile_source, values
from gb_basic.limits import Limits, Meter, metering
from gb_basic.machine import STATE_FORMAT, state_variables
from tests.helpers.values import basic_values, levels_of, same, through_json


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(basic_values)
def test_every_value_round_trips_through_encode_and_decode(value: Any) -> None:
    encoded = values.encode(value)
    assert same(values.decode(through_json(encoded)), value)
    assert same(values.decode(through_json(values.encode({"v": value}, level=-1)), -1), {"v": value})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(basic_values, st.integers(min_value=1, max_value=4))
def test_the_depth_cap_is_the_same_both_ways(value: Any, wrap: int) -> None:
    """Under a small max_depth, what encode accepts decode accepts (and gives back), and what it
    refuses is refused for its depth, whatever the tags and wrappers inside."""
    for _ in range(wrap):
        value = [value] if wrap % 2 else {"$obj": value}
    with metering(Meter(Limits(max_depth=4))):
        try:
            encoded = values.encode(value)
        except LimitExceeded as exc:
            assert "nested too deeply" in exc.message
            return
        assert same(values.decode(through_json(encoded)), value)


PROGRAM = compile_source("HEAR k\nTALK TYPEOF(v)\n", "values.bas")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(basic_values)
def test_a_machine_suspended_at_hear_resumes_with_the_value(value: Any) -> None:
    waiting = Machine(PROGRAM).start(variables={"v": value})
    state = through_json(waiting.state)  # as a store keeps it
    assert same(state_variables(state).get("v"), value)
    done = Machine(PROGRAM).run(state, "go")  # another machine: only the state carries v
    assert same(done.variables.get("v"), value)
    assert [o.text for o in done.outputs] == [values.type_name(value)]


@pytest.mark.parametrize("leaf", [dt.datetime(2026, 11, 25, 14, 0, 5, 7), dt.date(2026, 11, 25), 1e300,
                                  {"$date": "not-a-date"}, {"$obj": {}}, {"$obj": 5}, {"$day": dt.date(2026, 1, 2)},
                                  "text", 7])
def test_a_value_nested_to_the_depth_cap_round_trips(leaf: Any) -> None:
    limits = Limits()
    deep: Any = leaf
    levels = limits.max_depth - levels_of(leaf)
    for n in range(levels):
        deep = [deep] if n % 2 else {"$obj": deep}  # an object of one "$" key at every other level
    assert same(values.decode(through_json(values.encode(deep))), deep)
    with pytest.raises(LimitExceeded, match="nested too deeply"):
        values.encode([deep])
    waiting = Machine(PROGRAM).start(variables={"v": deep})
    assert same(Machine(PROGRAM).run(through_json(waiting.state), "go").variables["v"], deep)


def test_states_saved_before_objects_of_one_dollar_key_were_wrapped_still_load() -> None:
    """A state as gb saved it before: a date, a day, a user's object that looks like a tag but is
    not one (the state that made every later message fail), the machine's own "$" slot, and a
    nested plain object. It resumes, each value as it was meant."""
    program = compile_source("HEAR j\nx = FROMJSON(j)\nHEAR k\nTALK TYPEOF(x) + \" \" + TOJSON(x)\n", "old.bas")
    old = {
        "format": 1, "program": "old.bas", "version": "an older build",
        "frames": [{"unit": "main", "hash": program.units["main"].hash, "pc": 2, "vars": {
            "j": '{"$date": "not-a-date"}',
            "x": {"$date": "not-a-date"},
            "when": {"$date": "2026-11-25T14:00:00"},
            "day": {"$day": "2026-11-25"},
            "slot": {"$loop1": 3},
            "o": {"a": [1, {"$day": "2026-01-02"}], "$date": "both keys: a plain object"},
        }}],
        "waiting": {"kind": "hear", "var": "k", "type": None, "choices": None, "line": 3, "column": 1},
    }
    text = json.dumps(old)
    done = Machine(program).run(json.loads(text), "hello")
    assert [o.text for o in done.outputs] == ['object {"$date":"not-a-date"}']
    assert done.variables["x"] == {"$date": "not-a-date"}
    assert same(done.variables["when"], dt.datetime(2026, 11, 25, 14, 0))
    assert same(done.variables["day"], dt.date(2026, 11, 25))
    assert done.variables["slot"] == {"$loop1": 3}
    assert same(done.variables["o"], {"a": [1, dt.date(2026, 1, 2)], "$date": "both keys: a plain object"})


def test_a_users_lookalike_object_is_saved_wrapped_and_readable() -> None:
    waiting = Machine(compile_source("HEAR j\nx = FROMJSON(j)\nHEAR k\n", "w.bas")).run()
    state = Machine(compile_source("HEAR j\nx = FROMJSON(j)\nHEAR k\n", "w.bas")).run(
        waiting.state, '{"$date": "2026-11-25T14:00:00"}').state
    assert state["frames"][0]["vars"]["x"] == {"$obj": {"$date": "2026-11-25T14:00:00"}}
    assert values.encode([dt.date(2026, 1, 2), 1e20, {"a": 1}]) == [{"$day": "2026-01-02"}, {"$float": "1e+20"},
                                                                     {"a": 1}]
    assert values.to_json({"$date": "x", "n": 1e20}) == '{"$date":"x","n":1e+20}'  # TOJSON is plain JSON


@pytest.mark.parametrize("state", [
    "not a state",
    ["format", 1],
    {"format": 7, "frames": [], "waiting": None},
    {"program": "s.bas", "frames": [{"unit": "main", "pc": 1, "vars": {}}]},  # no format
    {"format": STATE_FORMAT, "frames": "main"},
    {"format": STATE_FORMAT, "frames": [{"unit": "main", "pc": "1", "vars": {}}], "waiting": None},
    {"format": STATE_FORMAT, "version": "this build", "frames": [{"unit": "main", "pc": 1, "vars": [1, 2]}],
     "waiting": None},
    {"format": STATE_FORMAT, "frames": [{"unit": "main", "pc": 1, "vars": {}}], "waiting": "hear"},
    {"format": STATE_FORMAT, "frames": [{"unit": "main", "pc": 1, "vars": {}}], "waiting": {"kind": "hear",
                                                                                            "line": "3"}},
    {"format": STATE_FORMAT, "frames": [{"unit": "main", "pc": 1, "vars": {}}], "waiting": {"kind": "set"},
     "budget": {"steps": "lots"}},
    {"format": STATE_FORMAT, "version": "this build", "frames": [{"unit": "nowhere", "pc": 1, "vars": {}}],
     "waiting": {"kind": "hear"}},
])
def test_a_state_no_machine_saved_is_state_unreadable(state: Any) -> None:
    program = compile_source("HEAR k\nTALK k\n", "s.bas")
    if type(state) is dict and state.get("version") == "this build":
        state = dict(state, version=program.version)  # the same build: the unit must be there
    with pytest.raises(StateUnreadable) as info:
        Machine(program).run(state, "hi")
    assert info.value.reason
    assert state_variables(state) == {}  # a state that does not load holds nothing


def test_a_state_that_is_no_value_at_all_is_named_by_its_type() -> None:
    """A caller passing the wrong thing (the Suspended itself) gets StateUnreadable, not a RecursionError."""
    program = compile_source("HEAR k\nTALK k\n", "s.bas")
    suspended = Machine(program).start()
    with pytest.raises(StateUnreadable, match="the saved state is a Python Suspended, not a dialog's state"):
        Machine(program).run(suspended, "hi")  # type: ignore[arg-type]


def test_variables_deeper_than_this_machines_cap_are_state_unreadable() -> None:
    program = compile_source("HEAR k\nTALK k\n", "s.bas")
    deep: Any = 1
    for _ in range(10):
        deep = [deep]
    state = Machine(program).start(variables={"v": deep}).state
    with pytest.raises(StateUnreadable, match="nested too deeply"):
        Machine(program, max_depth=5).run(state, "hi")


def test_a_self_containing_answer_is_refused_at_its_hear() -> None:
    machine = Machine(compile_source("HEAR x\nTALK TYPEOF(x)", "dialog.bas"))
    waiting = machine.run()
    cyclic: dict[str, Any] = {"a": 1}
    cyclic["me"] = cyclic
    looped: list[Any] = [1]
    looped.append([looped])
    for answer in (cyclic, {"list": looped}):
        with pytest.raises(LimitExceeded, match="the answer contains itself") as info:
            machine.run(waiting.state, answer)
        assert (info.value.file, info.value.line) == ("dialog.bas", 1)


def test_fromjson_of_a_200000_deep_text_is_a_limit_at_its_line() -> None:
    machine = Machine(compile_source("HEAR j\nx = FROMJSON(j)\nHEAR k\n", "deep.bas"), max_text_chars=2_000_000)
    waiting = machine.run()
    for text in ("[" * 200_000 + "]" * 200_000, '{"a":' * 200_000 + "1" + "}" * 200_000):
        with pytest.raises(LimitExceeded, match="nested too deeply") as info:
            machine.run(waiting.state, text)
        assert (info.value.file, info.value.line) == ("deep.bas", 2)
    assert machine.run(waiting.state, '{"a": [1]}').request.kind == "hear"  # the dialog goes on
