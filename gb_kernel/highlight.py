"""Pygments lexer for gb BASIC: highlighting in exported notebooks, docs and terminals.

Registered through the ``pygments.lexers`` entry point (``gbbasic``), so
``get_lexer_by_name("gbbasic")`` and ``get_lexer_for_filename("x.bas")`` find it. It follows the
rules of :mod:`gb_basic.lexer` closely enough for colours, with three states per line:

* ``root`` is a statement start: statement keywords (``TALK``, ``SET BOT MEMORY``), ``REM``
  and ``'`` comments, ``label:`` and ``BEGIN TALK`` blocks are recognised only there, so
  ``description = 1`` or ``SET context = 1`` colour ``description``/``context`` as names.
* ``line`` is the rest of the statement; ``THEN``/``ELSE`` go back to ``root``, a newline too
  (unless the line ends with ``,`` or `` _``, which continue it).
* ``value`` is entered after an operator, ``=``, ``(``, ``,`` or a keyword: there a ``'`` closed
  on the same line opens a string; everywhere else ``'`` starts a comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from pygments.lexer import RegexLexer, bygroups, default, include
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)

from gb_basic.builtins import BUILTINS
from gb_basic.lexer import KEYWORD_STATEMENTS, KNOWN_STATEMENTS, STATEMENT_KEYWORDS
from gb_basic.validators import HEAR_TYPES

from .vocabulary import CONSTANTS, OPERATOR_WORDS

__all__ = ["GbBasicLexer"]

_NAME = r"[^\W\d]\w*"
# A statement that starts `word =`, `word.` or `word[` assigns a variable of that name.
_NOT_ASSIGNMENT = r"(?![ \t]*(?:=(?!=)|[.\[]))"

# Structural phrases after which a ' is a comment (they end a statement or take no value).
_CLOSING_PHRASES = (
    "END IF", "END SELECT", "END WITH", "END FUNCTION", "END SUB", "END WHILE", "END FOR", "CASE ELSE",
    "EXIT FOR", "EXIT DO", "EXIT WHILE", "EXIT FUNCTION", "EXIT SUB", "ON ERROR RESUME NEXT",
    "ON ERROR GOTO 0", "ON LOGIN",
)
# Phrases followed by an expression or arguments: a ' right after them opens a string.
_OPENING_PHRASES = (
    "ELSE IF", "FOR EACH", "DO WHILE", "DO UNTIL", "LOOP WHILE", "LOOP UNTIL", "SELECT CASE",
    "TALK TO", "ON ERROR GOTO", "GET BOT MEMORY", "GET USER MEMORY", *sorted(KNOWN_STATEMENTS),
)
# Single statement keywords that end a statement or take a name, not a value.
_CLOSING_WORDS = ("END", "ENDIF", "ELSE", "NEXT", "LOOP", "WEND", "DO", "EXIT", "WITH")
_OPENING_WORDS = tuple(sorted(
    (set(STATEMENT_KEYWORDS) | {"SELECT", "LET"}) - set(_CLOSING_WORDS) - {"HEAR", "PARAM", "FUNCTION", "SUB"}
))
_REQUEST_FUNCTIONS = ("GET BOT MEMORY", "GET USER MEMORY")
# Words that are keywords anywhere in a statement and are followed by a value.
_LINE_KEYWORDS = ("TO", "STEP", "AS", "IN", "GET", "UNTIL", "WHILE")


def _words(words: Iterable[str]) -> str:
    """An alternation of whole words, longest first (regex alternation takes the first match)."""
    return "(?:" + "|".join(sorted({re.escape(w) for w in words}, key=lambda w: (-len(w), w))) + r")\b"


def _phrases(phrases: Iterable[str]) -> str:
    """Multi-word keywords: words joined by blanks or by ``_`` (``SET_BOT_MEMORY``)."""
    joined = {r"(?:[ \t]+|_)".join(re.escape(w) for w in p.split()) for p in phrases}
    return "(?:" + "|".join(sorted(joined, key=lambda p: (-len(p), p))) + r")\b"


def _interpolation(excluded: str) -> list[tuple[Any, ...]]:
    """Rules for ``${expr}`` (one level of nested braces) and ``{name.field}`` in a string."""
    x = re.escape(excluded)
    return [
        (rf"\$\{{(?:[^{{}}{x}]|\{{[^{{}}{x}]*\}})*\}}", String.Interpol),
        (rf"\{{{_NAME}(?:\.{_NAME})*\}}", String.Interpol),
    ]


def _text_block(closer: str) -> list[tuple[Any, ...]]:
    """Body of ``BEGIN TALK``/``BEGIN SYSTEM PROMPT``: text with interpolation up to the END line."""
    end = r"[ \t]+".join(closer.split())
    return [
        (rf"^([ \t]*)({end})([ \t\r]*)$", bygroups(Whitespace, Keyword, Whitespace), "#pop"),
        *_interpolation(""),
        (r"[^$\{\n]+", String.Heredoc),
        (r"[$\{\n]", String.Heredoc),
    ]


_BUILTINS_WITHOUT_MOD = sorted(set(BUILTINS) - {"MOD"})


class GbBasicLexer(RegexLexer):  # type: ignore[misc]  # Pygments ships no type hints
    """Highlights General Bots BASIC dialogs (``.bas``), case-insensitively."""

    name = "gb BASIC"
    aliases: ClassVar[list[str]] = ["gbbasic", "gb-basic", "basic-gb"]
    filenames: ClassVar[list[str]] = ["*.bas"]
    mimetypes: ClassVar[list[str]] = ["text/x-gb-basic"]
    # QBasic, CBM BASIC and VB.net also claim *.bas; without code, Pygments ranks them by this
    # number and then by class name, which would pick VbNetLexer.
    priority = 0.3
    flags = re.IGNORECASE | re.MULTILINE

    tokens: ClassVar[dict[str, list[Any]]] = {
        "root": [
            (r"^([ \t]*)(\d+)(?=[ \t]+\S)", bygroups(Whitespace, Name.Label)),  # a line number
            (r"^([ \t]*)((?://|#).*)$", bygroups(Whitespace, Comment.Single)),
            (r"\n", Whitespace),
            (r"[ \t\f\r]+", Whitespace),
            (r"'.*", Comment.Single),
            (r"REM(?=[ \t\r]|$).*", Comment.Single),
            (r"BEGIN[ \t]+TALK\b", Keyword, ("talkblock", "blockhead")),
            (r"BEGIN[ \t]+SYSTEM[ \t]+PROMPT\b", Keyword, ("promptblock", "blockhead")),
            (rf"(?!{_words(STATEMENT_KEYWORDS)}:)({_NAME})(:)(?=[ \t]|$|')", bygroups(Name.Label, Punctuation)),
            (_phrases(_CLOSING_PHRASES) + _NOT_ASSIGNMENT, Keyword, "line"),
            (_phrases(_OPENING_PHRASES) + _NOT_ASSIGNMENT, Keyword, ("line", "value")),
            (rf"(FUNCTION|SUB)\b([ \t]+)({_NAME})", bygroups(Keyword, Whitespace, Name.Function), "line"),
            (rf"(GOTO)\b([ \t]+)({_NAME})", bygroups(Keyword, Whitespace, Name.Label), "line"),
            (r"ELSE\b" + _NOT_ASSIGNMENT, Keyword),  # `ELSE TALK "x"`: a statement follows
            (r"HEAR\b" + _NOT_ASSIGNMENT, Keyword, "hear"),
            (r"PARAM\b" + _NOT_ASSIGNMENT, Keyword, ("param", "value")),
            (_words(_CLOSING_WORDS) + _NOT_ASSIGNMENT, Keyword, "line"),
            (_words(_OPENING_WORDS) + _NOT_ASSIGNMENT, Keyword, ("line", "value")),
            default("line"),
        ],
        "line": [
            (r"\n", Whitespace, "#pop"),
            (r"(,)([ \t]*\r?\n)", bygroups(Punctuation, Whitespace), "value"),  # continues
            (r"(_)([ \t]*\r?\n)", bygroups(Punctuation, Whitespace)),  # continues
            (r"[ \t\f\r]+", Whitespace),
            (r"'.*", Comment.Single),
            (r'"', String.Double, "dqstring"),
            ("[\u201c\u201d]", String.Double, "tqstring"),
            (r"(?:THEN|ELSE)\b", Keyword, "#pop"),  # a statement follows
            (r"(\d+\.\d*|\.\d+)([eE][+-]?\d+)?", Number.Float),
            (r"\d+[eE][+-]?\d+", Number.Float),
            (r"\d+", Number.Integer),
            (rf"(AS)([ \t]+)({_words(HEAR_TYPES)})", bygroups(Keyword, Whitespace, Keyword.Type)),
            (_phrases(_REQUEST_FUNCTIONS), Keyword),
            (r"HEAR\b", Keyword),
            (_words(_LINE_KEYWORDS), Keyword, "value"),
            (_words(OPERATOR_WORDS), Operator.Word, "value"),
            (_words(CONSTANTS), Keyword.Constant),
            (_words(_BUILTINS_WITHOUT_MOD) + r"(?=[ \t]*\()", Name.Builtin),
            (r"<>|!=|==|<=|>=|\?\?|&&|\|\||[-+*/\\^&=<>?]", Operator, "value"),  # ?? && || ?: (Rhai's forms)
            (r"\?\.", Punctuation),
            (r"#\{|[(\[{,]", Punctuation, "value"),
            (r"[)\]}.:;]", Punctuation),
            (_NAME, Name),
        ],
        "value": [
            (r"[ \t]+", Whitespace),
            (r"'(?=(?:[^'\n]|'')*')", String.Single, ("#pop", "sqstring")),
            (r"MOD(?=[ \t]*\()", Name.Builtin, "#pop"),  # MOD(a, b), the function
            default("#pop"),
        ],
        "hear": [
            (r"WITH\b", Keyword, "value"),
            include("line"),
        ],
        "param": [
            (r"(?:LIKE|DESCRIPTION)\b", Keyword, "value"),
            include("line"),
        ],
        "dqstring": [
            (r'""', String.Escape),
            (r'"', String.Double, "#pop"),
            *_interpolation('"'),
            (r'[^"$\{]+', String.Double),
            (r"[$\{]", String.Double),
        ],
        "sqstring": [
            (r"''", String.Escape),
            (r"'", String.Single, "#pop"),
            *_interpolation("'\n"),
            (r"[^'$\{\n]+", String.Single),
            (r"[$\{]", String.Single),
            (r"\n", Whitespace, "#pop"),
        ],
        "tqstring": [
            ("[\u201c\u201d]", String.Double, "#pop"),
            *_interpolation("\u201c\u201d"),
            ("[^\u201c\u201d$\\{]+", String.Double),
            (r"[$\{]", String.Double),
        ],
        "blockhead": [  # the rest of a BEGIN line: gb ignores it
            (r"\n", Whitespace, "#pop"),
            (r"[ \t\r]+", Whitespace),
            (r"[^\n]+", Comment.Single),
        ],
        "talkblock": _text_block("END TALK"),
        "promptblock": _text_block("END SYSTEM PROMPT"),
    }

    @staticmethod
    def analyse_text(text: str) -> float:
        """Rate how much `text` looks like gb BASIC: a statement starting with TALK or HEAR, or a
        gb keyword statement, is specific to the dialect (QBasic and VB.net have neither)."""
        if _SIGNATURE.search(text):
            return 0.6
        return 0.0


_SIGNATURE = re.compile(
    r"^[ \t]*(?:\d+[ \t]+)?(?:TALK|HEAR|" + _phrases(KEYWORD_STATEMENTS - {"WAIT", "SAVE"}) + r")\b",
    re.IGNORECASE | re.MULTILINE,
)
