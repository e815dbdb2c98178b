"""The JupyterLab extension's gb BASIC language (labextension/): its words come from gb_basic, it is
installed and enabled with the package, and in real JupyterLab (Debian's headless chromium) a gb
cell's tokens carry the right highlight classes and Enter indents by blocks.

CodeMirror 6 puts a token's classes on spans inside ``.cm-line``; the extension adds the stable
``tok-*`` classes of @lezer/highlight's classHighlighter (``tok-keyword``, ``tok-string``,
``tok-string2`` for an interpolation, ``tok-comment``, ``tok-meta``) and ``tok-builtin`` for a
built-in function, which the tests read.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

from gb_basic.builtins import BUILTINS
from gb_basic.lexer import PHRASES, STATEMENT_KEYWORDS
from gb_basic.validators import HEAR_TYPES
from gb_kernel.vocabulary import render
from tests.browser import ARTIFACTS, Lab, chromium_page
from tests.helpers import ROOT

VOCABULARY = ROOT / "labextension" / "src" / "vocabulary.json"


# --- the words, from gb_basic ---------------------------------------------------------------------


def test_the_editor_words_are_gb_basics():
    # The extension's build writes this file (npm run build:vocabulary); it is committed, and
    # must be what gb_basic says now: `python -m gb_kernel.vocabulary labextension/src/vocabulary.json`.
    assert VOCABULARY.read_text(encoding="utf-8") == render(), "regenerate labextension/src/vocabulary.json"
    words = json.loads(VOCABULARY.read_text(encoding="utf-8"))
    heads = set(words["statements"]) | set(words["phrases"])
    assert {p for p in PHRASES} <= heads
    assert set(STATEMENT_KEYWORDS) <= heads
    assert {"USE KB", "SET CONTEXT", "ADD SUGGESTION", "BEGIN TALK", "END TALK", "END TABLE", "REMEMBER"} <= heads
    assert set(words["builtins"]) == {b.upper() for b in BUILTINS}
    assert set(words["types"]) == set(HEAR_TYPES)
    assert words["blocks"]["IF"] == ["END IF", "ENDIF", "END"] and words["blocks"]["TABLE"] == ["END TABLE"]
    assert words["phrases"] == sorted(words["phrases"], key=lambda p: (-len(p), p))  # longest first


# --- installed with the package ---------------------------------------------------------------------


def test_the_extension_is_installed_and_enabled():
    done = subprocess.run([sys.executable, "-m", "jupyterlab.labextensions", "list"], capture_output=True,
                          text=True, timeout=120)
    listing = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)  # without the colours
    assert done.returncode == 0, listing
    assert re.search(r"^\s*jupyterlab-gb v0\.1\.0 enabled OK \(python, gb\)$", listing, re.MULTILINE), listing


# --- in JupyterLab -----------------------------------------------------------------------------------------

# Every span of a cell's lines: its text and its tok-* classes (beside them, the theme's generated ones).
_SPANS = """cell => [...cell.querySelectorAll('.cm-line span')].map(
    s => [s.textContent, [...s.classList].filter(c => c.startsWith('tok-')).join(' ')])"""


def _open(page: Any, lab: Lab, name: str, cells: list[str]) -> None:
    """Open a notebook of `cells` and wait for its gb kernel (its language_info names the language)."""
    from playwright.sync_api import expect

    page.goto(lab.open(name, cells))
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
    expect(page.get_by_text("gb BASIC | Idle")).to_be_visible(timeout=90_000)


def _classes(page: Any, cell: int) -> dict[str, str]:
    """The classes of each token text of the cell (the last span of a text wins)."""
    from playwright.sync_api import expect

    editor = page.locator(".jp-Notebook .jp-Cell .cm-content").nth(cell)
    expect(editor.locator("span.tok-keyword").first).to_be_visible(timeout=30_000)
    return {text.strip(): classes for text, classes in editor.evaluate(_SPANS)}


CELL = '''TALK "Hello ${name}!" ' greet
HEAR age AS INTEGER WITH "Your age?"
REMEMBER "age", age
REM REMEMBER is a keyword, REM a comment
total = 3.5 + LEN("ab")
SET CONTEXT "shop"
USE KB "faq"'''

TRANSCRIPT = """%%transcript default start
bot: If you want to talk, hear me
user: END IF"""


def test_tokens_carry_highlight_classes(lab: Lab):
    with chromium_page("lab-language-tokens-failure.png", viewport={"width": 1280, "height": 900}) as page:
        _open(page, lab, "tokens", [CELL, "%bot default", TRANSCRIPT])
        tokens = _classes(page, 0)
        for keyword in ("TALK", "HEAR", "AS", "WITH", "REMEMBER", "SET CONTEXT", "USE KB"):
            assert "tok-keyword" in tokens[keyword], (keyword, tokens)
        assert "tok-keyword" in tokens["INTEGER"] and "tok-typeName" in tokens["INTEGER"]
        assert "tok-string" in tokens['"Hello'] and "tok-string2" in tokens["${name}"]
        assert "tok-comment" in tokens["' greet"]
        assert "tok-comment" in tokens["REM REMEMBER is a keyword, REM a comment"]
        assert "tok-comment" not in tokens["REMEMBER"]
        assert "tok-number" in tokens["3.5"] and "tok-operator" in tokens["+"]
        assert "tok-variableName" in tokens["total"] and "tok-builtin" not in tokens["total"]
        assert "tok-builtin" in tokens["LEN"]
        magic = page.locator(".jp-Notebook .jp-Cell .cm-content").nth(1)
        assert magic.evaluate(_SPANS) == [["%bot default", "tok-meta"]]
        transcript = page.locator(".jp-Notebook .jp-Cell .cm-content").nth(2).evaluate(_SPANS)
        assert ["%%transcript default start", "tok-meta"] in transcript
        # the body is a conversation, not BASIC: no keyword colours for its English words
        assert not [t for t in transcript if "tok-keyword" in t[1]], transcript
        assert "talk, hear me" in page.locator(".jp-Notebook .jp-Cell .cm-content").nth(2).inner_text()
        page.screenshot(path=str(ARTIFACTS / "lab-language-tokens.png"), full_page=True)


def _type_lines(page: Any, cell: int, lines: list[str]) -> list[str]:
    """Type `lines` into the empty cell, Enter after each but the last; the cell's lines as shown."""
    editor = page.locator(".jp-Notebook .jp-Cell .cm-content").nth(cell)
    editor.click()
    for i, line in enumerate(lines):
        if i:
            page.keyboard.press("Enter")
        page.keyboard.type(line)
    return [str(t) for t in editor.locator(".cm-line").all_text_contents()]


