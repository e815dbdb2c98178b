"""The command line: `gb check` and `gb run` (gb_runtime.cli, by entry point), as a user runs them (a real
subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

GB = [sys.executable, "-m", "gb_basic.cli"]


def gb(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GB, *args], input=stdin, capture_output=True, text=True, timeout=60, cwd=cwd)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "good.bas").write_text('TALK "Name?"\nname = HEAR\nTALK "Hi " + name\n')
    (tmp_path / "bad.bas").write_text('TALK "ok"\nIF x = 1 THEN\n  TALK "one"\n')
    (tmp_path / "expr.bas").write_text('x = 1 +\n')
    (tmp_path / "warn.bas").write_text('TALK "a"\nCREATE DRAFT "a@b.c", "s", "hi"\n')
    (tmp_path / "menu.bas").write_text('HEAR c AS "Red", "Green" WITH "Colour?"\nTALK "got " + c\n'
                                       'HEAR n AS INTEGER\nTALK n * 2\n')
    return tmp_path


def test_check_ok(files: Path) -> None:
    r = gb("check", str(files / "good.bas"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"{files / 'good.bas'}: ok"


def test_check_error_has_position_and_caret_and_exit_1(files: Path) -> None:
    r = gb("check", str(files / "good.bas"), str(files / "bad.bas"), str(files / "expr.bas"))
    assert r.returncode == 1
    assert "[bad.bas:2:1] Error at 'IF': the IF at line 2 has no END IF" in r.stderr
    assert "    IF x = 1 THEN\n    ^" in r.stderr
    assert "[expr.bas:1:8] Error at 'end of line': expected an expression" in r.stderr
    assert "2 file(s) with errors" in r.stderr
    assert "good.bas: ok" in r.stdout


def test_check_warns_about_unsupported_keywords(files: Path) -> None:
    r = gb("check", str(files / "warn.bas"))
    assert r.returncode == 0
    assert "[warn.bas:2:1] Warning at 'CREATE DRAFT': keyword CREATE DRAFT is not supported (line 2)" in r.stderr
    assert gb("check", "-q", str(files / "warn.bas")).stderr == ""


def test_run_talks_and_hears_over_stdio(files: Path) -> None:
    r = gb("run", str(files / "good.bas"), stdin="Ann\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["Name?", "Hi Ann"]


def test_run_menu_typed_hear_and_re_ask(files: Path) -> None:
    r = gb("run", str(files / "menu.bas"), stdin="2\nabc\n21\n")
    assert r.stdout.splitlines() == ["Colour?", "(choices: Red | Green)", "got Green",
                                     "Please enter a whole number, like 42.", "42"]


def test_run_says_where_the_dialog_waits_at_end_of_input(files: Path) -> None:
    r = gb("run", str(files / "good.bas"), stdin="")
    assert r.returncode == 0
    assert "the dialog waits at HEAR name, line 2" in r.stderr


def test_run_waits_at_a_wait_then_goes_on(tmp_path: Path) -> None:
    (tmp_path / "wait.bas").write_text('TALK "a"\nWAIT 0.3\nTALK "b"\nHEAR x\nTALK "got " + x\n')
    r = gb("run", str(tmp_path / "wait.bas"), stdin="Ann\n")
    assert r.returncode == 0 and r.stdout.splitlines() == ["a", "b", "got Ann"], r.stderr


def test_run_reports_runtime_errors_with_exit_1(tmp_path: Path) -> None:
    (tmp_path / "div.bas").write_text('TALK "a"\nx = 1 / 0\n')
    r = gb("run", str(tmp_path / "div.bas"))
    assert r.returncode == 1
    assert r.stdout == "a\n"
    assert "[div.bas:2:1] Error: division by zero" in r.stderr


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A bot package: a KB, a template, config.csv in pt-BR and a dialog that uses them."""
    pkg = tmp_path / "shop.gbai"
    for folder in ("shop.gbdialog", "shop.gbkb/faq", "shop.gbot/templates"):
        (pkg / folder).mkdir(parents=True)
    (pkg / "shop.gbkb/faq/hours.md").write_text("We open at 9.\n")
    (pkg / "shop.gbot/templates/welcome.json").write_text('{"kb": ["faq"], "message": "From the template."}')
    (pkg / "shop.gbot/config.csv").write_text("name,value\nlanguage,pt-BR\n")
    (pkg / "shop.gbdialog/hello.bas").write_text('LOAD_TEMPLATE "welcome"\nUSE KB "faq"\nHEAR n AS INTEGER\nTALK n\n')
    return pkg / "shop.gbdialog/hello.bas"


