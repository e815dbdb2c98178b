"""The public API of gb_basic is what __all__ says, and every name in it exists."""

import gb_basic


def test_exported_members():
    assert sorted(gb_basic.__all__) == sorted([
        "BasicError", "BasicRuntimeError", "BasicSyntaxError", "BudgetExceeded", "ColumnSpec", "DialogChanged",
        "Finished", "KEYWORDS", "KeywordSpec", "LimitExceeded", "Machine", "Offload", "Output", "Program", "Request",
        "Slice", "StateUnreadable", "Suspended", "TableSpec",
        "UnsupportedKeyword", "check_source", "compile_source", "parse", "parse_expression", "table_specs",
    ])
    for name in gb_basic.__all__:
        assert getattr(gb_basic, name) is not None


def test_error_tree():
    assert issubclass(gb_basic.BasicSyntaxError, gb_basic.BasicError)
    for cls in (gb_basic.UnsupportedKeyword, gb_basic.BudgetExceeded, gb_basic.DialogChanged):
        assert issubclass(cls, gb_basic.BasicRuntimeError)
    assert issubclass(gb_basic.LimitExceeded, gb_basic.BudgetExceeded)
    assert issubclass(gb_basic.Offload, gb_basic.BudgetExceeded)  # ON ERROR never resumes after it
    assert not issubclass(gb_basic.StateUnreadable, gb_basic.BasicError)  # not an error of the dialog
