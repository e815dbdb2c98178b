"""A prerequisite the machine lacks (a service, a browser, npm): a failure on CI, a skip elsewhere.

On CI every test must run (DEVELOPERS.md), so there a missing prerequisite fails the test.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["unavailable"]


def unavailable(message: str) -> NoReturn:
    """Fail the test when CI is set, else skip it; `message` says what is missing."""
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set: this test must run)")
    pytest.skip(message)
