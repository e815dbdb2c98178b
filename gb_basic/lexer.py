"""The lexer: BASIC source text -> lark tokens.

BASIC's lexical rules depend on context, so the lexer is written by hand and handed to lark's
LALR parser through lark's custom-lexer interface:

* ``'`` starts a string after an operator, ``=``, ``(``, ``,`` or a keyword, and a comment
  elsewhere; ``REM`` is a comment only as a whole word at the start of a statement
  (``REMEMBER`` is a keyword); ``//`` and ``#`` start comment lines.
* Keywords are case-insensitive and are keywords only where a statement can start (statement
  keywords: ``TALK``, ``HEAR``, ...) or anywhere (operator words: ``AND``, ``TO``, ...), so
  ``name``, ``date`` or ``description`` stay usable as variable names.
* Multi-word keywords (``END IF``, ``SET BOT MEMORY``, ``SET_BOT_MEMORY``) become one token.
* A statement that starts with an unknown word followed by arguments (``SEND SMS to, "hi"``)
  becomes a ``CMD`` token: it parses, and fails only when it runs.
* A line ending in ``,`` (or `` _``) continues; leading line numbers are ignored; ``label:``
  lines become ``LABEL`` tokens; ``BEGIN TALK ... END TALK`` becomes one ``TEXTBLOCK`` token.

Identifiers (and keywords) are read after Unicode NFKC normalisation, ON PURPOSE: ``ﬁ`` (the
ligature) and ``fi`` are one variable, as are a full-width x (U+FF58) and ``x``, ``x²`` and ``x2``,
``nº`` and ``no``; then case is ignored. This is gb's own rule, stated here instead of inherited
from Python (which folds identifiers the same way): texts in quotes are never normalised, so an
object's key ``"ﬁ"`` is not its field ``.fi``. :func:`name_key` gives the variable a name stands
for, for callers that pass variables in by name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from lark.lexer import Lexer, Token

from .errors import BasicSyntaxError

__all__ = ["tokenize", "tokenize_recovering", "BasicLexer", "STATEMENT_KEYWORDS", "KEYWORD_STATEMENTS", "HEAR_WORDS",
           "nfkc", "name_key"]

# Words that are keywords where a statement starts.
STATEMENT_KEYWORDS = {
    "TALK": "TALK", "PRINT": "PRINT", "HEAR": "HEAR", "SET": "SET", "GET": "GET",
    "INPUT": "INPUT", "IF": "IF", "ELSEIF": "ELSEIF", "ELSE": "ELSE", "END": "END",
    "ENDIF": "END_IF", "FOR": "FOR", "NEXT": "NEXT", "DO": "DO", "LOOP": "LOOP",
    "WHILE": "WHILE", "WEND": "WEND", "CASE": "CASE", "WITH": "WITH",
    "FUNCTION": "FUNCTION", "SUB": "SUB", "CALL": "CALL", "RETURN": "RETURN", "EXIT": "EXIT",
    "GOTO": "GOTO", "DIM": "DIM", "PARAM": "PARAM", "DESCRIPTION": "DESCRIPTION",
}

# Keyword statements gb implements: one grammar rule, the runtime fulfils them.
KEYWORD_STATEMENTS = frozenset({
    "SET BOT MEMORY", "ADD SUGGESTION", "CLEAR SUGGESTIONS", "USE KB", "CLEAR KB", "USE TOOL",
    "ADD TOOL", "CLEAR TOOLS", "SEND MAIL", "SET CONTEXT", "SET SCHEDULE", "WAIT", "SAVE",
    "TRANSFER SESSION", "MERGE SESSION", "LOAD TEMPLATE", "SET LANGUAGE",
})

# Multi-word phrases where a statement starts -> token type (KW for keyword statements).
_PHRASES: dict[str, str] = {
    "END IF": "END_IF", "END SELECT": "END_SELECT", "END WITH": "END_WITH",
    "END FUNCTION": "END_FUNCTION", "END SUB": "END_SUB", "END WHILE": "WEND",
    "ELSE IF": "ELSEIF", "FOR EACH": "FOR_EACH", "DO WHILE": "DO_WHILE", "DO UNTIL": "DO_UNTIL",
    "LOOP WHILE": "LOOP_WHILE", "LOOP UNTIL": "LOOP_UNTIL", "SELECT CASE": "SELECT_CASE",
    "CASE ELSE": "CASE_ELSE", "EXIT FOR": "EXIT_FOR", "EXIT DO": "EXIT_DO",
    "EXIT WHILE": "EXIT_WHILE", "EXIT FUNCTION": "EXIT_FUNCTION", "EXIT SUB": "EXIT_SUB",
    "ON ERROR RESUME NEXT": "ON_ERROR_RESUME_NEXT", "ON ERROR GOTO 0": "ON_ERROR_GOTO_0",
    "ON LOGIN": "ON_LOGIN", "TALK TO": "TALK_TO",
    "BEGIN TALK": "BEGIN_TALK", "BEGIN SYSTEM PROMPT": "BEGIN_PROMPT",
    **{k: "KW" for k in KEYWORD_STATEMENTS},
}
_MAX_PHRASE = max(len(p.split()) for p in _PHRASES)
# Functions the runtime answers, written with spaces or underscores.
_REQUEST_PHRASES = frozenset({"GET BOT MEMORY", "GET USER MEMORY"})
_REQUEST_WORDS = frozenset(p.replace(" ", "_") for p in _REQUEST_PHRASES)
_PHRASE_HEADS = frozenset(p.split()[0] for p in _PHRASES)

# Words that are keywords anywhere in a statement.
_OPERATOR_WORDS = {
    "AND": "AND", "OR": "OR", "NOT": "NOT", "MOD": "MOD", "IS": "IS", "TRUE": "TRUE",
    "FALSE": "FALSE", "NULL": "NULL", "NOTHING": "NULL", "THEN": "THEN", "TO": "TO",
    "STEP": "STEP", "AS": "AS", "IN": "IN", "ELSE": "ELSE", "HEAR": "HEAR", "GET": "GET",
}
# Operator words that are keywords only inside some statements.
_LINE_WORDS = {"WITH": {"HEAR"}, "LIKE": {"PARAM"}, "DESCRIPTION": {"PARAM"}}

HEAR_WORDS = _OPERATOR_WORDS  # re-exported for completion lists

_OPS = {
    "<>": "NE", "!=": "NE", "==": "EQEQ", "<=": "LE", ">=": "GE", "=": "EQ", "<": "LT",
    ">": "GT", "+": "PLUS", "-": "MINUS", "*": "STAR", "/": "SLASH", "\\": "BSLASH",
    "^": "CARET", "&": "AMP", "(": "LPAR", ")": "RPAR", "[": "LSQB", "]": "RSQB",
    "{": "LBRACE", "}": "RBRACE", ",": "COMMA", ".": "DOT", ":": "COLON",
}
# After these token types a ' is a comment, not a string.
_VALUE_END = frozenset({"NAME", "NUMBER", "STRING", "RPAR", "RSQB", "RBRACE", "TRUE", "FALSE",
                        "NULL", "THEN", "ELSE", "NEXT", "LOOP", "WEND", "END", "END_IF", "END_SELECT",
                        "END_WITH", "END_FUNCTION", "END_SUB", "DO", "EXIT", "EXIT_FOR", "EXIT_DO",
                        "EXIT_WHILE", "EXIT_FUNCTION", "EXIT_SUB", "CASE_ELSE", "ON_ERROR_RESUME_NEXT",
                        "ON_ERROR_GOTO_0", "ON_LOGIN", "HEAR", "LABEL"})
# After these, a ' starts a string only when it is closed on the same line.
_MAYBE_ARGS = frozenset({"CMD", "KW", "RETURN", "TALK", "PRINT"})

_TOKEN_RE = re.compile(
    r"""[ \t\f\r]*(?:(?P<nl>\n)
    |(?P<num>\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?)
    |(?P<dq>"(?:[^"]|"")*")
    |(?P<tq>[\u201c\u201d][^\u201c\u201d]*[\u201c\u201d])
    |(?P<name>[^\W\d]\w*)
    |(?P<op><>|!=|==|<=|>=|[-+*/\\^&=<>()\[\]{},.:])
    |(?P<sq>')|(?P<eof>\Z))""",
    re.VERBOSE,
)
_WORDS_RE = re.compile(r"([^\W\d]\w*|0)(?!\w)")
_SPACE_RE = re.compile(r"[ \t]+")
_LINE_START_RE = re.compile(r"[ \t\f\r]*(?:\d+[ \t]+(?=\S))?")
_LABEL_RE = re.compile(r"([^\W\d]\w*):(?=[ \t]|\r?\n|$|')")
_SQ_RE = re.compile(r"'((?:[^'\n]|'')*)'")
_UPPER_WORD = re.compile(r"[A-Z][A-Z0-9_]*\Z")


