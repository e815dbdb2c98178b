"""The compiler: a parsed module -> a :class:`Program` of Python functions, one per unit.

Each unit (the main body, each FUNCTION/SUB, the ON LOGIN handler) becomes one Python
function. Code between suspension points (see :mod:`gb_basic.analysis`) is plain structured
Python with BASIC variables as Python locals, so a compute loop runs at CPython speed apart
from BASIC's coercions. A construct that can suspend is *lowered*: it becomes numbered blocks
inside a ``while True`` dispatcher, and the function returns a signal tuple where the dialog
stops::

    (0, next_pc, site, kind, payload)   suspend with a request (hear, set, get, keyword)
    (1, value)                          the unit returned
    (2, next_pc, site, unit, args)      call a unit that may suspend
    (3, value)                          END (None), or RETURN value in the dialog's own code: it stops

Before it returns, a unit writes its locals back to its frame dict, so the whole dialog state
is ``{pc, frame variables}`` per frame: plain data. A unit's hash is the hash of its generated
code, which holds no line numbers (positions live in per-unit *site* tables): when a .bas
changes, a waiting dialog resumes exactly when the code of every unit on its stack is unchanged.

Sizes stay cheap to check (see :mod:`gb_basic.limits`): a chain of ``&`` (and text ``+``) is one
Python concatenation whose texts' lengths are added before it is built, going through
``M.concat`` (checked and charged) only past ``FREE_TEXT`` characters; a number in it is written
with ``str`` inline. An integer ``*`` is inline while its result fits 63 bits. Expressions and
blocks nested deeper than the compiler and CPython accept are refused first
(:func:`~gb_basic.analysis.too_deep`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import unicodedata
from collections.abc import Callable
from typing import Any, overload

from . import ast as A
from . import builtins as B
from . import ops, values
from .analysis import LOOP_FAMILY, REQUEST_FUNCTIONS, Analysis, assigned_names, read_names, too_deep
from .errors import BasicError, BasicSyntaxError
from .keywords import KEYWORDS, runs
from .limits import FREE_TEXT, SMALL_INT
from .parser import MAX_ERRORS, parse, parse_all
from .tables import TableSpec
from .validators import HEAR_TYPES

__all__ = ["Program", "Unit", "check_source", "compile_source", "compile_module", "MAIN", "ON_LOGIN"]

MAIN = "main"
_TEXT_TYPES = frozenset({"STRING", "TEXT"})  # HEAR x AS TEXT: any answer
# HEAR types of General Bots that gb parses and does not run (a warning; the HEAR fails when it runs).
_OTHER_HEAR_TYPES = frozenset({"QRCODE", "LOGIN", "CPF", "CNPJ", "VIDEO"})
ON_LOGIN = "on login"
_TICK_EVERY = 4096  # steps between budget checks in a loop
_JOIN_OVER = 8  # pieces: a longer concatenation is one ''.join (flat for CPython's compiler)

# Statement-level keywords implemented by gb and handled as requests by the runtime.
_BOOL_OPS = {"=", "<>", "<", ">", "<=", ">=", "AND", "OR"}
_CMP = {"=": "_eq", "<>": "_ne", "<": "_lt", ">": "_gt", "<=": "_le", ">=": "_ge"}
_ARITH = {"+": "_add", "-": "_sub", "*": "_mul", "/": "_div", "\\": "_idiv", "MOD": "_mod",
          "^": "_pow", "&": "_cat"}


@dataclasses.dataclass
class Unit:
    """One compiled unit: its function, the positions of its sites, the hash of its code."""

    name: str
    kind: str  # main, function, sub, login
    params: list[str]
    fn: Callable[..., Any]
    block_mode: bool
    sites: list[tuple[int, int]]
    hash: str
    code: str


@dataclasses.dataclass
class Program:
    """A compiled .bas file."""

    name: str
    source: str
    module: A.Module
    units: dict[str, Unit]
    version: str
    warnings: list[BasicError]
    py_lines: list[tuple[str, int]]  # generated line -> (unit, site)
    filename: str

    @property
    def params(self) -> list[A.Param]:
        """PARAM declarations: the file is a tool with these arguments."""
        return self.module.params

    @property
    def description(self) -> str | None:
        """The DESCRIPTION of a tool file."""
        return self.module.description

    @property
    def tables(self) -> tuple[TableSpec, ...]:
        """The ``TABLE name ... END TABLE`` declarations of the file, in order."""
        return tuple(self.module.tables)

    def position(self, unit: str, site: int) -> tuple[int, int]:
        """(line, column) of a site of a unit."""
        sites = self.units[unit].sites
        return sites[site] if 0 <= site < len(sites) else (0, 0)


def _static(e: A.Expr) -> type | None:
    """The Python type an expression always has, when the compiler can tell."""
    if isinstance(e, A.Const):
        return type(e.value)
    if isinstance(e, A.Interp):
        return str
    if isinstance(e, A.BinOp):
        if e.op == "&" or (e.op == "+" and (_static(e.left) is str or _static(e.right) is str)):
            return str
        if e.op in _BOOL_OPS:
            return bool
    if isinstance(e, (A.Not, A.IsNull)):
        return bool
    if isinstance(e, A.Call) and e.name in ("LEN", "INSTR", "UBOUND"):
        return int
    return None


def _py(name: str) -> str:
    """Python local for a BASIC variable (``$x`` hidden variables get an ``h_`` prefix)."""
    return "h_" + name[1:] if name.startswith("$") else "v_" + _ident(name)


def _fn(name: str) -> str:
    """Python name of a unit's function."""
    return "U_" + _ident(name.replace(" ", "_"))


def _ident(name: str) -> str:
    """`name` as a Python identifier: BASIC allows some letters Python does not (``¼``).

    A name that Python would change by its own NFKC folding keeps no non-ASCII letter (each is
    written ``_uXXXX_``): two BASIC variables never become one Python variable by accident (the
    lexer folds identifiers on purpose, and that is the only folding).
    """
    if ("v_" + name).isidentifier() and (name.isascii() or unicodedata.is_normalized("NFKC", name)):
        return name
    return "".join(c if c.isascii() and ("v" + c).isidentifier() else f"_u{ord(c):x}_" for c in name)


def _is_concat(e: A.Expr) -> bool:
    """``a & b``, or ``a + b`` where one side is always text."""
    return isinstance(e, A.BinOp) and (e.op == "&" or (e.op == "+" and (_static(e.left) is str or
                                                                       _static(e.right) is str)))


def _chain(e: A.Expr) -> list[A.Expr]:
    """The operands of a chain of concatenations, left to right (``a & (b & c)`` is a, b, c)."""
    out: list[A.Expr] = []
    stack = [e]
    while stack:
        n = stack.pop()
        if isinstance(n, A.BinOp) and _is_concat(n):
            stack += [n.right, n.left]
        else:
            out.append(n)
    return out


class _Loop:
    __slots__ = ("family", "native", "end")

    def __init__(self, family: str, native: bool, end: int | None) -> None:
        self.family, self.native, self.end = family, native, end


