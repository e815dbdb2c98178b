"""gb_basic: General Bots' BASIC dialect: parse, compile, run, suspend and resume.

The language is pure: :meth:`Machine.run` returns :class:`Suspended` with a :class:`Request`
(HEAR, session variables, keywords that need the outside world) or :class:`Finished`, and
never does I/O. The state it returns is plain JSON data. One message runs under a step budget, a
deadline and size caps (:mod:`gb_basic.limits`).
"""

from .compiler import Program, check_source, compile_source
from .errors import (
    BasicError,
    BasicRuntimeError,
    BasicSyntaxError,
    BudgetExceeded,
    DialogChanged,
    LimitExceeded,
    Offload,
    StateUnreadable,
    UnsupportedKeyword,
)
from .keywords import KEYWORDS, KeywordSpec
from .limits import Slice
from .machine import Finished, Machine, Output, Request, Suspended
from .parser import parse, parse_expression, table_specs
from .tables import ColumnSpec, TableSpec

__all__ = [
    "BasicError",
    "BasicRuntimeError",
    "BasicSyntaxError",
    "BudgetExceeded",
    "ColumnSpec",
    "DialogChanged",
    "Finished",
    "KEYWORDS",
    "KeywordSpec",
    "LimitExceeded",
    "Machine",
    "Offload",
    "Output",
    "Program",
    "Request",
    "Slice",
    "StateUnreadable",
    "Suspended",
    "TableSpec",
    "UnsupportedKeyword",
    "check_source",
    "compile_source",
    "parse",
    "parse_expression",
    "table_specs",
]
