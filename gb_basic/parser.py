"""The parser: source text -> :class:`~gb_basic.ast.Module`.

lark's LALR(1) parser reads the token stream of :mod:`gb_basic.lexer` with ``grammar.lark``;
an inline transformer builds AST nodes and block markers line by line, and :class:`_Nester`
nests the block lines (``IF``/``END IF``, ``FOR``/``NEXT``, ...) with a stack.
:func:`parse` raises the first error; :func:`parse_all` (``gb check``) goes on after each.
"""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput, UnexpectedToken, VisitError
from lark.grammar import Rule

from . import ast as A
from .errors import BasicSyntaxError
from .keywords import runs
from .lexer import BasicLexer, Source, nfkc, tokenize_recovering
from .limits import DEFAULT_LIMITS
from .table_forms import table_form
from .tables import TableSpec, parse_table

__all__ = ["parse", "parse_all", "parse_expression", "table_specs", "Mark", "MAX_ERRORS", "MAX_PREFIXES"]

MAX_PREFIXES = 64  # NOT / - / + in a row before one operand (each is a level of nesting)
_MAX_LITERAL_DIGITS = DEFAULT_LIMITS.max_number_digits  # an integer literal's digits, at most
_MAIN = "main"  # compiler.MAIN: the dialog's own unit, which no FUNCTION or SUB may be named


class Mark:
    """A block line (``IF x THEN``, ``NEXT``, ...) before nesting."""

    __slots__ = ("kind", "line", "col", "args")

    def __init__(self, kind: str, tok: Any, *args: Any) -> None:
        self.kind = kind
        self.line, self.col = _pos(tok)
        self.args = args

    def __repr__(self) -> str:
        return f"Mark({self.kind}@{self.line})"


def _pos(x: Any) -> tuple[int, int]:
    if isinstance(x, Token):
        return x.line or 0, x.column or 0
    return x.line, x.col


_CLOSE_NAME = {"if": "END IF", "for": "NEXT", "each": "NEXT", "do": "LOOP", "while": "WEND",
               "select": "END SELECT", "with": "END WITH", "function": "END FUNCTION",
               "sub": "END SUB", "login": "END"}
_OPEN_NAME = {"if": "IF", "for": "FOR", "each": "FOR EACH", "do": "DO", "while": "WHILE",
              "select": "SELECT CASE", "with": "WITH", "function": "FUNCTION", "sub": "SUB",
              "login": "ON LOGIN"}

_BINOPS = {"+": "+", "-": "-", "*": "*", "/": "/", "\\": "\\", "^": "^", "&": "&", "=": "=",
           "==": "=", "<>": "<>", "!=": "<>", "<": "<", ">": ">", "<=": "<=", ">=": ">="}


