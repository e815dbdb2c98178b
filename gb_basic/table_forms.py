"""The clause forms of the table keywords, read into plain argument lists.

General Bots authors write the table keywords with SQL-like clauses as well as with commas::

    rows = FIND "users" WHERE email = address AND age > 18 ORDER BY name DESC LIMIT 5
    rows = FIND "products" WITH "name LIKE '%" + q + "%'"
    UPDATE "accounts" SET status = "closed", modified_at = NOW() WHERE id = account_id
    UPDATE "products" WITH weight AS dims.kg WHERE id = product_id
    SAVE "products" WITH name AS item.name, price AS item.price
    MERGE "customers" WITH list.items BY "Id"
    INSERT INTO "audit" VALUES {"user": user.id, "at": NOW()}
    DELETE "sessions" WHERE user_id = user.id

The lexer keeps such a statement's arguments as text (a ``RAW`` token); :func:`table_form`
reads that text into the argument list the runtime's table keywords take (docs/tables.md, "For
the parser"), every right-hand side an expression of the dialog, evaluated when it runs:

=========================================  ===================================================
written                                    args
=========================================  ===================================================
``FIND t WHERE a = x OR b > y ...``        ``[t, {"$where": [["a", "=", x], "OR", ["b", ">", y]],
                                           "$order": [["c", "DESC"]], "$limit": n}]``
``FIND t WITH "filter"``                   ``[t, "filter"]``
``UPDATE t SET a = x WHERE ...``           ``[t, {"$where": [...]}, {"a": x}]`` (also ``WITH a AS x``)
``SAVE t WITH a AS x, b AS y``             ``[t, {"a": x, "b": y}]`` (``SAVE t WITH obj``: ``[t, obj]``)
``INSERT INTO t VALUES obj``               ``[t, obj]``
``MERGE t WITH rows BY "Id"``              ``[t, rows, "Id"]``
``DELETE t WHERE ...``                     ``[t, {"$where": [...]}]``
=========================================  ===================================================

A text this module cannot read (a parenthesised group of conditions, ``NOT``, ``BETWEEN``, a
function of a column) gives None: the statement stays raw, ``gb check`` warns "this form of
keyword X is not supported", and it fails only when it runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from . import ast as A

__all__ = ["FORM_KEYWORDS", "table_form"]

#: The keywords whose clause forms :func:`table_form` reads.
FORM_KEYWORDS = frozenset({"FIND", "FIND ALL", "UPDATE", "SAVE", "MERGE", "INSERT", "INSERT INTO", "DELETE"})

#: Parses one expression's text at a line and column (``parser.parse_expression``).
ExprParser = Callable[[str, int, int], A.Expr]

_WORD = re.compile(r"[^\W\d]\w*")
_CLAUSES = {"WHERE", "SET", "WITH", "ORDER", "LIMIT", "VALUES", "BY"}
_OPERATOR = re.compile(
    r"\s*(<>|!=|<=|>=|==|=|<|>|NOT\s+LIKE\b|ILIKE\b|LIKE\b|CONTAINS\b|NOT\s+IN\b|IN\b|IS\s+NOT\s+NULL\b|IS\s+NULL\b)",
    re.IGNORECASE)
_ASSIGN = re.compile(r"\s*([^\W\d]\w*)\s*(?:(?<![<>!=])=(?!=)|\bAS\b)", re.IGNORECASE)


class _NotAForm(Exception):
    """The text is not a clause form this module reads (the statement stays raw)."""


class _Reader:
    """One raw text: its top-level words and commas, and the expressions of its parts."""

    def __init__(self, text: str, line: int, col: int, parse: ExprParser) -> None:
        self.text = _clean(text)
        self.line, self.col, self.parse = line, col, parse
        self.words: list[tuple[str, int, int]] = []  # top-level words (upper case) and commas
        self._scan()

    def _scan(self) -> None:
        """Every word and comma outside strings and brackets, with its offsets."""
        text, depth, p = self.text, 0, 0
        while p < len(text):
            c = text[p]
            if c == '"':
                q = p + 1
                while True:
                    q = text.find('"', q)
                    if q < 0:
                        raise _NotAForm
                    if text.startswith('""', q):
                        q += 2
                        continue
                    break
                p = q + 1
                continue
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            elif depth == 0 and c == ",":
                self.words.append((",", p, p + 1))
            elif depth == 0 and (c.isalpha() or c == "_") and (p == 0 or not (text[p - 1].isalnum()
                                                                           or text[p - 1] in "_.")):
                m = _WORD.match(text, p)
                if m:
                    self.words.append((m.group().upper(), p, m.end()))
                    p = m.end()
                    continue
            p += 1

    def where(self, word: str, start: int, end: int) -> list[int]:
        """The indexes into :attr:`words` of `word` between offsets `start` and `end`."""
        return [i for i, (w, s, _) in enumerate(self.words) if w == word and start <= s < end]

    def clause_at(self, start: int) -> tuple[str, int, int] | None:
        """The first clause word at or after offset `start`."""
        for w, s, e in self.words:
            if s >= start and w in _CLAUSES:
                return w, s, e
        return None

    def position(self, offset: int) -> tuple[int, int]:
        """The line and column of an offset of the text."""
        before = self.text[:offset]
        nl = before.rfind("\n")
        if nl < 0:
            return self.line, self.col + offset
        return self.line + before.count("\n"), offset - nl

    def expr(self, start: int, end: int) -> A.Expr:
        """The expression of the text between two offsets."""
        part = self.text[start:end]
        if not part.strip():
            raise _NotAForm
        lead = len(part) - len(part.lstrip())
        line, col = self.position(start + lead)
        try:
            return self.parse(part.strip(), line, col)
        except Exception as exc:  # a syntax error: the form is not one gb reads
            raise _NotAForm from exc

    def split(self, start: int, end: int, seps: tuple[str, ...]) -> list[tuple[str, int, int]]:
        """The parts of the text between `start` and `end` at top-level `seps`: (separator before, start, end)."""
        parts: list[tuple[str, int, int]] = []
        sep, at = "", start
        for w, s, e in self.words:
            if start <= s < end and w in seps:
                parts.append((sep, at, s))
                sep, at = w, e
        parts.append((sep, at, end))
        return parts

    def const(self, offset: int, value: object) -> A.Const:
        line, col = self.position(offset)
        return A.Const(line, col, value)


def _clean(text: str) -> str:
    """The text with comments blanked and ``'single quoted'`` texts made ``"strings"``
    (offsets are kept, so positions stay right)."""
    out: list[str] = []
    p, n = 0, len(text)
    while p < n:
        c = text[p]
        if c == '"':
            q = text.find('"', p + 1)
            while q >= 0 and text.startswith('""', q):
                q = text.find('"', q + 2)
            q = n - 1 if q < 0 else q
            out.append(text[p:q + 1])
            p = q + 1
            continue
        if c == "'":
            q = text.find("'", p + 1)
            nl = text.find("\n", p + 1)
            if q >= 0 and (nl < 0 or q < nl) and '"' not in text[p + 1:q]:
                out.append('"' + text[p + 1:q] + '"')
                p = q + 1
                continue
            stop = n if nl < 0 else nl
            out.append(" " * (stop - p))
            p = stop
            continue
        out.append(c)
        p += 1
    return "".join(out)


def table_form(keyword: str, text: str, line: int, col: int, parse: ExprParser) -> list[A.Expr] | None:
    """The argument list of a table keyword written with clauses (see the module docstring).

    Args:
        keyword: the keyword, canonical (``FIND ALL``).
        text: its arguments as written (the ``RAW`` token).
        line: the line of the text's first character.
        col: its column.
        parse: reads one expression's text at a line and column; raises on a syntax error.

    Returns:
        The argument expressions, or None when the text is not a form this module reads.
    """
    if keyword not in FORM_KEYWORDS:
        return None
    try:
        r = _Reader(text, line, col, parse)
        return _FORMS[keyword](r)
    except _NotAForm:
        return None


def _head(r: _Reader, allowed: set[str]) -> tuple[A.Expr, tuple[str, int, int]]:
    """The table expression and the first clause after it (which must be one of `allowed`)."""
    clause = r.clause_at(0)
    if clause is None or clause[0] not in allowed:
        raise _NotAForm
    return r.expr(0, clause[1]), clause


def _find(r: _Reader) -> list[A.Expr]:
    table, (word, s, e) = _head(r, {"WHERE", "WITH", "ORDER", "LIMIT"})
    if word == "WITH":
        if r.clause_at(e) is not None:
            raise _NotAForm
        return [table, r.expr(e, len(r.text))]
    return [table, _filter(r, s)]


def _filter(r: _Reader, start: int) -> A.ObjLit:
    """``WHERE ... ORDER BY ... LIMIT n`` from offset `start`: the filter object."""
    end = len(r.text)
    marks = [(w, s, e) for w, s, e in r.words if s >= start and w in ("WHERE", "ORDER", "LIMIT")]
    pairs: list[tuple[str, A.Expr]] = []
    seen: list[str] = []
    for i, (w, _s, e) in enumerate(marks):
        stop = marks[i + 1][1] if i + 1 < len(marks) else end
        if seen and (w in seen or _ORDER_OF[w] < _ORDER_OF[seen[-1]]):
            raise _NotAForm
        seen.append(w)
        if w == "WHERE":
            pairs.append(("$where", _conditions(r, e, stop)))
        elif w == "ORDER":
            pairs.append(("$order", _order(r, e, stop)))
        else:
            pairs.append(("$limit", r.expr(e, stop)))
    if not pairs or marks[0][1] != start:
        raise _NotAForm
    line, col = r.position(start)
    return A.ObjLit(line, col, pairs)


_ORDER_OF = {"WHERE": 0, "ORDER": 1, "LIMIT": 2}


def _conditions(r: _Reader, start: int, end: int) -> A.ListLit:
    """``a = x AND b > y OR c IS NULL``: ``[["a", "=", x], ["b", ">", y], "OR", ["c", "IS NULL", NULL]]``."""
    items: list[A.Expr] = []
    for sep, s, e in r.split(start, end, ("AND", "OR")):
        if sep == "OR":
            items.append(r.const(s, "OR"))
        items.append(_condition(r, s, e))
    line, col = r.position(start)
    return A.ListLit(line, col, items)


def _condition(r: _Reader, start: int, end: int) -> A.ListLit:
    """``column op value``: ``["column", "OP", value]``."""
    part = r.text[start:end]
    lead = len(part) - len(part.lstrip())
    m = _WORD.match(part, lead)
    if not m:
        raise _NotAForm
    op = _OPERATOR.match(part, m.end())
    if not op:
        raise _NotAForm
    name = " ".join(op.group(1).upper().split())
    line, col = r.position(start + lead)
    items: list[A.Expr] = [A.Const(line, col, m.group()), A.Const(line, col, name)]
    rest = start + op.end()
    if name in ("IS NULL", "IS NOT NULL"):
        if r.text[rest:end].strip():
            raise _NotAForm
        items.append(A.Const(line, col, None))
    elif name in ("IN", "NOT IN"):
        inner = r.text[rest:end].strip()
        if not (inner.startswith("(") and inner.endswith(")")):
            raise _NotAForm
        at = r.text.index("(", rest)
        vline, vcol = r.position(at)
        try:
            items.append(r.parse("[" + inner[1:-1] + "]", vline, vcol))
        except Exception as exc:
            raise _NotAForm from exc
    else:
        items.append(r.expr(rest, end))
    return A.ListLit(line, col, items)


def _order(r: _Reader, start: int, end: int) -> A.ListLit:
    """``BY c DESC, d``: ``[["c", "DESC"], ["d", "ASC"]]``."""
    words = [(w, s, e) for w, s, e in r.words if start <= s < end]
    if not words or words[0][0] != "BY":
        raise _NotAForm
    items: list[A.Expr] = []
    for _, s, e in r.split(words[0][2], end, (",",)):
        spec = r.text[s:e].split()
        if not spec or len(spec) > 2 or not _WORD.fullmatch(spec[0]) or \
                (len(spec) == 2 and spec[1].upper() not in ("ASC", "DESC")):
            raise _NotAForm
        line, col = r.position(s + len(r.text[s:e]) - len(r.text[s:e].lstrip()))
        direction = spec[1].upper() if len(spec) == 2 else "ASC"
        items.append(A.ListLit(line, col, [A.Const(line, col, spec[0]), A.Const(line, col, direction)]))
    line, col = r.position(start)
    return A.ListLit(line, col, items)


def _assignments(r: _Reader, start: int, end: int) -> A.ObjLit:
    """``a = x, b AS y``: ``{"a": x, "b": y}``."""
    pairs: list[tuple[str, A.Expr]] = []
    for _, s, e in r.split(start, end, (",",)):
        m = _ASSIGN.match(r.text, s)
        if not m or m.end() > e:
            raise _NotAForm
        pairs.append((m.group(1), r.expr(m.end(), e)))
    line, col = r.position(start)
    return A.ObjLit(line, col, pairs)


def _is_assignments(r: _Reader, start: int) -> bool:
    m = _ASSIGN.match(r.text, start)
    return m is not None


def _update(r: _Reader) -> list[A.Expr]:
    table, (_word, _s, e) = _head(r, {"SET", "WITH"})
    wheres = r.where("WHERE", e, len(r.text))
    if len(wheres) != 1:
        raise _NotAForm  # an UPDATE of every row is not read from this form
    w_start = r.words[wheres[0]][1]
    changes = _assignments(r, e, w_start)
    return [table, _filter(r, w_start), changes]


def _save(r: _Reader) -> list[A.Expr]:
    table, (word, _s, e) = _head(r, {"WITH", "VALUES"})
    if r.clause_at(e) is not None:
        raise _NotAForm
    if word == "WITH" and _is_assignments(r, e):
        return [table, _assignments(r, e, len(r.text))]
    return [table, r.expr(e, len(r.text))]


def _merge(r: _Reader) -> list[A.Expr]:
    table, (_word, _s, e) = _head(r, {"WITH"})
    by = r.where("BY", e, len(r.text))
    if len(by) != 1:
        raise _NotAForm
    _, bs, be = r.words[by[0]]
    return [table, r.expr(e, bs), r.expr(be, len(r.text))]


def _delete(r: _Reader) -> list[A.Expr]:
    table, (_word, s, _e) = _head(r, {"WHERE"})
    return [table, _filter(r, s)]


_FORMS: dict[str, Callable[[_Reader], list[A.Expr]]] = {
    "FIND": _find, "FIND ALL": _find, "UPDATE": _update, "SAVE": _save, "INSERT": _save,
    "INSERT INTO": _save, "MERGE": _merge, "DELETE": _delete,
}
