"""The shared corpus of General Bots' own dialogs (``shared/gb-corpus``, beside the project's checkout)."""

from __future__ import annotations

import os
from pathlib import Path

from .prereqs import unavailable

__all__ = ["corpus_dir", "corpus_files"]

ROOT = Path(__file__).resolve().parents[2]


def corpus_dir() -> Path:
    """The corpus folder: ``$GB_CORPUS``, else ``shared/gb-corpus`` next to the checkout or one of its
    parents, else the machine's ``/work/shared/gb-corpus``.

    Fails the test on CI (and skips it elsewhere) when there is none.
    """
    env = os.environ.get("GB_CORPUS")
    candidates = [Path(env)] if env else []
    candidates += [parent / "shared" / "gb-corpus" for parent in ROOT.parents]
    candidates.append(Path("/work/shared/gb-corpus"))  # this machine's shared folder, for a clone made elsewhere
    for path in candidates:
        if path.is_dir() and any(path.glob("*.bas")):
            return path
    unavailable("the shared corpus of General Bots dialogs (shared/gb-corpus) is missing")


def corpus_files() -> list[Path]:
    """The corpus's .bas files, sorted by name (each is named by the md5 of its content)."""
    return sorted(corpus_dir().glob("*.bas"))