class _ToAst(Transformer):  # type: ignore[type-arg]
    """Rule callbacks: each gets the list of children, returns a node or a :class:`Mark`."""

    # expressions
    def number(self, c: list[Any]) -> A.Const:
        t = c[0]
        return A.Const(t.line, t.column, _number_value(t))

    def string(self, c: list[Any]) -> A.Expr:
        return _string_expr(c[0])

    def true(self, c: list[Any]) -> A.Const:
        return A.Const(c[0].line, c[0].column, True)

    def false(self, c: list[Any]) -> A.Const:
        return A.Const(c[0].line, c[0].column, False)

    def null(self, c: list[Any]) -> A.Const:
        return A.Const(c[0].line, c[0].column, None)

    def var(self, c: list[Any]) -> A.Var:
        return A.Var(c[0].line, c[0].column, str(c[0]).lower())

    def call(self, c: list[Any]) -> A.Call:
        return A.Call(c[0].line, c[0].column, str(c[0]).upper(), c[2] or [], str(c[0]))

    def paren(self, c: list[Any]) -> A.Expr:
        return c[1]  # type: ignore[no-any-return]

    def list_lit(self, c: list[Any]) -> A.ListLit:
        return A.ListLit(c[0].line, c[0].column, c[1] or [])

    def obj_lit(self, c: list[Any]) -> A.ObjLit:
        return A.ObjLit(c[0].line, c[0].column, c[1] or [])

    list_lit_comma = list_lit
    obj_lit_comma = obj_lit

    def method(self, c: list[Any]) -> A.MethodCall:
        return A.MethodCall(c[0].line, c[0].col, c[0], str(c[2]), c[4] or [])

    def format_as(self, c: list[Any]) -> A.Call:  # FORMAT x AS "pattern"
        return A.Call(c[0].line, c[0].column, "FORMAT", [c[1], _string_expr(c[3])], str(c[0]))

    def format_as_name(self, c: list[Any]) -> A.Call:  # FORMAT x AS JSON
        return A.Call(c[0].line, c[0].column, "FORMAT", [c[1], self.var([c[3]])], str(c[0]))

    def format_name(self, c: list[Any]) -> A.Call:  # FORMAT x
        return A.Call(c[0].line, c[0].column, "FORMAT", [self.var([c[1]])], str(c[0]))

    def format_call(self, c: list[Any]) -> A.Call:  # FORMAT GUID()
        return A.Call(c[0].line, c[0].column, "FORMAT", [self.call(c[1:])], str(c[0]))

    def words_value(self, c: list[Any]) -> A.CmdExpr:
        return A.CmdExpr(c[0].line, c[0].column, str(c[0]), [])

    def ternary(self, c: list[Any]) -> A.Call:
        cond = self.expr([c[0]])
        return A.Call(cond.line, cond.col, "IIF", [cond, c[2], c[4]], "?:")

    def _list(self, c: list[Any]) -> list[Any]:
        if len(c) == 1:
            return [c[0]]
        c[0].append(c[2])
        return c[0]  # type: ignore[no-any-return]

    pairs = args = kwargs = params = case_items = _list

    def pair(self, c: list[Any]) -> tuple[str, A.Expr]:
        return str(c[0]), c[2]

    def get_expr(self, c: list[Any]) -> A.GetExpr:
        return A.GetExpr(c[0].line, c[0].column, c[1])

    def hear_expr(self, c: list[Any]) -> A.HearExpr:
        return A.HearExpr(c[0].line, c[0].column)

    def with_field(self, c: list[Any]) -> A.WithField:
        return A.WithField(c[0].line, c[0].column, str(c[1]))

    def attr(self, c: list[Any]) -> A.Attr:
        return A.Attr(c[0].line, c[0].col, c[0], str(c[2]))

    def index(self, c: list[Any]) -> A.Index:
        return A.Index(c[0].line, c[0].col, c[0], c[2])

    def seq(self, c: list[Any]) -> list[Any]:
        if len(c) == 1:
            return [c[0]]
        c[0].append(c[1])
        c[0].append(c[2])
        return c[0]  # type: ignore[no-any-return]

    def seq_is_null(self, c: list[Any]) -> list[Any]:
        c[0].append("IS NULL")
        return c[0]  # type: ignore[no-any-return]

    def seq_is_not_null(self, c: list[Any]) -> list[Any]:
        c[0].append("IS NOT NULL")
        return c[0]  # type: ignore[no-any-return]

    def prefix(self, c: list[Any]) -> _Prefix:
        return _Prefix(c[0], c[1])

    def expr(self, c: list[Any]) -> A.Expr:
        items = c[0]
        if len(items) == 1 and not isinstance(items[0], _Prefix):
            return items[0]  # type: ignore[no-any-return]
        return _Climber(items).climb(items[0], 0)

    def cmpop(self, c: list[Any]) -> Token:
        return c[0]  # type: ignore[no-any-return]

    # targets
    def var_target(self, c: list[Any]) -> A.Var:
        return self.var(c)

    def attr_target(self, c: list[Any]) -> A.Attr:
        return self.attr(c)

    def index_target(self, c: list[Any]) -> A.Index:
        return self.index(c)

    def with_target(self, c: list[Any]) -> A.WithField:
        return self.with_field(c)

    # simple statements
    def assign(self, c: list[Any]) -> A.Assign:
        if isinstance(c[2], A.HearExpr):
            return A.Hear(c[0].line, c[0].col, c[0])  # type: ignore[return-value]
        return A.Assign(c[0].line, c[0].col, c[0], c[2])

    def cmd_assign(self, c: list[Any]) -> A.Assign:
        return A.Assign(c[0].line, c[0].col, c[0], _cmd_value(c[2], c[3] or []))

    def raw_assign(self, c: list[Any]) -> A.Assign:
        return A.Assign(c[0].line, c[0].col, c[0], _raw_cmd(c[2], c[3]))

    def method_stmt(self, c: list[Any]) -> A.Assign:
        call = A.MethodCall(c[0].line, c[0].col, c[0], str(c[2]), c[4] or [])
        return A.Assign(c[0].line, c[0].col, A.Var(c[0].line, c[0].col, "$_"), call)

    def table(self, c: list[Any]) -> A.Table:
        tok = c[0]
        return A.Table(tok.line, tok.column, parse_table(str(tok), tok.line or 0))

    def step_label(self, c: list[Any]) -> list[Any]:
        return []

    def set_stmt(self, c: list[Any]) -> A.SetVar:
        return A.SetVar(c[0].line, c[0].column, c[1], c[3])

    def get_stmt(self, c: list[Any]) -> A.GetVar:
        return A.GetVar(c[0].line, c[0].column, str(c[1]).lower())

    def talk(self, c: list[Any]) -> A.Talk:
        return A.Talk(c[0].line, c[0].column, c[1] or [])

    def talk_to(self, c: list[Any]) -> A.Talk:
        return A.Talk(c[0].line, c[0].column, c[3], to=c[1])

    def hear(self, c: list[Any]) -> A.Hear:
        tok, target, as_args, prompt = c[0], c[1], c[3], c[5]
        node = A.Hear(tok.line, tok.column, target, prompt=prompt, default=c[7])
        if as_args and any(isinstance(a, _Any) for a in as_args):
            as_args = None  # HEAR x AS "done", *: any answer
        if as_args:
            first = as_args[0]
            if len(as_args) == 1 and isinstance(first, A.Var):
                node.type = first.name.upper()  # a type, or a list variable (checked later)
                node.type_at = (first.line, first.col)
            else:
                node.choices = as_args
        return node

    def input(self, c: list[Any]) -> list[A.Stmt]:
        tok, first, target = c[0], c[1], c[3]
        if target is None:
            return [A.Hear(tok.line, tok.column, first)]
        return [A.Talk(tok.line, tok.column, [first]), A.Hear(tok.line, tok.column, target)]

    def call_stmt(self, c: list[Any]) -> A.CallStmt:
        args = (c[3] or []) + (c[6] or [])
        return A.CallStmt(c[0].line, c[0].column, str(c[1]).lower(), args)

    def paren_call(self, c: list[Any]) -> A.CallStmt:
        return A.CallStmt(c[0].line, c[0].column, str(c[0]).lower(), c[2] or [])

    def hear_args(self, c: list[Any]) -> list[Any]:
        return self._list(c)

    def hear_any(self, c: list[Any]) -> _Any:
        return _Any()

    def kw_stmt(self, c: list[Any]) -> A.Keyword:
        tok = c[0]
        name = str(tok).upper()
        args = c[1] or []
        if len(args) == 1 and isinstance(args[0], A.BinOp) and args[0].op == "=" and \
                (name.startswith("SET ") or name == "REMEMBER"):
            args = [args[0].left, args[0].right]  # SET HEADER "Accept" = "text/html"
        if name == "CALL":  # CALL "other.bas", a: another dialog of the bot; CALL "/api/x" is not one
            if _dialog_call(args):
                return A.Keyword(tok.line, tok.column, name, args, True)
            return A.Keyword(tok.line, tok.column, name, [], False, _call_text(args))
        return A.Keyword(tok.line, tok.column, name, args, tok.type == "KW" and runs(name))

    def raw_stmt(self, c: list[Any]) -> A.Keyword:
        tok = c[0]
        name = str(tok).upper()
        args = _form_args(name, c[1])
        if args is not None:  # UPDATE "t" SET a = 1 WHERE id = x
            return A.Keyword(tok.line, tok.column, name, args, runs(name))
        return A.Keyword(tok.line, tok.column, name, [], False, str(c[1]))  # runs only as an argument list

    def return_(self, c: list[Any]) -> A.Return:
        return A.Return(c[0].line, c[0].column, c[1])

    def return_cmd(self, c: list[Any]) -> A.Return:
        name, args = str(c[1]).upper(), c[2] or []
        if name == "WITH" and args and len(args) % 2 == 0 and all(isinstance(a, A.Var) for a in args[0::2]):
            # RETURN WITH a AS x, b AS y: the object {a: x, b: y}
            obj = A.ObjLit(c[1].line, c[1].column, [(k.name, v) for k, v in zip(args[0::2], args[1::2])])
            return A.Return(c[0].line, c[0].column, obj)
        return A.Return(c[0].line, c[0].column, _cmd_value(c[1], args))

    def return_raw(self, c: list[Any]) -> A.Return:
        return A.Return(c[0].line, c[0].column, _raw_cmd(c[1], c[2]))

    def exit_(self, c: list[Any]) -> A.Exit:
        t = c[0]
        kind = t.type[5:].lower() if t.type != "EXIT" else "any"
        return A.Exit(t.line, t.column, kind)

    def goto(self, c: list[Any]) -> A.Goto:
        return A.Goto(c[0].line, c[0].column, str(c[1]).lower(), (c[1].line, c[1].column))

    def on_error(self, c: list[Any]) -> A.OnError:
        return A.OnError(c[0].line, c[0].column, c[0].type == "ON_ERROR_RESUME_NEXT")

    def dim(self, c: list[Any]) -> A.Dim:
        return A.Dim(c[0].line, c[0].column, str(c[1]).lower(), c[5])

    def param(self, c: list[Any]) -> A.Param:
        typ, choices = c[3] if c[3] is not None else (None, None)
        node = A.Param(c[0].line, c[0].column, str(c[1]), typ, None, None, choices=choices)
        for key, value in c[4] or []:
            if key == "LIKE":
                node.like = value
            elif key == "DESCRIPTION":
                node.description = value
            elif key == "DEFAULT":
                node.default = value
            elif key == "OPTIONAL":
                node.optional = True
            elif key == "ENUM":
                node.choices = _strings(value)
        return node

    def ptype(self, c: list[Any]) -> tuple[str, None]:
        return str(c[0]).upper() + ("[]" if c[1] is not None else ""), None

    def ptype_enum(self, c: list[Any]) -> tuple[str, list[str]]:
        return "STRING", c[0]

    def strings(self, c: list[Any]) -> list[str]:
        if len(c) == 1:
            return [str(c[0])]
        c[0].append(str(c[2]))
        return c[0]  # type: ignore[no-any-return]

    def pclauses(self, c: list[Any]) -> list[Any]:
        if len(c) == 1:
            return [c[0]]
        c[0].append(c[1])
        return c[0]  # type: ignore[no-any-return]

    def pclause(self, c: list[Any]) -> tuple[str, Any]:
        key = c[0].type
        value = _text_expr(c[1]) if len(c) > 1 else None
        return key, value

    def description(self, c: list[Any]) -> A.Description:
        return A.Description(c[0].line, c[0].column, _text_expr(c[1]))

    def text_block(self, c: list[Any]) -> A.Talk:
        return A.Talk(c[0].line, c[0].column, [_string_expr(c[0])])

    def prompt_block(self, c: list[Any]) -> A.SystemPrompt:
        return A.SystemPrompt(c[0].line, c[0].column, _string_expr(c[0]))

    def label(self, c: list[Any]) -> A.Label:
        return A.Label(c[0].line, c[0].column, str(c[0]).lower())

    # block lines
    def if_then(self, c: list[Any]) -> Mark:
        return Mark("if", c[0], c[1], False)

    def if_bare(self, c: list[Any]) -> Mark:
        return Mark("if", c[0], c[1], True)

    def if_inline(self, c: list[Any]) -> A.If:
        then = _flat([c[3]])
        orelse = _flat([c[5]]) if len(c) > 5 and c[5] is not None else None
        return A.If(c[0].line, c[0].column, [(c[1], then)], orelse)

    def elseif(self, c: list[Any]) -> Mark:
        return Mark("elseif", c[0], c[1])

    def else_(self, c: list[Any]) -> Mark:
        return Mark("else", c[0])

    def end_if(self, c: list[Any]) -> Mark:
        return Mark("end_if", c[0])

    def end_(self, c: list[Any]) -> Mark:
        return Mark("end", c[0])

    def for_head(self, c: list[Any]) -> Mark:
        return Mark("for", c[0], str(c[1]).lower(), c[3], c[5], c[7])

    def for_each(self, c: list[Any]) -> Mark:
        return Mark("each", c[0], str(c[1]).lower(), c[3])

    for_in = for_each

    def if_brace(self, c: list[Any]) -> Mark:
        return Mark("if", c[0], c[1], False)

    def rbrace(self, c: list[Any]) -> Mark:
        return Mark("end_if", c[0])

    def rbrace_else(self, c: list[Any]) -> Mark:
        return Mark("else", c[0])

    def next_(self, c: list[Any]) -> Mark:
        return Mark("next", c[0], str(c[1]).lower() if c[1] is not None else None, str(c[0]).upper() != "NEXT")

    def do_head(self, c: list[Any]) -> Mark:
        t = c[0]
        return Mark("do", t, c[1] if len(c) > 1 else None, t.type == "DO_UNTIL")

    def loop_tail(self, c: list[Any]) -> Mark:
        t = c[0]
        return Mark("loop", t, c[1] if len(c) > 1 else None, t.type == "LOOP_UNTIL")

    def while_head(self, c: list[Any]) -> Mark:
        return Mark("while", c[0], c[1])

    def wend(self, c: list[Any]) -> Mark:
        return Mark("wend", c[0])

    def select_head(self, c: list[Any]) -> Mark:
        return Mark("select", c[0], c[1])

    def case(self, c: list[Any]) -> Mark:
        return Mark("case", c[0], c[1])

    def case_item(self, c: list[Any]) -> A.CaseItem:
        return A.CaseItem(c[0].line, c[0].col, "eq", c[0])

    def case_range(self, c: list[Any]) -> A.CaseItem:
        return A.CaseItem(c[0].line, c[0].col, "range", c[0], c[2])

    def case_is(self, c: list[Any]) -> A.CaseItem:
        op = _BINOPS[str(c[1])]
        return A.CaseItem(c[0].line, c[0].column, "is", c[2], None, op)

    def case_else(self, c: list[Any]) -> Mark:
        return Mark("case_else", c[0])

    def end_select(self, c: list[Any]) -> Mark:
        return Mark("end_select", c[0])

    def with_head(self, c: list[Any]) -> Mark:
        return Mark("with", c[0], c[1])

    def end_with(self, c: list[Any]) -> Mark:
        return Mark("end_with", c[0])

    def func_head(self, c: list[Any]) -> Mark:
        return Mark("function", c[0], c[1], c[3] or [])

    def sub_head(self, c: list[Any]) -> Mark:
        return Mark("sub", c[0], c[1], c[3] or [])

    def end_func(self, c: list[Any]) -> Mark:
        return Mark("end_function", c[0])

    def end_sub(self, c: list[Any]) -> Mark:
        return Mark("end_sub", c[0])

    def param_decl(self, c: list[Any]) -> str:
        return str(c[0]).lower()

    def on_login(self, c: list[Any]) -> Mark:
        return Mark("login", c[0])

    def lines(self, c: list[Any]) -> list[Any]:
        if len(c) == 1:
            return _Lines(c)
        c[0].append(c[1])
        return c[0]  # type: ignore[no-any-return]

    def start(self, c: list[Any]) -> list[Any]:
        return c[0] if c and c[0] else []


