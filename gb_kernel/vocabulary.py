"""The words of gb BASIC as the editors colour them, taken from :mod:`gb_basic`.

Two highlighters read these lists: the Pygments lexer of :mod:`gb_kernel.highlight` (exported
notebooks, docs) and the JupyterLab extension's CodeMirror language (``labextension/``). The
extension's build writes :func:`vocabulary` to ``labextension/src/vocabulary.json`` with::

    python -m gb_kernel.vocabulary labextension/src/vocabulary.json

so the editor, the lexer and the parser cannot drift; a test compares the committed file with
:func:`vocabulary`. This module imports only :mod:`gb_basic` (the extension's build runs it with
the language's own dependencies, not the kernel's).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gb_basic.builtins import BUILTINS
from gb_basic.lexer import PHRASES, STATEMENT_KEYWORDS
from gb_basic.validators import HEAR_TYPES

__all__ = ["BLOCKS", "CONSTANTS", "MIDDLES", "OPERATOR_WORDS", "vocabulary", "render", "main"]

# Words that are operators anywhere in an expression.
OPERATOR_WORDS = ("AND", "OR", "NOT", "MOD", "IS")
CONSTANTS = ("TRUE", "FALSE", "NULL", "NOTHING")
# Words that are keywords inside a statement (after its first word): `FOR i = 1 TO 9 STEP 2`,
# `HEAR x AS INTEGER WITH "Age?" DEFAULT 18`, `PARAM p LIKE x DESCRIPTION "..."`, `x IN xs`.
_LINE_KEYWORDS = ("THEN", "ELSE", "TO", "STEP", "AS", "IN", "CONTAINS", "WITH", "DEFAULT", "LIKE", "DESCRIPTION",
                  "OPTIONAL", "ENUM", "DO", "UNTIL", "WHILE", "HEAR", "GET")
# Blocks: the first words of the line that opens one -> the first words of the lines that close it.
# An IF opens a block when nothing (but a comment) follows its THEN, or when it has no THEN at
# all (the seed's `if cond` ... `else` ... `end`, closed by a bare END);
# `WITH` opens one only as a statement (not in `HEAR x WITH "..."`). Closers are listed longest first.
BLOCKS: dict[str, tuple[str, ...]] = {
    "IF": ("END IF", "ENDIF", "END"),  # the seed's lower-case `if cond` ... `end`
    "FOR": ("END FOR", "NEXT"),
    "FOR EACH": ("END FOR", "NEXT"),
    "DO": ("LOOP UNTIL", "LOOP WHILE", "LOOP"),
    "DO WHILE": ("LOOP UNTIL", "LOOP WHILE", "LOOP"),
    "DO UNTIL": ("LOOP UNTIL", "LOOP WHILE", "LOOP"),
    "WHILE": ("END WHILE", "WEND"),
    "SELECT CASE": ("END SELECT",),
    "FUNCTION": ("END FUNCTION",),
    "SUB": ("END SUB",),
    "WITH": ("END WITH",),
    "BEGIN TALK": ("END TALK",),
    "BEGIN SYSTEM PROMPT": ("END SYSTEM PROMPT",),
    "TABLE": ("END TABLE",),
}
# Lines inside a block that sit at the block's own indentation: `ELSE`, `CASE 1`.
MIDDLES = ("ELSE IF", "ELSEIF", "ELSE", "CASE ELSE", "CASE")


def _upper_sorted(words: Iterable[str]) -> list[str]:
    return sorted({w.upper() for w in words})


def vocabulary() -> dict[str, Any]:
    """The word lists and block table the CodeMirror language is built from (JSON data).

    Returns:
        ``statements`` (single words that start a statement), ``phrases`` (multi-word keywords,
        written with blanks or ``_``), ``lineKeywords``, ``operatorWords``, ``constants``,
        ``types`` (HEAR types), ``builtins`` (built-in functions), ``blocks`` (opener -> closers)
        and ``middles``; every word upper case.
    """
    closers = {c for cs in BLOCKS.values() for c in cs}
    phrases = {p for p in PHRASES | set(BLOCKS) | closers | set(MIDDLES) if " " in p}
    singles = {p for p in PHRASES | set(BLOCKS) | closers | set(MIDDLES) if " " not in p}
    return {
        "statements": _upper_sorted(singles | set(STATEMENT_KEYWORDS) | {"SELECT", "LET", "BEGIN"}),
        "phrases": sorted(phrases, key=lambda p: (-len(p), p)),  # longest first: the tokenizer tries them in order
        "lineKeywords": _upper_sorted(_LINE_KEYWORDS),
        "operatorWords": _upper_sorted(OPERATOR_WORDS),
        "constants": _upper_sorted(CONSTANTS),
        "types": _upper_sorted(HEAR_TYPES),
        "builtins": _upper_sorted(BUILTINS),
        "blocks": {opener: list(cs) for opener, cs in BLOCKS.items()},
        "middles": list(MIDDLES),
    }


def render() -> str:
    """:func:`vocabulary` as the text of ``vocabulary.json`` (sorted, indented, one trailing newline)."""
    return json.dumps(vocabulary(), indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the vocabulary to the file named by the one argument, or to stdout without one."""
    args = sys.argv[1:] if argv is None else argv
    if args:
        Path(args[0]).write_text(render(), encoding="utf-8")
    else:
        sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