def test_enter_indents_by_blocks(lab: Lab):
    with chromium_page("lab-language-indent-failure.png", viewport={"width": 1280, "height": 900}) as page:
        _open(page, lab, "indent", ["", "", "", "", "", "", "%bot default"])
        # a block IF indents its body, and typing END IF takes the line back to the IF's level
        lines = _type_lines(page, 0, ["IF x THEN", 'TALK "y"', "END IF", "FOR i = 1 TO 3", "TALK i"])
        assert lines == ["IF x THEN", '    TALK "y"', "END IF", "FOR i = 1 TO 3", "    TALK i"]
        # a HEAR ... WITH "..." is no WITH block: the next line stays where it was
        assert _type_lines(page, 1, ['HEAR x AS STRING WITH "a"', "TALK x"]) == ['HEAR x AS STRING WITH "a"', "TALK x"]
        # a single-line IF is no block either
        assert _type_lines(page, 2, ['IF a THEN TALK "b"', 'TALK "c"']) == ['IF a THEN TALK "b"', 'TALK "c"']
        # SELECT CASE: each CASE at one level, its statements at the next; END SELECT back at the start
        assert _type_lines(page, 3, ["SELECT CASE n", "CASE 1", 'TALK "one"', "CASE ELSE", 'TALK "other"',
                                     "END SELECT"]) == \
            ["SELECT CASE n", "    CASE 1", '        TALK "one"', "    CASE ELSE", '        TALK "other"',
             "END SELECT"]
        # a BEGIN TALK body is indented and END TALK closes it; DO ... LOOP, WITH ... END WITH
        assert _type_lines(page, 4, ["BEGIN TALK", "Hello {name}", "END TALK", "DO WHILE n < 3", "n = n + 1",
                                     "LOOP"]) == \
            ["BEGIN TALK", "    Hello {name}", "END TALK", "DO WHILE n < 3", "    n = n + 1", "LOOP"]
        # the seed's lower-case IF: no THEN, closed by a bare end
        assert _type_lines(page, 5, ["if ok", 'talk "y"', "else", 'talk "n"', "end", 'talk "z"']) == \
            ["if ok", '    talk "y"', "else", '    talk "n"', "end", 'talk "z"']
        page.screenshot(path=str(ARTIFACTS / "lab-language-indent.png"), full_page=True)


def test_bas_files_open_with_the_language(lab: Lab):
    from playwright.sync_api import expect

    (lab.notebooks / "hello.bas").write_text('TALK "Hi"\nIF ok THEN\n    HEAR name\nEND IF\n', encoding="utf-8")
    with chromium_page("lab-language-bas-failure.png", viewport={"width": 1280, "height": 900}) as page:
        page.goto(f"{lab.base}/lab/workspaces/bas/tree/hello.bas?token={lab.token}")
        editor = page.locator(".jp-FileEditor .cm-content")
        expect(editor.locator("span.tok-keyword").first).to_be_visible(timeout=60_000)
        tokens = {text: classes for text, classes in editor.evaluate(_SPANS)}
        assert "tok-keyword" in tokens["TALK"] and "tok-keyword" in tokens["HEAR"]
        assert "tok-string" in tokens['"Hi"']
        # the IF block folds (View > Code Folding > Fold Current Region): its body goes behind a
        # placeholder, the IF and END IF lines stay
        editor.locator(".cm-line").nth(1).click()
        page.locator(".lm-MenuBar-itemLabel", has_text="View").click()
        page.locator(".lm-Menu-itemLabel", has_text="Code Folding").hover()
        page.get_by_text("Fold Current Region", exact=True).click()
        expect(editor.locator(".cm-foldPlaceholder")).to_have_count(1)
        assert editor.locator(".cm-line").all_text_contents() == ['TALK "Hi"', "IF ok THEN…", "END IF", ""]
