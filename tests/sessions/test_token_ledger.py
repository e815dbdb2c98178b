"""The LLM's token ledger (gb_sessions/usage.py) over SQLite, PostgreSQL and the in-memory dict."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from gb_sessions.config import Stores
from gb_sessions.usage import TokenLedger


async def _spend_and_read(ledger: TokenLedger) -> None:
    bot = f"ledger-{uuid.uuid4().hex[:8]}"
    a, b = uuid.uuid4(), uuid.uuid4()
    today, yesterday = dt.date(2026, 12, 2), dt.date(2026, 12, 1)
    assert await ledger.used(bot, a, today) == (0, 0)
    await ledger.spend(bot, a, 100, today)
    await ledger.spend(bot, a, 20, today)
    await ledger.spend(bot, b, 5, today)
    await ledger.spend(bot, b, 7, yesterday)
    await ledger.spend(bot, b, 0, today)  # nothing spent: nothing written
    assert await ledger.used(bot, a, today) == (125, 120)
    assert await ledger.used(bot, b, today) == (125, 5)
    assert await ledger.used(bot, b, yesterday) == (7, 7)
    assert await ledger.used("another-bot", a, today) == (0, 0)
    # spending at once from many turns adds up (an upsert, not read-modify-write)
    await asyncio.gather(*(ledger.spend(bot, a, 1, today) for _ in range(20)))
    assert await ledger.used(bot, a, today) == (145, 140)
    assert await ledger.prune(today) >= 2
    assert await ledger.used(bot, b, yesterday) == (0, 0)
    assert await ledger.used(bot, a, today) == (145, 140)


async def test_the_ledger_counts_tokens_a_day_per_bot_and_session(stores: Stores) -> None:
    await _spend_and_read(TokenLedger(stores.engine))


async def test_the_in_memory_ledger_counts_the_same() -> None:
    await _spend_and_read(TokenLedger(None))
