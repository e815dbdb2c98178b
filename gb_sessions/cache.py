"""The Valkey cache in front of the SQL store: write-through after commit, restore on a miss.

Keys keep the seed's names, so ``valkey-cli GET session:<uuid>:variables`` shows JSON::

    session:<uuid>:variables      JSON of the variables
    session:<uuid>:context        JSON of the context (KBs, tools, prompt)
    session:<uuid>:last_activity  ISO time
    session:<uuid>:messages       list of recent messages (JSON each), capped at the history limit
    session:<uuid>:meta           the rest (bot, token hash, dialog state, version, ...)
    token:<sha256>                the session id and bot of a token ("<uuid> <bot>")

Every key lives for the session's idle timeout. Valkey unreachable means slower, never
wrong: each operation falls back to SQL and logs; a cached copy is only trusted together with
the version check of ``save`` (a stale copy fails with ConcurrentUpdate and the caller reloads
from SQL).

With Valkey, the per-session lock is a Valkey key ``lock:session:<uuid>`` holding the turn's
token, with a short lease (``ValkeyCache.lease``, locks.LEASE_SECONDS): a keeper task renews it
every third of the lease while the turn runs, only while the key still holds the turn's token (a
Lua script), and stops when the lock is released. So a crashed process's lock expires a lease
after its last renewal. A turn whose lease is lost (the key expired or holds another token, or no
renewal got through for a whole lease) cannot save: ``save`` raises LockLost and stores nothing
of it; SQL's version check stays the last line of defence. The keeper runs on the event loop: a
turn that holds the loop longer than a lease (a computation that a bot's raised max-steps lets
run that long; the default budget stops one within about half a second) cannot renew meanwhile,
and its save is refused unless its key outlived the pause. A message that finds the lock taken
waits for it (locks.LOCK_WAIT at most), then is refused with SessionBusy, Retry-After being what
is left of the holder's lease (the key's PTTL).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from gb_basic import jsontext

from .base import Lease, SessionCap, SessionRecord, SessionStore
from .errors import LockLost, SessionBusy
from .locks import LEASE_SECONDS, LocalLocks, busy
from .ratelimit import HIT_LUA, SLIDING_WINDOW_LUA, WINDOW, limited
from .session import Message, Session, Timer
from .store import SqlStore

__all__ = ["ValkeyCache", "CachedStore", "cache_keys"]

log = logging.getLogger("gb.store")

# KEYS: lock, rate-limit window, the 4 state keys. ARGV: lock token, lock ttl ms, now, window,
# limit (0: none), member. Returns {-1, wait} when rate limited, {0, pttl} when the lock is taken by
# another turn (pttl: the milliseconds left of its lease), {1, state values} when this turn holds the lock.
_ACQUIRE = SLIDING_WINDOW_LUA + """
local limit = tonumber(ARGV[5])
local now = tonumber(ARGV[3])
if limit > 0 then
  local wait = over_limit(KEYS[2], now, tonumber(ARGV[4]), limit)
  if wait > 0 then return {-1, tostring(wait)} end