def _number_value(t: Token) -> int | float:
    """The value of a NUMBER token: refused when it has too many digits or is beyond a float.

    Raises:
        BasicSyntaxError: ``number too large`` at the literal.
    """
    s = str(t)
    if "." in s or "e" in s or "E" in s:
        f = float(s)
        if not math.isfinite(f):
            raise BasicSyntaxError(f"number too large: {s[:20]}{'...' if len(s) > 20 else ''} is beyond the "
                                   "largest number (about 1.8e308)", line=t.line or 0, column=t.column or 0,
                                   token=s[:20])
        return f
    digits = len(s.lstrip("0"))
    if digits > _MAX_LITERAL_DIGITS:
        raise BasicSyntaxError(f"number too large: the literal has {digits:,} digits (the limit is "
                               f"{_MAX_LITERAL_DIGITS:,})", line=t.line or 0, column=t.column or 0, token=s[:20])
    return int(s)


class _Prefix:
    """A prefix operator (NOT, -, +) and its operand, before precedence is applied."""

    __slots__ = ("op", "operand")

    def __init__(self, op: Token, operand: Any) -> None:
        self.op, self.operand = op, operand


# Binding power: higher binds tighter (VB's order). Prefix NOT sits between AND and the
# comparisons; prefix minus between * and ^.
_PREC = {"COALESCE": 1, "OR": 1, "AND": 2, "CONTAINS": 4, "EQ": 4, "EQEQ": 4, "NE": 4, "LT": 4, "GT": 4,
         "LE": 4, "GE": 4, "IS NULL": 4, "IS NOT NULL": 4, "AMP": 5, "PLUS": 6, "MINUS": 6, "STAR": 7,
         "SLASH": 7, "BSLASH": 7, "MOD": 7, "CARET": 9}
_PREFIX_PREC = {"NOT": 3, "MINUS": 8, "PLUS": 8}
_GET_PREC = _PREC["AMP"]  # GET takes the & + - * / ^ MOD after its operand, not a comparison or AND/OR