def test_run_a_dialog_of_a_bot_package_with_its_kbs_templates_and_settings(shop: Path, tmp_path: Path) -> None:
    r = gb("run", str(shop), stdin="x\n7\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["From the template.", "Por favor, informe um número inteiro, como 42.", "7"]
    r = gb("run", "--language", "en", str(shop), stdin="x\n7\n")
    assert r.stdout.splitlines()[1] == "Please enter a whole number, like 42."
    alone = tmp_path / "alone.bas"  # outside a package: a bot of this file alone, without the KB
    alone.write_text('TALK "a"\nUSE KB "faq"\n')
    r = gb("run", str(alone))
    assert r.returncode == 1 and r.stdout == "a\n"
    assert "Error: knowledge base 'faq' not found in bot alone" in r.stderr


def test_console_script_is_installed() -> None:
    gb_cmd = Path(sys.executable).parent / "gb"
    r = subprocess.run([str(gb_cmd), "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    assert "check" in r.stdout and "run" in r.stdout


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Bots in nested folders, with files gb check must skip."""
    (tmp_path / "a.gbai" / "a.gbdialog").mkdir(parents=True)
    (tmp_path / "b.gbai" / "b.gbdialog" / "deep").mkdir(parents=True)
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / "a.gbai" / "a.gbdialog" / "start.bas").write_text('TALK "a"\n')
    (tmp_path / "b.gbai" / "b.gbdialog" / "start.bas").write_text('TALK "b"\nCREATE DRAFT "a@b.c", "s", "hi"\n')
    (tmp_path / "b.gbai" / "b.gbdialog" / "deep" / "bad.bas").write_text('x = = 1\n')
    (tmp_path / "b.gbai" / "notes.txt").write_text('x = = 1\n')
    (tmp_path / ".ipynb_checkpoints" / "start-checkpoint.bas").write_text('x = = 1\n')
    return tmp_path


def test_check_a_folder_recursively_in_sorted_order(tree: Path) -> None:
    r = gb("check", str(tree))
    assert r.returncode == 1
    assert r.stdout.splitlines() == [f"{tree / 'a.gbai/a.gbdialog/start.bas'}: ok",
                                     f"{tree / 'b.gbai/b.gbdialog/start.bas'}: ok (1 warning(s))"]
    bad = tree / "b.gbai/b.gbdialog/deep/bad.bas"
    assert f"[{bad}:1:5] Error at '=': expected an expression" in r.stderr  # named by its path
    assert "checkpoint" not in r.stderr and "notes" not in r.stderr
    assert r.stderr.endswith("1 file(s) with errors\n")


def test_check_reports_every_error_of_a_file(tmp_path: Path) -> None:
    (tmp_path / "three.bas").write_text('TALK "a"\nx = = 1\nTALK "b"\ny = 1 +\nTALK "c" "d"\n')
    r = gb("check", str(tmp_path / "three.bas"))
    assert r.returncode == 1
    assert "[three.bas:2:5] Error at '=': expected an expression\n    x = = 1\n        ^" in r.stderr
    assert "[three.bas:4:8] Error at 'end of line': expected an expression\n    y = 1 +\n           ^" in r.stderr
    assert "[three.bas:5:10] Error at '\"d\"': expected ',' between arguments" in r.stderr
    assert r.stderr.count("Error at") == 3
    assert "1 file(s) with errors" in r.stderr


def test_check_reports_an_unclosed_block_once_and_the_errors_after_it(tmp_path: Path) -> None:
    (tmp_path / "block.bas").write_text('IF x = 1 THEN\n  TALK "one"\n  y = = 2\nFOR i = 1 TO\nNEXT\n')
    r = gb("check", str(tmp_path / "block.bas"))
    assert r.returncode == 1
    assert r.stderr.count("Error at") == 3
    assert "[block.bas:1:1] Error at 'IF': the IF at line 1 has no END IF" in r.stderr
    assert "[block.bas:3:7] Error at '=': expected an expression" in r.stderr
    assert "[block.bas:4:13] Error at 'end of line': expected an expression" in r.stderr


def test_check_folders_and_files_together(tree: Path, files: Path) -> None:
    r = gb("check", str(files / "good.bas"), str(tree / "a.gbai"), str(files / "warn.bas"), str(files / "good.bas"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"{files / 'good.bas'}: ok", f"{tree / 'a.gbai/a.gbdialog/start.bas'}: ok",
                                     f"{files / 'warn.bas'}: ok (1 warning(s))"]


def test_check_a_missing_path_or_a_folder_without_bas_files(tmp_path: Path) -> None:
    r = gb("check", str(tmp_path / "nope.bas"))
    assert r.returncode == 2
    assert "does not exist" in r.stderr
    (tmp_path / "empty").mkdir()
    r = gb("check", str(tmp_path / "empty"))
    assert r.returncode == 1
    assert r.stderr == f"{tmp_path / 'empty'}: no .bas files\n"