end
if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0, redis.call('pttl', KEYS[1])} end
if limit > 0 then record(KEYS[2], now, tonumber(ARGV[4]), ARGV[6]) end
return {1, redis.call('mget', KEYS[3], KEYS[4], KEYS[5], KEYS[6])}
"""

_UNLOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
"""
# The write-through of a saved session, and the unlock of its turn: one script, one round trip.
# KEYS: variables, context, last_activity, meta, messages, token, lock. ARGV: ttl s, variables,
# context, last_activity, meta, the token key's value, history limit, "1" to rewrite the message
# list, the lock token ("" when no lock is held), the new messages. When a lock token is given
# and the lock no longer holds it (the lease expired unnoticed), the copy is dropped instead:
# another turn may own the session now. Returns 1 when written, 0 when dropped.
_WRITE = """
local ttl = tonumber(ARGV[1])
if ARGV[9] ~= '' and redis.call('get', KEYS[7]) ~= ARGV[9] then
  redis.call('del', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
  return 0
end
for i = 1, 4 do redis.call('set', KEYS[i], ARGV[i + 1], 'EX', ttl) end
if ARGV[8] == '1' then redis.call('del', KEYS[5]) end
for i = 10, #ARGV, 1000 do redis.call('rpush', KEYS[5], unpack(ARGV, i, math.min(i + 999, #ARGV))) end
redis.call('ltrim', KEYS[5], -tonumber(ARGV[7]), -1)
redis.call('expire', KEYS[5], ttl)
redis.call('set', KEYS[6], ARGV[6], 'EX', ttl)
if ARGV[9] ~= '' then redis.call('del', KEYS[7]) end
return 1
"""
# KEYS: the lock. ARGV: the turn's token, the lease in ms. 1 when extended, 0 when the key is gone or another's.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end
"""
OUTAGE_LOG_EVERY = 30.0  # seconds between two warnings of one outage


def _lock_key(session_id: uuid.UUID) -> str:
    return f"lock:session:{session_id}"


def cache_keys(session_id: uuid.UUID | str) -> dict[str, str]:
    """The seed's cache key names for a session."""
    base = f"session:{session_id}"
    return {k: f"{base}:{k}" for k in ("variables", "context", "last_activity", "messages", "meta")}


