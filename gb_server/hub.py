"""Live sockets by session: a reply committed by any process reaches the session's sockets.

In one process the hub calls the session's listeners directly. With Valkey configured
(several ``gb serve`` processes or machines), a reply is also published on the Valkey channel
``gb:replies:<session id>`` after its commit; a process subscribes to the channels of the
sessions it holds sockets for and delivers what it receives to them: no sticky sessions, and
no work for the processes (or the publisher) that hold no socket of that session. Pub/sub is
best effort: a socket that misses a reply catches up from the history when it reconnects.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = ["Hub"]

log = logging.getLogger("gb.server")
Listener = Callable[[dict[str, Any]], None]
CHANNEL = "gb:replies:"


class Hub:
    """Session id -> the listeners (open sockets) of this process; Valkey pub/sub between processes."""

    def __init__(self, redis: Redis | None = None) -> None:
        self._listeners: dict[uuid.UUID, set[Listener]] = defaultdict(set)
        self.redis = redis
        self.origin = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[Any]] = set()
        self._pubsub: Any = None

    def subscribe(self, session_id: uuid.UUID, listener: Listener) -> None:
        first = session_id not in self._listeners
        self._listeners[session_id].add(listener)
        if first:
            self._channel(session_id, subscribe=True)

    def unsubscribe(self, session_id: uuid.UUID, listener: Listener) -> None:
        listeners = self._listeners.get(session_id)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self._listeners[session_id]
                self._channel(session_id, subscribe=False)

    def _channel(self, session_id: uuid.UUID, *, subscribe: bool) -> None:
        if self._pubsub is None:
            return
        name = f"{CHANNEL}{session_id}"
        task = asyncio.ensure_future(self._pubsub.subscribe(name) if subscribe else self._pubsub.unsubscribe(name))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    def deliver(self, session_id: uuid.UUID, payload: dict[str, Any], skip: Listener | None = None) -> None:
        for listener in list(self._listeners.get(session_id, ())):
            if listener != skip:  # bound methods compare equal, not identical
                listener(payload)

    def publish(self, session_id: uuid.UUID, payload: dict[str, Any], *, skip: Listener | None = None) -> None:
        """Send a payload to every socket of a session, here and (through Valkey) elsewhere."""
        self.deliver(session_id, payload, skip)
        if self.redis is not None:
            message = json.dumps({"origin": self.origin, "payload": payload}, ensure_ascii=False, default=str)
            task = asyncio.ensure_future(self._publish(f"{CHANNEL}{session_id}", message))
            self._sending.add(task)  # keep a reference until it is sent
            task.add_done_callback(self._sending.discard)

    async def _publish(self, channel: str, message: str) -> None:
        try:
            assert self.redis is not None
            await self.redis.publish(channel, message)
        except (RedisError, OSError) as exc:
            log.warning("valkey unavailable, a reply reaches other processes' sockets on reconnect: %s", exc)

    def count(self) -> int:
        """Open sockets in this process."""
        return sum(len(v) for v in self._listeners.values())

    # --- receiving from the other processes ---------------------------------------------------------
    def start(self) -> None:
        """Listen to the other processes (with Valkey); reconnects when Valkey comes back."""
        if self.redis is not None and self._task is None:
            self._task = asyncio.ensure_future(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _listen(self) -> None:
        assert self.redis is not None
        while True:
            try:
                self._pubsub = pubsub = self.redis.pubsub()
                # a channel per session with a socket here; "gb:hub" keeps the connection busy
                await pubsub.subscribe(f"{CHANNEL}hub", *(f"{CHANNEL}{sid}" for sid in list(self._listeners)))
                async for msg in pubsub.listen():
                    if msg.get("type") == "message":
                        self._received(msg)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self._pubsub = None
                log.warning("valkey pub/sub lost (%s); retrying in 1 s", exc)
                await asyncio.sleep(1)

    def _received(self, msg: dict[str, Any]) -> None:
        try:
            data = json.loads(msg["data"])
            channel = msg["channel"].decode() if isinstance(msg["channel"], bytes) else msg["channel"]
            session_id = uuid.UUID(channel[len(CHANNEL):])
        except (ValueError, KeyError, TypeError):
            return
        if data.get("origin") != self.origin:
            self.deliver(session_id, data.get("payload") or {})
