"""Live sockets by session: a reply committed by one handler reaches the session's sockets.

Within one process only: across processes (``--workers``, several machines) the replies
travel over Valkey pub/sub, which is not built yet; a socket catches up from the history
when it reconnects.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

__all__ = ["Hub"]

Listener = Callable[[dict[str, Any]], None]


class Hub:
    """Session id -> the listeners (open sockets) of this process."""

    def __init__(self) -> None:
        self._listeners: dict[uuid.UUID, set[Listener]] = defaultdict(set)

    def subscribe(self, session_id: uuid.UUID, listener: Listener) -> None:
        self._listeners[session_id].add(listener)

    def unsubscribe(self, session_id: uuid.UUID, listener: Listener) -> None:
        listeners = self._listeners.get(session_id)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self._listeners[session_id]

    def publish(self, session_id: uuid.UUID, payload: dict[str, Any], *, skip: Listener | None = None) -> None:
        """Send a payload to every socket of a session (but `skip`, the one that asked)."""
        for listener in list(self._listeners.get(session_id, ())):
            if listener != skip:  # bound methods compare equal, not identical
                listener(payload)

    def count(self) -> int:
        """Open sockets in this process."""
        return sum(len(v) for v in self._listeners.values())