class ValkeyCache:
    """Session copies in Valkey (or Redis: same protocol). `client` is a redis.asyncio client."""

    lease = LEASE_SECONDS  # seconds a session's lock lives after its last renewal (tests shorten it)

    def __init__(self, client: Redis) -> None:
        self.client = client
        # EVALSHA, loaded on first use (and again after a Valkey restart): the scripts travel once
        self._acquire_lua = client.register_script(_ACQUIRE)
        self._renew_lua = client.register_script(_RENEW)
        self._unlock_lua = client.register_script(_UNLOCK)
        self._write_lua = client.register_script(_WRITE)
        self._hit_lua = client.register_script(HIT_LUA)
        self._down_logged = 0.0
        self._down_since: float | None = None  # when the current outage began (monotonic seconds)

    async def _call(self, script: AsyncScript, *, keys: list[str], args: list[Any]) -> Any:
        """Run a script on the current client (tests swap it to simulate an outage)."""
        return await script(keys=keys, args=args, client=self.client)

    def _down(self, what: str, exc: Exception) -> None:
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
        if now - self._down_logged > OUTAGE_LOG_EVERY:  # one line an outage (and every 30 s), not one a message
            log.warning("valkey unavailable (%s), serving from SQL: %s", what, exc)
            self._down_logged = now

    def _up(self) -> None:
        """A Valkey call worked: end the outage, with one line saying how long it lasted."""
        if self._down_since is not None:
            log.warning("valkey is back after %.1f s; the cache serves again", time.monotonic() - self._down_since)
            self._down_since = None
            self._down_logged = 0.0

    # --- reading ------------------------------------------------------------------------------------
    @staticmethod
    def _state_keys(session_id: uuid.UUID) -> list[str]:
        keys = cache_keys(session_id)
        return [keys["variables"], keys["context"], keys["last_activity"], keys["meta"]]

    async def get(self, session_id: uuid.UUID, history_limit: int, *, with_history: bool = True) -> Session | None:
        """The cached copy, or None (a miss, or Valkey down)."""
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.mget(*self._state_keys(session_id))
            if with_history:
                pipe.lrange(cache_keys(session_id)["messages"], -history_limit, -1)
            got = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._down("read", exc)
            return None
        return self.decode(session_id, got[0], got[1] if with_history else None, history_limit)

    @staticmethod
    def decode(session_id: uuid.UUID, state: list[Any], messages: list[bytes] | None,
               history_limit: int) -> Session | None:
        """A Session from the values of the state keys (and the message list)."""
        variables, context, last_activity, meta = state
        if meta is None or variables is None or context is None or last_activity is None:
            return None
        m = jsontext.loads(meta)
        return Session(
            id=session_id, bot_id=m["bot_id"], channel=m["channel"], token_hash=m["token_hash"],
            created_at=dt.datetime.fromisoformat(m["created_at"]),
            last_activity=dt.datetime.fromisoformat(last_activity.decode()),
            user_id=uuid.UUID(m["user_id"]) if m.get("user_id") else None, address=m.get("address"),
            expires_at=dt.datetime.fromisoformat(m["expires_at"]) if m.get("expires_at") else None,
            status=m["status"], variables=jsontext.loads(variables), context=jsontext.loads(context),
            dialog=m.get("dialog"), version=m["version"], message_count=m["message_count"],
            history=[Message.from_dict(jsontext.loads(x)) for x in messages] if messages is not None else None,
            history_limit=history_limit, ttl_seconds=m.get("ttl", 1800))

    async def messages(self, session_id: uuid.UUID, limit: int) -> list[Message] | None:
        """The cached recent messages, or None when they are not cached."""
        key = cache_keys(session_id)["messages"]
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.exists(cache_keys(session_id)["meta"])
            pipe.lrange(key, -limit, -1)
            present, raw = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._down("read", exc)
            return None
        return [Message.from_dict(jsontext.loads(x)) for x in raw] if present else None

    # --- writing -----------------------------------------------------------------------------------
    @staticmethod
    def _write_args(session: Session, new_messages: list[Message], full: bool, lock_token: str
                    ) -> tuple[list[str], list[Any]]:
        """The keys and arguments of _WRITE for a session and its new messages."""
        keys = cache_keys(session.id)
        ttl = max(int(session.ttl_seconds), 1)
        expires = session.expires_at.isoformat() if session.expires_at else None
        meta = {"bot_id": session.bot_id, "channel": session.channel, "token_hash": session.token_hash,
                "created_at": session.created_at.isoformat(), "address": session.address,
                "user_id": str(session.user_id) if session.user_id else None, "expires_at": expires,
                "status": session.status, "dialog": session.dialog, "version": session.version,
                "message_count": session.message_count, "ttl": ttl}
        msgs = (session.history or []) if full else new_messages
        return ([keys["variables"], keys["context"], keys["last_activity"], keys["meta"], keys["messages"],
                 f"token:{session.token_hash}", _lock_key(session.id)],
                [ttl, jsontext.dumps(session.variables), jsontext.dumps(session.context),
                 session.last_activity.isoformat(), jsontext.dumps(meta), f"{session.id} {session.bot_id}",
                 session.history_limit, "1" if full else "0", lock_token,
                 *[jsontext.dumps(m.to_dict()) for m in msgs]])

    async def put(self, session: Session, new_messages: list[Message], *, full: bool = False) -> None:
        """Write a session through after its commit; `full` rewrites the message list."""
        keys, args = self._write_args(session, new_messages, full, "")
        try:
            await self._call(self._write_lua, keys=keys, args=args)
        except (RedisError, OSError) as exc:
            self._down("write", exc)
            await self.forget(session.id)

    async def forget(self, session_id: uuid.UUID, token_hash: str | None = None) -> None:
        """Drop a session's copy (after a delete, or when a write-through failed)."""
        keys = list(cache_keys(session_id).values()) + ([f"token:{token_hash}"] if token_hash else [])
        try:
            await self.client.delete(*keys)
        except (RedisError, OSError) as exc:
            self._down("delete", exc)

    async def find_token(self, token_hash: str) -> tuple[uuid.UUID, str] | None:
        """The cached (session id, bot id) of a token; None on a miss or when Valkey is down."""
        try:
            v = await self.client.get(f"token:{token_hash}")
        except (RedisError, OSError) as exc:
            self._down("read", exc)
            return None
        sid, _, bot = (v.decode() if isinstance(v, bytes) else (v or "")).partition(" ")
        return (uuid.UUID(sid), bot) if sid and bot else None

    # --- locking -----------------------------------------------------------------------------------
    async def acquire(self, session_id: uuid.UUID, rate_limit: int | None, deadline: float
                      ) -> tuple[str, list[Any], float] | None:
        """Check the rate limit, take the session's lock and read its cached state: one round trip
        (again every few ms while another turn holds the lock, until `deadline`, time.monotonic()).

        Returns (lock token, the state keys' values, the end of the lease in time.monotonic()
        seconds), or None when Valkey is unreachable.

        Raises:
            RateLimited: over `rate_limit` messages in the last minute.
            SessionBusy: another turn held the lock until `deadline` (Retry-After: the rest of its lease).
        """
        token = secrets.token_hex(8)
        keys = [_lock_key(session_id), f"ratelimit:{session_id}", *self._state_keys(session_id)]
        delay = 0.001
        try:
            while True:
                now, sent = time.time(), time.monotonic()
                args = [token, int(self.lease * 1000), now, WINDOW, rate_limit or 0, f"{now}:{token}"]
                got = await self._call(self._acquire_lua, keys=keys, args=args)
                if int(got[0]) == -1:
                    raise limited(rate_limit or 0, float(got[1]))
                if int(got[0]) == 1:
                    self._up()
                    return token, list(got[1]), sent + self.lease  # counted from before the request: never late
                left = deadline - time.monotonic()
                if left <= 0:
                    raise busy(int(got[1]) / 1000)
                await asyncio.sleep(min(delay, left))
                delay = min(delay * 2, 0.02)
        except (RedisError, OSError) as exc:
            self._down("lock", exc)
            return None

    async def renew(self, session_id: uuid.UUID, token: str) -> bool | None:
        """Extend this turn's lock by a lease if the key still holds `token`: True; False when the
        key is gone or holds another turn's token; None when Valkey is unreachable."""
        try:
            held = await self._call(self._renew_lua, keys=[_lock_key(session_id)],
                                    args=[token, int(self.lease * 1000)])
        except (RedisError, OSError) as exc:
            self._down("renew", exc)
            return None
        self._up()
        return bool(held)

    async def busy(self, session_id: uuid.UUID) -> SessionBusy:
        """The refusal of a message that waited for its session's lock all the wait in this
        process: Retry-After is what is left of the lock's lease (1 s when Valkey does not say)."""
        try:
            pttl = int(await self.client.pttl(_lock_key(session_id)))
        except (RedisError, OSError) as exc:
            self._down("lock", exc)
            pttl = 0
        return busy(pttl / 1000)

    async def hit(self, key: str, limit: int) -> float | None:
        """A rate-limited hit of `key` (``ratelimit:<key>``, a sliding window): 0 when recorded,
        else the seconds until a slot frees; None when Valkey is unreachable."""
        now = time.time()
        try:
            wait = await self._call(self._hit_lua, keys=[f"ratelimit:{key}"],
                                    args=[now, WINDOW, limit, f"{now}:{secrets.token_hex(4)}"])
        except (RedisError, OSError) as exc:
            self._down("rate limit", exc)
            return None
        self._up()
        return float(wait)

    async def release(self, session_id: uuid.UUID, token: str, write: tuple[Session, list[Message]] | None) -> None:
        """Write the turn's session through (if it was saved) and unlock: one round trip."""
        try:
            if write is None:
                await self._call(self._unlock_lua, keys=[_lock_key(session_id)], args=[token])
            else:
                keys, args = self._write_args(write[0], write[1], False, token)
                await self._call(self._write_lua, keys=keys, args=args)
        except (RedisError, OSError) as exc:
            self._down("unlock", exc)
            if write is not None:
                await self.forget(session_id)


