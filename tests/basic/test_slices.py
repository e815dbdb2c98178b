"""A message on the caller's thread runs within its Slice; past it, Offload, and the state it
resumes is unchanged so it runs again elsewhere. The memory ceiling is measured (the process's
resident size), not estimated."""

from __future__ import annotations

import copy
import time

import pytest

from gb_basic import BudgetExceeded, Finished, LimitExceeded, Machine, Offload, Slice, Suspended, compile_source
from gb_basic.limits import resident_bytes

LOOP = "HEAR n\nt = 0\nFOR i = 1 TO n\n  t = t + i\nNEXT\nTALK t\nHEAR again"


def machine(src: str, **caps: object) -> Machine:
    return Machine(compile_source(src, "dialog.bas"), **caps)  # type: ignore[arg-type]


def test_a_short_message_finishes_within_its_slice() -> None:
    m = machine(LOOP)
    first = m.run(within=Slice(1000, 1.0))
    assert isinstance(first, Suspended)
    r = m.run(first.state, "100", within=Slice(1000, 1.0))
    assert isinstance(r, Suspended) and [o.text for o in r.outputs] == ["5050"]


@pytest.mark.parametrize("within", [Slice(20_000, 60.0), Slice(10**12, 0.005)])
def test_a_long_message_offloads_and_runs_again_from_the_same_state(within: Slice) -> None:
    m = machine(LOOP)
    first = m.run()
    assert isinstance(first, Suspended)
    before = copy.deepcopy(first.state)
    with pytest.raises(Offload):
        m.run(first.state, "2000000", within=within)
    assert first.state == before  # nothing of the attempt stayed
    r = m.run(first.state, "200000")  # the whole budget (1,000,000 steps)
    assert isinstance(r, Suspended) and [o.text for o in r.outputs] == [str(200000 * 200001 // 2)]


def test_offload_is_not_resumed_by_on_error() -> None:
    src = "ON ERROR RESUME NEXT\nFOR i = 1 TO 100000\n  x = i\nNEXT\nTALK \"done\""
    with pytest.raises(Offload):
        machine(src).run(within=Slice(5_000, 60.0))


def test_the_budget_still_wins_over_the_slice() -> None:
    src = "DO\n  x = 1\nLOOP"
    with pytest.raises(BudgetExceeded) as info:
        machine(src, max_steps=10_000).run(within=Slice(50_000, 60.0))
    assert not isinstance(info.value, Offload)
    assert "steps for one message" in info.value.message


# 300,000 distinct 4,000-character texts: each is under every size cap and free of charge, so
# only the memory ceiling stops the message (about 2.4 GB if it ran to the end).
MANY_TEXTS = ('s = "ab"\nFOR i = 1 TO 11\n  s = s & s\nNEXT\ns = MID(s, 1, 4000)\nl = []\nm = []\n'
              "FOR i = 1 TO 300000\n  IF LEN(l) = 90000 THEN\n    PUSH(m, l)\n    l = []\n  END IF\n"
              "  PUSH(l, REPLACE(s, \"a\", i))\nNEXT\nTALK LEN(m)")


def test_the_memory_ceiling_stops_a_message_and_the_memory_comes_back() -> None:
    before = resident_bytes()
    assert before is not None
    start = time.monotonic()
    with pytest.raises(LimitExceeded) as info:
        machine(MANY_TEXTS, max_memory_mb=64, max_steps=10**9, max_seconds=60).run()
    assert "too much memory: the dialog used more than 64 MB for one message" in info.value.message
    assert info.value.headline.startswith("[dialog.bas:")
    peak = resident_bytes()
    assert peak is not None and peak - before < 64 * 2**20 + 48 * 2**20  # the ceiling, and a probe's worth
    assert time.monotonic() - start < 10
    del info
    r = machine("TALK 1 + 1").run()  # the process goes on
    assert isinstance(r, Finished) and [o.text for o in r.outputs] == ["2"]


def test_no_ceiling_is_probed_outside_a_machine() -> None:
    from gb_basic.limits import Meter
    m = Meter()
    for _ in range(100):
        m.tick(100_000)
    assert m.baseline is None
