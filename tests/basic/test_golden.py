"""Golden .bas files: the transcript matches, uninterrupted and resumed after JSON restarts."""

from __future__ import annotations

import re

import pytest

from .golden_runner import cases, load, run

_HEARS = re.compile(r"^\s*(?!')[^']*\b(HEAR|INPUT)\b", re.IGNORECASE | re.MULTILINE)


@pytest.mark.parametrize("path", cases(), ids=lambda p: p.stem)
def test_golden(path):
    case = load(path)
    assert case.expects or case.error, f"{case.name} has no expect directive"
    out = run(case, restart=False)
    assert out.transcript == case.expects
    assert out.error == case.error


RESUMABLE = [p for p in cases() if _HEARS.search(p.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("path", RESUMABLE, ids=lambda p: p.stem)
def test_golden_resumed_in_a_new_machine(path):
    """Every suspension: state -> json.dumps -> json.loads -> a new Program and Machine."""
    case = load(path)
    straight = run(case, restart=False)
    resumed = run(case, restart=True)
    assert resumed.suspensions > 0, "the case never suspended"
    assert resumed.transcript == straight.transcript
    assert resumed.error == straight.error
    assert resumed.waiting == straight.waiting


def test_there_are_golden_cases():
    assert len(cases()) >= 20
