"""The syntax tree. Classes are named after grammar rules and carry ``line`` and ``col``.

Expressions and statements are plain slotted dataclasses; blocks hold lists of statements.
Variable names are stored lower-case (BASIC names are case-insensitive).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .tables import TableSpec

__all__ = [
    "Node", "Expr", "Stmt",
    "Const", "Var", "Interp", "BinOp", "Not", "Neg", "IsNull", "ListLit", "ObjLit", "Index",
    "Attr", "Call", "GetExpr", "HearExpr", "WithField", "CmdExpr",
    "Assign", "SetVar", "GetVar", "Talk", "Hear", "If", "For", "ForEach", "Loop", "Select",
    "CaseItem", "With", "Function", "CallStmt", "Return", "Exit", "End", "Label", "Goto",
    "OnError", "OnLogin", "Keyword", "Param", "Description", "SystemPrompt", "Dim", "Module", "children", "walk",
]


@dataclass(slots=True)
class Node:
    line: int
    col: int


class Expr(Node):
    __slots__ = ()


class Stmt(Node):
    __slots__ = ()


# --- expressions ---------------------------------------------------------------------------


@dataclass(slots=True)
class Const(Expr):
    value: Any


@dataclass(slots=True)
class Var(Expr):
    name: str  # lower case


@dataclass(slots=True)
class Interp(Expr):
    """A string literal with ``${expr}`` / ``{name}`` parts."""

    parts: list[Any]  # str or Expr


@dataclass(slots=True)
class BinOp(Expr):
    op: str  # + - * / \ MOD ^ & = <> < > <= >= AND OR
    left: Expr
    right: Expr


@dataclass(slots=True)
class Not(Expr):
    expr: Expr


@dataclass(slots=True)
class Neg(Expr):
    expr: Expr


@dataclass(slots=True)
class IsNull(Expr):
    expr: Expr
    negate: bool


@dataclass(slots=True)
class ListLit(Expr):
    items: list[Expr]


@dataclass(slots=True)
class ObjLit(Expr):
    pairs: list[tuple[str, Expr]]


@dataclass(slots=True)
class Index(Expr):
    obj: Expr
    key: Expr


@dataclass(slots=True)
class Attr(Expr):
    obj: Expr
    name: str


@dataclass(slots=True)
class Call(Expr):
    name: str  # upper case
    args: list[Expr]
    spelling: str = ""  # as written, for messages


@dataclass(slots=True)
class GetExpr(Expr):
    """``GET "session.id"`` / ``GET name``: a value the runtime provides."""

    key: Expr


@dataclass(slots=True)
class HearExpr(Expr):
    """``x = HEAR``."""


@dataclass(slots=True)
class WithField(Expr):
    """``.field`` inside a WITH block."""

    name: str


@dataclass(slots=True)
class CmdExpr(Expr):
    """``x = FIND "a", "b"``: a keyword used as a value (see :mod:`gb_basic.keywords`)."""

    keyword: str  # upper case, words separated by spaces
    args: list[Expr]
    raw: str | None = None  # arguments that are not an argument list, as written (never run)


@dataclass(slots=True)
class MethodCall(Expr):
    """``items.push(x)``, ``s.trim()``: a method call (Rhai's form; gb runs none)."""

    obj: Expr
    name: str
    args: list[Expr]


# --- statements ----------------------------------------------------------------------------


@dataclass(slots=True)
class Assign(Stmt):
    target: Expr  # Var, Attr, Index or WithField
    expr: Expr


@dataclass(slots=True)
class SetVar(Stmt):
    """``SET name = expr``: a session variable."""

    target: Expr
    expr: Expr


@dataclass(slots=True)
class GetVar(Stmt):
    """``GET name``: load a session variable into the dialog."""

    name: str


@dataclass(slots=True)
class Talk(Stmt):
    args: list[Expr]
    to: Expr | None = None


@dataclass(slots=True)
class Hear(Stmt):
    target: Expr
    type: str | None = None  # EMAIL, INTEGER, ... or None
    choices: list[Expr] | None = None  # a menu
    prompt: Expr | None = None
    type_at: tuple[int, int] | None = None  # where the AS type is written
    default: Expr | None = None  # HEAR ... DEFAULT x (parsed; not run)


@dataclass(slots=True)
class If(Stmt):
    branches: list[tuple[Expr, list[Stmt]]]
    orelse: list[Stmt] | None = None
    bare: bool = False  # the seed's `if` / `end` form


@dataclass(slots=True)
class For(Stmt):
    var: str
    start: Expr
    stop: Expr
    step: Expr | None
    body: list[Stmt]


@dataclass(slots=True)
class ForEach(Stmt):
    var: str
    iterable: Expr
    body: list[Stmt]


@dataclass(slots=True)
class Loop(Stmt):
    """DO/LOOP and WHILE/WEND: test before (``pre``) or after (``post``) the body."""

    pre: Expr | None
    post: Expr | None
    until: bool
    body: list[Stmt]
    kind: str = "do"  # "do" or "while" (which EXIT leaves it)


@dataclass(slots=True)
class CaseItem(Node):
    kind: str  # "eq", "range", "is"
    a: Expr
    b: Expr | None = None
    op: str | None = None


@dataclass(slots=True)
class Select(Stmt):
    subject: Expr
    cases: list[tuple[list[CaseItem], list[Stmt]]]
    orelse: list[Stmt] | None = None


@dataclass(slots=True)
class With(Stmt):
    target: Expr
    body: list[Stmt]


@dataclass(slots=True)
class Function(Stmt):
    name: str  # lower case
    params: list[str]
    body: list[Stmt]
    is_sub: bool
    spelling: str = ""  # as written, for messages
    name_at: tuple[int, int] = (0, 0)


@dataclass(slots=True)
class CallStmt(Stmt):
    name: str  # lower case
    args: list[Expr]


@dataclass(slots=True)
class Return(Stmt):
    expr: Expr | None


@dataclass(slots=True)
class Exit(Stmt):
    kind: str  # for do while function sub dialog


@dataclass(slots=True)
class End(Stmt):
    pass


@dataclass(slots=True)
class Label(Stmt):
    name: str  # lower case


@dataclass(slots=True)
class Goto(Stmt):
    name: str
    name_at: tuple[int, int] = (0, 0)


@dataclass(slots=True)
class OnError(Stmt):
    resume_next: bool


@dataclass(slots=True)
class OnLogin(Stmt):
    body: list[Stmt]


@dataclass(slots=True)
class Keyword(Stmt):
    """A keyword statement: one gb implements (``supported``) or an unknown one."""

    keyword: str  # upper case, words separated by spaces
    args: list[Expr]
    supported: bool
    raw: str | None = None  # arguments that are not an argument list, as written (never run)


@dataclass(slots=True)
class Param(Stmt):
    name: str
    type: str | None
    like: Expr | None
    description: Expr | None
    default: Expr | None = None
    optional: bool = False
    choices: list[str] | None = None  # PARAM x AS "a", "b" / ENUM ["a", "b"]


@dataclass(slots=True)
class Table(Stmt):
    """A ``TABLE name ... END TABLE`` block: a declaration, nothing runs."""

    spec: TableSpec


@dataclass(slots=True)
class Description(Stmt):
    text: Expr


@dataclass(slots=True)
class SystemPrompt(Stmt):
    text: Expr


@dataclass(slots=True)
class Dim(Stmt):
    name: str
    expr: Expr | None


@dataclass(slots=True)
class Module:
    """A parsed .bas file: the main body and its FUNCTION/SUB definitions."""

    name: str
    source: str
    body: list[Stmt]
    functions: dict[str, Function] = field(default_factory=dict)
    params: list[Param] = field(default_factory=list)
    description: str | None = None
    tables: list[TableSpec] = field(default_factory=list)  # in source order
    notes: list[tuple[str, int, int, str]] = field(default_factory=list)  # parser warnings: message, line, col, token


def _fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(f for f in getattr(cls, "__dataclass_fields__", {}) if f not in ("line", "col"))
        _FIELDS[cls] = names
    return names


_FIELDS: dict[type, tuple[str, ...]] = {}


def children(node: Any) -> list[Any]:
    """The nodes directly inside `node` (in fields, lists and tuples), in source order."""
    out: list[Any] = []

    def add(x: Any) -> None:
        if isinstance(x, Node):
            out.append(x)
        elif isinstance(x, (list, tuple)):
            for y in x:
                add(y)

    for name in _fields(type(node)):
        add(getattr(node, name))
    return out


def walk(node: Any) -> Any:
    """Yield `node` and every node inside it, depth first, in source order."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))
