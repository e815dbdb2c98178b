"""Messages per minute per session, and new sessions per minute per client, shared by all processes.

Messages: checked when a turn takes its session's lock (see ``SessionStore.lock(rate_limit=...)``):
in Valkey a sliding window (the Lua functions below, run inside the lock script), in SQL the
user messages stored in the last minute. New sessions: ``SessionStore.count_start`` records one
hit of a (bot, client) key in the same sliding window (HIT_LUA in Valkey, the rate_limit_hits
table in SQL).
"""

from __future__ import annotations

from .errors import RateLimited, TooManyNewSessions

__all__ = ["WINDOW", "SLIDING_WINDOW_LUA", "HIT_LUA", "limited", "starts_limited"]

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

# KEYS: the window. ARGV: now, window, limit, member. Returns "0" when the hit is recorded, else
# the seconds until the oldest hit leaves the window (nothing recorded).
HIT_LUA = SLIDING_WINDOW_LUA + """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local wait = over_limit(KEYS[1], now, window, tonumber(ARGV[3]))
if wait > 0 then return tostring(wait) end
record(KEYS[1], now, window, ARGV[4])
return '0'
"""


def _seconds(wait: float) -> int:
    """Whole seconds, 1 to the window: a hit's `now` is read before its script waits its turn,
    so a hit recorded by a later-read clock can make the oldest entry look newer than `now`."""
    return max(1, min(int(WINDOW), int(wait + 0.999)))


def limited(limit: int, wait: float) -> RateLimited:
    """The 429 error, with Retry-After in whole seconds."""
    seconds = _seconds(wait)
    return RateLimited(f"more than {limit} messages in a minute; try again in {seconds} s", retry_after=seconds)


def starts_limited(limit: int, wait: float) -> TooManyNewSessions:
    """The 429 of a client that started `limit` sessions in the last minute (Retry-After in whole seconds)."""
    seconds = _seconds(wait)
    return TooManyNewSessions(f"this client started {limit} sessions in the last minute, the most this bot allows "
                              f"(session-create-rate); try again in {seconds} s", retry_after=seconds)
