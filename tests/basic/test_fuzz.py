"""Fuzzing: any text, and valid programs mutated at random, either compile or raise
BasicSyntaxError (nothing else); what compiles runs into BasicError at worst."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gb_basic import BasicError, BasicSyntaxError, Machine, Suspended, compile_source

ROOT = Path(__file__).resolve().parents[2]
SEEDS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests/basic/golden").rglob("*.bas"))]
SEEDS += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "bots").rglob("*.bas"))]

PIECES = ["IF", "THEN", "ELSE", "END IF", "end", "FOR", "NEXT", "TO", "EACH", "IN", "DO", "LOOP", "WHILE",
          "WEND", "SELECT CASE", "CASE", "CASE ELSE", "END SELECT", "WITH", "END WITH", "FUNCTION",
          "END FUNCTION", "SUB", "END SUB", "HEAR", "TALK", "SET", "GET", "GOTO", "label:", "EXIT FOR",
          "'", '"', "“", "${", "{", "}", "(", ")", "[", "]", ",", ".", "=", "==", "<>", "+", "-", "*", "/",
          "\\", "^", "&", "MOD", "AND", "OR", "NOT", "IS NULL", "\n", "_\n", "REM", "REMEMBER", "BEGIN TALK",
          "END TALK", "ON ERROR RESUME NEXT", "ON LOGIN", "USE KB", "SET BOT MEMORY", "x", "1", "2.5", "AS",
          "INTEGER", "WITH", "CALL", "RETURN", "10 ", "#", "//", "\t", "\u00a0", "é"]

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def compile_or_syntax_error(text: str) -> object:
    try:
        return compile_source(text, "fuzz.bas")
    except BasicSyntaxError as exc:
        assert exc.line >= 0 and exc.headline.startswith("[fuzz.bas:")
        return None


def run_briefly(program: object) -> None:
    """Run what compiled with a tiny budget, answering every HEAR and request."""
    try:
        machine = Machine(program, max_steps=2_000, max_seconds=2)  # type: ignore[arg-type]
        r = machine.run()
        for _ in range(20):
            if not isinstance(r, Suspended):
                return
            r = machine.run(r.state, "1")
    except BasicError:
        pass


@FUZZ
@given(st.text(max_size=300))
def test_random_text_only_raises_syntax_errors(text):
    compile_or_syntax_error(text)


@st.composite
def mutated(draw):
    src = draw(st.sampled_from(SEEDS))
    lines = src.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "dup", "swap", "cut"]))
        pos = draw(st.integers(0, max(len(src) - 1, 0)))
        if op == "insert":
            src = src[:pos] + draw(st.sampled_from(PIECES)) + src[pos:]
        elif op == "delete":
            src = src[:pos] + src[pos + draw(st.integers(1, 8)):]
        elif op == "replace":
            src = src[:pos] + draw(st.sampled_from(PIECES)) + src[pos + 1:]
        elif op == "cut":
            src = src[:pos]
        else:
            lines = src.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if op == "dup":
                lines.insert(j, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            src = "\n".join(lines)
    return src


@FUZZ
@given(mutated())
def test_mutated_programs_only_raise_syntax_errors_and_run_safely(src):
    program = compile_or_syntax_error(src)
    if program is not None:
        run_briefly(program)


def test_there_are_seeds():
    assert len(SEEDS) >= 10
