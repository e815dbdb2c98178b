"""Messages per minute per session, shared by all processes: in Valkey, or counted in SQL."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid

from redis.asyncio import Redis
from redis.exceptions import RedisError

from .errors import RateLimited
from .session import utcnow
from .store import SqlStore

__all__ = ["RateLimiter"]

log = logging.getLogger("gb.store")
WINDOW = 60.0  # seconds

# Sliding window: drop entries older than the window, refuse past the limit (returning the
# seconds until the oldest entry leaves it), else record this message.
_SLIDING = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('zremrangebyscore', KEYS[1], '-inf', now - window)
if redis.call('zcard', KEYS[1]) >= limit then
  local oldest = redis.call('zrange', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
redis.call('zadd', KEYS[1], now, ARGV[4])
redis.call('pexpire', KEYS[1], math.ceil(window * 1000))
return '0'
"""


class RateLimiter:
    """`check(session_id, limit)` raises RateLimited with retry_after once a session sends
    more than `limit` messages in a minute. With Valkey the count is a sliding window in
    Valkey; without (or while it is down) it is the user messages stored in SQL."""

    def __init__(self, store: SqlStore, client: Redis | None = None) -> None:
        self.store = store
        self.client = client

    async def check(self, session_id: uuid.UUID, limit: int) -> None:
        if limit <= 0:
            return
        if self.client is not None:
            try:
                now = time.time()
                wait = float(await self.client.eval(
                    _SLIDING, 1, f"ratelimit:{session_id}", now, WINDOW, limit, f"{now}:{uuid.uuid4().hex[:8]}"))
            except (RedisError, OSError) as exc:
                log.warning("valkey unavailable for rate limiting, counting in SQL: %s", exc)
            else:
                if wait > 0:
                    raise self._limited(limit, wait)
                return
        since = utcnow() - dt.timedelta(seconds=WINDOW)
        count = await self.store.count_user_messages(session_id, since)
        if count >= limit:
            raise self._limited(limit, 1.0)

    @staticmethod
    def _limited(limit: int, wait: float) -> RateLimited:
        seconds = max(1, int(wait + 0.999))
        return RateLimited(f"more than {limit} messages in a minute; try again in {seconds} s", retry_after=seconds)
