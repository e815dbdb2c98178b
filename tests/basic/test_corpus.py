"""General Bots' own dialogs (the shared corpus): every one passes `gb check`, each with the warnings
listed in corpus_warnings.txt, and `gb check --keywords` tells which keywords they use and gb runs.

After a deliberate change of what gb warns about, regenerate the list with
``python -m tests.basic.test_corpus`` and review its diff.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gb_basic import check_source

from ..helpers.corpus import corpus_dir, corpus_files

EXPECTED = Path(__file__).with_name("corpus_warnings.txt")
GB = [sys.executable, "-m", "gb_basic.cli"]


Checked = dict[Path, tuple[Any, list[Any]]]  # a corpus file -> check_source's (program, errors)


def check_corpus() -> Checked:
    """check_source of every corpus file (about 0.1 s a file: done once for the module's tests)."""
    return {path: check_source(path.read_text(encoding="utf-8"), path.name) for path in corpus_files()}


@pytest.fixture(scope="module")
def checked() -> Checked:
    return check_corpus()


def warnings_of(path: Path, result: tuple[Any, list[Any]]) -> list[str]:
    """The file's warnings as ``<file name>:<line>:<col> <message>`` (errors fail the caller)."""
    program, errors = result
    assert errors == [], f"{path.name}: " + "\n".join(str(e) for e in errors)
    assert program is not None
    return [f"{w.file}:{w.line}:{w.column} {w.message}" for w in program.warnings]


def current(checked: Checked) -> str:
    """The expectations file's text for the corpus as gb checks it now."""
    lines = []
    for path, result in checked.items():
        found = warnings_of(path, result)
        lines.append(f"{path.name}: {len(found)} warning(s)")
        lines += [f"  {w}" for w in found]
    return "\n".join(lines) + "\n"


def test_every_corpus_dialog_passes_gb_check(checked: Checked):
    files = corpus_files()
    assert len(files) >= 124 and list(checked) == files
    failed = [p.name for p in files if checked[p][1]]
    assert failed == []
    r = subprocess.run([*GB, "check", "-q", str(corpus_dir())], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(": ok") == len(files)


def test_each_corpus_dialog_warns_as_recorded(checked: Checked):
    expected = EXPECTED.read_text(encoding="utf-8")
    got = current(checked)
    if got != expected:  # name the first file that differs, not the whole list
        old = dict(_by_file(expected))
        for name, block in _by_file(got):
            assert block == old.get(name), f"{name}: warnings changed (see the module docstring)"
    assert got == expected


def _by_file(text: str) -> list[tuple[str, str]]:
    blocks = re.split(r"\n(?=\S)", text.strip())
    return [(b.split(":", 1)[0], b) for b in blocks]


def test_gb_check_keywords_prints_the_coverage_table(tmp_path: Path):
    (tmp_path / "a.bas").write_text('SET HEADER "Accept", "text/html"\nx = FIND "t", "a=1"\nUSE KB "faq"\n'
                                    'x = FIND "t", "b=2"\nSAVE "t" WITH a AS 1 WHERE b = 2\nSAVE "f.txt", x\n')
    (tmp_path / "b.bas").write_text('FROBNICATE 1, 2\nUSE KB "faq"\nd = DATEDIFF "2026-01-01", "2026-01-02"\n')
    r = subprocess.run([*GB, "check", "--keywords", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "KEYWORD      USES  FILES  RUNS    KNOWN",
        "FIND            2      1  yes     yes",
        "SAVE            2      1  partly  yes",
        "USE KB          2      2  yes     yes",
        "FROBNICATE      1      1  no      no",
        "SET HEADER      1      1  yes     yes",
        "5 keywords, 8 uses in 2 files; gb runs 6 of the uses",
    ]
    assert r.stderr == ""


def test_gb_check_keywords_over_the_corpus():
    r = subprocess.run([*GB, "check", "--keywords", str(corpus_dir())], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["KEYWORD", "USES", "FILES", "RUNS", "KNOWN"]
    rows = [re.match(r"(.+?)\s+(\d+)\s+(\d+)\s+(yes|no|partly)\s+(yes|no)$", line) for line in lines[1:-1]]
    assert all(rows), [line for line, m in zip(lines[1:-1], rows) if not m]
    uses = [int(m.group(2)) for m in rows if m]
    assert uses == sorted(uses, reverse=True) and sum(uses) > 500
    names = {m.group(1): m.group(4) for m in rows if m}
    assert names["ADD SUGGESTION"] == "yes" and names["SEND FILE"] == "yes" and names["LLM"] == "yes"
    assert names["CREATE DRAFT"] == "no"
    assert lines[-1].endswith(f"in {len(corpus_files())} files; gb runs {lines[-1].split('gb runs ')[1]}")


if __name__ == "__main__":
    EXPECTED.write_text(current(check_corpus()), encoding="utf-8")
    print(f"wrote {EXPECTED}")
