"""The golden-file runner: each tests/basic/golden/**/*.bas is a dialog plus its expected transcript.

Directives are comments, in file order:

* ``' input: TEXT``: the user's next answer to a HEAR (inputs are consumed in order);
* ``' expect: TEXT``: the next line of the transcript (bot messages, ``(choices: a | b)`` for a
  menu, ``[KEYWORD args]`` for a keyword request the runtime fulfils);
* ``' expect error: [file:line:col] Error...``: the dialog fails to compile or to run with
  exactly this headline, after the expected transcript;
* ``' language: pt-BR``: the language of re-ask messages.

NOW() is 2026-11-25 14:30:00 and RND is seeded, so transcripts are exact.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gb_basic import BasicError, Machine, MemoryHost, compile_source
from gb_basic.host import Transcript, converse
from gb_basic.machine import Request

GOLDEN = Path(__file__).parent / "golden"
NOW = dt.datetime(2026, 11, 25, 14, 30, 0)

_DIRECTIVE = re.compile(r"'\s*(expect error|expect|input|language):[ ]?(.*?)\s*$")


@dataclass
class Case:
    path: Path
    source: str
    inputs: list[str] = field(default_factory=list)
    expects: list[str] = field(default_factory=list)
    error: str | None = None
    language: str = "en"

    @property
    def name(self) -> str:
        return str(self.path.relative_to(GOLDEN))


def load(path: Path) -> Case:
    source = path.read_text(encoding="utf-8")
    case = Case(path, source)
    for line in source.splitlines():
        m = _DIRECTIVE.search(line)
        if not m:
            continue
        kind, text = m.groups()
        if kind == "expect":
            case.expects.append(text)
        elif kind == "input":
            case.inputs.append(text)
        elif kind == "expect error":
            case.error = text
        else:
            case.language = text
    return case


def cases() -> list[Path]:
    return sorted(GOLDEN.rglob("*.bas"))


def machine_for(case: Case):  # type: ignore[no-untyped-def]
    def make(program):  # type: ignore[no-untyped-def]
        return Machine(program, language=case.language, clock=lambda: NOW, rng=random.Random(7),
                       max_steps=200_000)
    return make


@dataclass
class Outcome:
    transcript: list[str]
    error: str | None
    suspensions: int
    waiting: str | None


def run(case: Case, *, restart: bool) -> Outcome:
    """Run a case; with `restart`, every suspension goes through JSON into a new program and machine."""
    transcript = Transcript()
    host = MemoryHost(channel="test")
    host.session_id = "00000000-0000-4000-8000-000000000001"
    inputs = iter(case.inputs)
    count = 0

    def answer(req: Request) -> Any:
        return next(inputs)

    def resume(state: dict[str, Any]):  # type: ignore[no-untyped-def]
        nonlocal count
        count += 1
        return compile_source(case.source, case.path.name), json.loads(json.dumps(state))

    try:
        program = compile_source(case.source, case.path.name)
    except BasicError as exc:
        return Outcome(list(transcript), exc.headline, 0, None)
    try:
        _, result = converse(program, host, answer, machine_factory=machine_for(case),
                             restart=resume if restart else None, transcript=transcript)
    except BasicError as exc:
        return Outcome(list(transcript), exc.headline, count, None)
    waiting = result.request.describe() if hasattr(result, "request") else None
    return Outcome(list(transcript), None, count, waiting)
