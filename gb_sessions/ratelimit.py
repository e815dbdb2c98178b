"""Messages per minute per session, shared by all processes.

Checked when a turn takes its session's lock (see ``SessionStore.lock(rate_limit=...)``): in
Valkey a sliding window (the Lua functions below, run inside the lock script), in SQL the
user messages stored in the last minute.
"""

from __future__ import annotations

from .errors import RateLimited

__all__ = ["WINDOW", "SLIDING_WINDOW_LUA", "limited"]

WINDOW = 60.0  # seconds

# Lua: drop entries older than the window; `over_limit` returns the seconds until the oldest
# entry leaves it (0 when under the limit); `record` counts this message.
SLIDING_WINDOW_LUA = """
local function over_limit(key, now, window, limit)
  redis.call('zremrangebyscore', key, '-inf', now - window)
  if redis.call('zcard', key) >= limit then
    local oldest = redis.call('zrange', key, 0, 0, 'WITHSCORES')
    return tonumber(oldest[2]) + window - now
  end
  return 0
end
local function record(key, now, window, member)
  redis.call('zadd', key, now, member)
  redis.call('pexpire', key, math.ceil(window * 1000))
end
"""


def limited(limit: int, wait: float) -> RateLimited:
    """The 429 error, with Retry-After in whole seconds."""
    seconds = max(1, int(wait + 0.999))
    return RateLimited(f"more than {limit} messages in a minute; try again in {seconds} s", retry_after=seconds)