class _ValkeyLease(Lease):
    """A lock held in Valkey: its token; `until`, the end of its lease (time.monotonic() seconds,
    moved on by each renewal); `lost`, why it is lost (None while it is held); `keeper`, what
    renews it (a timer, then the task it starts); the state read with it; the write-through to
    do with the unlock."""

    __slots__ = ("token", "until", "lost", "keeper")

    def __init__(self, session_id: uuid.UUID, token: str, state: list[Any], until: float) -> None:
        super().__init__(session_id, state)
        self.token, self.until = token, until
        self.lost: str | None = None
        self.keeper: asyncio.TimerHandle | asyncio.Task[None] | None = None


class CachedStore(SessionStore):
    """A SqlStore with a Valkey cache in front (see the module docstring).

    A turn costs two Valkey round trips: the lock with the read of the cached state, and the
    write-through with the unlock (one more a third of a lease, while a longer turn runs: the
    renewal of its lease). The write-through of a copy saved under its lock waits for
    the unlock (it travels with it); any other save writes through at once. Lookups the cache
    does not serve go to the inner store."""

    def __init__(self, inner: SqlStore, cache: ValkeyCache) -> None:
        self.inner = inner
        self.cache = cache
        self.local = LocalLocks()

    # --- primitives ------------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _acquire(self, session_id: uuid.UUID, rate_limit: int | None) -> AsyncIterator[Lease]:
        deadline = self.local.deadline()  # one wait for both locks
        local = await self.local.acquire(str(session_id), deadline)
        if local is None:  # this process's own turn holds it: what is left of that turn's lease
            raise await self.cache.busy(session_id)
        try:
            got = await self.cache.acquire(session_id, rate_limit, deadline)
            if got is None:  # Valkey is down: every process falls back to the SQL lock and count
                async with self.inner._acquire(session_id, rate_limit) as lease:
                    yield lease
                return
            token, state, until = got
            lease = _ValkeyLease(session_id, token, state, until)
            # a timer, not a task: most turns end before the first renewal is due
            lease.keeper = asyncio.get_running_loop().call_later(self.cache.lease / 3, self._start_keeper, lease)
            try:
                yield lease
            finally:
                lease.keeper.cancel()
                if lease.lost is None:
                    await self.cache.release(session_id, token, lease.write)
                else:  # another turn may hold it now: unlock only our own token, keep no copy of ours
                    await self.cache.release(session_id, token, None)
                    if lease.write is not None:
                        await self.cache.forget(session_id)
        finally:
            local.release()

    def _start_keeper(self, lease: _ValkeyLease) -> None:
        lease.keeper = asyncio.ensure_future(self._keep(lease))

    async def _keep(self, lease: _ValkeyLease) -> None:
        """Renew a lease now, then every third of it while its turn runs (cancelled at the unlock);
        stop once it is lost."""
        while True:
            await self._renew(lease)
            if lease.lost is not None:
                return
            await asyncio.sleep(self.cache.lease / 3)

    async def _renew(self, lease: _ValkeyLease) -> None:
        """Renew a lease once: held for a lease more, or marked lost (gone, another turn's, or no
        renewal got through for a whole lease)."""
        sent = time.monotonic()
        held = await self.cache.renew(lease.session_id, lease.token)
        if held:
            lease.until = sent + self.cache.lease
        elif held is False:
            lease.lost = "its lease expired or another message holds the session now"
        elif time.monotonic() >= lease.until:
            lease.lost = f"Valkey did not answer for the lock's whole lease ({self.cache.lease:g} s)"
        if lease.lost is not None:
            log.warning("session %s: this turn lost its lock: %s", lease.session_id, lease.lost)

    async def _check_held(self, lease: _ValkeyLease) -> None:
        """Before a commit: the lease must still be held. A keeper that is late (the event loop was
        busy, Valkey slow) renews it here first.

        Raises:
            LockLost: it is lost; nothing is written.
        """
        if lease.lost is None and time.monotonic() > lease.until - self.cache.lease / 3:
            await self._renew(lease)
        if lease.lost is not None:
            raise LockLost(f"this message lost its lock on the session ({lease.lost}); nothing of it was saved; "
                           "try again", retry_after=1)

    async def _insert(self, session: Session, cap: SessionCap | None) -> None:
        new = list(session.pending)
        await self.inner._insert(session, cap)
        session.version = 0
        await self.cache.put(session, new, full=session.history is not None)

    async def _read(self, session_id: uuid.UUID, *, history_limit: int, with_history: bool, fresh: bool,
                    lease: Lease | None) -> Session | None:
        """From the cache (the state read with the lock, once), else from SQL (then cached)."""
        if not fresh:
            if lease is not None and isinstance(lease.state, list) and not with_history:
                state, lease.state = lease.state, None
                cached = self.cache.decode(session_id, state, None, history_limit)
            else:
                cached = await self.cache.get(session_id, history_limit, with_history=with_history)
            if cached is not None:
                return cached
        session = await self.inner._read(session_id, history_limit=history_limit, with_history=True, fresh=True,
                                         lease=None)  # with history: the cache gets all of it
        if session is not None:
            await self.cache.put(session, [], full=True)
            if not with_history:
                session.history = None
        return session

    async def _write(self, session: Session) -> None:
        lease = session.lease
        if isinstance(lease, _ValkeyLease) and lease.session_id == session.id:
            await self._check_held(lease)
        new = list(session.pending)
        try:
            await self.inner._write(session)
        except Exception:
            await self.cache.forget(session.id)  # never keep a copy that may be stale
            raise
        written = dataclasses.replace(session, version=session.version + 1, pending=[], memory_writes={},
                                      user_memory_writes=[], lease=None, new_timers=[], done_timers=[],
                                      outbox=[], inbox_done=[])
        if isinstance(lease, _ValkeyLease) and lease.session_id == session.id:
            earlier: list[Message] = lease.write[1] if lease.write else []
            lease.write = (written, earlier + new)  # written through together with the unlock
        else:
            await self.cache.put(written, new)

    async def _user_messages_since(self, session_id: uuid.UUID, since: dt.datetime, limit: int
                                   ) -> list[dt.datetime]:
        return await self.inner._user_messages_since(session_id, since, limit)

    async def _hit(self, key: str, limit: int) -> float:
        """In Valkey (one script); in SQL while Valkey is unreachable."""
        wait = await self.cache.hit(key, limit)
        return wait if wait is not None else await self.inner._hit(key, limit)

    # --- lookups ------------------------------------------------------------------------------------------
    async def delete(self, session_id: uuid.UUID) -> None:
        old = await self.inner.load(session_id, history_limit=1, with_history=False)
        await self.inner.delete(session_id)
        await self.cache.forget(session_id, old.token_hash if old else None)

    async def history(self, session_id: uuid.UUID, limit: int | None = None, *, after: int | None = None
                      ) -> list[Message]:
        """Recent messages from the cache when `limit` fits in it, else from SQL."""
        if limit is not None and after is None:
            cached = await self.cache.messages(session_id, limit)
            if cached is not None:
                return cached
        return await self.inner.history(session_id, limit, after=after)

    async def find_token(self, token_hash: str) -> tuple[uuid.UUID, str] | None:
        cached = await self.cache.find_token(token_hash)
        if cached is not None:
            return cached
        return await self.inner.find_token(token_hash)

    async def find(self, bot_id: str, channel: str, address: str) -> uuid.UUID | None:
        return await self.inner.find(bot_id, channel, address)

    async def user_session(self, user_id: uuid.UUID, bot_id: str, *, exclude: uuid.UUID | None = None
                           ) -> uuid.UUID | None:
        return await self.inner.user_session(user_id, bot_id, exclude=exclude)

    async def get_bot_memory(self, bot_id: str, key: str) -> Any:
        return await self.inner.get_bot_memory(bot_id, key)

    async def get_user_memory(self, bot_id: str, owner: str, key: str, now: dt.datetime) -> Any:
        return await self.inner.get_user_memory(bot_id, owner, key, now)  # in SQL only: read where written

    async def adopt_user_memory(self, bot_id: str, from_owner: str, to_owner: str) -> int:
        return await self.inner.adopt_user_memory(bot_id, from_owner, to_owner)

    async def count_active(self, since: dt.datetime, bot_id: str | None = None, *,
                           empty_since: dt.datetime | None = None) -> int:
        return await self.inner.count_active(since, bot_id, empty_since=empty_since)

    async def recent(self, bot_id: str | None = None, limit: int = 20) -> list[SessionRecord]:
        return await self.inner.recent(bot_id, limit)

    async def expired(self, now: dt.datetime, limit: int = 1000) -> list[uuid.UUID]:
        return await self.inner.expired(now, limit)

    async def ping(self) -> None:
        await self.inner.ping()

    # --- timers: in SQL only (the turn's write lands them with its transaction) -----------------------------
    async def claim_timers(self, now: dt.datetime, owner: str, lease_seconds: float, limit: int = 20
                           ) -> list[Timer]:
        return await self.inner.claim_timers(now, owner, lease_seconds, limit)

    async def drop_timer(self, timer_id: uuid.UUID) -> None:
        await self.inner.drop_timer(timer_id)

    async def timers(self, session_id: uuid.UUID) -> list[Timer]:
        return await self.inner.timers(session_id)
