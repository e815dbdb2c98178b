"""The Valkey cache in front of the SQL store: write-through after commit, restore on a miss.

Keys keep the seed's names, so ``valkey-cli GET session:<uuid>:variables`` shows JSON::

    session:<uuid>:variables      JSON of the variables
    session:<uuid>:context        JSON of the context (KBs, tools, prompt)
    session:<uuid>:last_activity  ISO time
    session:<uuid>:messages       list of recent messages (JSON each), capped at the history limit
    session:<uuid>:meta           the rest (bot, token hash, dialog state, version, ...)
    token:<sha256>                the session id of a token

Every key lives for the session's idle timeout. Valkey unreachable means slower, never
wrong: each operation falls back to SQL and logs; a cached copy is only trusted together with
the version check of ``save`` (a stale copy fails with ConcurrentUpdate and the caller reloads
from SQL). With Valkey, the per-session lock is a Valkey lock (SET NX PX).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from .errors import StoreUnavailable
from .locks import LOCK_TIMEOUT, LocalLocks
from .session import Message, Session
from .store import SqlStore

__all__ = ["ValkeyCache", "CachedStore", "cache_keys"]

log = logging.getLogger("gb.store")

_UNLOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
"""
LOCK_TTL_MS = 60_000  # a lock outlives no crashed process by more than a minute


def cache_keys(session_id: uuid.UUID | str) -> dict[str, str]:
    """The seed's cache key names for a session."""
    base = f"session:{session_id}"
    return {k: f"{base}:{k}" for k in ("variables", "context", "last_activity", "messages", "meta")}