class _Token(Token):
    """A lark Token built without lark's keyword-argument handling (the lexer's hot path)."""

    __slots__ = ()

    def __new__(cls, type_: str, value: str, start_pos: int, line: int, column: int) -> _Token:
        self = str.__new__(cls, value)
        self.type, self.value, self.start_pos, self.line, self.column = type_, value, start_pos, line, column
        self.end_line = self.end_column = self.end_pos = None
        return self


def nfkc(word: str) -> str:
    """An identifier as gb reads it: NFKC-normalised (ASCII words are left as they are)."""
    return word if word.isascii() else unicodedata.normalize("NFKC", word)


def name_key(name: str) -> str:
    """The variable `name` stands for: NFKC-normalised, then lower case (``ﬁ`` and ``FI`` are ``fi``)."""
    return nfkc(name).lower()


def _eol(text: str, pos: int) -> int:
    """Position of the end of the line that holds `pos`."""
    nl = text.find("\n", pos)
    return len(text) if nl < 0 else nl


def _phrase_key(words: list[str]) -> str:
    return " ".join(words).upper().replace("_", " ")


class _Lexer:
    """One pass over one source text; yields lark tokens (see the module docstring)."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text if text.endswith("\n") else text + "\n"
        self.ascii = self.text.isascii()  # nothing to normalise (see nfkc): the usual case
        self.file = file
        self.pos = 0
        self.line = 1
        self.line_pos = 0  # position where the current physical line starts
        self.prev: str | None = None  # type of the previous token on this logical line
        self.stmt_start = True
        self.line_kw: str | None = None  # first keyword of the statement

    # --- helpers --------------------------------------------------------------------
    def tok(self, type_: str, value: str, pos: int) -> Token:
        self.prev = type_
        return _Token(type_, value, pos, self.line, pos - self.line_pos + 1)

    def error(self, message: str, pos: int, token: str | None = None) -> BasicSyntaxError:
        return BasicSyntaxError(message, file=self.file, line=self.line,
                                column=pos - self.line_pos + 1, token=token, source=self.text)

    def advance_lines(self, start: int, end: int) -> None:
        n = self.text.count("\n", start, end)
        if n:
            self.line += n
            self.line_pos = self.text.rindex("\n", start, end) + 1

    def next_char(self, pos: int) -> str:
        m = _SPACE_RE.match(self.text, pos)
        p = m.end() if m else pos
        return self.text[p : p + 2]

    # --- main loop ------------------------------------------------------------------
    def tokens_recovering(self) -> Iterator[Token | BasicSyntaxError]:
        """The tokens of :meth:`tokens`, where a lexical error does not end the stream.

        The error is yielded where it occurs and lexing goes on past it, so that its line still
        ends with its ``_NL`` and the rest of it can be looked at (``gb check`` reports every
        error of a file, not only the first).

        Yields:
            Tokens, and a :class:`BasicSyntaxError` at each lexical error.
        """
        at_line_start = True
        while True:
            try:
                yield from self.tokens(at_line_start)
                return
            except BasicSyntaxError as exc:
                yield exc
                if not self.skip_error(exc):
                    return
                at_line_start = False

    def skip_error(self, exc: BasicSyntaxError) -> bool:
        """Move past a lexical error: a bad character, or an unterminated string with the rest of
        its line.

        Args:
            exc: the error, raised by :meth:`error` on the current line.

        Returns:
            False when nothing is left to lex.
        """
        if self.pos >= len(self.text):  # a BEGIN TALK without END TALK takes the rest of the file
            return False
        pos = self.line_pos + exc.column - 1
        if exc.token in ("'", '"', "\u201c", "\u201d"):
            self.pos = _eol(self.text, pos)
        else:
            self.pos = pos + 1
        self.prev = "ERROR"  # the line has something on it: it ends with its _NL
        return True

    def tokens(self, at_line_start: bool = True) -> Iterator[Token]:
        text = self.text
        n = len(text)
        match = _TOKEN_RE.match
        ops = _OPS
        while self.pos < n:
            if at_line_start:
                at_line_start = False
                yield from self.line_start()
                if self.pos >= n:
                    break
            if self.stmt_start:
                first = self.statement_start()
                if first is not None:
                    yield from first
                    continue
            m = match(text, self.pos)
            if m is None:
                raise self.bad_character()
            kind = m.lastgroup or "eof"
            start, end = m.span(kind)
            if kind == "name":
                w = self.word(m.group(kind), start, end)
                if w is not None:
                    yield w
            elif kind == "op":
                self.pos = end
                op = m.group(kind)
                yield self.tok(ops[op], op, start)
            elif kind == "nl":
                self.pos = end
                self.line += 1
                self.line_pos = end
                if self.prev == "COMMA":  # a line ending in a comma continues
                    continue
                if self.prev is not None:
                    yield _Token("_NL", "\n", start, self.line - 1, start - self.line_pos + 1)
                self.prev, self.stmt_start, self.line_kw = None, True, None
                at_line_start = True
            elif kind == "dq":
                raw = m.group(kind)
                string = self.tok("STRING", raw[1:-1].replace('""', '"'), start)
                self.pos = end
                if "\n" in raw:
                    self.advance_lines(start, end)
                yield string
            elif kind == "num":
                yield self.tok("NUMBER", m.group(kind), start)
                self.pos = end
            elif kind == "tq":
                string = self.tok("STRING", m.group(kind)[1:-1], start)
                self.pos = end
                self.advance_lines(start, end)
                yield string
            elif kind == "sq":  # a string after an operator or keyword, a comment elsewhere
                q = self.quote(start)
                if q is not None:
                    yield q
            else:
                self.pos = end
                break

    def line_start(self) -> Iterator[Token]:
        """Skip indentation, a line number, comment lines; emit a label if there is one."""
        text = self.text
        m = _LINE_START_RE.match(text, self.pos)
        if m is not None:  # the pattern matches the empty string, so always
            self.pos = m.end()
        rest = text[self.pos : self.pos + 2]
        if rest.startswith(("//", "#")):
            self.pos = _eol(text, self.pos)
            return
        lm = _LABEL_RE.match(text, self.pos)
        label = (lm.group(1) if self.ascii else nfkc(lm.group(1))) if lm else ""
        if lm and label.upper() not in STATEMENT_KEYWORDS:
            yield self.tok("LABEL", label, self.pos)
            yield Token("_NL", "\n", lm.end(), self.line, lm.end() - self.line_pos + 1)
            self.prev, self.stmt_start = None, True
            self.pos = lm.end()

    def statement_start(self) -> list[Token] | None:
        """Classify the first word(s) of a statement; None leaves it to the main loop."""
        text = self.text
        m = _SPACE_RE.match(text, self.pos)
        if m:
            self.pos = m.end()
        pos = self.pos
        if text.startswith("'", pos):
            self.pos = _eol(text, pos)
            return []
        wm = _WORDS_RE.match(text, pos)
        if wm is None:
            self.stmt_start = False
            return None
        words = [(wm.group(1) if self.ascii else nfkc(wm.group(1)), pos, wm.end())]
        upper = words[0][0].upper()
        if upper == "REM":
            self.pos = _eol(text, pos)
            return []
        head = upper.split("_", 1)[0] if "_" in upper else upper
        if head in _PHRASE_HEADS:
            self.more_words(words)
        elif upper == "LET":
            self.more_words(words)
            if len(words) > 1:
                self.pos = words[1][1]
                return []
        for k in range(len(words), 0, -1):
            key = _phrase_key([w for w, _, _ in words[:k]])
            kind = _PHRASES.get(key)
            if kind is None or self.is_assignment(words[k - 1][2]):
                continue  # `SET context = 1` assigns a variable named context
            end = words[k - 1][2]
            self.pos = end
            self.stmt_start = False
            if kind == "BEGIN_TALK" or kind == "BEGIN_PROMPT":
                return [self.text_block(kind, pos, end)]
            self.line_kw = kind
            return [self.tok(kind, key if kind == "KW" else text[pos:end], pos)]
        return self.first_word(words, pos)

    def more_words(self, words: list[tuple[str, int, int]]) -> None:
        """Read up to the longest phrase's length of words after the first one."""
        text = self.text
        p = words[-1][2]
        while len(words) < _MAX_PHRASE:
            sm = _SPACE_RE.match(text, p)
            if sm is None:
                return
            wm = _WORDS_RE.match(text, sm.end())
            if wm is None:
                return
            words.append((wm.group(1) if self.ascii else nfkc(wm.group(1)), wm.start(), wm.end()))
            p = wm.end()

    def bad_character(self) -> BasicSyntaxError:
        sm = _SPACE_RE.match(self.text, self.pos)
        pos = sm.end() if sm else self.pos
        ch = self.text[pos]
        if ch == '"' or ch in "\u201c\u201d":
            return self.error("unterminated string", pos, ch)
        return self.error(f"unexpected character {ch!r}", pos, ch)

    def is_assignment(self, end: int) -> bool:
        nxt = self.next_char(end)
        return (nxt[:1] in ("=", ".", "[") and nxt != "==") or nxt[:1] == ":"

    def first_word(self, words: list[tuple[str, int, int]], pos: int) -> list[Token] | None:
        first, _, end = words[0]
        upper = first.upper()
        self.stmt_start = False
        kw = STATEMENT_KEYWORDS.get(upper)
        if kw is not None and not self.is_assignment(end):
            self.pos = end
            self.line_kw = kw
            return [self.tok(kw, first, pos)]
        nxt = self.next_char(end)
        if nxt[:1] in ("=", ".", "[", "(") or upper in _OPERATOR_WORDS:
            return None  # an assignment or a call: the main loop lexes it
        # An unknown word followed by arguments or nothing: a keyword statement gb does not
        # implement, or a SUB called without parentheses. Upper-case words extend it.
        k = 1
        if _UPPER_WORD.match(first):
            self.more_words(words)
            while k < len(words) and _UPPER_WORD.match(words[k][0]) and words[k][0] not in _OPERATOR_WORDS:
                k += 1
        self.pos = words[k - 1][2]
        self.line_kw = "CMD"
        return [self.tok("CMD", " ".join(w for w, _, _ in words[:k]), pos)]

    def word(self, w: str, start: int, end: int) -> Token | None:
        self.pos = end
        if not self.ascii:
            w = nfkc(w)
        if w == "_" and self.next_char(end)[:1] in ("\n", "\r", ""):
            nl = self.text.index("\n", end)
            self.pos = nl + 1
            self.advance_lines(end, nl + 1)
            return None
        upper = w.upper()
        if upper == "GET" or upper in _REQUEST_WORDS:
            t = self.request_function(w, start)
            if t is not None:
                return t
        kw = _OPERATOR_WORDS.get(upper)
        if kw == "MOD" and (self.prev is None or self.prev not in _VALUE_END) and self.next_char(end)[:1] == "(":
            kw = None  # MOD(a, b), the function
        if kw is None:
            ctx = _LINE_WORDS.get(upper)
            if ctx is not None and self.line_kw in ctx:
                kw = upper
        if kw is not None:
            if kw == "THEN" or kw == "ELSE":
                self.stmt_start = True
            return self.tok(kw, w, start)
        if self.prev == "EQ" and self.line_kw is None and self.next_char(end)[:1] in ('"', "'"):
            # x = FIND "sheet", "filter": a keyword function gb does not implement
            self.line_kw = "CMD"
            return self.tok("CMD", upper.replace("_", " "), start)
        return self.tok("NAME", w, start)

    def request_function(self, w: str, start: int) -> Token | None:
        """``GET BOT MEMORY("k")`` / ``GET_BOT_MEMORY "k"``: a NAME before '(', else a CMD."""
        words = [(w, start, self.pos)]
        self.more_words(words)
        for k in range(len(words), 0, -1):
            key = _phrase_key([x for x, _, _ in words[:k]])
            if key in _REQUEST_PHRASES:
                end = words[k - 1][2]
                self.pos = end
                if self.next_char(end)[:1] == "(":
                    return self.tok("NAME", key.replace(" ", "_"), start)
                self.line_kw = "CMD"
                return self.tok("CMD", key, start)
        self.pos = start + len(w)
        return None

    def quote(self, start: int) -> Token | None:
        m = _SQ_RE.match(self.text, start)
        if self.prev is None or self.prev in _VALUE_END or (self.prev in _MAYBE_ARGS and m is None):
            self.pos = _eol(self.text, start)
            return None
        if m is None:
            raise self.error("unterminated string", start, "'")
        self.pos = m.end()
        return self.tok("STRING", m.group(1).replace("''", "'"), start)

    def text_block(self, kind: str, pos: int, end: int) -> Token:
        """``BEGIN TALK`` / ``BEGIN SYSTEM PROMPT``: raw lines up to the matching END line."""
        closer = "END TALK" if kind == "BEGIN_TALK" else "END SYSTEM PROMPT"
        text = self.text
        nl = text.index("\n", end)
        first_line, body_start = self.line, nl + 1
        lines: list[str] = []
        p = body_start
        while p < len(text):
            q = text.index("\n", p)
            raw = text[p:q]
            if " ".join(raw.split()).upper() == closer:
                tok = Token("TEXTBLOCK" if kind == "BEGIN_TALK" else "PROMPTBLOCK",
                            _dedent(lines), pos, first_line, pos - self.line_pos + 1)
                self.prev = tok.type
                self.pos = q
                self.advance_lines(end, q)
                return tok
            lines.append(raw.rstrip("\r"))
            p = q + 1
        self.pos = len(text)  # the block runs to the end of the file: nothing is left to lex
        raise self.error(f"{text[pos:end].upper()} has no {closer}", pos, text[pos:end])


def _dedent(lines: list[str]) -> str:
    indents = [len(x) - len(x.lstrip()) for x in lines if x.strip()]
    cut = min(indents) if indents else 0
    return "\n".join(x[cut:] for x in lines)


def tokenize(text: str, file: str = "<dialog>") -> Iterator[Token]:
    """Yield the lark tokens of a BASIC source text."""
    return _Lexer(text, file).tokens()


def tokenize_recovering(text: str, file: str = "<dialog>") -> Iterator[Token | BasicSyntaxError]:
    """Yield the lark tokens of a BASIC source text, and each lexical error where it occurs
    (see :meth:`_Lexer.tokens_recovering`)."""
    return _Lexer(text, file).tokens_recovering()


class BasicLexer(Lexer):
    """lark custom lexer (interface 0): lark calls ``lex(text)``."""

    __future_interface__ = 0

    def __init__(self, lexer_conf: object) -> None:
        self.lexer_conf = lexer_conf

    def lex(self, text: str) -> Iterator[Token]:  # type: ignore[override]
        return tokenize(text)
