"""Helpers the tests and the benchmarks share, one place each.

* ``bots``: bot packages on disk (``make_bot``, ``write``, ``copy_example_bots``) and a runtime over them
  (``runtime_for``, ``Clock``, ``texts``).
* ``stores``: scratch PostgreSQL databases and stores opened for one block.
* ``tables``: TableSpecs written compactly (``col``, ``table``), a bot name per test, a TableStore.
* ``servers``: a real ``gb serve`` subprocess (``Server``), a gb process's environment (``gb_environ``),
  ``free_port``, ``bearer``.
* ``values``: hypothesis strategies for every BASIC value (``basic_values``) and a type-exact ``same``.
* ``kernels``: a real Jupyter kernel (``start_kernel``, ``stop_kernel``).
* ``prereqs``: a prerequisite the machine lacks (``unavailable``: a failure on CI, a skip elsewhere).

Only ``prereqs`` imports pytest: the benchmarks import the others (``python bench/x.py`` puts the
project root on ``sys.path`` for that).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the project: bots/, gb_server/static, test-artifacts/