class ValkeyCache:
    """Session copies in Valkey (or Redis: same protocol). `client` is a redis.asyncio client."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        self._down_logged = 0.0

    def _down(self, what: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._down_logged > 5:  # one line every 5 s, not one per message
            log.warning("valkey unavailable (%s), serving from SQL: %s", what, exc)
            self._down_logged = now

    async def get(self, session_id: uuid.UUID, history_limit: int) -> Session | None:
        keys = cache_keys(session_id)
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.mget(keys["variables"], keys["context"], keys["last_activity"], keys["meta"])
            pipe.lrange(keys["messages"], -history_limit, -1)
            (variables, context, last_activity, meta), messages = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._down("read", exc)
            return None
        if meta is None or variables is None or context is None or last_activity is None:
            return None
        m = json.loads(meta)
        return Session(
            id=session_id, bot_id=m["bot_id"], channel=m["channel"], token_hash=m["token_hash"],
            created_at=dt.datetime.fromisoformat(m["created_at"]),
            last_activity=dt.datetime.fromisoformat(last_activity.decode()),
            user_id=uuid.UUID(m["user_id"]) if m.get("user_id") else None, address=m.get("address"),
            expires_at=dt.datetime.fromisoformat(m["expires_at"]) if m.get("expires_at") else None,
            status=m["status"], variables=json.loads(variables), context=json.loads(context),
            dialog=m.get("dialog"), version=m["version"], message_count=m["message_count"],
            history=[Message.from_dict(json.loads(x)) for x in messages], history_limit=history_limit,
            ttl_seconds=m.get("ttl", 1800))

    async def put(self, session: Session, new_messages: list[Message], *, full: bool = False) -> None:
        """Write a session through after its commit; `full` rewrites the message list."""
        keys = cache_keys(session.id)
        ttl = max(int(session.ttl_seconds), 1)
        expires = session.expires_at.isoformat() if session.expires_at else None
        meta = {"bot_id": session.bot_id, "channel": session.channel, "token_hash": session.token_hash,
                "created_at": session.created_at.isoformat(), "address": session.address,
                "user_id": str(session.user_id) if session.user_id else None, "expires_at": expires,
                "status": session.status, "dialog": session.dialog, "version": session.version,
                "message_count": session.message_count, "ttl": ttl}
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.set(keys["variables"], json.dumps(session.variables, ensure_ascii=False), ex=ttl)
            pipe.set(keys["context"], json.dumps(session.context, ensure_ascii=False), ex=ttl)
            pipe.set(keys["last_activity"], session.last_activity.isoformat(), ex=ttl)
            pipe.set(keys["meta"], json.dumps(meta, ensure_ascii=False), ex=ttl)
            msgs = session.history if full else new_messages
            if full:
                pipe.delete(keys["messages"])
            if msgs:
                pipe.rpush(keys["messages"], *[json.dumps(m.to_dict(), ensure_ascii=False) for m in msgs])
            pipe.ltrim(keys["messages"], -session.history_limit, -1)
            pipe.expire(keys["messages"], ttl)
            pipe.set(f"token:{session.token_hash}", str(session.id), ex=ttl)
            await pipe.execute()
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

    async def session_id_for_token(self, token_hash: str) -> uuid.UUID | bool | None:
        """The cached session id of a token; False when Valkey cannot be asked."""
        try:
            v = await self.client.get(f"token:{token_hash}")
        except (RedisError, OSError) as exc:
            self._down("read", exc)
            return False
        return uuid.UUID(v.decode() if isinstance(v, bytes) else v) if v else None

    @contextlib.asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[bool]:
        """A Valkey lock on `key`; yields False (without locking) when Valkey is unreachable."""
        name, token = f"lock:session:{key}", secrets.token_hex(8)
        deadline = time.monotonic() + LOCK_TIMEOUT
        delay = 0.001
        try:
            while not await self.client.set(name, token, nx=True, px=LOCK_TTL_MS):
                if time.monotonic() > deadline:
                    raise StoreUnavailable("the session is busy (lock timeout)", retry_after=1)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.02)
        except (RedisError, OSError) as exc:
            self._down("lock", exc)
            yield False
            return
        try:
            yield True
        finally:
            try:
                await self.client.eval(_UNLOCK, 1, name, token)
            except (RedisError, OSError) as exc:
                self._down("unlock", exc)


class CachedStore:
    """A SqlStore with a Valkey cache in front (see the module docstring)."""

    def __init__(self, inner: SqlStore, cache: ValkeyCache) -> None:
        self.inner = inner
        self.cache = cache
        self.local = LocalLocks()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # lookups the cache does not serve go to SQL

    @contextlib.asynccontextmanager
    async def _lock(self, key: str) -> AsyncIterator[None]:
        async with self.local.get(key), self.cache.lock(key) as locked:
            if locked:
                yield
            else:  # Valkey is down: every process falls back to the SQL lock
                async with self.inner.lock(uuid.UUID(key)):
                    yield

    def lock(self, session_id: uuid.UUID) -> contextlib.AbstractAsyncContextManager[None]:
        return self._lock(str(session_id))

    async def create(self, session: Session) -> None:
        new = list(session.pending)
        await self.inner.create(session)
        await self.cache.put(session, new, full=True)

    async def load(self, session_id: uuid.UUID, *, history_limit: int = 50, fresh: bool = False) -> Session | None:
        """From the cache, else from SQL (and then cached). `fresh` skips the cache."""
        if not fresh:
            cached = await self.cache.get(session_id, history_limit)
            if cached is not None:
                return cached
        session = await self.inner.load(session_id, history_limit=history_limit)
        if session is not None:
            await self.cache.put(session, [], full=True)
        return session

    async def save(self, session: Session, *, max_variables_kb: int | None = None) -> None:
        new = list(session.pending)
        try:
            await self.inner.save(session, max_variables_kb=max_variables_kb)
        except Exception:
            await self.cache.forget(session.id)  # never keep a copy that may be stale
            raise
        await self.cache.put(session, new)

    async def delete(self, session_id: uuid.UUID) -> None:
        old = await self.inner.load(session_id, history_limit=1)
        await self.inner.delete(session_id)
        await self.cache.forget(session_id, old.token_hash if old else None)

    async def session_id_for_token(self, token_hash: str) -> uuid.UUID | None:
        cached = await self.cache.session_id_for_token(token_hash)
        if isinstance(cached, uuid.UUID):
            return cached
        return await self.inner.session_id_for_token(token_hash)
