"""The gb kernelspec: the kernel's name and language info, and installing its ``kernel.json``.

``gb kernel install`` (see :mod:`gb_kernel.cli`) calls :func:`install`; ``make run`` installs into
the venv (``--sys-prefix``), so the JupyterLab of that venv lists "gb BASIC".
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["KERNEL_NAME", "DISPLAY_NAME", "LANGUAGE_INFO", "kernel_json", "install", "uninstall"]

KERNEL_NAME = "gb"
DISPLAY_NAME = "gb BASIC"
# The kernel_info reply's language_info. JupyterLab highlights, indents and folds cells with the
# CodeMirror language `gb-basic` of gb's extension (labextension/, installed with the package),
# named by codemirror_mode; exported HTML uses the Pygments lexer of gb_kernel.highlight.
LANGUAGE_INFO: dict[str, Any] = {
    "name": "basic",
    "version": "1.0",
    "mimetype": "text/x-gb-basic",
    "file_extension": ".bas",
    "codemirror_mode": "gb-basic",
    "pygments_lexer": "gbbasic",
}


def kernel_json(python: str | None = None) -> dict[str, Any]:
    """The content of ``kernel.json``.

    Args:
        python: the interpreter that runs the kernel; defaults to this one. It is written as an
            absolute path (never plain ``"python"``, which Jupyter reads as "the interpreter that
            launched Jupyter", and a JupyterLab from another environment would lack gb). Symlinks
            are kept: a venv's ``bin/python`` is a symlink and resolving it would leave the venv.
    """
    return {
        "argv": [os.path.abspath(python or sys.executable), "-m", "gb_kernel", "-f", "{connection_file}"],
        "display_name": DISPLAY_NAME,
        "language": LANGUAGE_INFO["name"],
        "interrupt_mode": "signal",
        "metadata": {"debugger": False},
    }


def install(*, user: bool = False, prefix: str | None = None) -> str:
    """Install the kernelspec, replacing an earlier one, and return the directory it went to.

    Args:
        user: install for the current user (``~/.local/share/jupyter/kernels/gb``).
        prefix: install under ``PREFIX/share/jupyter/kernels/gb``. With neither `user` nor
            `prefix`, installs into ``sys.prefix`` (the venv gb runs from).

    Returns:
        The installed kernelspec directory.

    Raises:
        ValueError: both `user` and `prefix` were given.
        OSError: the destination is not writable.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    if user and prefix:
        raise ValueError("install the kernelspec for the user or into a prefix, not both")
    if not user and prefix is None:
        prefix = sys.prefix
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / KERNEL_NAME
        source.mkdir()
        (source / "kernel.json").write_text(json.dumps(kernel_json(), indent=2) + "\n", encoding="utf-8")
        # install_kernel_spec always replaces an existing spec; its `replace` argument is
        # deprecated (a DeprecationWarning), so it is not passed.
        path: str = KernelSpecManager().install_kernel_spec(str(source), KERNEL_NAME, user=user, prefix=prefix)
    return path


def uninstall(*, prefix: str | None = None) -> str:
    """Remove the kernelspec and return the directory removed.

    Args:
        prefix: remove ``PREFIX/share/jupyter/kernels/gb``; by default, remove the gb kernelspec
            Jupyter finds first on its kernel path (the venv's, the user's or the system's).

    Raises:
        FileNotFoundError: no gb kernelspec is installed there.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    if prefix is not None:
        path = Path(prefix).absolute() / "share" / "jupyter" / "kernels" / KERNEL_NAME
        if not path.is_dir():
            raise FileNotFoundError(f"no {KERNEL_NAME} kernelspec in {path}")
        shutil.rmtree(path)
        return str(path)
    try:
        removed: str = KernelSpecManager().remove_kernel_spec(KERNEL_NAME)
    except KeyError as exc:  # find_kernel_specs() has no entry for it
        raise FileNotFoundError(f"no {KERNEL_NAME} kernelspec is installed") from exc
    return removed