class _Gen:
    """Generates the Python function of one unit."""

    def __init__(self, comp: _Compiler, name: str, kind: str, body: list[A.Stmt],
                 params: list[str], block_mode: bool) -> None:
        self.comp, self.an = comp, comp.an
        self.name, self.kind, self.body, self.params = name, kind, body, params
        self.block_mode = block_mode
        self.out: list[str] = []
        self.line_site: list[int] = []
        self.sites: list[tuple[int, int]] = []
        self.site_now = -1
        self.indent = 1
        self.base = 3  # indent of a block's statements
        self.nblocks = 1
        self.terminated = False
        self.loops: list[_Loop] = []
        self.withs: list[A.Expr] = []
        self.ntmp = 0
        self.hidden: list[str] = []
        self.labels: dict[str, int] = {}
        self.sites_var = "S_" + _ident(name.replace(" ", "_"))
        fn_names = set(comp.module.functions)
        if kind == "main" or kind == "login":
            self.locals = (assigned_names(body) | read_names(body)) - fn_names
            self.globals: set[str] = set()
        else:
            self.locals = set(params) | assigned_names(body) | {name}
            self.globals = read_names(body) - self.locals - fn_names
        self.known = self.locals | self.globals | comp.program_names
        self.oer = any(isinstance(n, A.OnError) for s in body for n in A.walk(s))
        if self.oer:
            self.hidden.append("$oer")

    # --- emission ---------------------------------------------------------------------------
    def emit(self, code: str) -> None:
        self.out.append("    " * self.indent + code)
        self.line_site.append(self.site_now)

    def site(self, node: A.Node) -> int:
        self.sites.append((node.line, node.col))
        self.site_now = len(self.sites) - 1
        return self.site_now

    def tmp(self, prefix: str = "_t") -> str:
        self.ntmp += 1
        return f"{prefix}{self.ntmp}"

    def hidden_var(self, what: str) -> str:
        self.ntmp += 1
        name = f"${what}{self.ntmp}"
        self.hidden.append(name)
        return name

    def error(self, message: str, node: A.Node, token: str | None = None) -> BasicSyntaxError:
        return BasicSyntaxError(message, file=self.comp.module.name, line=node.line, column=node.col,
                                token=token, source=self.comp.module.source)

    # --- blocks -------------------------------------------------------------------------------
    def new_block(self) -> int:
        self.nblocks += 1
        return self.nblocks - 1

    def begin(self, k: int) -> None:
        """Start block `k`; the current block falls through into it if it did not jump."""
        self.indent = self.base
        if not self.terminated:
            self.emit(f"pc = {k}")
        self.indent = self.base - 1
        self.emit(f"if pc == {k}:")
        self.indent = self.base
        self.terminated = False

    def jump(self, k: int) -> None:
        self.emit(f"pc = {k}")
        self.emit("continue")
        if self.indent == self.base:
            self.terminated = True

    def sync(self) -> None:
        self.emit("@@SYNC@@")

    def leave(self, code: str) -> None:
        """Return a signal tuple from the unit (block mode) after writing locals back."""
        self.emit("M.steps += _n")
        self.sync()
        self.emit(f"return {code}")
        if self.indent == self.base:
            self.terminated = True

    def suspend(self, site: int, kind: str, payload: str) -> int:
        """End the current block with a request; return the block that resumes it."""
        k = self.new_block()
        self.leave(f"(0, {k}, {site}, {kind!r}, {payload})")
        self.begin(k)
        return k

    # --- expressions ----------------------------------------------------------------------------
    def var(self, name: str) -> str:
        if name in self.locals or name.startswith("$"):
            return _py(name)
        if name in self.globals:
            return "g_" + _ident(name)
        return "None"

    def ex(self, e: A.Expr) -> str:
        m = getattr(self, "ex_" + type(e).__name__)
        return m(e)  # type: ignore[no-any-return]

    def ex_Const(self, e: A.Const) -> str:
        return repr(e.value)

    def ex_Var(self, e: A.Var) -> str:
        return self.var(e.name)

    def ex_Interp(self, e: A.Interp) -> str:
        pieces: list[tuple[str | None, str]] = []
        for p in e.parts:
            if isinstance(p, str):
                pieces.append((p, repr(p)))
            elif isinstance(p, tuple):
                # {name}: the value when the variable has one, else the text as written
                _, literal, expr = p
                t = self.tmp()
                pieces.append((None, f"(_s({t}) if ({t} := {self.ex(expr)}) is not None else {literal!r})"))
            else:
                pieces.append((None, self.text(p, self.ex(p))))
        return self.concat(pieces)

    def concat(self, pieces: list[tuple[str | None, str]]) -> str:
        """Texts joined, refused over the text cap before they are joined.

        Args:
            pieces: ``(constant, code)``: a constant text and its repr, or None and code that
                gives a text.

        Returns:
            Code that adds the lengths first (constants counted here), concatenates when the
            total is within ``FREE_TEXT``, and otherwise calls ``M.concat`` (checked, charged):
            a text over the cap is never built. It costs one ``len`` per text that is not a
            constant.
        """
        known = sum(len(c) for c, _ in pieces if c is not None)
        names, lengths = [], []
        for constant, code in pieces:
            if constant is not None:
                names.append(code)
                continue
            t = self.tmp()
            names.append(t)
            lengths.append(f"len({t} := {code})")
        if not lengths:
            return "(" + " + ".join(names) + ")"
        joined = f"''.join(({', '.join(names)},))" if len(names) > _JOIN_OVER else " + ".join(names)
        total = " + ".join(lengths + ([str(known)] if known else []))
        return f"(({joined}) if {total} <= {FREE_TEXT} else M.concat(({', '.join(names)},)))"

    def ex_BinOp(self, e: A.BinOp) -> str:
        op = e.op
        if op == "AND":
            return f"({self.cond(e.left)} and {self.cond(e.right)})"
        if op == "OR":
            return f"({self.cond(e.left)} or {self.cond(e.right)})"
        if _is_concat(e):
            return self.concat([(o.value, repr(o.value)) if isinstance(o, A.Const) and type(o.value) is str
                                else (None, self.text(o, self.ex(o))) for o in _chain(e)])
        if op == "*":
            return self.fast_mul(e)
        a, b = self.ex(e.left), self.ex(e.right)
        if op in _CMP:
            return self.fast_compare(op, e, a, b)
        if op in ("+", "-"):
            return self.fast_arith(op, e, a, b)
        if op == "MOD" and isinstance(e.right, A.Const) and type(e.right.value) is int and e.right.value > 0:
            t = self.tmp()
            return f"(({t} % {b}) if type({t} := {a}) is int and {t} >= 0 else _mod({t}, {b}))"
        return f"{_ARITH[op]}({a}, {b})"

    def text(self, e: A.Expr, code: str) -> str:
        """`code` (the value of `e`) as text, without a call when it is text already or a 63-bit
        integer (``str`` gives what values.to_str gives for those)."""
        if _static(e) is str:
            return code
        t, k = self.tmp(), self.tmp("_k")
        return f"({t} if ({k} := type({t} := {code})) is str else str({t}) if {k} is int and _NBIG < {t} < _BIG " \
               f"else _s({t}))"

    def fast_arith(self, op: str, e: A.BinOp, a: str, b: str) -> str:
        """``+ - *`` inline for two ints; every other case goes through values.add/sub/mul."""
        return self.when_ints(e, a, b, lambda x, y: (f"({x} {op} {y})", ""), _ARITH[op])

    def fast_mul(self, e: A.BinOp) -> str:
        """``*`` inline for two ints while the product fits 63 bits; a larger product (or any other
        operand) goes through values.mul, which checks the digit cap."""
        a, b = self.ex(e.left), self.ex(e.right)
        r = self.tmp("_r")
        return self.when_ints(e, a, b, lambda x, y: (r, f" and _NBIG < ({r} := {x} * {y}) < _BIG"), "_mul")

    def when_ints(self, e: A.BinOp, a: str, b: str, fast: Callable[[str, str], tuple[str, str]], slow: str) -> str:
        """``(value if <both are ints><cond> else slow(x, y))``, where ``fast(x, y)`` gives value and
        cond for the operands' names; an int constant operand is not tested (nor named)."""
        if isinstance(e.right, A.Const) and type(e.right.value) is int:
            t = self.tmp()
            x, y, ints = t, b, f"type({t} := {a}) is int"
        elif isinstance(e.left, A.Const) and type(e.left.value) is int:
            t = self.tmp()
            x, y, ints = a, t, f"type({t} := {b}) is int"
        else:
            t1, t2 = self.tmp(), self.tmp()
            x, y, ints = t1, t2, f"type({t1} := {a}) is type({t2} := {b}) is int"
        value, cond = fast(x, y)
        return f"({value} if {ints}{cond} else {slow}({x}, {y}))"

    def fast_compare(self, op: str, e: A.BinOp, a: str, b: str) -> str:
        """Comparisons inline when both sides are ints (or text against a text constant)."""
        fn = _CMP[op]
        pyop = {"=": "==", "<>": "!="}.get(op, op)
        if isinstance(e.right, A.Const) and type(e.right.value) in (int, str):
            t = self.tmp()
            kind = type(e.right.value).__name__
            return f"(({t} {pyop} {b}) if type({t} := {a}) is {kind} else {fn}({t}, {b}))"
        t1, t2 = self.tmp(), self.tmp()
        return f"(({t1} {pyop} {t2}) if type({t1} := {a}) is type({t2} := {b}) is int else {fn}({t1}, {t2}))"

    def ex_Not(self, e: A.Not) -> str:
        return f"(not {self.cond(e.expr)})"

    def ex_Neg(self, e: A.Neg) -> str:
        return f"_neg({self.ex(e.expr)})"

    def ex_IsNull(self, e: A.IsNull) -> str:
        if isinstance(e.expr, (A.Const, A.ListLit, A.ObjLit, A.Interp)):
            return repr((isinstance(e.expr, A.Const) and e.expr.value is None) != e.negate)
        return f"({self.ex(e.expr)} is {'not ' if e.negate else ''}None)"

    def ex_ListLit(self, e: A.ListLit) -> str:
        return "[" + ", ".join(self.ex(i) for i in e.items) + "]"

    def ex_ObjLit(self, e: A.ObjLit) -> str:
        return "{" + ", ".join(f"{k!r}: {self.ex(v)}" for k, v in e.pairs) + "}"

    def ex_Index(self, e: A.Index) -> str:
        return f"_index({self.ex(e.obj)}, {self.ex(e.key)})"

    def ex_Attr(self, e: A.Attr) -> str:
        return f"_attr({self.ex(e.obj)}, {e.name!r})"

    def ex_WithField(self, e: A.WithField) -> str:
        if not self.withs:
            raise self.error(f".{e.name} outside a WITH block", e, "." + e.name)
        return f"_attr({self.ex(self.withs[-1])}, {e.name!r})"

    def ex_Call(self, e: A.Call) -> str:
        args = [self.ex(a) for a in e.args]
        low = e.name.lower()
        if low in self.comp.module.functions:
            return self.user_call(low, args, e, e.spelling or e.name)
        if e.name == "LEN" and len(args) == 1:
            t = self.tmp()
            return f"(len({t}) if type({t} := {args[0]}) is str else B_LEN({t}))"
        if e.name in B.BUILTINS:
            if e.name in B.NEEDS_ENV:
                args.insert(0, "M")
            return f"B_{e.name}({', '.join(args)})"
        self.comp.warn(f"function {e.name} is not supported", e, e.name)
        return f"_unsupported({e.name!r}, 'function')"

    def user_call(self, name: str, args: list[str], node: A.Node, spelling: str) -> str:
        f = self.comp.module.functions[name]
        if name in self.an.block_mode:
            raise self.error(f"{spelling} waits for the user or the runtime (HEAR, GET, a keyword...): call it "
                             f"as a statement or as `x = {spelling}(...)`", node, spelling)
        if len(args) != len(f.params):
            raise self.error(f"{spelling} takes {len(f.params)} argument(s), got {len(args)}", node, spelling)
        g = "G" if self.kind not in ("main", "login") else "F"
        return f"{_fn(name)}(M, {g}{''.join(', ' + a for a in args)})"

    def ex_GetExpr(self, e: A.GetExpr) -> str:  # hoisted before it gets here
        raise self.error("GET cannot be used here", e, "GET")

    def ex_HearExpr(self, e: A.HearExpr) -> str:
        raise self.error("HEAR can only be used as `x = HEAR`", e, "HEAR")

    def ex_CmdExpr(self, e: A.CmdExpr) -> str:
        if e.raw is None and e.keyword in B.BUILTINS and e.keyword not in KEYWORDS:
            return self.ex(A.Call(e.line, e.col, e.keyword, e.args, e.keyword))  # x = DATEDIFF a, b, "day"
        return self.unsupported(e.keyword, e.raw is not None, e)

    def ex_MethodCall(self, e: A.MethodCall) -> str:
        name = f".{e.name}()"
        self.comp.warn(f"method {name} is not supported", e, e.name)
        return f"_unsupported({name!r}, 'method')"

    def unsupported(self, keyword: str, raw: bool, node: A.Node) -> str:
        """The code of a keyword gb does not run (or a form of one it runs), and its warning."""
        what = "this form of keyword" if raw and runs(keyword) else "keyword"
        self.comp.warn(f"{what} {keyword} is not supported", node, keyword)
        return f"_unsupported({keyword!r}, {what!r})"

    def cond(self, e: A.Expr) -> str:
        """An expression used as a condition: a Python bool."""
        if (isinstance(e, A.BinOp) and e.op in _BOOL_OPS) or isinstance(e, (A.Not, A.IsNull)):
            return self.ex(e)
        if isinstance(e, A.Const) and isinstance(e.value, bool):
            return repr(e.value)
        return f"_truthy({self.ex(e)})"

    # --- assignment targets -----------------------------------------------------------------------
    def assign(self, target: A.Expr, value: str) -> None:
        if isinstance(target, A.Var):
            if target.name not in self.locals:  # a function assigning a global: local copy
                self.locals.add(target.name)
            self.emit(f"{_py(target.name)} = {value}")
        elif isinstance(target, A.Attr):
            self.assign(target.obj, f"_set_attr({self.ex(target.obj)}, {target.name!r}, {value})")
        elif isinstance(target, A.Index):
            self.assign(target.obj, f"_set_item({self.ex(target.obj)}, {self.ex(target.key)}, {value})")
        elif isinstance(target, A.WithField):
            if not self.withs:
                raise self.error(f".{target.name} outside a WITH block", target, "." + target.name)
            w = self.withs[-1]
            self.assign(w, f"_set_attr({self.ex(w)}, {target.name!r}, {value})")
        else:
            raise self.error("cannot assign to this expression", target)

    # --- hoisting requests out of expressions (block mode) ----------------------------------------
    @overload
    def hoist(self, e: A.Expr) -> A.Expr: ...

    @overload
    def hoist(self, e: A.Expr | None) -> A.Expr | None: ...

    def hoist(self, e: A.Expr | None) -> A.Expr | None:
        """Emit the requests inside `e` (each its own suspension) and return `e` using their answers."""
        if e is None or not self.an.suspends(e):
            return e
        if isinstance(e, A.GetExpr):
            key = e.key
            if isinstance(key, A.Var) and self.var(key.name) != "None":
                # x = GET url: a variable of the dialog holding an http(s) URL is a web request;
                # any other value leaves GET name what it always was, the session variable `name`
                key_code = f"_get_key({self.var(key.name)}, {key.name!r})"
            else:
                key_code = repr(key.name) if isinstance(key, A.Var) else self.ex(self.hoist(key))
            return self.answer(e, "get", f"{{'key': {key_code}}}")
        if (isinstance(e, A.Call) and e.name in REQUEST_FUNCTIONS) or \
                (isinstance(e, A.CmdExpr) and e.raw is None and runs(e.keyword)):
            keyword = REQUEST_FUNCTIONS[e.name] if isinstance(e, A.Call) else e.keyword
            args = [self.hoist(a) for a in e.args]
            payload = f"{{'keyword': {keyword!r}, 'args': [{', '.join(self.ex(a) for a in args)}]}}"
            return self.answer(e, "keyword", payload)
        if isinstance(e, A.Call) and e.name.lower() in self.an.block_mode:
            args = [self.hoist(a) for a in e.args]
            return self.call_unit(e.name.lower(), args, e)
        if isinstance(e, A.HearExpr):
            raise self.error("HEAR can only be used as `x = HEAR`", e, "HEAR")
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(e):
            v = getattr(e, f.name)
            if isinstance(v, A.Expr):
                changes[f.name] = self.hoist(v)
            elif isinstance(v, list):
                changes[f.name] = [self.hoist(x) if isinstance(x, A.Expr) else
                                   (x[0], self.hoist(x[1])) if isinstance(x, tuple) and len(x) == 2 else x
                                   for x in v]
        return dataclasses.replace(e, **changes)

    def answer(self, node: A.Node, kind: str, payload: str) -> A.Var:
        """Suspend with a request and keep its answer in a hidden variable."""
        h = self.hidden_var("h")
        self.suspend(self.site(node), kind, payload)
        self.emit(f"{_py(h)} = inp")
        return A.Var(node.line, node.col, h)

    def call_unit(self, name: str, args: list[A.Expr], node: A.Node) -> A.Var:
        f = self.comp.module.functions[name]
        if len(args) != len(f.params):
            raise self.error(f"{name} takes {len(f.params)} argument(s), got {len(args)}", node, name)
        site = self.site(node)
        self.flush_for([name])
        k = self.new_block()
        h = self.hidden_var("h")
        self.leave(f"(2, {k}, {site}, {name!r}, [{', '.join(self.ex(a) for a in args)}])")
        self.begin(k)
        self.emit(f"{_py(h)} = inp")
        return A.Var(node.line, node.col, h)

    def flush_for(self, callees: list[str]) -> None:
        """Before main calls functions, write back the globals they read."""
        if self.kind not in ("main", "login"):
            return
        names = sorted(set().union(*(self.an.globals_read.get(c, set()) for c in callees)) & self.locals)
        if names:
            self.emit(f"_sync(F, {tuple(names)!r}, ({''.join(_py(n) + ', ' for n in names)}))")

    def flush_calls(self, node: Any) -> None:
        if self.kind not in ("main", "login"):
            return
        names = self.comp.module.functions
        callees = [n.name.lower() for n in A.walk(node) if isinstance(n, A.Call) and n.name.lower() in names]
        if callees:
            self.flush_for(callees)

    def clear_hidden(self, before: int) -> None:
        """Drop the answers hoisted for one statement once it ran."""
        for h in self.hidden[before:]:
            if h.startswith("$h"):
                self.emit(f"{_py(h)} = None")

    # --- statements ---------------------------------------------------------------------------------
    def block_stmts(self, body: list[A.Stmt]) -> None:
        for s in body:
            self.block_stmt(s)

    def block_stmt(self, s: A.Stmt) -> None:
        """A statement where the unit may suspend (block level)."""
        if isinstance(s, A.OnLogin):
            return
        if isinstance(s, A.Label):
            self.site(s)
            self.begin(self.labels[s.name])
            return
        if isinstance(s, (A.If, A.For, A.ForEach, A.Loop, A.Select, A.With)):
            if self.an.needs_lowering(s):
                getattr(self, "lower_" + type(s).__name__)(s)
            else:
                self.native(s)
            return
        if not self.an.suspends(s):
            self.native(s)
            return
        self.site(s)
        mark = len(self.hidden)
        getattr(self, "request_" + type(s).__name__, self.request_generic)(s)
        self.clear_hidden(mark)

    def request_generic(self, s: A.Stmt) -> None:
        """A simple statement with requests inside its expressions: hoist, then run it."""
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(s):
            v = getattr(s, f.name)
            if isinstance(v, A.Expr):
                changes[f.name] = self.hoist(v) if f.name != "target" else self.hoist_target(v)
            elif isinstance(v, list) and v and isinstance(v[0], A.Expr):
                changes[f.name] = [self.hoist(x) for x in v]
        self.native(dataclasses.replace(s, **changes))

    def hoist_target(self, t: A.Expr) -> A.Expr:
        if isinstance(t, A.Index):
            return dataclasses.replace(t, obj=self.hoist_target(t.obj), key=self.hoist(t.key))
        if isinstance(t, A.Attr):
            return dataclasses.replace(t, obj=self.hoist_target(t.obj))
        return t

    def request_Hear(self, s: A.Hear) -> None:
        if s.default is not None:
            self.comp.warn("HEAR ... DEFAULT is not supported: the default is ignored", s.default, "DEFAULT")
        prompt = self.hoist(s.prompt)
        typ, choices = s.type, s.choices
        choices_code = "None"
        if typ in _TEXT_TYPES:  # HEAR x AS STRING: any text, as an untyped HEAR
            typ = None
        elif typ in _OTHER_HEAR_TYPES:  # General Bots' HEAR types gb does not validate: fails here
            self.emit(self.unsupported(f"HEAR AS {typ}", False, s))
            typ = None
        if typ is not None and typ not in HEAR_TYPES:
            if typ.lower() in self.known:  # HEAR x AS list_variable: a menu from a list
                choices_code = f"_choices({self.var(typ.lower())})"
                typ = None
            else:
                line, col = s.type_at or (s.line, s.col)
                raise BasicSyntaxError(f"unknown HEAR type {typ} (expected one of {', '.join(sorted(HEAR_TYPES))}, "
                                       "a list of choices or a list variable)", file=self.comp.module.name,
                                       line=line, column=col, token=typ, source=self.comp.module.source)
        if choices:
            hoisted = [self.hoist(c) for c in choices]
            choices_code = "_choices([" + ", ".join(self.ex(c) for c in hoisted) + "])"
        target = self.hoist_target(s.target)
        name = self.target_name(target)
        site = self.site(s)
        if prompt is not None:
            ch = self.tmp("_c")
            self.emit(f"{ch} = {choices_code}")
            choices_code = ch
            self.emit(f"M.talk(_s({self.ex(prompt)}), {self.sites_var}[{site}], {ch})")
        self.suspend(site, "hear", f"{{'var': {name!r}, 'type': {typ!r}, 'choices': {choices_code}}}")
        self.assign(target, "inp")

    def target_name(self, t: A.Expr) -> str:
        while isinstance(t, (A.Attr, A.Index)):
            t = t.obj
        if isinstance(t, A.Var):
            return t.name
        if isinstance(t, A.WithField):
            return t.name
        return "?"

    def request_SetVar(self, s: A.SetVar) -> None:
        expr = self.hoist(s.expr)
        target = self.hoist_target(s.target)
        self.flush_calls(expr)
        self.assign(target, self.ex(expr))
        name = self.target_name(target)
        self.suspend(self.site(s), "set", f"{{'name': {name!r}, 'value': {self.var(name)}}}")

    def request_GetVar(self, s: A.GetVar) -> None:
        self.suspend(self.site(s), "get", f"{{'key': {s.name!r}}}")
        self.assign(A.Var(s.line, s.col, s.name), "inp")

    def request_SystemPrompt(self, s: A.SystemPrompt) -> None:
        text = self.hoist(s.text)
        self.suspend(self.site(s), "keyword",
                     f"{{'keyword': 'SYSTEM PROMPT', 'args': [_s({self.ex(text)})]}}")

    def request_Keyword(self, s: A.Keyword) -> None:
        callee = self.an.keyword_call(s) if not s.supported else None
        if callee is not None:
            self.request_CallStmt(self.keyword_as_call(s, callee))
            return
        args = [self.hoist(a) for a in s.args]
        self.flush_calls(args)
        payload = f"{{'keyword': {s.keyword!r}, 'args': [{', '.join(self.ex(a) for a in args)}]}}"
        self.suspend(self.site(s), "keyword", payload)

    def keyword_as_call(self, s: A.Keyword, name: str) -> A.CallStmt:
        words = s.keyword.split()[1:]
        extra: list[A.Expr] = [A.Var(s.line, s.col, w.lower()) for w in words]
        return A.CallStmt(s.line, s.col, name, extra + s.args)

    def request_CallStmt(self, s: A.CallStmt) -> None:
        args = [self.hoist(a) for a in s.args]
        self.flush_calls(args)
        if self.an.dialog_call(s):  # CALL other: a dialog of the bot, which the runtime runs
            codes = [repr(s.name)] + [self.ex(a) for a in args]
            self.suspend(self.site(s), "keyword", f"{{'keyword': 'CALL', 'args': [{', '.join(codes)}]}}")
            return
        self.call_unit(s.name, args, s)

    def request_Assign(self, s: A.Assign) -> None:
        target = self.hoist_target(s.target)
        expr = self.hoist(s.expr)
        self.flush_calls(expr)
        self.assign(target, self.ex(expr))

    # --- native (structured) statements --------------------------------------------------------------
    def natives(self, body: list[A.Stmt]) -> None:
        if not body:
            self.emit("pass")
            return
        for s in body:
            self.native(s)

    def native(self, s: A.Stmt) -> None:
        if isinstance(s, A.OnLogin):
            return
        self.site(s)
        m = getattr(self, "st_" + type(s).__name__)
        if self.oer and not isinstance(s, (A.If, A.For, A.ForEach, A.Loop, A.Select, A.With, A.OnError,
                                          A.Exit, A.Return, A.End, A.Goto)):
            self.emit("try:")
            self.indent += 1
            m(s)
            self.indent -= 1
            self.emit("except _RESUMABLE as _err:")
            self.indent += 1
            self.emit(f"if not {_py('$oer')} or isinstance(_err, _FATAL): raise")
            self.indent -= 1
        else:
            m(s)

    def st_Assign(self, s: A.Assign) -> None:
        self.flush_calls(s)
        self.assign(s.target, self.ex(s.expr))

    def st_Dim(self, s: A.Dim) -> None:
        if s.expr is not None:
            self.assign(A.Var(s.line, s.col, s.name), self.ex(s.expr))

    def st_Talk(self, s: A.Talk) -> None:
        self.flush_calls(s)
        if len(s.args) == 1:
            text = f"_s({self.ex(s.args[0])})"
        else:
            text = "M.joined(' ', (" + "".join(f"_s({self.ex(a)}), " for a in s.args) + "))"
        to = f", to=_s({self.ex(s.to)})" if s.to is not None else ""
        self.emit(f"M.talk({text}, {self.sites_var}[{self.site_now}]{to})")

    def st_If(self, s: A.If) -> None:
        self.flush_calls([c for c, _ in s.branches])
        for i, (c, body) in enumerate(s.branches):
            self.emit(f"{'if' if i == 0 else 'elif'} {self.cond(c)}:")
            self.indent += 1
            self.natives(body)
            self.indent -= 1
        if s.orelse:
            self.emit("else:")
            self.indent += 1
            self.natives(s.orelse)
            self.indent -= 1

    def tick(self, n: int) -> None:
        self.emit(f"_n += {max(n, 1)}")
        self.emit(f"if _n > {_TICK_EVERY}: _n = M.tick(_n)")

    def st_For(self, s: A.For) -> None:
        self.flush_calls(s.start)
        start, stop, step = self.for_bounds(s)
        i = _py(s.var)
        self.locals.add(s.var)
        self.emit(f"{i} = {start}")
        self.emit(f"while {self.for_test(i, stop, step, s)}:")
        self.indent += 1
        self.loop_body("for", s.body, native=True)
        self.emit(f"{i} = ({i} + {step}) if type({i}) is int else _add({i}, {step})")
        self.indent -= 1

    def for_bounds(self, s: A.For) -> tuple[str, str, str]:
        start = f"_num({self.ex(s.start)}, 'FOR start')"
        stop = self.tmp("_e")
        self.emit(f"{stop} = _num({self.ex(s.stop)}, 'FOR end')")
        if s.step is None:
            return start, stop, "1"
        if isinstance(s.step, A.Const) and type(s.step.value) in (int, float):
            return start, stop, repr(s.step.value)
        step = self.tmp("_st")
        self.emit(f"{step} = _num({self.ex(s.step)}, 'STEP')")
        return start, stop, step

    def for_test(self, i: str, stop: str, step: str, s: A.For) -> str:
        if s.step is None or (isinstance(s.step, A.Const) and type(s.step.value) in (int, float)):
            up = s.step is None or (isinstance(s.step, A.Const) and s.step.value >= 0)
            return f"{i} <= {stop}" if up else f"{i} >= {stop}"
        return f"(({i} <= {stop}) if {step} >= 0 else ({i} >= {stop}))"

    def loop_body(self, family: str, body: list[A.Stmt], native: bool, end: int | None = None) -> None:
        self.tick(len(body))
        self.loops.append(_Loop(family, native, end))
        if native:
            self.natives(body)
        else:
            self.block_stmts(body)
        self.loops.pop()

    def st_ForEach(self, s: A.ForEach) -> None:
        self.flush_calls(s.iterable)
        self.locals.add(s.var)
        self.emit(f"for {_py(s.var)} in _iterate({self.ex(s.iterable)}):")
        self.indent += 1
        self.loop_body("for", s.body, native=True)
        self.indent -= 1

    def st_Loop(self, s: A.Loop) -> None:
        if s.pre is not None and s.post is None and not self.needs_flush(s):
            test = self.cond(s.pre)
            self.emit(f"while {'not ' if s.until else ''}{test}:")
            self.indent += 1
            self.loop_body(s.kind, s.body, native=True)
            self.indent -= 1
            return
        self.emit("while True:")
        self.indent += 1
        if s.pre is not None:
            self.flush_calls(s.pre)
            self.emit(f"if {'' if s.until else 'not '}{self.cond(s.pre)}: break")
        self.loop_body(s.kind, s.body, native=True)
        if s.post is not None:
            self.flush_calls(s.post)
            self.emit(f"if {'' if s.until else 'not '}{self.cond(s.post)}: break")
        self.indent -= 1

    def needs_flush(self, s: A.Loop) -> bool:
        fns = self.comp.module.functions
        return self.kind in ("main", "login") and any(
            isinstance(n, A.Call) and n.name.lower() in fns for n in A.walk(s.pre))

    def st_Select(self, s: A.Select) -> None:
        self.flush_calls(s)
        sel = self.tmp("_sel")
        self.emit(f"{sel} = {self.ex(s.subject)}")
        for i, (items, body) in enumerate(s.cases):
            self.emit(f"{'if' if i == 0 else 'elif'} {self.case_test(sel, items)}:")
            self.indent += 1
            self.natives(body)
            self.indent -= 1
        if s.orelse:
            self.emit("else:" if s.cases else "if True:")
            self.indent += 1
            self.natives(s.orelse)
            self.indent -= 1

    def case_test(self, sel: str, items: list[A.CaseItem]) -> str:
        tests = []
        for it in items:
            b = self.ex(it.b) if it.b is not None else "None"
            tests.append(f"_case({sel}, {it.kind!r}, {self.ex(it.a)}, {b}, {it.op!r})")
        return " or ".join(tests)

    def st_With(self, s: A.With) -> None:
        self.with_head(s)
        self.natives(s.body)
        self.withs.pop()

    def with_head(self, s: A.With) -> None:
        self.assign(s.target, f"_with_obj({self.ex(s.target)})")
        self.withs.append(s.target)

    def st_Exit(self, s: A.Exit) -> None:
        if s.kind in LOOP_FAMILY:
            for loop in reversed(self.loops):
                if loop.family in LOOP_FAMILY[s.kind]:
                    if loop.native:
                        self.emit("break")
                    else:
                        assert loop.end is not None  # a lowered loop always has an end block
                        self.jump(loop.end)
                    return
            raise self.error(f"EXIT {s.kind.upper()} outside a {s.kind.upper()} loop", s, "EXIT")
        if s.kind in ("function", "sub") and self.kind not in ("function", "sub"):
            raise self.error(f"EXIT {s.kind.upper()} outside a {s.kind.upper()}", s, "EXIT")
        self.st_Return(A.Return(s.line, s.col, None))

    def st_Return(self, s: A.Return) -> None:
        if self.kind in ("main", "login"):  # the dialog ends; its value is what a CALL of it gives
            value = self.ex(s.expr) if s.expr is not None else "None"
            if self.block_mode:
                self.leave(f"(3, {value})")
            else:
                self.emit(f"raise _Stop({value})")
            return
        value = self.ex(s.expr) if s.expr is not None else (_py(self.name) if self.kind == "function" else "None")
        if self.block_mode:
            self.leave(f"(1, {value})")
        else:
            self.emit(f"return {value}")

    def st_End(self, s: A.End) -> None:
        if self.block_mode:
            self.leave("(3, None)")
        else:
            self.emit("raise _Stop()")

    def st_Goto(self, s: A.Goto) -> None:
        if s.name not in self.labels:
            where = "dialog" if self.kind == "main" else self.kind
            line, col = s.name_at
            raise BasicSyntaxError(f"GOTO {s.name}: no label {s.name}: in this {where}", file=self.comp.module.name,
                                   line=line, column=col, token=s.name, source=self.comp.module.source)
        self.emit("_n += 1")
        self.emit(f"if _n > {_TICK_EVERY}: _n = M.tick(_n)")
        self.jump(self.labels[s.name])

    def st_Label(self, s: A.Label) -> None:  # only reached in lowered code via block_stmt
        raise self.error("a label cannot be here", s, s.name)

    def st_OnError(self, s: A.OnError) -> None:
        self.emit(f"{_py('$oer')} = {s.resume_next}")

    def st_Keyword(self, s: A.Keyword) -> None:
        if s.raw is None:
            callee = self.an.keyword_call(s)
            if callee is not None:
                self.st_CallStmt(self.keyword_as_call(s, callee))
                return
            first = s.keyword.split()[0]
            if first in B.BUILTINS and len(s.keyword.split()) == 1 and first not in KEYWORDS:
                self.st_CallStmt(A.CallStmt(s.line, s.col, first.lower(), s.args))
                return
        self.emit(self.unsupported(s.keyword, s.raw is not None, s))

    def st_Table(self, s: A.Table) -> None:  # a declaration: the runtime reads Program.tables
        self.emit("pass")

    def st_CallStmt(self, s: A.CallStmt) -> None:
        self.flush_calls(s)
        self.emit(self.ex(A.Call(s.line, s.col, s.name.upper(), s.args)))

    def st_Param(self, s: A.Param) -> None:
        self.emit("pass")

    st_Description = st_Param

    # lowered forms of the request statements never reach native code
    def st_Hear(self, s: A.Stmt) -> None:
        raise AssertionError("request statement compiled natively")

    st_SetVar = st_GetVar = st_SystemPrompt = st_Hear

    # --- lowered compound statements (block mode) -----------------------------------------------------
    def test_or_jump(self, cond: A.Expr, target: int, *, jump_if: bool) -> None:
        c = self.hoist(cond)
        self.flush_calls(c)
        self.emit(f"if {'' if jump_if else 'not '}{self.cond(c)}:")
        self.indent += 1
        self.jump(target)
        self.indent -= 1

    def lower_If(self, s: A.If) -> None:
        end = self.new_block()
        for c, body in s.branches:
            nxt = self.new_block()
            self.site(c)
            mark = len(self.hidden)
            self.test_or_jump(c, nxt, jump_if=False)
            self.clear_hidden(mark)
            self.branch(body, end, nxt)
        self.last_branch(s.orelse, end)

    def branch(self, body: list[A.Stmt], end: int, nxt: int) -> None:
        """A taken branch of a lowered IF/SELECT: its body, then past the others."""
        self.block_stmts(body)
        if not self.terminated:
            self.jump(end)
        self.begin(nxt)

    def last_branch(self, orelse: list[A.Stmt] | None, end: int) -> None:
        if orelse:
            self.block_stmts(orelse)
        self.begin(end)

    def lower_For(self, s: A.For) -> None:
        self.site(s)
        s = dataclasses.replace(s, start=self.hoist(s.start), stop=self.hoist(s.stop), step=self.hoist(s.step))
        self.flush_calls([s.start, s.stop, s.step])
        end_v, step_v = self.hidden_var("end"), self.hidden_var("step")
        self.locals.add(s.var)
        i = _py(s.var)
        self.emit(f"{i} = _num({self.ex(s.start)}, 'FOR start')")
        self.emit(f"{_py(end_v)} = _num({self.ex(s.stop)}, 'FOR end')")
        step = "1" if s.step is None else f"_num({self.ex(s.step)}, 'STEP')"
        self.emit(f"{_py(step_v)} = {step}")
        head, inc, end = self.new_block(), self.new_block(), self.new_block()
        self.begin(head)
        e, st = _py(end_v), _py(step_v)
        self.emit(f"if ({i} > {e}) if {st} >= 0 else ({i} < {e}):")
        self.indent += 1
        self.jump(end)
        self.indent -= 1
        self.loop_body("for", s.body, native=False, end=end)
        self.begin(inc)
        self.emit(f"{i} = _add({i}, {st})")
        self.jump(head)
        self.begin(end)
        self.emit(f"{e} = {st} = None")

    def lower_ForEach(self, s: A.ForEach) -> None:
        self.site(s)
        it = self.hoist(s.iterable)
        self.flush_calls(it)
        lst, idx = self.hidden_var("list"), self.hidden_var("i")
        self.locals.add(s.var)
        self.emit(f"{_py(lst)} = list(_iterate({self.ex(it)}))")
        self.emit(f"{_py(idx)} = 0")
        head, end = self.new_block(), self.new_block()
        self.begin(head)
        self.emit(f"if {_py(idx)} >= len({_py(lst)}):")
        self.indent += 1
        self.jump(end)
        self.indent -= 1
        self.emit(f"{_py(s.var)} = {_py(lst)}[{_py(idx)}]")
        self.emit(f"{_py(idx)} += 1")
        self.loop_body("for", s.body, native=False, end=end)
        self.jump(head)
        self.begin(end)
        self.emit(f"{_py(lst)} = {_py(idx)} = None")

    def lower_Loop(self, s: A.Loop) -> None:
        head, tail, end = self.new_block(), self.new_block(), self.new_block()
        self.begin(head)
        if s.pre is not None:
            self.site(s)
            mark = len(self.hidden)
            self.test_or_jump(s.pre, end, jump_if=s.until)
            self.clear_hidden(mark)
        self.loop_body(s.kind, s.body, native=False, end=end)
        self.begin(tail)
        if s.post is not None:
            self.site(s.post)
            mark = len(self.hidden)
            self.test_or_jump(s.post, end, jump_if=s.until)
            self.clear_hidden(mark)
        self.jump(head)
        self.begin(end)

    def lower_Select(self, s: A.Select) -> None:
        self.site(s)
        subject = self.hoist(s.subject)
        self.flush_calls(subject)
        sel = self.hidden_var("sel")
        self.emit(f"{_py(sel)} = {self.ex(subject)}")
        end = self.new_block()
        for items, body in s.cases:
            nxt = self.new_block()
            hoisted = [dataclasses.replace(it, a=self.hoist(it.a), b=self.hoist(it.b)) for it in items]
            self.emit(f"if not ({self.case_test(_py(sel), hoisted)}):")
            self.indent += 1
            self.jump(nxt)
            self.indent -= 1
            self.branch(body, end, nxt)
        self.last_branch(s.orelse, end)
        self.emit(f"{_py(sel)} = None")

    def lower_With(self, s: A.With) -> None:
        self.site(s)
        self.with_head(s)
        self.block_stmts(s.body)
        self.withs.pop()

    # --- the function ----------------------------------------------------------------------------------
    def collect_labels(self) -> None:
        for st in self.body:
            for n in A.walk(st):
                if isinstance(n, A.Label):
                    if n.name in self.labels:
                        raise self.error(f"label {n.name} is defined twice", n, n.name)
                    self.labels[n.name] = self.new_block()

    def generate(self) -> tuple[str, list[int]]:
        """Return the function's source and, per line, its site index."""
        if self.block_mode:
            self.collect_labels()
            self.indent = 1
            self.emit("while True:")
            self.indent = 2
            self.emit("if pc == 0:")
            self.indent = 3
            self.block_stmts(self.body)
            self.indent = self.base
            if not self.terminated:
                self.emit("pc = -1")
            self.indent = 2
            result = _py(self.name) if self.kind == "function" else "None"
            self.site_now = -1
            self.sync()
            self.emit(f"return (1, {result})")
        else:
            self.indent = 1
            self.natives(self.body)
            self.emit(f"return {_py(self.name) if self.kind == 'function' else 'None'}")
        return self.finish()

    def finish(self) -> tuple[str, list[int]]:
        names = sorted(self.locals | set(self.hidden))
        params = ", ".join(_py(p) for p in self.params)
        fname = _fn(self.name)
        if self.block_mode:
            head = [f"def {fname}(M, F, G, pc, inp):"]
            load = "; ".join(f"{_py(n)} = F.get({n!r})" for n in names) or "pass"
        else:
            head = [f"def {fname}(M, G{', ' if params else ''}{params}):"]
            load = "; ".join(f"{_py(n)} = None" for n in names if n not in self.params) or "pass"
            head.append(f"    M.tick({max(len(self.body), 1)})")
        gl = "; ".join(f"g_{_ident(n)} = G.get({n!r})" for n in sorted(self.globals)) or "pass"
        head += ["    " + load, "    " + gl, "    _n = 0"]
        sync = f"_sync(F, {tuple(names)!r}, ({''.join(_py(n) + ', ' for n in names)}))"
        body = [line.replace("@@SYNC@@", sync) for line in self.out]
        return "\n".join(head + body), [-1] * len(head) + self.line_site