class _Climber:
    """Precedence climbing over the flat operand/operator list of a ``seq``."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.i = 1
        self.prefixes = 0  # prefix operators being climbed (each one recurses)

    def climb(self, operand: Any, min_prec: int) -> A.Expr:
        return self.climb_rest(self.unary(operand), min_prec)

    def climb_rest(self, lhs: A.Expr, min_prec: int) -> A.Expr:
        """`lhs` and the operators after it that bind at least as tightly as `min_prec`."""
        items = self.items
        while self.i < len(items):
            op = items[self.i]
            key = op if isinstance(op, str) and op.startswith("IS") and not isinstance(op, Token) else op.type
            prec = _PREC[key]
            if prec < min_prec:
                break
            self.i += 1
            if key in ("IS NULL", "IS NOT NULL"):
                lhs = A.IsNull(lhs.line, lhs.col, lhs, key == "IS NOT NULL")
                continue
            rhs_operand = items[self.i]
            self.i += 1
            rhs = self.climb(rhs_operand, prec + 1)
            if key == "COALESCE":  # a ?? b
                lhs = A.Call(lhs.line, lhs.col, "NVL", [lhs, rhs], "??")
                continue
            if key == "CONTAINS":  # a CONTAINS b: b is in the text a
                found = A.Call(lhs.line, lhs.col, "INSTR", [lhs, rhs], "CONTAINS")
                lhs = A.BinOp(lhs.line, lhs.col, ">", found, A.Const(lhs.line, lhs.col, 0))
                continue
            name = key if key in ("AND", "OR") else str(op).upper()  # `&&` is AND
            lhs = A.BinOp(lhs.line, lhs.col, _BINOPS.get(name, name), lhs, rhs)
        return lhs

    def get_operand(self, x: A.GetExpr) -> A.GetExpr:
        """``GET host + "/path"``, ``GET "https://..." + q``: GET's operand is the whole text or
        arithmetic after it (``GET a = 1`` still compares what GET gives)."""
        key = self.climb_rest(x.key, _GET_PREC)
        return x if key is x.key else A.GetExpr(x.line, x.col, key)

    def unary(self, x: Any) -> A.Expr:
        if isinstance(x, A.GetExpr):
            return self.get_operand(x)
        if not isinstance(x, _Prefix):
            return x  # type: ignore[no-any-return]
        t = x.op
        line, col = t.line or 0, t.column or 0
        self.prefixes += 1
        if self.prefixes > MAX_PREFIXES:
            raise BasicSyntaxError(f"expression nested too deeply: more than {MAX_PREFIXES} NOT, - or + "
                                   "in a row", line=line, column=col, token=str(t))
        inner = self.climb(x.operand, _PREFIX_PREC[t.type] + 1)
        self.prefixes -= 1
        if t.type == "NOT":
            return A.Not(line, col, inner)
        if t.type == "PLUS":
            return inner
        if isinstance(inner, A.Const) and type(inner.value) in (int, float):
            return A.Const(line, col, -inner.value)
        return A.Neg(line, col, inner)


class _Lines(list):  # type: ignore[type-arg]
    """The statements of a program, in order."""


class _Any:
    """The ``*`` of ``HEAR x AS "done", *``: any answer."""


def _text_expr(x: Any) -> A.Expr:
    """A clause's value: an expression, or unquoted text (a TEXT token) as a string constant."""
    if isinstance(x, Token):
        return A.Const(x.line or 0, x.column or 0, str(x))
    return x  # type: ignore[no-any-return]


def _strings(e: A.Expr | None) -> list[str] | None:
    """The strings of an ``ENUM ["a", "b"]`` list literal (None when it is not one)."""
    if isinstance(e, A.ListLit) and all(isinstance(x, A.Const) for x in e.items):
        return [str(x.value) for x in e.items if isinstance(x, A.Const)]
    return None


