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

from .builtins import BUILTINS
from .errors import BasicSyntaxError
from .keywords import KEYWORDS, RUNNING

__all__ = ["tokenize", "tokenize_recovering", "BasicLexer", "STATEMENT_KEYWORDS", "KEYWORD_STATEMENTS", "HEAR_WORDS",
           "PHRASES", "nfkc", "name_key"]

# Words that are keywords where a statement starts.
STATEMENT_KEYWORDS = {
    "TALK": "TALK", "PRINT": "PRINT", "HEAR": "HEAR", "SET": "SET", "GET": "GET",
    "INPUT": "INPUT", "IF": "IF", "ELSEIF": "ELSEIF", "ELSE": "ELSE", "END": "END",
    "ENDIF": "END_IF", "FOR": "FOR", "NEXT": "NEXT", "DO": "DO", "LOOP": "LOOP",
    "WHILE": "WHILE", "WEND": "WEND", "CASE": "CASE", "WITH": "WITH",
    "FUNCTION": "FUNCTION", "SUB": "SUB", "CALL": "CALL", "RETURN": "RETURN", "EXIT": "EXIT",
    "GOTO": "GOTO", "DIM": "DIM", "PARAM": "PARAM", "DESCRIPTION": "DESCRIPTION",
}

# Keyword statements gb implements: one grammar rule, the runtime fulfils them (gb_basic.keywords).
KEYWORD_STATEMENTS = frozenset(k for k in RUNNING if KEYWORDS[k].statement)
# Every keyword statement of the table, run or not: each is one KW token.
KNOWN_STATEMENTS = frozenset(k for k, spec in KEYWORDS.items() if spec.statement)

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
    "BEGIN TALK": "BEGIN_TALK", "BEGIN SYSTEM PROMPT": "BEGIN_PROMPT", "END FOR": "NEXT",
    **{k: "KW" for k in KNOWN_STATEMENTS},
}
_MAX_PHRASE = max(len(p.split()) for p in _PHRASES)
# Every keyword a statement may start with, one word or several (upper case, words joined by one space).
PHRASES = frozenset(_PHRASES)
# Functions the runtime answers, written with spaces or underscores.
_REQUEST_PHRASES = frozenset({"GET BOT MEMORY", "GET USER MEMORY"})
_REQUEST_WORDS = frozenset(p.replace(" ", "_") for p in _REQUEST_PHRASES)
_PHRASE_HEADS = frozenset(p.split()[0] for p in _PHRASES)

# Words that are keywords anywhere in a statement.
_OPERATOR_WORDS = {
    "AND": "AND", "OR": "OR", "NOT": "NOT", "MOD": "MOD", "IS": "IS", "TRUE": "TRUE",
    "FALSE": "FALSE", "NULL": "NULL", "NOTHING": "NULL", "THEN": "THEN", "AS": "AS", "ELSE": "ELSE",
    "HEAR": "HEAR", "GET": "GET",
}
# Operator words that are keywords only inside some statements (by the statement's first token).
_LINE_WORDS = {"WITH": {"HEAR"}, "LIKE": {"PARAM"}, "DESCRIPTION": {"PARAM"}, "DEFAULT": {"PARAM", "HEAR"},
               "OPTIONAL": {"PARAM"}, "ENUM": {"PARAM"}, "DO": {"FOR", "FOR_EACH", "WHILE"},
               "TO": {"FOR", "CASE"}, "STEP": {"FOR"}}
# Operator words that are keywords only after a value (``x IN xs``; ``in`` is a variable elsewhere).
_AFTER_VALUE_WORDS = {"IN": "IN", "CONTAINS": "CONTAINS"}
# PARAM clauses whose value may be unquoted text (``LIKE Stall Code``).
_TEXT_CLAUSES = frozenset({"LIKE", "DESCRIPTION"})
_CLAUSE_WORDS = frozenset({"LIKE", "DESCRIPTION", "DEFAULT", "OPTIONAL", "ENUM"})
# Words that never start the arguments of an unknown keyword (``x = A AND B`` is an expression).
_NOT_ARGUMENT_WORDS = frozenset({"AND", "OR", "MOD", "IS", "CONTAINS", "THEN", "ELSE", "TO", "STEP", "AS",
                                 "IN", "LIKE"})