class _Compiler:
    """Compiles a module's units and gathers warnings."""

    def __init__(self, module: A.Module) -> None:
        self.module = module
        deep = too_deep(module)
        if deep is not None:
            message, node = deep
            raise BasicSyntaxError(message, file=module.name, line=node.line, column=node.col, source=module.source)
        self.an = Analysis(module)
        self.warnings: list[BasicError] = []
        self._warned: set[tuple[str, int]] = set()
        for message, line, col, token in module.notes:
            self.warn(message, A.Node(line, col), token)
        self.program_names = assigned_names(module.body)
        for f in module.functions.values():
            self.program_names |= set(f.params) | assigned_names(f.body)

    def warn(self, message: str, node: A.Node, token: str | None = None) -> None:
        key = (message, node.line)
        if key in self._warned:
            return
        self._warned.add(key)
        w = BasicError(message + f" (line {node.line})", file=self.module.name, line=node.line,
                       column=node.col, token=token, source=self.module.source)
        w.kind = "Warning"
        self.warnings.append(w)

    def units(self) -> list[tuple[str, str, list[A.Stmt], list[str], bool]]:
        out: list[tuple[str, str, list[A.Stmt], list[str], bool]] = [(MAIN, "main", self.module.body, [], True)]
        logins = [s for st in self.module.body for s in A.walk(st) if isinstance(s, A.OnLogin)]
        if len(logins) > 1:
            raise BasicSyntaxError(f"a second ON LOGIN (the first is at line {logins[0].line})",
                                   file=self.module.name, line=logins[1].line, column=logins[1].col,
                                   source=self.module.source)
        if logins:
            out.append((ON_LOGIN, "login", logins[0].body, [], True))
        for name, f in self.module.functions.items():
            kind = "sub" if f.is_sub else "function"
            out.append((name, kind, f.body, f.params, name in self.an.block_mode))
        return out

    def build(self) -> Program:
        chunks: list[str] = []
        py_lines: list[tuple[str, int]] = [("", -1)]  # 1-based line numbers
        metas = []
        for name, kind, body, params, block_mode in self.units():
            gen = _Gen(self, name, kind, body, params, block_mode)
            code, line_sites = gen.generate()
            chunks.append(code)
            py_lines += [(name, s) for s in line_sites] + [("", -1)]
            metas.append((name, kind, params, block_mode, gen, code))
        source = "\n\n".join(chunks) + "\n"
        filename = f"<gb:{self.module.name}>"
        namespace = _namespace()
        for _name, _, _, _, gen, _ in metas:
            namespace[gen.sites_var] = gen.sites
        try:
            code_object = compile(source, filename, "exec")
        except (SyntaxError, RecursionError, MemoryError) as exc:  # CPython's own limits: a last resort
            raise self.too_complex(exc, py_lines, {name: gen for name, _, _, _, gen, _ in metas}) from None
        exec(code_object, namespace)
        units = {}
        for name, kind, params, block_mode, gen, code in metas:
            fname = _fn(name)
            digest = hashlib.sha256(code.encode()).hexdigest()[:16]
            units[name] = Unit(name, kind, params, namespace[fname], block_mode, gen.sites, digest, code)
        version = hashlib.sha256("".join(u.hash for u in units.values()).encode()).hexdigest()[:16]
        return Program(self.module.name, self.module.source, self.module, units, version,
                       self.warnings, py_lines, filename)


    def too_complex(self, exc: BaseException, py_lines: list[tuple[str, int]], gens: dict[str, _Gen]
                    ) -> BasicSyntaxError:
        """The error for generated code CPython refuses: at the BASIC statement it came from."""
        lineno = getattr(exc, "lineno", None) or 0
        unit, site = py_lines[lineno] if 0 < lineno < len(py_lines) else ("", -1)
        sites = gens[unit].sites if unit in gens else []
        line, col = sites[site] if 0 <= site < len(sites) else (0, 0)
        return BasicSyntaxError("this statement is too complex to compile (nested too deeply): split it into "
                                "simpler statements", file=self.module.name, line=line, column=col,
                                source=self.module.source)


