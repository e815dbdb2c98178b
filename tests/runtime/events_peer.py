"""A separate OS process with its own SessionEvents (see test_events): commands on stdin, payloads on stdout.

Usage: ``python events_peer.py valkey REDIS_URL`` or ``python events_peer.py socket DATA_DIR`` (the sockets
are then in ``DATA_DIR/events``, as with ``SessionEvents.for_storage``).

stdin, one command a line: ``sub SID``, ``unsub SID``, ``pub SID JSON``, ``exit``.
stdout, one JSON object a line: ``{"ready": origin}`` once started, ``{"ok": command}`` after each
command, ``{"got": sid, "payload": ...}`` for each payload one of its listeners receives.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from gb_runtime.events import Listener, SessionEvents


def say(obj: dict[str, Any]) -> None:
    print(json.dumps(obj), flush=True)


def listener_for(sid: uuid.UUID) -> Listener:
    return lambda payload: say({"got": str(sid), "payload": payload})


async def stdin_lines() -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def main(kind: str, target: str) -> None:
    redis = Redis.from_url(target) if kind == "valkey" else None
    events = SessionEvents.for_storage(redis, Path(target))
    await events.start()
    listeners: dict[uuid.UUID, Listener] = {}
    say({"ready": events.origin})
    reader = await stdin_lines()
    try:
        while line := (await reader.readline()).decode().strip():
            command, *args = line.split(" ", 2)
            if command == "exit":
                break
            sid = uuid.UUID(args[0])
            if command == "sub":
                listeners[sid] = listener_for(sid)
                events.subscribe(sid, listeners[sid])
            elif command == "unsub":
                events.unsubscribe(sid, listeners.pop(sid))
            elif command == "pub":
                events.publish(sid, json.loads(args[1]))
            say({"ok": command})
    finally:
        await events.stop()
        if redis is not None:
            await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
