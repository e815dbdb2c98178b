"""check_source: every syntax error of a file, each once, and compile_source's first error among them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gb_basic import BasicSyntaxError, check_source, compile_source

from .test_fuzz import FUZZ, PIECES, mutated


def headlines(text: str, **kw: int) -> list[str]:
    program, errors = check_source(text, "c.bas", **kw)
    assert program is None
    return [e.headline for e in errors]


def first_error(text: str) -> BasicSyntaxError | None:
    try:
        compile_source(text, "c.bas")
    except BasicSyntaxError as exc:
        return exc
    return None


def test_a_clean_source_compiles_with_its_warnings():
    program, errors = check_source('TALK "a"\nCREATE DRAFT "a@b.c", "s", "hi"\n', "c.bas")
    assert errors == []
    assert program is not None
    assert [w.headline for w in program.warnings] == [
        "[c.bas:2:1] Warning at 'CREATE DRAFT': keyword CREATE DRAFT is not supported (line 2)"]


def test_three_independent_errors_on_three_lines():
    src = 'TALK "a"\nx = = 1\nTALK "b"\ny = 1 +\nTALK "c" "d"\nTALK "e"\n'
    assert headlines(src) == [
        "[c.bas:2:5] Error at '=': expected an expression",
        "[c.bas:4:8] Error at 'end of line': expected an expression",
        "[c.bas:5:10] Error at '\"d\"': expected ',' between arguments",
    ]
    _, errors = check_source(src, "c.bas")
    assert str(errors[0]).endswith("    x = = 1\n        ^")


def test_compile_source_still_raises_the_first_error_alone():
    exc = first_error('x = = 1\ny = 1 +\n')
    assert exc is not None and exc.headline == "[c.bas:1:5] Error at '=': expected an expression"


def test_an_unclosed_block_and_another_error():
    src = 'TALK "a"\nIF x = 1 THEN\n  TALK "one"\nz = = 2\n'
    assert headlines(src) == [
        "[c.bas:2:1] Error at 'IF': the IF at line 2 has no END IF (a bare END stops the dialog)",
        "[c.bas:4:5] Error at '=': expected an expression",
    ]


def test_a_lexical_error_does_not_stop_the_check():
    assert headlines('q = @\nTALK "ok"\ns = \'open\nx = = 1\n') == [
        "[c.bas:1:5] Error at '@': unexpected character '@'",
        "[c.bas:3:5] Error at ''': unterminated string",
        "[c.bas:4:5] Error at '=': expected an expression",
    ]


def test_a_broken_block_line_still_opens_and_closes_its_block():
    src = ('IF x = THEN\n  TALK 1\nEND IF\n'
           'FOR i = 1 TO\n  TALK i\nNEXT i\n'
           'WHILE\nWEND\n'
           'FOR EACH c IN\n  TALK c\nEND FOR\n')  # END FOR: NEXT written another way
    assert headlines(src) == [
        "[c.bas:1:8] Error at 'THEN': expected an expression",
        "[c.bas:4:13] Error at 'end of line': expected an expression",
        "[c.bas:7:6] Error at 'end of line': expected an expression",
        "[c.bas:9:14] Error at 'end of line': expected an expression",
    ]


def test_a_one_line_if_that_does_not_parse_opens_no_block():
    assert headlines('IF x THEN TALK "a" "b"\nTALK "c"\n') == [
        "[c.bas:1:20] Error at '\"b\"': expected ',' between arguments"]


def test_a_misplaced_closer_is_reported_once():
    src = 'FOR i = 1 TO 3\n  IF i = 2 THEN\n    TALK i\nNEXT\nTALK "after"\nEND IF\n'
    assert headlines(src) == [
        "[c.bas:4:1] Error at 'NEXT': NEXT found while the IF at line 2 is still open (missing END IF?)",
        "[c.bas:6:1] Error at 'END IF': END IF without IF",
    ]


def test_nesting_errors_are_each_reported():
    src = ('SELECT CASE x\n  TALK 1\n  TALK 2\nCASE 1\nEND SELECT\n'
           'IF a THEN\nELSE\nELSE\n  TALK 3\nEND IF\n'
           'FUNCTION f()\n  IF b THEN\nFUNCTION g()\nEND FUNCTION\n')
    assert headlines(src) == [
        "[c.bas:2:3] Error: expected CASE after SELECT CASE",
        "[c.bas:8:1] Error at 'ELSE': a second ELSE for the IF at line 6",
        "[c.bas:13:1] Error at 'FUNCTION': FUNCTION g inside the IF at line 12 (missing END IF?)",
    ]


def test_a_multi_line_literal_is_one_error():
    src = 'x = {\n  "name": n,\n  "id" 2\n}\nTALK "b" "c"\n'
    assert headlines(src) == [
        "[c.bas:3:8] Error at '2': expected ':'",
        "[c.bas:5:10] Error at '\"c\"': expected ',' between arguments",
    ]


def test_a_literal_open_at_the_end_of_a_line_goes_on_to_its_closer():
    program, errors = check_source('x = CALL "/a", {\n  "name": n,\n  "id": 2,\n}\nTALK x\n', "c.bas")
    assert errors == [] and program is not None
    assert [w.headline for w in program.warnings] == [
        "[c.bas:1:5] Warning at 'CALL': this form of keyword CALL is not supported (line 1)"]


def test_a_compile_error_is_reported_when_the_source_parses():
    exc = first_error('TALK "a"\nGOTO nowhere\n')
    assert exc is not None
    assert headlines('TALK "a"\nGOTO nowhere\n') == [exc.headline]


def test_errors_are_capped_with_a_note():
    found = headlines("x = = 1\n" * 60, max_errors=5)
    assert len(found) == 6
    assert found[4] == "[c.bas:5:5] Error at '=': expected an expression"
    assert found[5] == "[c.bas:6:5] Note: more than 5 errors: stopped reporting here"


def agrees_with_compile_source(text: str) -> None:
    """check_source fails exactly when compile_source does, and reports its error among others."""
    first = first_error(text)
    program, errors = check_source(text, "c.bas")
    if first is None:
        assert program is not None and errors == []
        return
    assert program is None and errors
    assert first.headline in [e.headline for e in errors]
    assert all(isinstance(e, BasicSyntaxError) and e.headline.startswith("[c.bas:") for e in errors)


@FUZZ
@given(st.text(max_size=300))
def test_random_text_agrees_with_compile_source(text):
    agrees_with_compile_source(text)


@FUZZ
@given(st.lists(st.sampled_from([*PIECES, " ", "\n", "\n", "x = ", "TALK "]), max_size=60).map("".join))
def test_random_keywords_agree_with_compile_source(text):
    agrees_with_compile_source(text)


@FUZZ
@given(mutated())
def test_mutated_programs_agree_with_compile_source(src):
    agrees_with_compile_source(src)
