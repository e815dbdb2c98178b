"""The Pygments lexer, the kernelspec installer and the notebook help texts and completions."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from pygments.lexers import find_lexer_class_for_filename, get_lexer_by_name, get_lexer_for_filename
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, String, Token, Whitespace

from gb_basic.builtins import BUILTINS
from gb_basic.lexer import _PHRASES, KEYWORD_STATEMENTS, STATEMENT_KEYWORDS
from gb_basic.validators import HEAR_TYPES
from gb_kernel import docs, kernelspec
from gb_kernel.highlight import GbBasicLexer

ROOT = Path(__file__).resolve().parents[2]
BOT_FILES = sorted((ROOT / "bots").rglob("*.bas"))
GOLDEN_FILES = sorted((ROOT / "tests" / "basic" / "golden").rglob("*.bas"))
# Golden files whose source is deliberately not valid BASIC (an unexpected character).
BAD_CHARACTERS = {"syntax_unexpected_character.bas"}


def tokens(code: str) -> list[tuple[object, str]]:
    """The non-blank tokens of `code`."""
    return [(t, v) for t, v in GbBasicLexer().get_tokens(code) if t is not Whitespace]


def kinds(code: str, ttype: Any) -> list[str]:
    """The values of the tokens of `code` of type `ttype` or a subtype."""
    return [v for t, v in tokens(code) if t in ttype]


# --- the lexer ---------------------------------------------------------------------------------------


def test_there_are_files_to_check():
    assert len(BOT_FILES) >= 5 and len(GOLDEN_FILES) >= 100


@pytest.mark.parametrize("path", BOT_FILES + GOLDEN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_error_tokens(path: Path):
    text = path.read_text(encoding="utf-8")
    errors = [v for t, v in GbBasicLexer().get_tokens(text) if t in Error]
    if path.name in BAD_CHARACTERS:
        assert errors
    else:
        assert errors == []


def test_tokens_cover_the_text():
    text = (BOT_FILES[0]).read_text(encoding="utf-8")
    assert "".join(v for _, v in GbBasicLexer(stripnl=False).get_tokens(text)) == text


def test_statement_keywords_single_and_multi_word():
    code = ('talk "hi"\nSET BOT MEMORY "k", 1\nSET_BOT_MEMORY "k", 2\nuse kb "faq"\nCLEAR TOOLS\n'
            "FOR EACH x IN xs\nNEXT x\nON ERROR RESUME NEXT\nTRANSFER_SESSION \"email\"\nEnd If\n")
    assert kinds(code, Keyword) == ["talk", "SET BOT MEMORY", "SET_BOT_MEMORY", "use kb", "CLEAR TOOLS",
                                    "FOR EACH", "IN", "NEXT", "ON ERROR RESUME NEXT", "TRANSFER_SESSION",
                                    "End If"]


@pytest.mark.parametrize("phrase", sorted(_PHRASES) + sorted(STATEMENT_KEYWORDS))
def test_every_statement_keyword_is_one_keyword_token(phrase: str):
    if phrase.startswith("BEGIN"):
        code = f"{phrase}\ntext\nEND {phrase.split(maxsplit=1)[1]}\n"
    else:
        code = f"{phrase} x\n"
    first = tokens(code)[0]
    assert first == (Keyword, phrase)


def test_statement_words_used_as_variables_are_names():
    assert tokens("description = 1\n")[0] == (Name, "description")
    assert kinds("SET context = 1\n", Keyword) == ["SET"]
    assert kinds("SET context = 1\n", Name) == ["context"]


def test_hear_with_type_and_prompt():
    toks = tokens('HEAR qty AS INTEGER WITH "How many?"\n')
    assert toks[:5] == [(Keyword, "HEAR"), (Name, "qty"), (Keyword, "AS"), (Keyword.Type, "INTEGER"),
                        (Keyword, "WITH")]
    assert kinds("HEAR x AS Email\nname = HEAR\n", Keyword.Type) == ["Email"]
    assert kinds("HEAR x AS Email\nname = HEAR\n", Name) == ["x", "name"]


def test_param_line_words():
    code = 'PARAM order_id AS INTEGER LIKE 12345 DESCRIPTION "The order"\n'
    assert kinds(code, Keyword) == ["PARAM", "AS", "INTEGER", "LIKE", "DESCRIPTION"]


def test_operator_words_constants_builtins_numbers():
    code = "x = LEN(a) MOD 2 AND NOT y IS NULL OR TRUE\nz = mod(7, 3) + 1.5e3 - .5\ncount = 1\n"
    assert kinds(code, Operator.Word) == ["MOD", "AND", "NOT", "IS", "OR"]
    assert kinds(code, Keyword.Constant) == ["NULL", "TRUE"]
    assert kinds(code, Name.Builtin) == ["LEN", "mod"]
    assert kinds(code, Number.Float) == ["1.5e3", ".5"]
    assert ("count" in kinds(code, Name)) and "count" not in kinds(code, Name.Builtin)


def test_strings_escapes_and_interpolation():
    code = 'TALK "Hi {name}, ""quoted"" ${n * 2} {not a name} $5"\n'
    assert kinds(code, String.Interpol) == ["{name}", "${n * 2}"]
    assert kinds(code, String.Escape) == ['""', '""']
    assert "".join(v for t, v in tokens(code) if t in String) == code[5:-1]


def test_multiline_and_typographic_strings():
    assert kinds('TALK "first\nsecond"\nTALK “Hi {name}”\n', Keyword) == ["TALK", "TALK"]
    assert kinds("TALK “Hi {name}”\n", String.Interpol) == ["{name}"]


def test_single_quote_is_a_string_after_an_operator_and_a_comment_elsewhere():
    code = "TALK 'a {b}'\nx = 'c' + 'd'\nTALK \"e\" 'comment'\nRETURN ' no value\nTALK UPPER('f')\n"
    assert [v for t, v in tokens(code) if t in String.Single and v != "'"] == ["a ", "c", "d", "f"]
    assert kinds(code, String.Interpol) == ["{b}"]
    assert kinds(code, Comment) == ["'comment'", "' no value"]


def test_comments():
    code = ("' whole line\nTALK 1 ' after code\nREM rem line\nrem\nREMEMBER \"x\"\n// slashes\n"
            "   # hash\nx = 1 // 2\n")
    assert kinds(code, Comment) == ["' whole line", "' after code", "REM rem line", "rem", "// slashes",
                                    "# hash"]
    assert tokens(code)[kinds(code, Token).index("REMEMBER")][0] is Keyword  # a keyword statement, not REM
    assert kinds("x = 1 // 2\n", Operator) == ["=", "/", "/"]


def test_labels_goto_functions_line_numbers():
    code = "again:\nIF n < 3 THEN GOTO again\nFUNCTION twice(n)\nEND FUNCTION\n10 TALK 1\n"
    assert kinds(code, Name.Label) == ["again", "again", "10"]
    assert kinds(code, Name.Function) == ["twice"]
    assert tokens("ELSE:\n")[0] == (Keyword, "ELSE")


def test_begin_talk_block_is_text_with_interpolation():
    code = "BEGIN TALK\nHello {name}, you're ${age}!\n  END TALK\nTALK 1\n"
    assert kinds(code, Keyword) == ["BEGIN TALK", "END TALK", "TALK"]
    assert kinds(code, String.Interpol) == ["{name}", "${age}"]
    assert kinds(code, Comment) == []


def test_single_line_if_then_else_starts_statements():
    code = 'IF x THEN TALK "a" ELSE TALK "b"\nelse if y\n'
    assert kinds(code, Keyword) == ["IF", "THEN", "TALK", "ELSE", "TALK", "else if"]


def test_continuation_lines_stay_in_the_statement():
    code = 'SEND MAIL "a",\n  \'b\',\n  "c"\nx = 1 _\n  + 2\n'
    assert [v for t, v in tokens(code) if t in String.Single and v != "'"] == ["b"]
    assert kinds(code, Keyword) == ["SEND MAIL"]


# --- registration ------------------------------------------------------------------------------------


def test_found_by_name_alias_and_mimetype():
    for alias in ("gbbasic", "gb-basic", "basic-gb", "GBBASIC"):
        assert type(get_lexer_by_name(alias)) is GbBasicLexer
    assert GbBasicLexer.name == "gb BASIC"
    assert GbBasicLexer.mimetypes == ["text/x-gb-basic"]


def test_registered_by_entry_point():
    (ep,) = [ep for ep in entry_points(group="pygments.lexers") if ep.name == "gbbasic"]
    assert ep.load() is GbBasicLexer


def test_found_for_bas_files():
    # QBasic, CBM BASIC V2 and VB.net also claim *.bas; without code Pygments compares
    # `priority` (then class names, which VbNetLexer would win), with code `analyse_text`.
    assert find_lexer_class_for_filename("dialog.bas") is GbBasicLexer
    assert type(get_lexer_for_filename("start.bas")) is GbBasicLexer
    code = (ROOT / "bots" / "default.gbai" / "default.gbdialog" / "start.bas").read_text(encoding="utf-8")
    assert type(get_lexer_for_filename("start.bas", code=code)) is GbBasicLexer
    assert GbBasicLexer.analyse_text("import os\nprint(os.name)\n") == 0.0


def test_kernelspec_names_the_lexer():
    assert kernelspec.LANGUAGE_INFO["pygments_lexer"] == "gbbasic"
    assert kernelspec.LANGUAGE_INFO["codemirror_mode"] == "gb-basic"  # labextension/src/index.ts's LANGUAGE


# --- the kernelspec ------------------------------------------------------------------------------------


def gb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gb_basic.cli", *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_kernel_install_and_uninstall_with_a_prefix(tmp_path: Path):
    done = gb("kernel", "install", "--prefix", str(tmp_path))
    assert done.returncode == 0, done.stderr
    spec_dir = tmp_path / "share" / "jupyter" / "kernels" / "gb"
    assert str(spec_dir) in done.stdout
    spec = json.loads((spec_dir / "kernel.json").read_text(encoding="utf-8"))
    assert spec["argv"] == [sys.executable, "-m", "gb_kernel", "-f", "{connection_file}"]
    assert Path(spec["argv"][0]).is_absolute()
    assert spec["display_name"] == "gb BASIC"
    assert spec["language"] == "basic"
    assert spec["interrupt_mode"] == "signal"
    assert spec["metadata"] == {"debugger": False}
    server_config = tmp_path / "etc" / "jupyter" / "jupyter_server_config.d" / "gb_kernel.json"
    assert json.loads(server_config.read_text(encoding="utf-8")) == \
        {"ServerApp": {"jpserver_extensions": {"gb_kernel.inspector": True}}}  # the session inspector's API

    again = gb("kernel", "install", "--prefix", str(tmp_path))  # replaces the existing one
    assert again.returncode == 0, again.stderr

    removed = gb("kernel", "uninstall", "--prefix", str(tmp_path))
    assert removed.returncode == 0, removed.stderr
    assert not spec_dir.exists() and not server_config.exists()
    assert gb("kernel", "uninstall", "--prefix", str(tmp_path)).returncode != 0


def test_kernel_install_rejects_user_with_prefix(tmp_path: Path):
    done = gb("kernel", "install", "--user", "--prefix", str(tmp_path))
    assert done.returncode == 2 and "exclude" in done.stderr


def test_install_defaults_to_sys_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    path = kernelspec.install()
    assert Path(path) == tmp_path / "share" / "jupyter" / "kernels" / "gb"
    with pytest.raises(ValueError):
        kernelspec.install(user=True, prefix=str(tmp_path))


# --- help texts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("word", sorted({*_PHRASES, *STATEMENT_KEYWORDS, *KEYWORD_STATEMENTS}))
def test_every_keyword_of_the_language_has_help(word: str):
    text = docs.help_for(word)
    assert text and "```basic" in text


@pytest.mark.parametrize("word", ["TRANSFER_SESSION", "MERGE_SESSION", "LOAD_TEMPLATE", "SET_BOT_MEMORY",
                                  "GET_BOT_MEMORY", "SET BOT MEMORY", "USE KB", "FOR EACH", "SELECT CASE",
                                  "ON ERROR RESUME NEXT", "BEGIN TALK", "TALK", "HEAR"])
def test_keywords_dict_has_the_phrases(word: str):
    assert word in docs.KEYWORDS


def test_keyword_help_has_signature_text_and_example():
    for key, text in docs.KEYWORDS.items():
        signature, sentence, example = text.split("\n\n", 2)
        assert signature.startswith("`"), key
        assert sentence.endswith((".", ")")), key
        assert example.startswith("```basic\n") and example.endswith("\n```"), key


def test_hear_help_lists_forms_and_types():
    text = docs.help_for("hear")
    assert text is not None
    assert "HEAR name AS type WITH prompt" in text and 'AS "choice 1"' in text
    for t in HEAR_TYPES:
        assert t in text


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_builtin_has_help(name: str):
    text = docs.help_for(name.lower())
    assert text is not None and f"`{name}(" in text


@pytest.mark.parametrize("name", sorted(HEAR_TYPES))
def test_every_hear_type_has_help(name: str):
    assert docs.HEAR_TYPE_DOCS.keys() == HEAR_TYPES
    text = docs.help_for(name.title())
    assert text is not None and f"AS {name}" in text


def test_help_lookup_rules():
    assert docs.help_for("set_bot_memory") == docs.help_for("SET BOT MEMORY") == docs.KEYWORDS["SET BOT MEMORY"]
    assert docs.help_for("send") is None  # SEND MAIL, SEND FILE, SEND TEMPLATE ...
    assert docs.help_for("send_tem") is None and docs.help_for("send template") == docs.KEYWORDS["SEND TEMPLATE"]
    assert docs.help_for("Transfer") == docs.KEYWORDS["TRANSFER SESSION"]
    assert docs.help_for("set bot") == docs.KEYWORDS["SET BOT MEMORY"]
    assert docs.help_for("set") == docs.KEYWORDS["SET"]  # the exact word wins
    assert docs.help_for("use") is None  # USE KB or USE TOOL
    assert docs.help_for("no_such_word") is None and docs.help_for("") is None
    both = docs.help_for("hour")  # a built-in and a HEAR type
    assert both is not None and "HOUR(time)" in both and "AS HOUR" in both
    assert "MOD(a, b)" in (docs.help_for("Mod") or "")


def test_magics_help():
    assert sorted(docs.MAGICS) == ["%%transcript", "%answers", "%bot", "%chat", "%history", "%run", "%session",
                                   "%user", "%vars"]
    assert docs.help_for("%bot") == docs.MAGICS["%bot"]
    assert docs.help_for("%%transcript") == docs.help_for("%transcript") == docs.MAGICS["%%transcript"]
    assert docs.help_for("%SESSION") == docs.MAGICS["%session"]
    assert docs.help_for("%nope") is None
    assert "A | B | C" in docs.MAGICS["%answers"]


# --- completions -------------------------------------------------------------------------------------


def test_completions_follow_the_prefix_case():
    assert docs.completions("ta") == ["talk", "talk to"]
    assert docs.completions("TA") == ["TALK", "TALK TO"]
    assert docs.completions("Ta") == ["TALK", "TALK TO"]
    assert "set bot memory" in docs.completions("set") and "SET_BOT_MEMORY" in docs.completions("SET")
    assert docs.completions("le") == ["left", "len", "let"]


def test_completions_include_variables_and_dialogs():
    got = docs.completions("or", variables=["order_id", "Total"], dialogs=["order", "start"])
    assert got == ["or", "order", "order_id"]
    assert docs.completions("TOT", variables=["Total"]) == ["Total"]
    assert docs.completions("xyz") == []


def test_completions_of_magics():
    assert docs.completions("%") == sorted(docs.MAGICS)
    assert docs.completions("%s") == ["%session"]
    assert docs.completions("%%") == ["%%transcript"]
    assert docs.completions("%r", dialogs=["refund"]) == ["%run"]


def test_completions_are_sorted_and_unique():
    got = docs.completions("", variables=["zeta", "alpha"])
    assert got == sorted(set(got), key=lambda w: (w.lower(), w))
    assert "alpha" in got and "TALK" in got and "LEN" in got
