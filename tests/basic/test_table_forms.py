"""The clause forms of the table keywords (gb_basic.table_forms): what compiles to a request, and
the forms gb does not read, which stay a warning."""

from __future__ import annotations

import pytest

from gb_basic import Machine, Suspended, compile_source, values


def requests(src: str) -> list[dict]:
    """The data of every keyword request the dialog makes, each answered with NULL."""
    machine = Machine(compile_source(src, "f.bas"))
    out, r = [], machine.run()
    while isinstance(r, Suspended):
        out.append(values.decode(r.request.data))
        r = machine.run(r.state, None)
    return out


def test_a_where_on_the_next_lines_belongs_to_the_statement_and_the_next_statement_stays_one():
    src = ('UPDATE "t" SET a = 1,\n    b = 2\nWHERE id = 3\n  AND k <> 4\nTALK "x"\norders = 1\n'
           'DELETE "t" WHERE id = orders\n')
    assert requests(src) == [
        {"keyword": "UPDATE", "args": ["t", {"$where": [["id", "=", 3], ["k", "<>", 4]]}, {"a": 1, "b": 2}]},
        {"keyword": "DELETE", "args": ["t", {"$where": [["id", "=", 1]]}]}]


def test_return_of_a_clause_form_and_a_string_holding_clause_words():
    src = 'FUNCTION f(ean)\n  RETURN FIND "p" WITH "code = \'" + ean + "\' AND WHERE"\nEND FUNCTION\nx = f("12")\n'
    assert requests(src) == [{"keyword": "FIND", "args": ["p", "code = '12' AND WHERE"]}]


@pytest.mark.parametrize("stmt", [
    'rows = FIND "t" WHERE (a = 1 OR b = 2) AND c = 3',  # a group: the flat list cannot say it
    'rows = FIND "t" WHERE NOT a = 1',
    'rows = FIND "t" WHERE DATE(created_at) = TODAY()',
    'rows = FIND "t" WHERE a BETWEEN 1 AND 5',
    'UPDATE "t" SET a = 1',  # every row: not read from this form
    'SAVE "t" WITH a AS 1 WHERE b = 2',
    'MERGE "t" WITH rows',
    'rows = FIND "t" WHERE a = 1 LIMIT 2 ORDER BY a',
])
def test_a_form_gb_does_not_read_stays_a_warning(stmt: str):
    program = compile_source(stmt + "\n", "f.bas")
    keyword = stmt.split()[2] if stmt.startswith("rows") else stmt.split()[0]
    assert [w.message for w in program.warnings] == [f"this form of keyword {keyword} is not supported (line 1)"]
