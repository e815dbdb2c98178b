"""Fixtures shared by the runtime tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gb_sessions.config import Stores
from gb_sessions.tables import TableStore
from tests.helpers.tables import table_store


@pytest.fixture
async def tables(stores: Stores) -> AsyncIterator[TableStore]:
    """The bot tables of the session database of the module's `stores` (its backends)."""
    async with table_store(stores) as ts:
        yield ts
