"""Static facts the compiler needs: names, calls, suspension points, what must be lowered.

A *suspension point* is anything that hands a request to the runtime and waits for its
answer: HEAR, SET/GET of session variables, ``GET "session.id"``, the keyword statements gb
implements (USE KB, SET BOT MEMORY, ...), request functions (GET_BOT_MEMORY) and calls of
user functions that themselves suspend. Code between suspension points compiles to plain
structured Python; a construct that contains one is *lowered* to numbered blocks so the
dialog can stop there and resume from a JSON state.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import ast as A
from .builtins import BUILTINS
from .keywords import KEYWORDS, runs

__all__ = ["REQUEST_FUNCTIONS", "REQUEST_KEYWORDS", "LOOP_FAMILY", "Analysis", "assigned_names", "read_names",
           "keyword_uses",
           "too_deep", "MAX_EXPRESSION_DEPTH", "MAX_BLOCK_DEPTH", "MAX_LOOP_DEPTH"]

# Nesting the compiler (recursive) and CPython (200 nested brackets, 100 levels of indentation,
# 20 nested loops) accept for every construct; real dialogs nest about 10 levels at most.
MAX_EXPRESSION_DEPTH = 100  # operators, calls, brackets: a chain of 100 operators is 100 levels
MAX_BLOCK_DEPTH = 64  # IF, SELECT CASE, WITH and loops inside each other
MAX_LOOP_DEPTH = 16  # FOR, FOR EACH, DO and WHILE inside each other
_BLOCKS = (A.If, A.Select, A.With, A.For, A.ForEach, A.Loop)
_LOOPS = (A.For, A.ForEach, A.Loop)

# Functions answered by the runtime: the call becomes a request.
REQUEST_FUNCTIONS = {"GET_BOT_MEMORY": "GET BOT MEMORY", "GET_USER_MEMORY": "GET USER MEMORY", "RECALL": "RECALL",
                     "FIRST": "FIRST", "LAST": "LAST"}  # FIRST(rows), LAST(rows): as FIRST rows
REQUEST_KEYWORDS = frozenset(REQUEST_FUNCTIONS.values())

# EXIT kind -> the loop kinds it leaves.
LOOP_FAMILY = {"for": ("for",), "do": ("do", "while"), "while": ("while", "do")}


def _loop_kind(s: A.Stmt) -> str | None:
    if isinstance(s, (A.For, A.ForEach)):
        return "for"
    if isinstance(s, A.Loop):
        return s.kind
    return None


def too_deep(module: A.Module) -> tuple[str, A.Node] | None:
    """The first place where `module` nests deeper than the compiler can take, and why.

    Walks the tree without recursion (the check runs before anything that recurses).

    Returns:
        ``(message, node)``, or None when every expression and block is within the limits.
    """
    roots: list[Any] = list(module.body) + [s for f in module.functions.values() for s in f.body]
    stack: list[tuple[Any, int, int, int]] = [(s, 0, 0, 0) for s in reversed(roots)]
    while stack:
        node, exprs, blocks, loops = stack.pop()
        if isinstance(node, A.Expr):
            exprs += 1
            if exprs > MAX_EXPRESSION_DEPTH:
                return f"expression nested too deeply: more than {MAX_EXPRESSION_DEPTH} levels", node
        elif isinstance(node, _BLOCKS):
            blocks += 1
            loops += isinstance(node, _LOOPS)
            if blocks > MAX_BLOCK_DEPTH:
                return f"blocks nested too deeply: more than {MAX_BLOCK_DEPTH} inside each other", node
            if loops > MAX_LOOP_DEPTH:
                return f"loops nested too deeply: more than {MAX_LOOP_DEPTH} inside each other", node
        stack.extend((c, exprs, blocks, loops) for c in reversed(A.children(node)))
    return None


def assigned_names(body: Iterable[Any]) -> set[str]:
    """Variables a body assigns (plain names only; ``x.f = 1`` assigns x)."""
    out: set[str] = set()
    for stmt in body:
        for n in A.walk(stmt):
            target = None
            if isinstance(n, (A.Assign, A.SetVar, A.Hear)):
                target = n.target
            elif isinstance(n, (A.For, A.ForEach)):
                out.add(n.var)
            elif isinstance(n, (A.GetVar, A.Dim)):
                out.add(n.name)
            elif isinstance(n, A.With):
                target = n.target
            while isinstance(target, (A.Attr, A.Index)):
                target = target.obj
            if isinstance(target, A.Var):
                out.add(target.name)
    return out


def read_names(body: Iterable[Any]) -> set[str]:
    """Variables a body reads, including ``{name}`` interpolations."""
    out: set[str] = set()
    for stmt in body:
        for n in A.walk(stmt):
            if isinstance(n, A.Var):
                out.add(n.name)
            elif isinstance(n, A.Interp):
                for p in n.parts:
                    if isinstance(p, tuple):
                        out.update(v.name for v in A.walk(p[2]) if isinstance(v, A.Var))
    return out


def keyword_uses(module: A.Module) -> list[tuple[str, bool]]:
    """The keywords a module uses (statements and values), in source order.

    Returns:
        ``(name, raw)`` pairs: the canonical name (upper case, single spaces) and whether that use's
        arguments were not an argument list (a form gb does not run even when it runs the keyword).
        The calls of the module's own SUBs written as statements (``Greet "Ann"``) are not keywords.
    """
    roots: list[Any] = list(module.body) + [s for f in module.functions.values() for s in f.body]
    out: list[tuple[int, int, str, bool]] = []
    for root in roots:
        for n in A.walk(root):
            if isinstance(n, (A.Keyword, A.CmdExpr)):
                name = n.keyword
                if n.raw is None and (name.split()[0].lower() in module.functions or
                                      (name in BUILTINS and name not in KEYWORDS)):
                    continue  # a SUB called as a statement, a built-in called without parentheses
                out.append((n.line, n.col, " ".join(name.replace("_", " ").split()), n.raw is not None))
    out.sort()
    return [(name, raw) for _, _, name, raw in out]


def called_functions(body: Iterable[Any], names: set[str]) -> set[str]:
    """User functions (lower-case names in `names`) a body calls."""
    out: set[str] = set()
    for stmt in body:
        for n in A.walk(stmt):
            if isinstance(n, A.Call) and n.name.lower() in names:
                out.add(n.name.lower())
            elif isinstance(n, A.CallStmt) and n.name in names:
                out.add(n.name)
            elif isinstance(n, A.Keyword) and not n.supported:
                first = n.keyword.split()[0].lower()
                if first in names:
                    out.add(first)
    return out


class Analysis:
    """Whole-program facts: which units suspend, which globals each function reads."""

    def __init__(self, module: A.Module) -> None:
        self.module = module
        self.functions = module.functions
        names = set(self.functions)
        self.calls = {name: called_functions(f.body, names) for name, f in self.functions.items()}
        self.block_mode: set[str] = set()
        self.block_mode = self._block_mode_units()
        self.globals_read = self._globals_read()

    # --- which functions must run as resumable frames -------------------------------------
    def _own_reasons(self, f: A.Function) -> bool:
        for stmt in f.body:
            for n in A.walk(stmt):
                if isinstance(n, (A.Label, A.Goto)) or self.is_request(n):
                    return True
        return False

    def _block_mode_units(self) -> set[str]:
        block = {name for name, f in self.functions.items() if self._own_reasons(f)}
        changed = True
        while changed:
            changed = False
            for name, callees in self.calls.items():
                if name not in block and callees & block:
                    block.add(name)
                    changed = True
        return block

    def _globals_read(self) -> dict[str, set[str]]:
        own = {}
        for name, f in self.functions.items():
            local = set(f.params) | assigned_names(f.body) | {name}
            own[name] = read_names(f.body) - local - set(self.functions)
        total = {name: set(v) for name, v in own.items()}
        changed = True
        while changed:
            changed = False
            for name, callees in self.calls.items():
                for c in callees:
                    if not total[c] <= total[name]:
                        total[name] |= total[c]
                        changed = True
        return total

    # --- suspension points ----------------------------------------------------------------
    def is_request(self, n: Any) -> bool:
        """True for a node that is itself a suspension point."""
        if isinstance(n, (A.Hear, A.SetVar, A.GetVar, A.GetExpr, A.SystemPrompt, A.HearExpr)):
            return True
        if isinstance(n, A.Keyword):
            return n.supported or self.keyword_call(n) in self.block_mode
        if isinstance(n, A.Call):
            return n.name in REQUEST_FUNCTIONS or n.name.lower() in self.block_mode
        if isinstance(n, A.CallStmt):
            return n.name in self.block_mode or self.dialog_call(n)
        if isinstance(n, A.CmdExpr):
            return n.raw is None and runs(n.keyword)
        return False

    def dialog_call(self, n: A.CallStmt) -> bool:
        """``CALL other`` naming no SUB or FUNCTION of the file (nor a built-in): another dialog of the bot."""
        return n.name not in self.functions and n.name.upper() not in BUILTINS

    def keyword_call(self, n: A.Keyword) -> str | None:
        """The user SUB an unknown keyword statement calls (``Greet "Ann"``), if any."""
        first = n.keyword.split()[0].lower()
        return first if first in self.functions else None

    def suspends(self, node: Any) -> bool:
        """True if running `node` can suspend (it contains a suspension point)."""
        return any(self.is_request(n) for n in A.walk(node))

    def needs_lowering(self, s: A.Stmt) -> bool:
        """A compound statement that must compile to blocks rather than structured Python."""
        kind = _loop_kind(s)
        for n in A.walk(s):
            if self.is_request(n) or isinstance(n, A.Label):
                return True
            if kind and isinstance(n, A.Goto):
                return True
        if kind and self._exits_outward(s):
            return True
        return any(self.needs_lowering(c) for c in A.children(s) if isinstance(c, A.Stmt))

    def _exits_outward(self, loop: A.Stmt) -> bool:
        """True if an EXIT inside `loop` leaves a loop enclosing it (past a native loop)."""

        def visit(stmts: Iterable[Any], loops: tuple[str, ...]) -> bool:
            for st in stmts:
                if isinstance(st, A.Exit) and st.kind in LOOP_FAMILY:
                    if not any(k in LOOP_FAMILY[st.kind] for k in loops):
                        return True
                    continue
                k = _loop_kind(st)
                nested = (*loops, k) if k else loops
                if visit([c for c in A.children(st) if isinstance(c, A.Stmt)], nested):
                    return True
            return False

        first = _loop_kind(loop)
        return visit([c for c in A.children(loop) if isinstance(c, A.Stmt)], (first,) if first else ())