HEAR_WORDS = _OPERATOR_WORDS  # re-exported for completion lists

_OPS = {
    "<>": "NE", "!=": "NE", "==": "EQEQ", "<=": "LE", ">=": "GE", "=": "EQ", "<": "LT",
    ">": "GT", "+": "PLUS", "-": "MINUS", "*": "STAR", "/": "SLASH", "\\": "BSLASH",
    "^": "CARET", "&": "AMP", "(": "LPAR", ")": "RPAR", "[": "LSQB", "]": "RSQB",
    "{": "LBRACE", "}": "RBRACE", ",": "COMMA", ".": "DOT", ":": "COLON",
    # Rhai's forms, which General Bots' own dialogs use: ``a?.b``, ``a ?? b``, ``c ? a : b``,
    # ``a && b``, ``#{ k: v }``.
    "?.": "DOT", "??": "COALESCE", "?": "QMARK", "&&": "AND", "||": "OR", "#{": "LBRACE",
}
_OPENERS = frozenset({"LPAR", "LSQB", "LBRACE"})
_CLOSERS = frozenset({"RPAR", "RSQB", "RBRACE"})
# A line ending in one of these goes on when the next line starts with a string, a number or '('.
_TRAILING_OPERATORS = frozenset({"PLUS", "MINUS", "STAR", "SLASH", "AMP", "AND", "OR", "COALESCE"})
_MAY_CONTINUE = _OPENERS | _TRAILING_OPERATORS
_CONTINUATION_START = re.compile(r"\n[ \t]*[\"\u201c\d(]")
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
    |(?P<op><>|!=|==|<=|>=|[-+*/\\^=<>()\[\]{},.:]|&&?|\?[.?]?|\|\||\#\{)
    |(?P<semi>;)
    |(?P<sq>')|(?P<eof>\Z))""",
    re.VERBOSE,
)
_WORDS_RE = re.compile(r"([^\W\d]\w*|0)(?!\w)")
_SPACE_RE = re.compile(r"[ \t]+")
_LINE_START_RE = re.compile(r"[ \t\f\r]*(?:\d+[ \t]+(?=\S))?")
_LABEL_RE = re.compile(r"([^\W\d]\w*):(?=[ \t]|\r?\n|$|')")
_STEP_RE = re.compile(r"STEP[ \t]+\d+:(?=[ \t]|\r?\n|$|')", re.IGNORECASE)
_SQ_RE = re.compile(r"'((?:[^'\n]|'')*)'")
_UPPER_WORD = re.compile(r"[A-Z][A-Z0-9_]*\Z")
_SPECIAL_FORMS = frozenset({"SET", "CALL", "GET", "FOR", "END"})
_INNER_KEYWORD_RE = re.compile(r"\b(GET|[A-Z][A-Z0-9_]*)[ \t]+[\"\w]")
_BINARY_WORDS = frozenset({"AND", "OR", "MOD", "IS", "CONTAINS", "THEN", "ELSE", "AS"})
# FORMAT x AS "pattern" (without parentheses): x is a name, a string or a call.
_FORMAT_AS_RE = re.compile(r"[ \t]+(?:\"[^\"\n]*\"|[^\W\d][\w.]*(?:\((?:[^()\n]|\([^()\n]*\))*\))?)[ \t]+AS\b",
                           re.IGNORECASE)
_TABLE_HEAD_RE = re.compile(r"[ \t]+[^\W\d][\w.]*[ \t]*(?:'.*)?\r?$")
_NAME_AFTER_RE = re.compile(r"[ \t]+([^\W\d]\w*)")
# Prose: a word, then another word (or a character that cannot follow a value).
_PROSE_RE = re.compile(r"([^\W\d]\w*)[ \t]+(?:([^\W\d]\w*)|[^\w\s\"'(\[{+\-*/\\^&=<>,.])")
_CLAUSE_RE = re.compile(r"[ \t]+(?:DESCRIPTION|OPTIONAL|DEFAULT|ENUM|LIKE)\b")
# First words of the keyword table (a keyword value may start with them: ``x = send ...``).
_KEYWORD_HEADS = frozenset(k.split()[0] for k in KEYWORDS)
# END + these words is a closer gb knows (or a mistake to report), never an unknown keyword.
_KNOWN_CLOSED = frozenset({"IF", "SELECT", "WITH", "FUNCTION", "SUB", "WHILE", "FOR", "TALK", "SYSTEM",
                           "TABLE", "DO", "LOOP", "CASE", "NEXT", "WEND", "ELSE", "THEN"})
# A next line that starts like this cannot be a statement: it goes on a raw statement's text.
_PROSE_GOES_ON_RE = re.compile(r"[ \t]*[$\-*\u2022|>]")
_RAW_GOES_ON_WORDS = frozenset({"AND", "OR", "NOT", "WHERE", "SET", "WITH", "VALUES", "BY"})
# A next line that starts with a clause word goes on a raw statement (``UPDATE ... SET a = 1`` then ``WHERE id = x``).
_RAW_NEXT_CLAUSE_RE = re.compile(r"[ \t]*(?:WHERE|AND|OR|ORDER[ \t]+BY)[ \t]+[^\s=]", re.IGNORECASE)


def _raw_goes_on(line: str) -> bool:
    """True when a raw statement line ends in a way that continues it on the next line."""
    s = line.rstrip()
    if not s:
        return False
    if s[-1] in ",+-*/&|=<>(\\_":
        return True
    m = re.search(r"([A-Za-z]+)\Z", s)
    return m is not None and m.group(1).upper() in _RAW_GOES_ON_WORDS


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

    def __init__(self, text: str, file: str, raw_lines: frozenset[int] = frozenset()) -> None:
        self.text = text if text.endswith("\n") else text + "\n"
        self.ascii = self.text.isascii()  # nothing to normalise (see nfkc): the usual case
        self.file = file
        self.pos = 0
        self.line = 1
        self.line_pos = 0  # position where the current physical line starts
        self.prev: str | None = None  # type of the previous token on this logical line
        self.stmt_start = True
        self.line_kw: str | None = None  # first keyword of the statement
        self.depth = 0  # brackets open on this logical line
        self.open_at = 0  # depth at which a bracket left open at the end of a line was opened (0: none)
        self.raw_lines = raw_lines  # lines whose keyword's arguments are kept as text (see raw_rest)
        self.pending: Token | None = None  # a token the word just lexed brings along (TEXT, RAW)

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
                    if self.pending is not None:
                        yield self.pending
                        self.pending = None
            elif kind == "op":
                self.pos = end
                op = m.group(kind)
                type_ = ops[op]
                if type_ in _OPENERS:
                    self.depth += 1
                elif type_ == "RBRACE" and self.prev is None:  # `}` / `} else {` closing `if x {`
                    self.line_kw = "RBRACE"
                elif type_ in _CLOSERS and self.depth:
                    self.depth -= 1
                    if self.depth < self.open_at:
                        self.open_at = 0
                yield self.tok(type_, op, start)
                if type_ == "EQ" and self.raw_lines and -self.line in self.raw_lines and self.line_kw is None:
                    # x = a OR GET "k", "d", x = {"a": FIND "t" WHERE ...}: the value holds a keyword
                    # with arguments, as text
                    self.line_kw = "CMD"
                    rest = self.raw_rest()
                    km = _INNER_KEYWORD_RE.search(str(rest))
                    yield _Token("CMD", km.group(1).upper() if km else "GET", rest.start_pos or 0,
                                 rest.line or 0, rest.column or 0)
                    yield rest
            elif kind == "nl":
                self.pos = end
                self.line += 1
                self.line_pos = end
                prev = self.prev
                if prev == "COMMA" or ((prev in _MAY_CONTINUE or self.open_at) and self.continues(end)):
                    continue  # a line ending in a comma (or an open bracket, ...) continues
                if prev is not None:
                    yield _Token("_NL", "\n", start, self.line - 1, start - self.line_pos + 1)
                self.prev, self.stmt_start, self.line_kw = None, True, None
                self.depth = self.open_at = 0
                at_line_start = True
            elif kind == "semi":  # `return true;`: a ; ends the statement
                self.pos = end
                if self.prev is not None:
                    yield _Token("_NL", ";", start, self.line, start - self.line_pos + 1)
                self.end_statement()
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

    def end_statement(self) -> None:
        self.prev, self.stmt_start, self.line_kw = None, True, None
        self.depth = self.open_at = 0

    def continues(self, nl_end: int) -> bool:
        """True when the statement goes on after the newline that ends at `nl_end`: after a comma,
        inside a bracket left open at the end of a line (``x = {`` ... ``}``; not the ``{`` of
        ``if x {``), or after an operator when the next line starts with a string, a number or
        ``(``."""
        prev = self.prev
        if prev == "COMMA":
            return True
        if prev in _OPENERS and self.line_kw not in ("IF", "ELSEIF", "ELSE", "RBRACE"):
            if not self.open_at:
                self.open_at = self.depth
            return True
        if self.open_at and self.depth >= self.open_at:
            return True
        return prev in _TRAILING_OPERATORS and _CONTINUATION_START.match(self.text, nl_end - 1) is not None

    def line_start(self) -> Iterator[Token]:
        """Skip indentation, a line number, comment lines; emit a label if there is one."""
        text = self.text
        m = _LINE_START_RE.match(text, self.pos)
        if m is not None:  # the pattern matches the empty string, so always
            self.pos = m.end()
        rest = text[self.pos : self.pos + 2]
        if rest.startswith(("//", "#")) and rest != "#{":
            self.pos = _eol(text, self.pos)
            return
        sm = _STEP_RE.match(text, self.pos)
        if sm:  # `STEP 1:`: a step marker of a workflow, nothing runs
            yield self.tok("STEPLABEL", sm.group(0), self.pos)
            yield Token("_NL", "\n", sm.end(), self.line, sm.end() - self.line_pos + 1)
            self.prev, self.stmt_start = None, True
            self.pos = sm.end()
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
            if kind == "END" and len(words) > 1:
                other = self.end_other(words)
                if other is not None:
                    return other
            self.pos = end
            self.stmt_start = False
            if kind == "BEGIN_TALK" or kind == "BEGIN_PROMPT":
                return [self.text_block(kind, pos, end)]
            self.line_kw = kind
            if kind == "KW":
                return self.head(self.tok(kind, key, pos))
            return [self.tok(kind, text[pos:end], pos)]
        if upper == "TABLE" and not self.is_assignment(words[0][2]):
            block = self.table_block(pos, words[0][2])
            if block is not None:
                return [block]
        if upper == "BEGIN" and not self.is_assignment(words[0][2]):
            blocks = self.other_block(pos, words[0][2])
            if blocks is not None:
                return blocks
        return self.first_word(words, pos)

    def head(self, tok: Token) -> list[Token]:
        """A keyword (or unknown keyword) token that starts a statement's arguments, and on a line
        of :attr:`raw_lines` the arguments as one ``RAW`` token."""
        if self.raw_lines and tok.line in self.raw_lines:
            return [tok, self.raw_rest()]
        return [tok]

    def raw_rest(self) -> Token:
        """The rest of the statement as text: a keyword's arguments that are not an argument list
        (``UPDATE "t" SET a = 1 WHERE id = 2``, ``SET SCHEDULE "0 9 * * *" "jobs.bas"``).

        The text runs to the end of the line, and on across lines while a bracket is open or a
        line ends with ``,``, an operator or ``AND``/``OR``/``WHERE``/``SET``/... ; a ``'`` that
        is not closed on its line starts a comment.
        """
        text = self.text
        start = p = self.pos
        depth = 0
        line_start = p
        cut = -1  # where a comment cuts the current line
        while p < len(text):
            c = text[p]
            if c == "\n":
                if depth > 0 or _raw_goes_on(text[line_start : cut if cut >= 0 else p]) or \
                        _PROSE_GOES_ON_RE.match(text, p + 1) is not None or \
                        _RAW_NEXT_CLAUSE_RE.match(text, p + 1) is not None:
                    line_start, cut = p + 1, -1
                    p += 1
                    continue
                break
            if cut >= 0:
                p += 1
                continue
            if c == '"':  # a string, which may run over lines as everywhere
                q = text.find('"', p + 1)
                p = q + 1 if q >= 0 else len(text) - 1
                continue
            if c == "'":
                q = text.find("'", p + 1)
                nl = text.find("\n", p + 1)
                if q >= 0 and (nl < 0 or q < nl):
                    p = q + 1
                else:
                    cut = p
                continue
            if c in "([{":
                depth += 1
            elif c in ")]}" and depth:
                depth -= 1
            p += 1
        end = cut if cut >= 0 and text.rfind("\n", 0, p) < cut else p
        tok = _Token("RAW", text[start:end].strip(), start, self.line, start - self.line_pos + 1)
        self.advance_lines(start, p)
        self.pos = p
        self.prev = "RAW"
        return tok

    def end_other(self, words: list[tuple[str, int, int]]) -> list[Token] | None:
        """``END WHEN``, ``END PARALLEL``: the closer of a block gb does not know, alone on its line,
        is an unknown keyword statement (its opener is one too, and fails first when it runs)."""
        second, _, end = words[1]
        if second.upper() in _KNOWN_CLOSED or not _WORDS_RE.match(second) or second[0].isdigit():
            return None
        rest = self.text[end:_eol(self.text, end)].strip()
        if rest and not rest.startswith("'"):
            return None
        self.pos = end
        self.stmt_start = False
        self.line_kw = "CMD"
        return [self.tok("CMD", f"END {second.upper()}", words[0][1])]

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
            if kw in _SPECIAL_FORMS:
                cmd = self.special_keyword(kw, words, pos)
                if cmd is not None:
                    return cmd
            self.pos = end
            self.line_kw = kw
            if kw == "PARAM" or kw == "DESCRIPTION":
                return self.param_or_description(kw, first, pos)
            return [self.tok(kw, first, pos)]
        nxt = self.next_char(end)
        if nxt[:1] in ("=", ".", "[", "(") or upper in _OPERATOR_WORDS:
            return None  # an assignment or a call: the main loop lexes it
        # An unknown word followed by arguments or nothing: a keyword statement gb does not
        # implement, or a SUB called without parentheses. Upper-case words extend it.
        return self.head(self.command(words, 0, pos))

    def command(self, words: list[tuple[str, int, int]], k0: int, pos: int) -> Token:
        """The CMD token of an unknown keyword whose first word is ``words[k0]``: upper-case words
        after an upper-case first word extend it (``SEND TEMPLATE TO``), up to a word before ``(``."""
        k = k0 + 1
        if _UPPER_WORD.match(words[k0][0]):
            self.more_words(words)
            while k < len(words) and _UPPER_WORD.match(words[k][0]) and words[k][0] not in _NOT_ARGUMENT_WORDS \
                    and words[k][0] not in _OPERATOR_WORDS and self.next_char(words[k][2])[:1] not in ("(", ".", "["):
                k += 1
        self.pos = words[k - 1][2]
        self.line_kw = "CMD"
        return self.tok("CMD", " ".join(w for w, _, _ in words[k0:k]), pos)

    def special_keyword(self, kw: str, words: list[tuple[str, int, int]], pos: int) -> list[Token] | None:
        """Statement words that start a keyword statement in some forms:

        * ``SET "file.xlsx", "A1", v`` / ``CALL "/api/x", a`` (a string after SET or CALL), ``SET``
          alone, ``SET SESSION id, k, v`` (upper-case words, not a variable being set);
        * ``GET stock for "MSFT"`` (GET with more than one variable name);
        * ``For sales pipelines, ...`` (FOR followed by two words: prose, not a loop).

        Returns:
            The CMD token (and its raw arguments), or None for the statement's own form.
        """
        end = words[0][2]
        nxt = self.next_char(end)[:1]
        self.more_words(words)
        if kw == "END":
            return self.end_other(words) if len(words) > 1 else None
        if kw == "FOR":
            if len(words) > 2 and words[1][0].upper() != "EACH" and self.next_char(words[1][2])[:1].isalpha() \
                    and words[2][0].upper() not in ("IN", "TO"):
                return self.head(self.command(words[:1], 0, pos))
            return None
        if kw == "GET":
            if len(words) > 1 and self.text[words[1][2]:_eol(self.text, words[1][2])].strip()[:1] not in ("", "'"):
                self.pos = end
                self.line_kw = "CMD"
                return self.head(self.tok("CMD", "GET", pos))
            return None
        if nxt in ('"', "\u201c") or (kw == "SET" and nxt in ("\n", "", "'")):
            self.pos = end
            self.line_kw = "CMD"
            return self.head(self.tok("CMD", kw, pos))
        if kw != "SET":
            return None
        if len(words) < 2 or not _UPPER_WORD.match(words[1][0]) or self.is_assignment(words[1][2]) \
                or self.next_char(words[1][2])[:1] in ("(", "\n", ""):
            return None
        cmd = self.command(words, 1, pos)
        return self.head(self.tok("CMD", "SET " + cmd, pos))

    def param_or_description(self, kw: str, first: str, pos: int) -> list[Token]:
        """``PARAM name ...``: the word after PARAM is the name, whatever it is (``PARAM description``);
        ``DESCRIPTION text``: unquoted text is a ``TEXT`` token."""
        out = [self.tok(kw, first, pos)]
        if kw == "PARAM":
            m = _NAME_AFTER_RE.match(self.text, self.pos)
            if m:
                name = m.group(1) if self.ascii else nfkc(m.group(1))
                out.append(self.tok("NAME", name, m.start(1)))
                self.pos = m.end()
            return out
        text = self.unquoted_text(self.pos)
        if text is not None:
            out.append(text)
        return out

    def unquoted_text(self, pos: int) -> Token | None:
        """The rest of the line as a ``TEXT`` token when it is prose rather than an expression
        (``DESCRIPTION Returns the weather``, ``LIKE Stall Code``): two words or more that are not
        an operator expression. None when it starts with a quote, a number or a bracket, or is one
        word (a variable)."""
        text = self.text
        eol = _eol(text, pos)
        m = _SPACE_RE.match(text, pos)
        p = m.end() if m else pos
        rest = text[p:eol].rstrip()
        wm = _PROSE_RE.match(rest)
        if wm is None or wm.group(1).upper() in ("TRUE", "FALSE", "NULL", "NOT"):
            return None
        second = (wm.group(2) or "").upper()
        if second in _CLAUSE_WORDS or second in ("AND", "OR", "MOD", "CONTAINS") or \
                (second == "IS" and rest[wm.end():].split()[:1] in (["NULL"], ["NOT"], ["null"], ["not"])):
            return None
        if self.line_kw == "PARAM":
            cm = _CLAUSE_RE.search(rest)
            if cm is not None:
                rest = rest[:cm.start()]
        self.pos = p + len(rest)
        return self.tok("TEXT", rest.strip(), p)

    def word(self, w: str, start: int, end: int) -> Token | None:
        self.pos = end
        if not self.ascii:
            w = nfkc(w)
        if w == "_" and self.next_char(end)[:1] in ("\n", "\r", ""):
            nl = self.text.index("\n", end)
            self.pos = nl + 1
            self.advance_lines(end, nl + 1)
            return None
        if self.prev == "DOT":  # `.to`, `.step`, `.length`: a field, whatever the word
            return self.tok("NAME", w, start)
        upper = w.upper()
        if upper == "GET" or upper in _REQUEST_WORDS:
            t = self.request_function(w, start)
            if t is not None:
                return t
            if upper == "GET" and self.prev == "EQ" and self.line_kw is None:
                t = self.get_command(w, start, end)
                if t is not None:
                    return t
        kw = _OPERATOR_WORDS.get(upper)
        if kw == "MOD" and (self.prev is None or self.prev not in _VALUE_END) and self.next_char(end)[:1] == "(":
            kw = None  # MOD(a, b), the function
        if kw is None:
            ctx = _LINE_WORDS.get(upper)
            if ctx is not None and self.line_kw in ctx:
                kw = upper
            elif upper in _AFTER_VALUE_WORDS and self.prev in _VALUE_END and self.prev != "HEAR":
                kw = _AFTER_VALUE_WORDS[upper]
        if kw is not None:
            if kw == "THEN" or kw == "ELSE":
                self.stmt_start = True
            elif kw in _TEXT_CLAUSES and self.line_kw == "PARAM":
                tok = self.tok(kw, w, start)
                text = self.unquoted_text(end)
                if text is not None:
                    self.pending = text
                return tok
            return self.tok(kw, w, start)
        if (self.prev == "EQ" and self.line_kw is None) or self.prev == "RETURN":
            cmd = self.command_value(w, upper, start, end)
            if cmd is not None:
                return cmd
        if (upper == "FORMAT" or (w[0].isupper() and w.isupper())) and self.prev not in _VALUE_END:
            value = self.keyword_value(w, upper, start, end)
            if value is not None:
                return value
        return self.tok("NAME", w, start)

    def keyword_value(self, w: str, upper: str, start: int, end: int) -> Token | None:
        """Inside an expression: ``FORMAT x AS "pattern"`` / ``FORMAT GUID()`` (FORMAT without
        parentheses), and upper-case words in a row (``NOT CONTINUATION TOKEN``: a keyword value
        gb does not know, a ``WORDS`` token)."""
        nxt = self.next_char(end)
        if upper == "FORMAT" and nxt[:1] != "(":
            if _FORMAT_AS_RE.match(self.text, end):
                return self.tok("FORMAT_AS", w, start)
            if nxt[:1].isalpha() or nxt[:1] == "_":
                return self.tok("FORMAT1", w, start)
            return None
        if not _UPPER_WORD.match(w) or not (nxt[:1].isalpha() and nxt[:1].isupper()):
            return None
        words = [(w, start, end)]
        self.more_words(words)
        second = words[1][0] if len(words) > 1 else ""
        if not _UPPER_WORD.match(second) or second in _OPERATOR_WORDS or second in _NOT_ARGUMENT_WORDS \
                or second in _LINE_WORDS or self.next_char(words[1][2])[:1] in ("(", ".", "["):
            return None
        tok = self.command(words, 0, start)
        self.line_kw = self.line_kw if self.line_kw != "CMD" else None
        return _Token("WORDS", str(tok).upper(), start, tok.line or 0, tok.column or 0)

    def command_value(self, w: str, upper: str, start: int, end: int) -> Token | None:
        """``x = FIND "t", "a=1"``, ``x = DIR folder``, ``x = NEW ARRAY``, ``RETURN WITH a AS 1``: a
        keyword (or a built-in called without parentheses) whose arguments follow it, as the value
        of an assignment or a RETURN. None when the word is a plain value (``x = total``)."""
        nxt = self.next_char(end)
        if nxt[:1] in ('"', "'", "\u201c"):  # x = find "sheet", "filter"
            words = [(w, start, end)]
        elif nxt[:1].isalnum() or nxt[:1] in ("[", "{", "#", "_") or nxt in ("-", "+"):
            if not (_UPPER_WORD.match(w) or upper in _KEYWORD_HEADS or upper in BUILTINS):
                return None
            words = [(w, start, end)]
            self.more_words(words)
            if len(words) > 1 and words[1][0].upper() in _BINARY_WORDS:
                return None  # x = A AND B
        else:
            return None
        self.more_words(words)
        for k in range(len(words), 0, -1):  # a known keyword, the longest first
            key = _phrase_key([x for x, _, _ in words[:k]])
            if key in KEYWORDS and (k == len(words) or self.next_char(words[k - 1][2])[:1] != "("):
                self.pos = words[k - 1][2]
                self.line_kw = "CMD"
                return self.cmd_head(key, start)
        if upper in BUILTINS:
            self.pos = end
            self.line_kw = "CMD"
            return self.cmd_head(upper, start)
        tok = self.command(words, 0, start)
        return self.cmd_head(str(tok).upper(), start)

    def cmd_head(self, name: str, start: int) -> Token:
        """The CMD token of a keyword value; on a raw line, its arguments are the next token."""
        tok = self.tok("CMD", name, start)
        if self.raw_lines and tok.line in self.raw_lines:
            self.pending = self.raw_rest()
        return tok

    def get_command(self, w: str, start: int, end: int) -> Token | None:
        """``x = GET SESSION id, "k"``, ``x = GET ATTENDANTS "online"``: GET and upper-case words
        with arguments after them are a keyword; on a raw line ``x = GET a, b`` is the keyword GET."""
        if self.raw_lines and self.line in self.raw_lines:
            self.pos = end
            self.line_kw = "CMD"
            return self.cmd_head("GET", start)
        words = [(w, start, end)]
        self.more_words(words)
        if len(words) < 2 or not _UPPER_WORD.match(words[1][0]) or words[1][0] in _OPERATOR_WORDS:
            return None
        after = self.next_char(words[1][2])[:1]
        if after in ("(", ".", "[", "\n", "", "+", "&", "-", "*", "/", "=", "<", ">", "'", ")"):
            return None  # GET URL, GET X + 1: a session variable named in upper case
        tok = self.command(words, 1, start)
        return self.cmd_head("GET " + str(tok).upper(), start)

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

    def table_block(self, pos: int, end: int) -> Token | None:
        """``TABLE name`` ... ``END TABLE``: the block's text as one ``TABLEBLOCK`` token (its field
        lines are read by :func:`gb_basic.tables.parse_table`). None when the line is not a
        ``TABLE name`` line.

        Raises:
            BasicSyntaxError: the block has no END TABLE.
        """
        text = self.text
        nl = text.index("\n", end)
        if _TABLE_HEAD_RE.match(text, end, nl) is None:
            return None
        first_line = self.line
        p = nl + 1
        while p < len(text):
            q = text.index("\n", p)
            if " ".join(text[p:q].split()).upper() == "END TABLE":
                tok = Token("TABLEBLOCK", text[pos:p].rstrip("\n"), pos, first_line, pos - self.line_pos + 1)
                self.prev = tok.type
                self.stmt_start = False
                self.pos = q
                self.advance_lines(end, q)
                return tok
            p = q + 1
        self.pos = len(text)
        raise self.error(f"TABLE {text[end:nl].strip()} has no END TABLE", pos, "TABLE")

    def other_block(self, pos: int, end: int) -> list[Token] | None:
        """``BEGIN MAIL to`` ... ``END MAIL``: a text block of a keyword gb does not know, as the
        keyword and its text (a ``RAW`` token). Its closer is the first ``END`` line with the same
        words, the same first word or the same last word (``BEGIN SYTEM PROMPT`` ... ``END SYSTEM
        PROMPT``). None when no line closes it: then BEGIN is an unknown keyword like any other."""
        text = self.text
        nl = text.index("\n", end)
        opener = [w.upper() for w in _WORDS_RE.findall(text, end, nl)]
        if not opener:
            return None
        p = nl + 1
        while p < len(text):
            q = text.index("\n", p)
            words = text[p:q].upper().split()
            if len(words) > 1 and words[0] == "END" and \
                    (words[1:] == opener or words[1] == opener[0] or words[-1] == opener[-1]):
                words_ = [(w, m.start(), m.end()) for m in _WORDS_RE.finditer(text, pos, nl) for w in [m.group(1)]]
                cmd = self.command(words_, 0, pos)
                raw = _Token("RAW", text[self.pos:p].strip(), self.pos, self.line, self.pos - self.line_pos + 1)
                self.prev = "RAW"
                self.stmt_start = False
                self.pos = q
                self.advance_lines(end, q)
                return [cmd, raw]
            p = q + 1
        return None

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


def tokenize(text: str, file: str = "<dialog>", raw_lines: frozenset[int] = frozenset()) -> Iterator[Token]:
    """Yield the lark tokens of a BASIC source text.

    Args:
        text: the source.
        file: the file name its errors carry.
        raw_lines: lines whose keyword statement's arguments are one ``RAW`` token (the parser
            finds them: keyword statements whose arguments are not an argument list).
    """
    return _Lexer(text, file, raw_lines).tokens()


def tokenize_recovering(text: str, file: str = "<dialog>",
                        raw_lines: frozenset[int] = frozenset()) -> Iterator[Token | BasicSyntaxError]:
    """Yield the lark tokens of a BASIC source text, and each lexical error where it occurs
    (see :meth:`_Lexer.tokens_recovering`)."""
    return _Lexer(text, file, raw_lines).tokens_recovering()


class Source(str):
    """A source text that carries the lines to lex raw through lark to :class:`BasicLexer`."""

    raw_lines: frozenset[int] = frozenset()


class BasicLexer(Lexer):
    """lark custom lexer (interface 0): lark calls ``lex(text)``."""

    __future_interface__ = 0

    def __init__(self, lexer_conf: object) -> None:
        self.lexer_conf = lexer_conf

    def lex(self, text: str) -> Iterator[Token]:  # type: ignore[override]
        return tokenize(text, raw_lines=getattr(text, "raw_lines", frozenset()))