def _with_obj(x: Any) -> Any:
    return {} if x is None else x


def _choices(x: Any) -> list[str]:
    items = x if isinstance(x, list) else ops.iterate(x)
    return [values.to_str(i) for i in items]


def _sync(frame: dict[str, Any], names: tuple[str, ...], vals: tuple[Any, ...]) -> None:
    for k, v in zip(names, vals):
        if v is None:
            frame.pop(k, None)
        else:
            frame[k] = v


_BASE_NAMESPACE: dict[str, Any] = {
    "_add": values.add, "_sub": values.sub, "_mul": values.mul, "_div": values.div,
    "_idiv": values.intdiv, "_mod": values.mod, "_pow": values.power, "_cat": values.concat,
    "_neg": values.neg, "_eq": values.eq, "_ne": values.ne, "_lt": values.lt, "_gt": values.gt,
    "_le": values.le, "_ge": values.ge, "_s": values.to_str, "_truthy": values.truthy,
    "_attr": ops.attr, "_index": ops.index, "_set_attr": ops.set_attr, "_set_item": ops.set_item,
    "_iterate": ops.iterate, "_num": ops.num, "_case": ops.case_match, "_unsupported": ops.unsupported,
    "_Stop": ops.Stop, "_get_key": ops.get_key, "_with_obj": _with_obj, "_choices": _choices, "_sync": _sync,
    "_BIG": SMALL_INT, "_NBIG": -SMALL_INT,
    "__builtins__": {"type": type, "int": int, "float": float, "str": str, "len": len, "list": list,
                     "isinstance": isinstance},
}