def _flat(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for x in items:
        if isinstance(x, list):
            out.extend(x)
        elif isinstance(x, Mark) and x.kind == "end":
            out.append(A.End(x.line, x.col))
        else:
            out.append(x)
    return out


# --- string interpolation --------------------------------------------------------------------

_SOFT_RE = re.compile(r"\{([^\W\d]\w*(?:\.[^\W\d]\w*)*)\}")


def _string_expr(tok: Token) -> A.Expr:
    """A string literal, with ``${expr}`` and ``{name}`` parts turned into an :class:`Interp`."""
    s = str(tok)
    line, col = tok.line or 0, tok.column or 0
    if "{" not in s:
        return A.Const(line, col, s)
    parts: list[Any] = []
    i, buf = 0, []
    while i < len(s):
        if s.startswith("${", i) and not s.startswith("${{", i):  # ${{x}}: a template's text
            j = _matching_brace(s, i + 1)
            if j < 0:
                buf.append(s[i:])
                break
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(parse_expression(s[i + 2 : j], line=line, col=col))
            i = j + 1
            continue
        m = _SOFT_RE.match(s, i) if s[i] == "{" else None
        if m:
            if buf:
                parts.append("".join(buf))
                buf = []
            names = nfkc(m.group(1)).split(".")
            e: A.Expr = A.Var(line, col, names[0].lower())
            for n in names[1:]:
                e = A.Attr(line, col, e, n)
            parts.append(("soft", m.group(0), e))
            i = m.end()
            continue
        buf.append(s[i])
        i += 1
    if buf:
        parts.append("".join(buf))
    if all(isinstance(p, str) for p in parts):
        return A.Const(line, col, "".join(parts))
    return A.Interp(line, col, parts)


def _matching_brace(s: str, i: int) -> int:
    depth = 0
    for j in range(i, len(s)):
        if s[j] == "{":
            depth += 1
        elif s[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return -1


# --- nesting -------------------------------------------------------------------------------


class _Open:
    __slots__ = ("kind", "mark", "body", "node")

    def __init__(self, kind: str, mark: Mark, node: Any, body: list[Any] | None) -> None:
        self.kind, self.mark, self.node, self.body = kind, mark, node, body


class _Nester:
    """Turns the flat list of lines into nested blocks, with friendly errors.

    It raises its first error, or, given an ``errors`` list (``gb check``), records each error
    there and repairs the nesting so that one mistake is reported once: a closer closes the
    blocks left open inside its own, a line that closes nothing is dropped, and the statements
    of a misplaced branch are dropped with it.
    """

    def __init__(self, module: A.Module, errors: list[BasicSyntaxError] | None = None) -> None:
        self.module = module
        self.stack: list[_Open] = []
        self.errors = errors

    def error(self, message: str, line: int, col: int, token: str | None = None,
              incomplete: bool = False) -> BasicSyntaxError:
        err = BasicSyntaxError(message, file=self.module.name, line=line, column=col,
                               token=token, source=self.module.source)
        err.incomplete = incomplete  # type: ignore[attr-defined]
        return err

    def fail(self, message: str, line: int, col: int, token: str | None = None, incomplete: bool = False) -> None:
        """Raise the error, or record it when collecting every error; the caller then repairs.

        Raises:
            BasicSyntaxError: unless the nester collects errors.
        """
        err = self.error(message, line, col, token, incomplete)
        if self.errors is None:
            raise err
        self.errors.append(err)

    def current(self, at: Any) -> list[Any]:
        if not self.stack:
            return self.module.body
        top = self.stack[-1]
        if top.body is None:
            self.fail("expected CASE after SELECT CASE", at.line, at.col)
            top.body = []  # the statements up to the first CASE are dropped, with one error
        return top.body

    def run(self, lines: list[Any]) -> None:
        for item in lines:
            if isinstance(item, Mark):
                getattr(self, "on_" + item.kind)(item)
            elif isinstance(item, list):
                for s in item:
                    self.add(s)
            else:
                self.add(item)
        while self.stack:  # each block still open lacks its closer: one error each
            top = self.stack.pop()
            closer = _CLOSE_NAME[top.kind]
            hint = ""
            if top.kind == "if" and not top.node.bare:
                hint = " (a bare END stops the dialog)"
            self.fail(f"the {_OPEN_NAME[top.kind]} at line {top.mark.line} has no {closer}{hint}",
                      top.mark.line, top.mark.col, _OPEN_NAME[top.kind], incomplete=True)

    def add(self, stmt: Any) -> None:
        if isinstance(stmt, A.Param):
            self.module.params.append(stmt)
        elif isinstance(stmt, A.Table):
            self.module.tables.append(stmt.spec)
        elif isinstance(stmt, A.Description) and isinstance(stmt.text, A.Const):
            self.module.description = str(stmt.text.value)
        self.current(stmt).append(stmt)

    def push(self, kind: str, mark: Mark, node: Any, body: list[Any] | None) -> None:
        self.current(mark)  # a block cannot start between SELECT CASE and its first CASE
        self.stack.append(_Open(kind, mark, node, body))

    def top(self, mark: Mark, *kinds: str, what: str) -> _Open | None:
        """The open block a closer or branch line belongs to.

        Returns:
            The block, or None (after an error was recorded) when the line is to be dropped.
        """
        if self.stack and self.stack[-1].kind in kinds:
            return self.stack[-1]
        if self.stack:
            o = self.stack[-1]
            self.fail(f"{what} found while the {_OPEN_NAME[o.kind]} at line {o.mark.line} "
                      f"is still open (missing {_CLOSE_NAME[o.kind]}?)", mark.line, mark.col, what)
            return self.unwind(kinds)
        opener = {"if": "IF", "for": "FOR", "each": "FOR", "do": "DO", "while": "WHILE",
                  "select": "SELECT CASE", "with": "WITH", "function": "FUNCTION", "sub": "SUB"}
        self.fail(f"{what} without {opener[kinds[0]]}", mark.line, mark.col, what)
        return None

    def unwind(self, kinds: tuple[str, ...]) -> _Open | None:
        """Close the blocks opened inside the innermost block of one of `kinds`: their missing
        closers were just reported. None, and nothing closed, if no such block is open."""
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth].kind in kinds:
                while len(self.stack) > depth + 1:
                    self.close_top()
                return self.stack[depth]
        return None

    def close_top(self) -> None:
        """Close the innermost block as if its closer had been read."""
        if self.stack[-1].kind in ("function", "sub"):
            self.define(self.stack.pop())
        else:
            self.pop()

    def pop(self) -> None:
        o = self.stack.pop()
        self.current(o.mark).append(o.node)

    # if
    def on_if(self, m: Mark) -> None:
        cond, bare = m.args
        node = A.If(m.line, m.col, [(cond, [])], None, bare)
        self.push("if", m, node, node.branches[0][1])

    def on_elseif(self, m: Mark) -> None:
        o = self.top(m, "if", what="ELSE IF")
        if o is None:
            return
        if o.node.orelse is not None:
            self.fail("ELSE IF after ELSE", m.line, m.col, "ELSE IF")
            o.body = []  # the branch is dropped
            return
        o.node.branches.append((m.args[0], []))
        o.body = o.node.branches[-1][1]

    def on_else(self, m: Mark) -> None:
        o = self.top(m, "if", what="ELSE")
        if o is None:
            return
        if o.node.orelse is not None:
            self.fail(f"a second ELSE for the IF at line {o.mark.line}", m.line, m.col, "ELSE")
            o.body = []  # the branch is dropped
            return
        o.node.orelse = []
        o.body = o.node.orelse

    def on_end_if(self, m: Mark) -> None:
        if self.top(m, "if", what="END IF") is not None:
            self.pop()

    def on_end(self, m: Mark) -> None:
        if self.stack and (self.stack[-1].kind == "login" or
                           (self.stack[-1].kind == "if" and self.stack[-1].node.bare)):
            self.pop()
        else:
            self.add(A.End(m.line, m.col))

    # loops
    def on_for(self, m: Mark) -> None:
        var, a, b, step = m.args
        node = A.For(m.line, m.col, var, a, b, step, [])
        self.push("for", m, node, node.body)

    def on_each(self, m: Mark) -> None:
        node = A.ForEach(m.line, m.col, m.args[0], m.args[1], [])
        self.push("each", m, node, node.body)

    def on_next(self, m: Mark) -> None:
        if len(m.args) > 1 and m.args[1] and not any(o.kind in ("for", "each") for o in self.stack):
            # a stray END FOR (General Bots' templates have some): it closes nothing, said once
            self.module.notes.append(("END FOR without FOR: ignored", m.line, m.col, "END FOR"))
            return
        o = self.top(m, "for", "each", what="NEXT")
        if o is None:
            return
        name = m.args[0]
        if name is not None and o.node.var and name != o.node.var:  # no var: a FOR line that did not parse
            self.fail(f"NEXT {name} does not match FOR {o.node.var} at line {o.mark.line}",
                      m.line, m.col, "NEXT")
        self.pop()

    def on_do(self, m: Mark) -> None:
        cond, until = m.args
        node = A.Loop(m.line, m.col, cond, None, until, [], "do")
        self.push("do", m, node, node.body)

    def on_loop(self, m: Mark) -> None:
        o = self.top(m, "do", what="LOOP")
        if o is None:
            return
        cond, until = m.args
        if cond is not None:
            if o.node.pre is not None:
                self.fail("a DO WHILE/UNTIL loop cannot also test at LOOP", m.line, m.col, "LOOP")
            else:
                o.node.post, o.node.until = cond, until
        self.pop()

    def on_while(self, m: Mark) -> None:
        node = A.Loop(m.line, m.col, m.args[0], None, False, [], "while")
        self.push("while", m, node, node.body)

    def on_wend(self, m: Mark) -> None:
        if self.top(m, "while", what="WEND") is not None:
            self.pop()

    # select
    def on_select(self, m: Mark) -> None:
        node = A.Select(m.line, m.col, m.args[0], [], None)
        self.push("select", m, node, None)

    def on_case(self, m: Mark) -> None:
        o = self.top(m, "select", what="CASE")
        if o is None:
            return
        if o.node.orelse is not None:
            self.fail("CASE after CASE ELSE", m.line, m.col, "CASE")
            o.body = []  # the case is dropped
            return
        o.node.cases.append((list(m.args[0]), []))
        o.body = o.node.cases[-1][1]

    def on_case_else(self, m: Mark) -> None:
        o = self.top(m, "select", what="CASE ELSE")
        if o is None:
            return
        o.node.orelse = []
        o.body = o.node.orelse

    def on_end_select(self, m: Mark) -> None:
        if self.top(m, "select", what="END SELECT") is not None:
            self.pop()

    # with, functions, login
    def on_with(self, m: Mark) -> None:
        node = A.With(m.line, m.col, m.args[0], [])
        self.push("with", m, node, node.body)

    def on_end_with(self, m: Mark) -> None:
        o = self.top(m, "with", what="END WITH")
        if o is not None:
            self.dotless_fields(o.node)
            self.pop()

    def dotless_fields(self, node: A.With) -> None:
        """General Bots writes a WITH block's fields without the dot (``WITH order`` /
        ``id = orderid``): a ``name = value`` line directly in the block sets the field, as
        ``.name = value`` does, with the name as written (``registeredAt``)."""
        lines = self.module.source.splitlines()
        for s in node.body:
            if isinstance(s, A.Assign) and isinstance(s.target, A.Var):
                t = s.target
                text = lines[t.line - 1] if 0 < t.line <= len(lines) else ""
                written = text[t.col - 1:t.col - 1 + len(t.name)]
                s.target = A.WithField(t.line, t.col, written if written.lower() == t.name else t.name)

    def on_function(self, m: Mark, is_sub: bool = False) -> None:
        kind = "sub" if is_sub else "function"
        name_tok = m.args[0]
        if self.stack:
            o = self.stack[-1]
            self.fail(f"{kind.upper()} {name_tok} inside the {_OPEN_NAME[o.kind]} at line "
                      f"{o.mark.line} (missing {_CLOSE_NAME[o.kind]}?)", m.line, m.col, kind.upper())
            while self.stack:  # the blocks left open end where the function starts
                self.close_top()
        node = A.Function(m.line, m.col, str(name_tok).lower(), list(m.args[1]), [], is_sub,
                          str(name_tok), (name_tok.line, name_tok.column))
        self.stack.append(_Open(kind, m, node, node.body))

    def on_sub(self, m: Mark) -> None:
        self.on_function(m, is_sub=True)

    def _end_function(self, m: Mark, kind: str) -> None:
        o = self.top(m, kind, what=f"END {kind.upper()}")
        if o is not None:
            self.stack.pop()
            self.define(o)

    def define(self, o: _Open) -> None:
        """Register a FUNCTION or SUB that was just closed."""
        name = o.node.name
        if name == _MAIN:
            line, col = o.node.name_at
            self.fail(f"{o.kind.upper()} {o.node.spelling}: main is the dialog itself and takes no parameters; "
                      "give the " + o.kind.upper() + " another name", line, col, o.node.spelling)
            return
        if name in self.module.functions:
            prev = self.module.functions[name]
            line, col = o.node.name_at
            self.fail(f"{o.kind.upper()} {o.node.spelling} is already defined at line {prev.line}",
                      line, col, o.node.spelling)
            return
        self.module.functions[name] = o.node

    def on_end_function(self, m: Mark) -> None:
        self._end_function(m, "function")

    def on_end_sub(self, m: Mark) -> None:
        self._end_function(m, "sub")

    def on_login(self, m: Mark) -> None:
        node = A.OnLogin(m.line, m.col, [])
        self.push("login", m, node, node.body)


# --- entry points ------------------------------------------------------------------------------

_TRANSFORMER = _ToAst()
# cache=True: lark keeps the grammar's analysis (the LALR tables) in a file of the temp folder named
# by the grammar's hash and lark's version, so a process starts in 0.02 s, not 0.4 s, of parser
# building (every gb serve, kernel and CLI run pays it); a cache it cannot read is rebuilt.
_LARK = Lark(
    resources.files(__package__).joinpath("grammar.lark").read_text(),
    parser="lalr",
    lexer=BasicLexer,
    transformer=_TRANSFORMER,
    maybe_placeholders=True,
    cache=True,
)



class _IdentityRule(Rule):
    """A lark Rule hashed and compared by identity (each rule object in a table is unique)."""

    __slots__ = ()
    __hash__ = object.__hash__
    __eq__ = object.__eq__


def _speed_up(lark: Lark) -> None:
    """Make lark's LALR loop cheaper, without changing what it parses.

    Per reduction, lark looks the rule up in the callbacks dict (Rule.__hash__ and __eq__
    are Python methods) and the rule's name up in the state table (a Token, whose __eq__ is
    a Python method). Identity hashing and plain-string names make those C-level lookups:
    about 20% of the parse time. Checked by the parser tests and bench/language.py.
    """
    parser = lark.parser.parser.parser
    table = parser.parse_table
    for state in table.states.values():
        for _action, arg in state.values():
            if isinstance(arg, Rule):
                if type(arg.origin.name) is not str:
                    arg.origin.name = str(arg.origin.name)
                arg.__class__ = _IdentityRule
    parser.callbacks = dict(parser.callbacks.items())


_speed_up(_LARK)

_NICE = {
    "_NL": "the end of the line", "$END": "the end of the file", "EQ": "'='", "COMMA": "','",
    "RPAR": "')'", "RSQB": "']'", "RBRACE": "'}'", "LPAR": "'('", "COLON": "':'",
    "THEN": "THEN", "TO": "TO", "IN": "IN", "AS": "AS", "NAME": "a name", "NULL": "NULL",
}
_EXPR_START = {"NAME", "NUMBER", "STRING", "LPAR", "LSQB", "MINUS"}
_OPERATORS = {"PLUS", "MINUS", "STAR", "SLASH", "BSLASH", "CARET", "AMP", "EQ", "EQEQ", "NE",
              "LT", "GT", "LE", "GE", "AND", "OR", "MOD", "IS", "DOT", "LSQB", "STEP"}


def _expected(expected: set[str]) -> str:
    if expected & _EXPR_START and "NUMBER" in expected:
        return "expected an expression"
    names = sorted({_NICE.get(e, e) for e in expected - _OPERATORS if e in _NICE}) or \
        sorted(e for e in expected if not e.startswith("_"))[:4]
    if not names:
        return "unexpected token"
    if len(names) == 1:
        return f"expected {names[0]}"
    return "expected " + ", ".join(names[:-1]) + " or " + names[-1]


_NO_COMMA = {"IF", "ELSEIF", "ELSE IF", "WHILE", "DO", "LOOP", "FOR", "SELECT", "RETURN", "GOTO", "NEXT"}
_AS_WORDS = {"HEAR", "DIM", "PARAM", "FUNCTION", "SUB", "ADD", "SET CONTEXT", "ADD SUGGESTION"}


def _plausible(expected: set[str], source: str, tok: Token) -> set[str]:
    """Drop tokens LALR's merged lookaheads allow but this statement cannot take here.

    LALR(1) merges states, so after ``IF x > 1`` it also "expects" ``)`` or ``TO``; what the
    statement starts with and which brackets are open tell which of those can really come.
    """
    pos = tok.start_pos if tok.start_pos is not None else len(source)
    start = source.rfind("\n", 0, pos) + 1
    before = re.sub(r'"[^"]*"|\'[^\']*\'', '""', source[start:pos])
    words = before.split()
    first = " ".join(words[:2]).upper() if words[:1] == ["ELSE"] else (words[0].upper() if words else "")
    assignment = len(words) > 1 and words[1] == "="
    out = set(expected)
    for closer, opener in (("RPAR", "("), ("RSQB", "["), ("RBRACE", "{")):
        if before.count(opener) <= before.count(closer_text(closer)):
            out.discard(closer)
    inside = any(before.count(o) > before.count(c) for o, c in (("(", ")"), ("[", "]"), ("{", "}")))
    if not inside and (first in _NO_COMMA or assignment):
        out.discard("COMMA")
    if first not in _AS_WORDS and not any(w.upper() in ("ADD", "SET") for w in words[:1]):
        out.discard("AS")
    if first not in ("FOR", "CASE"):
        out.discard("TO")
    elif first == "FOR" and "TO" in out:
        out.discard("_NL")
    if first not in ("IF", "ELSEIF", "ELSE IF"):
        out.discard("THEN")
    if "?" not in before and before.count("{") <= before.count("}"):
        out.discard("COLON")  # the ':' of `c ? a : b`, or of an object literal's field
    return out or expected


def closer_text(name: str) -> str:
    return {"RPAR": ")", "RSQB": "]", "RBRACE": "}"}[name]


def _token_text(tok: Token) -> str:
    if tok.type in ("_NL", "$END"):
        return "end of line"
    if tok.type == "STRING":
        return '"' + str(tok)[:20] + '"'
    return str(tok).split("\n")[0][:30]


def _syntax_error(exc: UnexpectedInput, name: str, source: str) -> BasicSyntaxError:
    tok = getattr(exc, "token", None)
    line, col = getattr(exc, "line", 0), getattr(exc, "column", 0)
    if isinstance(exc, UnexpectedToken) and tok is not None:
        if tok.type in ("_NL", "$END"):
            line, col = _end_of_line(source, tok)
        message = _expected(_plausible(set(exc.expected), source, tok))
        if tok.type == "STRING" and "COMMA" in exc.expected:
            message = "expected ',' between arguments"
        if tok.type == "EQ" and "THEN" in exc.expected:
            message = "expected THEN"
        return BasicSyntaxError(message, file=name, line=line, column=col,
                                token=_token_text(tok), source=source)
    return BasicSyntaxError("syntax error", file=name, line=line, column=col, source=source)


def _end_of_line(source: str, tok: Token) -> tuple[int, int]:
    pos = tok.start_pos if tok.start_pos is not None else len(source)
    before = source[:pos].rstrip("\r\n \t")
    line = before.count("\n") + 1
    col = len(before) - (before.rfind("\n") + 1) + 1
    return line, col


def _as_syntax_error(exc: Exception, name: str, source: str) -> BasicSyntaxError | None:
    """The error of the lexer, lark or the transformer that `exc` is, placed in file `name`.

    Returns:
        The BasicSyntaxError, or None when `exc` is a bug rather than an error of the source.
    """
    if isinstance(exc, VisitError) and isinstance(exc.orig_exc, BasicSyntaxError):
        exc = exc.orig_exc
    if isinstance(exc, BasicSyntaxError):
        exc.file = name
        if exc.source is None:
            exc.source = source
        return exc
    if isinstance(exc, UnexpectedInput):
        return _syntax_error(exc, name, source)
    return None


def _run_lark(source: str, name: str, raw: frozenset[int] = frozenset()) -> list[Any]:
    text = source
    if raw:
        text = Source(source)
        text.raw_lines = raw
    try:
        return _LARK.parse(text)  # type: ignore[return-value]
    except (BasicSyntaxError, VisitError, UnexpectedInput) as exc:
        err = _as_syntax_error(exc, name, source)
        if err is None:
            raise
        if err is exc:
            raise
        raise err from None


def parse(source: str, name: str = "<dialog>") -> A.Module:
    """Parse a .bas source into a :class:`Module`.

    Raises:
        BasicSyntaxError: with file, line, column and a caret excerpt.
    """
    source = source.replace("\r\n", "\n")
    collecting = gc.isenabled()
    gc.disable()  # parsing allocates many small objects that all stay alive: skip GC passes
    try:
        try:
            lines = _run_lark(source, name)
        except BasicSyntaxError:
            raw = _raw_lines(source, name)
            if not raw:
                raise
            lines = _run_lark(source, name, raw)
        module = A.Module(name, source, [])
        _Nester(module).run(lines)
    finally:
        if collecting:
            gc.enable()
    return module


# --- every error of a file (gb check) -------------------------------------------------------

MAX_ERRORS = 50  # errors reported per file; a file with more is likely not BASIC at all


def parse_all(source: str, name: str = "<dialog>", *,
              max_errors: int = MAX_ERRORS) -> tuple[A.Module | None, list[BasicSyntaxError]]:
    """Parse a .bas source, collecting every syntax error instead of stopping at the first.

    After an error the parser resynchronises at the next statement line: each line is parsed
    on its own (the grammar's statements are single lines; blocks are nested afterwards), a
    line that does not lex or parse gives one error and is dropped, and a broken block line
    (``IF x = THEN``) still opens or closes its block so that its END IF is not an error too.
    The nesting then reports each block error once. :func:`parse` raises the first of these
    errors, and is the fast path this tries first.

    Args:
        source: the .bas text.
        name: the file name the errors carry.
        max_errors: the errors to report at most; past them, a note (an error of kind
            ``Note``) says where reporting stopped.

    Returns:
        ``(module, [])`` when the source parses, else ``(None, errors)`` in source order.
    """
    source = source.replace("\r\n", "\n")
    try:
        return parse(source, name), []
    except BasicSyntaxError as exc:
        first = exc
    errors: list[BasicSyntaxError] = []
    collecting = gc.isenabled()
    gc.disable()  # as in parse
    try:
        lines = _parse_lines(source, name, errors, max_errors, _raw_lines(source, name))
        if len(errors) <= max_errors:  # past the cap the rest of the file was not read: no EOF checks
            _Nester(A.Module(name, source, []), errors).run(lines)
    finally:
        if collecting:
            gc.enable()
    errors.sort(key=lambda e: (e.line, e.column))
    return None, _capped(errors or [first], max_errors)


def _capped(errors: list[BasicSyntaxError], max_errors: int) -> list[BasicSyntaxError]:
    """The first `max_errors` errors, and a note at the first one left out."""
    if len(errors) <= max_errors:
        return errors
    cut = errors[max_errors]
    note = BasicSyntaxError(f"more than {max_errors} errors: stopped reporting here", file=cut.file,
                            line=cut.line, column=cut.column)
    note.kind = "Note"
    return [*errors[:max_errors], note]


def _parse_lines(source: str, name: str, errors: list[BasicSyntaxError], max_errors: int,
                 raw: frozenset[int] = frozenset()) -> list[Any]:
    """Parse `source` one statement line at a time.

    Returns:
        The items of the lines that parse (statements and block marks), with a stand-in mark
        for each broken block line; an error for each other line goes to `errors`, up to one
        more than `max_errors`.
    """
    items: list[Any] = []
    depth = 0  # brackets a broken line left open: `x = CALL "f", {` goes on to its `}`
    for before, after, lexical in _statement_lines(source, name, raw):
        line = before + after
        if depth > 0 and not (line and line[0].type in _BLOCK_LINES):
            depth += _brackets(line)
            continue  # inside the broken statement, whose error is reported
        depth = 0
        result = _parse_line(before, lexical, name, source)
        if not isinstance(result, BasicSyntaxError):
            items.extend(result)
            continue
        errors.append(result)
        if len(errors) > max_errors:
            break
        stand_in = _stand_in(line)
        if stand_in is not None:
            items.append(stand_in)
        if len(line) > 1 and line[-1].type == "_NL" and line[-2].type in ("LPAR", "LSQB", "LBRACE"):
            depth = _brackets(line)
    return items


def _statement_lines(source: str, name: str, raw: frozenset[int] = frozenset()
                     ) -> Iterator[tuple[list[Token], list[Token], BasicSyntaxError | None]]:
    """The statement lines of `source`, each up to and with its ``_NL``.

    Yields:
        ``(before, after, error)``: the tokens before the line's first lexical error, the
        tokens after it, and the error (None, and no tokens after, for a line that lexes).
    """
    before: list[Token] = []
    after: list[Token] = []
    lexical: BasicSyntaxError | None = None
    for tok in tokenize_recovering(source, name, raw):
        if isinstance(tok, BasicSyntaxError):
            lexical = lexical or tok  # a line's later errors are likely the first one's doing
            continue
        (before if lexical is None else after).append(tok)
        if tok.type == "_NL":
            yield before, after, lexical
            before, after, lexical = [], [], None
    if before or after or lexical:  # the last statement runs into the end of the file (a trailing comma)
        yield before, after, lexical


# --- keyword statements whose arguments are not an argument list --------------------------------

_MAX_RAW_PASSES = 8  # a raw statement can take in lines that looked like statements: look again
_SUB_RE = re.compile(r"^[ \t]*(?:SUB|FUNCTION)[ \t]+([^\W\d]\w*)", re.IGNORECASE | re.MULTILINE)


def _raw_lines(source: str, name: str) -> frozenset[int]:
    """The lines whose keyword statement does not parse with its arguments as an argument list.

    A keyword gb does not know (or a form of one it knows, ``SAVE "t" WITH a AS 1``) has a syntax
    nobody listed: its arguments are kept as text (a ``RAW`` token), the statement parses, and it
    fails only when it runs. Each statement line is parsed on its own; a line that does not parse
    and has a keyword (``CMD``/``KW``, or ``x = GET a, b``) is lexed raw from that keyword on. The
    raw text can take in the lines after it (an open bracket, a trailing ``AND``), so the lines
    are looked at again until nothing changes. The calls of a SUB or FUNCTION of the file
    (``Greet "a" "b"``) are never raw: their errors stay errors.

    Returns:
        The lines of those keywords (empty when every line that fails is a real syntax error).
    """
    subs = {m.group(1).lower() for m in _SUB_RE.finditer(source)}
    raw: frozenset[int] = frozenset()
    for _ in range(_MAX_RAW_PASSES):
        found = set()
        for before, after, lexical in _statement_lines(source, name, raw):
            head = _raw_head(before + after, subs)
            if head is None or head in raw:
                continue
            if lexical is not None or not before or isinstance(_parse_line(before, lexical, name, source),
                                                                BasicSyntaxError):
                found.add(head)
        if not found:
            break
        raw = raw | found
    return raw


def _raw_head(line: list[Token], subs: set[str]) -> int | None:
    """The line of the keyword whose arguments could be raw in a statement's tokens, if any."""
    for i, t in enumerate(line):
        if t.type == "KW" or t.type == "CMD":
            if t.type == "CMD" and str(t).split()[0].lower() in subs:
                return None
            return t.line
        if t.type == "GET" and i > 0 and line[i - 1].type == "EQ":
            return t.line
    eq = next((i for i, e in enumerate(line) if e.type == "EQ"), None)
    if eq is not None and line[0].type in ("NAME", "DOT") and \
            any(_inner_keyword(line, i) for i in range(eq + 1, len(line))):
        return -(line[eq].line or 0)  # x = a OR GET "k", "d"; x = {"h": FIND "t" WHERE a = 1}
    return None


def _inner_keyword(line: list[Token], i: int) -> bool:
    """True for a keyword with arguments inside a value: ``GET a, b``, ``FIND "t" ...``."""
    t = line[i]
    if t.type == "GET":
        return True
    return t.type == "NAME" and _UPPER.match(str(t)) is not None and i + 1 < len(line) and \
        line[i + 1].type in ("STRING", "NAME") and line[i - 1].type not in ("DOT",)


_UPPER = re.compile(r"[A-Z][A-Z0-9_]*\Z")


def _brackets(line: list[Token]) -> int:
    """Opening brackets minus closing ones."""
    return sum(_BRACKET.get(t.type, 0) for t in line)


_BRACKET = {"LPAR": 1, "LSQB": 1, "LBRACE": 1, "RPAR": -1, "RSQB": -1, "RBRACE": -1}


def _parse_line(line: list[Token], lexical: BasicSyntaxError | None, name: str,
                source: str) -> list[Any] | BasicSyntaxError:
    """Feed one line's tokens to a fresh LALR parser: the same steps as :func:`parse` takes on
    that line, so the first error of a file is the one :func:`parse` raises.

    Args:
        line: the tokens, up to the line's ``_NL`` or its first lexical error (never empty
            without one).
        lexical: that error, if any: the line's error unless lark finds one before it.
        name: the file name.
        source: the whole source (for the messages and positions).

    Returns:
        The line's items, or its error.
    """
    parser = _LARK.parse_interactive()
    try:
        for tok in line:
            parser.feed_token(tok)
        if lexical is not None:
            return lexical
        return parser.feed_eof(line[-1])  # type: ignore[no-untyped-call,no-any-return]
    except (BasicSyntaxError, VisitError, UnexpectedInput) as exc:
        err = _as_syntax_error(exc, name, source)
        if err is None:
            raise
        return err


# The first token of a block line that does not parse -> the kind of block line it stands for.
_BLOCK_LINES = {
    "IF": "if", "ELSEIF": "elseif", "ELSE": "else", "END_IF": "end_if", "END": "end", "FOR": "for",
    "FOR_EACH": "each", "NEXT": "next", "DO": "do", "DO_WHILE": "do", "DO_UNTIL": "do", "LOOP": "loop",
    "LOOP_WHILE": "loop", "LOOP_UNTIL": "loop", "WHILE": "while", "WEND": "wend", "SELECT_CASE": "select",
    "CASE": "case", "CASE_ELSE": "case_else", "END_SELECT": "end_select", "WITH": "with",
    "END_WITH": "end_with", "FUNCTION": "function", "SUB": "sub", "END_FUNCTION": "end_function",
    "END_SUB": "end_sub", "ON_LOGIN": "login",
}


# END followed by these words closes a loop (other BASICs write END FOR; gb does not parse it).
_END_WORDS = {"FOR": "next", "DO": "loop", "LOOP": "loop"}


def _stand_in(line: list[Token]) -> Mark | None:
    """A mark for a block line that does not parse, so that its block still opens or closes.

    Args:
        line: the line's tokens, the ones after a lexical error too.

    Returns:
        The mark, or None for a line that is not a block line (or is a one-line IF).
    """
    if not line or line[0].type not in _BLOCK_LINES:
        return None
    first = line[0]
    kind = _BLOCK_LINES[first.type]
    if kind == "end" and len(line) > 1:
        kind = _END_WORDS.get(str(line[1]).upper(), kind)  # END FOR: NEXT written another way
    anything = A.Const(first.line or 0, first.column or 0, True)  # never compiled: the file has errors
    if kind == "if":
        return _if_stand_in(line, anything)
    named = line[1] if len(line) > 1 and line[1].type == "NAME" else None
    if kind in ("function", "sub"):  # without a name, one that no other function can have
        name = named or Token("NAME", f"(line {first.line})", 0, first.line, first.column)
        return Mark(kind, first, name, [])
    var = str(named).lower() if named else ""  # "": a NEXT with any name closes the loop
    args: tuple[Any, ...] = {
        "for": (var, anything, anything, None), "each": (var, anything), "elseif": (anything,),
        "next": (None,), "do": (None, False), "loop": (None, False), "while": (anything,),
        "select": (anything,), "case": ([],), "with": (anything,),
    }.get(kind, ())
    return Mark(kind, first, *args)


def _if_stand_in(line: list[Token], cond: A.Expr) -> Mark | None:
    """The mark for a broken IF line: a block IF, or None for a one-line ``IF x THEN TALK "a"``.

    An IF without THEN is taken as the bare form, which END IF and END both close.
    """
    types = [t.type for t in line if t.type != "_NL"]
    if "THEN" in types and types.index("THEN") < len(types) - 1:
        return None
    return Mark("if", line[0], cond, "THEN" not in types)


def table_specs(source: str, name: str = "<dialog>") -> tuple[TableSpec, ...]:
    """The ``TABLE name ... END TABLE`` declarations of a .bas source, in order.

    Raises:
        BasicSyntaxError: the source does not parse (a bad field line among others).
    """
    return tuple(parse(source, name).tables)


def _dialog_call(args: list[A.Expr]) -> bool:
    """Whether CALL's arguments name a dialog of the bot: a first argument ``"name.bas"``."""
    return bool(args) and isinstance(args[0], A.Const) and isinstance(args[0].value, str) and \
        args[0].value.strip().lower().endswith(".bas")


def _call_text(args: list[A.Expr]) -> str:
    """What a CALL gb does not run (``CALL "/api/x", a``) names, as its raw text."""
    first = args[0] if args else None
    return str(first.value) if isinstance(first, A.Const) else "CALL"


def _cmd_value(tok: Token, args: list[A.Expr]) -> A.CmdExpr:
    """``x = KEYWORD args``; ``x = CALL "/api/x"`` (no dialog) is a form gb does not run."""
    line, col = _pos(tok)
    name = str(tok).upper()
    if name == "CALL" and not _dialog_call(args):
        return A.CmdExpr(line, col, name, [], _call_text(args))
    return A.CmdExpr(line, col, name, args)


def _form_args(keyword: str, raw: Token) -> list[A.Expr] | None:
    """The arguments of a table keyword written with clauses (``FIND "t" WHERE a = x``), or None."""
    if not runs(keyword):
        return None
    return table_form(keyword, str(raw), raw.line or 0, raw.column or 0,
                      lambda text, line, col: parse_expression(text, line=line, col=col))


def _raw_cmd(tok: Token, raw: Token) -> A.CmdExpr:
    """``x = KEYWORD text``: the keyword's value; its arguments read from a clause form when they can be."""
    name = str(tok).upper()
    args = _form_args(name, raw)
    line, col = _pos(tok)
    if args is not None:
        return A.CmdExpr(line, col, name, args)
    return A.CmdExpr(line, col, name, [], str(raw))


def parse_expression(text: str, *, line: int = 1, col: int = 1, name: str = "<dialog>") -> A.Expr:
    """Parse one expression (interpolations, the kernel's bare expression cells)."""
    prefix = "expr__ = "
    try:
        items = _run_lark(prefix + text.strip(), name)
    except BasicSyntaxError as exc:
        exc.line, exc.column = line, col
        raise
    if len(items) != 1 or not isinstance(items[0], A.Assign):
        raise BasicSyntaxError(f"not an expression: {text.strip()!r}", file=name, line=line, column=col)
    expr: A.Expr = items[0].expr
    for node in A.walk(expr):  # the position is the string literal's
        node.line, node.col = line, col
    return expr
