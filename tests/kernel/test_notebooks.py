"""The example notebooks run clean: nbval re-executes notebooks/*.ipynb and compares the stored outputs.

nbval runs in a subprocess (its own pytest, the gb kernel by name) with a fresh data folder and a
copy of the bots, so the notebooks start from an empty database. Cells whose output varies (session
ids, the chat widget) carry the ``nbval-ignore-output`` tag; a transcript that fails on purpose
carries ``raises-exception``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ["01-getting-started.ipynb", "02-testing-dialogs.ipynb", "03-inspecting-sessions.ipynb"]
TIMEOUT = 300


@pytest.mark.timeout(TIMEOUT + 60)
def test_the_notebooks_outputs_match_nbval(tmp_path: Path, gb_kernelspec: str) -> None:
    shutil.copytree(ROOT / "bots", tmp_path / "bots")
    (tmp_path / "data").mkdir()
    env = dict(os.environ, GB_BOTS_DIR=str(tmp_path / "bots"), GB_DATA_DIR=str(tmp_path / "data"))
    for var in ("GB_DATABASE_URL", "GB_VALKEY_URL", "JPY_SESSION_NAME"):
        env.pop(var, None)
    paths = [str(Path("notebooks") / name) for name in NOTEBOOKS]
    for path in paths:
        assert (ROOT / path).is_file(), f"missing {path}"
    cmd = [sys.executable, "-m", "pytest", "-q", "--nbval", "--nbval-kernel-name", gb_kernelspec,
           "-p", "no:cacheprovider", *paths]
    # A session of its own, so a hung run is stopped with its kernel (the process group).
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        pytest.fail(f"nbval did not finish within {TIMEOUT} s:\n{output}")
    assert proc.returncode == 0, f"nbval failed (exit code {proc.returncode}):\n{output}"