def _namespace() -> dict[str, Any]:
    from .errors import BasicRuntimeError, BudgetExceeded, DialogChanged

    ns = dict(_BASE_NAMESPACE)
    ns.update({f"B_{k}": v for k, v in B.BUILTINS.items()})
    resumable = (BasicRuntimeError, ArithmeticError, TypeError, ValueError, KeyError, IndexError)
    ns["_RESUMABLE"] = resumable
    ns["_FATAL"] = (BudgetExceeded, DialogChanged)
    return ns


def compile_module(module: A.Module) -> Program:
    """Compile a parsed module."""
    return _Compiler(module).build()


def compile_source(text: str, name: str = "<dialog>") -> Program:
    """Parse and compile BASIC source text.

    Raises:
        BasicSyntaxError: the text does not parse or compile.
    """
    return compile_module(parse(text, name))


def check_source(text: str, name: str = "<dialog>", *,
                 max_errors: int = MAX_ERRORS) -> tuple[Program | None, list[BasicSyntaxError]]:
    """Parse and compile BASIC source text, reporting every syntax error (``gb check``).

    :func:`compile_source` raises the first error; this goes on after it, at the next statement
    line (see :func:`~gb_basic.parser.parse_all`), so a file's errors are all reported at once,
    the one :func:`compile_source` raises among them. The compiler's own checks
    (a GOTO without its label, a call with the wrong number of arguments) run on a source that
    parses, and stop at their first error.

    Args:
        text: the .bas source.
        name: the file name the errors carry.
        max_errors: the errors to report at most; past them, a note (of kind ``Note``) says
            where reporting stopped.

    Returns:
        ``(program, [])`` when the text compiles (warnings are in ``program.warnings``), else
        ``(None, errors)`` in source order.
    """
    module, errors = parse_all(text, name, max_errors=max_errors)
    if module is None:
        return None, errors
    try:
        return compile_module(module), []
    except BasicSyntaxError as exc:
        return None, [exc]
