"""The keyword table (gb_basic.keywords): one source of truth for the lexer, the compiler, the runtime and
the notebook's help; keyword statements and values become keyword requests with their arguments."""

from __future__ import annotations

import logging

import pytest
from lark import Lark, logger

import gb_basic.keywords as K
from gb_basic import Machine, Suspended, UnsupportedKeyword, compile_source
from gb_basic.lexer import KEYWORD_STATEMENTS, BasicLexer
from gb_kernel import docs
from gb_runtime.keywords import _KEYWORDS


def test_the_keywords_gb_runs_are_the_ones_the_runtime_fulfils():
    assert K.RUNNING == set(_KEYWORDS)
    assert KEYWORD_STATEMENTS == {k for k in K.RUNNING if K.KEYWORDS[k].statement}


@pytest.mark.parametrize("name", sorted(K.KEYWORDS))
def test_every_keyword_has_a_canonical_name_syntax_doc_and_example_that_parses(name: str):
    spec = K.KEYWORDS[name]
    assert name == " ".join(name.split()).upper() and "_" not in name
    assert spec.syntax and spec.doc.endswith((".", ")")) and spec.example
    program = compile_source(spec.example, "example.bas")  # raises on a syntax error
    warned = [w.message for w in program.warnings]
    if spec.statement and not spec.runs:
        assert any(name in m and "is not supported" in m for m in warned), warned
    assert docs.help_for(name) == docs.KEYWORDS[name] and spec.doc in docs.KEYWORDS[name]
    assert K.keyword(name.lower().replace(" ", "_")) is spec


def first_request(src: str):
    r = Machine(compile_source(src, "k.bas")).run()
    assert isinstance(r, Suspended)
    return r


def test_a_running_keyword_statement_is_a_request_with_its_arguments():
    r = first_request('id = 7\nobj = {"name": "Ann"}\nSAVE "students", id, obj\n')
    assert (r.request.kind, r.request.line) == ("keyword", 3)
    assert r.request.data == {"keyword": "SAVE", "args": ["students", 7, {"name": "Ann"}]}


@pytest.mark.parametrize(("src", "keyword", "args"), [
    ('x = FIND "t", "a=1"\nTALK x\n', "FIND", ["t", "a=1"]),
    ('x = POST "https://api.example.com/o", {"a": 1}\nTALK x\n', "POST", ["https://api.example.com/o", {"a": 1}]),
    ('x = PUT "https://e.com/1", 2\nTALK x\n', "PUT", ["https://e.com/1", 2]),
    ('x = PATCH "https://e.com/1", 3\nTALK x\n', "PATCH", ["https://e.com/1", 3]),
    ('DELETE "https://e.com/1"\nTALK "ok"\n', "DELETE", ["https://e.com/1"]),
    ('x = DELETE "t", "id=1"\nTALK x\n', "DELETE", ["t", "id=1"]),
    ('SET HEADER "Accept", "text/html"\nTALK "ok"\n', "SET HEADER", ["Accept", "text/html"]),
    ('Set Header "Accept" As "text/html"\nTALK "ok"\n', "SET HEADER", ["Accept", "text/html"]),
    ('SET HEADER "Accept" = "text/html"\nTALK "ok"\n', "SET HEADER", ["Accept", "text/html"]),
    ('CLEAR HEADERS\nTALK "ok"\n', "CLEAR HEADERS", []),
    ('x = FILTER [1, 2], "a>1"\nTALK x\n', "FILTER", [[1, 2], "a>1"]),
    ('x = FIRST(["a", "b"])\nTALK x\n', "FIRST", [["a", "b"]]),  # the function form docs/tables.md shows
    ('x = LAST([1, 2])\nTALK x\n', "LAST", [[1, 2]]),
    ('MERGE "t", [1], "id"\nTALK "ok"\n', "MERGE", ["t", [1], "id"]),
    ('send_template "w", "whatsapp", "+55"\nTALK "ok"\n', "SEND TEMPLATE", ["w", "whatsapp", "+55"]),
])
def test_table_and_http_keywords_become_requests_once_gb_runs_them(monkeypatch, src, keyword, args):
    """A keyword the table marks unsupported warns and fails when reached; marked as running (the
    table and HTTP keywords are), each is the request the runtime's handlers take (the keyword's
    canonical name and its evaluated arguments)."""
    program = compile_source(src, "k.bas")
    warned = any(f"keyword {keyword} is not supported" in w.message for w in program.warnings)
    assert warned == (keyword not in K.RUNNING)
    if keyword not in K.RUNNING:
        with pytest.raises(UnsupportedKeyword):
            Machine(program).run()
        monkeypatch.setitem(K.KEYWORDS, keyword, K.KeywordSpec(keyword, True, "", "", ""))
        monkeypatch.setattr(K, "RUNNING", K.RUNNING | {keyword})
    r = first_request(src)
    assert r.request.data == {"keyword": keyword, "args": args}
    answered = Machine(compile_source(src, "k.bas")).run(r.state, "the answer")
    assert [o.text for o in answered.outputs] == ["the answer" if src.startswith("x =") else "ok"]


def test_get_of_a_url_stays_a_get_request():
    r = first_request('page = GET "https://example.com/a"\nTALK page\n')
    assert (r.request.kind, r.request.data) == ("get", {"key": "https://example.com/a"})


def test_a_form_gb_does_not_run_is_a_warning_and_fails_when_reached():
    program = compile_source('TALK "a"\nSAVE "products" WITH name AS "x" WHERE id = 1\n', "f.bas")
    assert [w.message for w in program.warnings] == ["this form of keyword SAVE is not supported (line 2)"]
    with pytest.raises(UnsupportedKeyword, match=r"this form of keyword SAVE is not supported \(line 2\)"):
        Machine(program).run()


def test_a_sub_called_like_a_keyword_keeps_its_syntax_errors():
    with pytest.raises(Exception, match="expected ',' between arguments"):
        compile_source('Greet "a" "b"\nSUB Greet(x, y)\n  TALK x\nEND SUB\n', "s.bas")


def test_the_grammar_has_no_new_lalr_conflicts(caplog):
    """LALR conflicts are resolved silently (as shifts); the grammar's only ones are GET's operand
    (``GET a.b`` reads a.b), which it has always had."""
    from importlib import resources
    logger.setLevel(logging.DEBUG)
    with caplog.at_level(logging.DEBUG, logger="lark"):
        Lark(resources.files("gb_basic").joinpath("grammar.lark").read_text(), parser="lalr", lexer=BasicLexer,
             maybe_placeholders=True, debug=True)
    messages = [r.getMessage() for r in caplog.records]
    rules = {m.strip() for m in messages if m.strip().startswith("* <")}  # the rule of each conflict
    assert any("conflict" in m.lower() for m in messages) and rules == {"* <postfix : GET postfix>"}, messages


@pytest.mark.parametrize(("src", "reason"), [
    ('CREATE DRAFT "ann@example.com", "Hi", "Welcome"\n', "channel not configured"),
    ('SEND TO SESSION "abc", "We are here"\n', "channel not configured"),
    ('CREATE DRAFT "ann@example.com", "Hi", "Welcome"\n', "channel not configured"),
])
def test_a_keyword_waiting_for_channels_says_so_when_reached(src, reason):
    program = compile_source(src, "later.bas")
    with pytest.raises(UnsupportedKeyword) as info:
        Machine(program).run()
    assert info.value.message.endswith(f"is not supported yet: {reason} (line 1)")
    assert info.value.line == 1
