"""The command line: `gb check` and `gb run`, as a user runs them (a real subprocess)."""

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
    (tmp_path / "warn.bas").write_text('TALK "a"\nSEND SMS "+55", "hi"\n')
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
    assert "[warn.bas:2:1] Warning at 'SEND SMS': keyword SEND SMS is not supported (line 2)" in r.stderr
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


def test_run_reports_runtime_errors_with_exit_1(tmp_path: Path) -> None:
    (tmp_path / "div.bas").write_text('TALK "a"\nx = 1 / 0\n')
    r = gb("run", str(tmp_path / "div.bas"))
    assert r.returncode == 1
    assert r.stdout == "a\n"
    assert "[div.bas:2:1] Error: division by zero" in r.stderr


def test_console_script_is_installed() -> None:
    gb_cmd = Path(sys.executable).parent / "gb"
    r = subprocess.run([str(gb_cmd), "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    assert "check" in r.stdout and "run" in r.stdout
