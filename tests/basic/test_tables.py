"""TABLE name ... END TABLE: a declaration read into gb_basic.tables.TableSpec (Program.tables), that does
nothing when the dialog runs; a field line that is not a field is a syntax error at its line."""

from __future__ import annotations

import pytest

from gb_basic import BasicSyntaxError, Finished, Machine, compile_source, table_specs
from gb_basic.tables import ColumnSpec, TableSpec, parse_table

SOURCE = """' the bot's tables
TABLE students
    Id uuid key
    Name string(255)
    Amount DECIMAL(15,2) DEFAULT 0
    ClassId UUID REFERENCES classes(id)
    ' a comment
    Date DATE NOT NULL
    Notes string(max)
    Email VARCHAR(255) UNIQUE NOT NULL
END TABLE
table classes
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4()
    created_at TIMESTAMP DEFAULT NOW()
    status VARCHAR(20) DEFAULT 'open'
    UNIQUE(id, status)
end table
TALK "tables declared"
"""


def test_program_tables_are_the_blocks_in_order():
    program = compile_source(SOURCE, "tables.bas")
    assert [t.name for t in program.tables] == ["students", "classes"]
    students, classes = program.tables
    assert students == TableSpec("students", (
        ColumnSpec("Id", "UUID", key=True, line=3),
        ColumnSpec("Name", "STRING", (255,), line=4),
        ColumnSpec("Amount", "DECIMAL", (15, 2), default="0", line=5),
        ColumnSpec("ClassId", "UUID", references=("classes", "id"), line=6),
        ColumnSpec("Date", "DATE", not_null=True, line=8),
        ColumnSpec("Notes", "STRING", line=9),
        ColumnSpec("Email", "VARCHAR", (255,), not_null=True, unique=True, line=10),
    ), 2)
    assert classes.columns == (
        ColumnSpec("id", "UUID", key=True, default="uuid_generate_v4()", line=13),
        ColumnSpec("created_at", "TIMESTAMP", default="NOW()", line=14),
        ColumnSpec("status", "VARCHAR", (20,), default="'open'", line=15),
    )
    assert table_specs(SOURCE) == program.tables


def test_a_table_block_does_nothing_when_the_dialog_runs():
    r = Machine(compile_source(SOURCE, "tables.bas")).run()
    assert isinstance(r, Finished) and [o.text for o in r.outputs] == ["tables declared"]


def test_older_and_generated_forms():
    spec = parse_table("TABLE t\n  FIELD id AS STRING\n  Price* double\n  tags TEXT[]\n"
                       "  total DECIMAL(10,2) GENERATED ALWAYS AS\n    (a * b) STORED\n"
                       "  rating INTEGER CHECK (rating >= 1 AND rating <= 5)", 1)
    assert [(c.name, c.type) for c in spec.columns] == [("id", "STRING"), ("Price", "DOUBLE"), ("tags", "TEXT[]"),
                                                        ("total", "DECIMAL"), ("rating", "INTEGER")]


@pytest.mark.parametrize(("field", "message"), [
    ("Name string(255) SOMETIMES", "TABLE t: unexpected 'SOMETIMES' in the field Name"),
    ("Name", "TABLE t: column Name needs a type"),
    ("Amount DECIMAL(a, b)", "TABLE t: the size of Amount must be (n), (n, scale) or (max)"),
    ("Id uuid REFERENCES", "TABLE t: REFERENCES of Id needs a table name"),
    ("42 string", "TABLE t: expected a column name, got '42'"),
    ("Id uuid\n    id string", "TABLE t: column id is declared twice (first at line 3)"),
])
def test_a_bad_field_line_is_a_syntax_error_naming_its_line(field: str, message: str):
    src = f'TALK "a"\nTABLE t\n    {field}\nEND TABLE\n'
    with pytest.raises(BasicSyntaxError) as exc:
        compile_source(src, "t.bas")
    assert exc.value.message.startswith(message)
    assert exc.value.line == 3 + field.count("\n") and exc.value.file == "t.bas"


def test_a_table_without_end_table_is_an_error():
    with pytest.raises(BasicSyntaxError, match="TABLE t has no END TABLE"):
        compile_source("TABLE t\n  Id uuid key\n", "t.bas")
