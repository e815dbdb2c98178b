"""The LLM's token ledger: the tokens each bot, and each of its sessions, used a day.

``llm-max-tokens-per-day`` in a bot's config.csv caps both (gb_runtime/assistant.py reads
:meth:`TokenLedger.used` before a call and writes :meth:`TokenLedger.spend` after it). A row per
(bot, day, scope): scope ``*`` is the bot's total, a session's id its own. The spending is written
at once, in a short transaction of its own, not with the turn: the tokens are gone at the
provider whether or not the turn commits (a turn run again after a concurrent update, a turn that
fails later on). Each message of an LLM's answer also keeps its own count (``messages.token_count``).

Without a SQL engine (the in-memory store) the ledger is a dict of this process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from sqlalchemy import BigInteger, Column, Date, MetaData, String, Table, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from .sql import unavailable_on_error

__all__ = ["TokenLedger", "BOT_SCOPE"]

BOT_SCOPE = "*"

_meta = MetaData()
LLM_USAGE = Table(
    "llm_usage", _meta,
    Column("bot_id", String(100), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("scope", String(40), primary_key=True),
    Column("tokens", BigInteger, nullable=False),
)


class TokenLedger:
    """Tokens used a day, per bot and per session.

    Args:
        engine: the session database (migration 0009_llm_usage made the table); None keeps the
            counts in this process (the in-memory store).
    """

    def __init__(self, engine: AsyncEngine | None) -> None:
        self.engine = engine
        self._counts: dict[tuple[str, dt.date, str], int] = {}
        self._lock = asyncio.Lock()

    async def spend(self, bot_id: str, session_id: uuid.UUID, tokens: int, day: dt.date) -> None:
        """Add `tokens` to the bot's and the session's counts of `day`."""
        if tokens <= 0:
            return
        scopes = (BOT_SCOPE, session_id.hex)
        if self.engine is None:
            async with self._lock:
                for scope in scopes:
                    key = (bot_id, day, scope)
                    self._counts[key] = self._counts.get(key, 0) + tokens
            return
        dialect = self.engine.dialect.name
        ins = pg_insert(LLM_USAGE) if dialect == "postgresql" else sqlite_insert(LLM_USAGE)
        stmt = ins.values([{"bot_id": bot_id, "day": day, "scope": s, "tokens": tokens} for s in scopes])
        stmt = stmt.on_conflict_do_update(index_elements=["bot_id", "day", "scope"],
                                          set_={"tokens": LLM_USAGE.c.tokens + stmt.excluded.tokens})
        async with unavailable_on_error(), self.engine.begin() as conn:
            await conn.execute(stmt)

    async def used(self, bot_id: str, session_id: uuid.UUID, day: dt.date) -> tuple[int, int]:
        """The tokens (the bot's, the session's) used on `day`."""
        scopes = (BOT_SCOPE, session_id.hex)
        if self.engine is None:
            return self._counts.get((bot_id, day, scopes[0]), 0), self._counts.get((bot_id, day, scopes[1]), 0)
        async with unavailable_on_error(), self.engine.connect() as conn:
            found = (await conn.execute(
                select(LLM_USAGE.c.scope, LLM_USAGE.c.tokens).where(
                    LLM_USAGE.c.bot_id == bot_id, LLM_USAGE.c.day == day, LLM_USAGE.c.scope.in_(scopes)))).all()
        rows = {scope: tokens for scope, tokens in found}
        return int(rows.get(scopes[0], 0)), int(rows.get(scopes[1], 0))

    async def prune(self, before: dt.date) -> int:
        """Drop the counts of the days before `before`; how many rows went."""
        if self.engine is None:
            old = [k for k in self._counts if k[1] < before]
            for k in old:
                del self._counts[k]
            return len(old)
        async with unavailable_on_error(), self.engine.begin() as conn:
            return int((await conn.execute(delete(LLM_USAGE).where(LLM_USAGE.c.day < before))).rowcount or 0)
