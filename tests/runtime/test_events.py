"""SessionEvents: listeners in one process, and payloads between real OS processes over Valkey and Unix sockets.

The peer (events_peer.py) is a separate Python process with its own SessionEvents on the same Valkey
or the same socket folder; it prints what its listeners receive. A handshake (pings repeated until
one arrives) makes sure a subscription is live before a test relies on it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import socket
import stat
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from gb_runtime.events import SessionEvents, SocketTransport, Transport, ValkeyTransport

ROOT = Path(__file__).resolve().parents[2]
PEER = Path(__file__).with_name("events_peer.py")
WAIT = 5.0  # seconds to wait for one delivery
START = 20.0  # seconds for a peer process to start (it imports the gb packages)
Payload = dict[str, Any]


# --- in one process ----------------------------------------------------------------------------------


def recorder() -> tuple[list[Payload], Callable[[Payload], None]]:
    got: list[Payload] = []
    return got, got.append


async def test_publish_reaches_the_listeners_of_the_session_only() -> None:
    events = SessionEvents()
    a, b = uuid.uuid4(), uuid.uuid4()
    got_a1, l_a1 = recorder()
    got_a2, l_a2 = recorder()
    got_b, l_b = recorder()
    events.subscribe(a, l_a1)
    events.subscribe(a, l_a2)
    events.subscribe(b, l_b)
    events.publish(a, {"type": "reply", "text": "hi"})
    assert got_a1 == got_a2 == [{"type": "reply", "text": "hi"}]
    assert got_b == []


async def test_skip_leaves_out_the_sender() -> None:
    events = SessionEvents()
    sid = uuid.uuid4()
    got_sender, sender = recorder()
    got_other, other = recorder()
    events.subscribe(sid, sender)
    events.subscribe(sid, other)
    events.publish(sid, {"n": 1}, skip=sender)
    assert got_sender == [] and got_other == [{"n": 1}]


async def test_unsubscribe_and_count() -> None:
    events = SessionEvents()
    a, b = uuid.uuid4(), uuid.uuid4()
    got, listener = recorder()
    assert events.count() == 0
    events.subscribe(a, listener)
    events.subscribe(a, listener)  # twice: still one subscription
    events.subscribe(b, listener)
    assert events.count() == 2
    events.unsubscribe(a, listener)
    events.unsubscribe(a, listener)  # not subscribed any more: nothing happens
    events.unsubscribe(uuid.uuid4(), listener)
    assert events.count() == 1
    events.publish(a, {"n": 1})
    events.publish(b, {"n": 2})
    assert got == [{"n": 2}]


async def test_a_raising_listener_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    events = SessionEvents()
    sid = uuid.uuid4()
    before, l_before = recorder()
    after, l_after = recorder()

    def broken(payload: Payload) -> None:
        raise RuntimeError("socket closed")

    events.subscribe(sid, l_before)
    events.subscribe(sid, broken)
    events.subscribe(sid, l_after)
    with caplog.at_level(logging.ERROR, logger="gb.events"):
        events.publish(sid, {"n": 1})
    assert before == after == [{"n": 1}]
    assert any(r.name == "gb.events" and "socket closed" in (r.exc_text or "") for r in caplog.records)


async def test_an_unencodable_payload_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    events = SessionEvents(SocketTransport(tmp_path / "events"))
    await events.start()
    try:
        sid = uuid.uuid4()
        got, listener = recorder()
        events.subscribe(sid, listener)
        circular: Payload = {"type": "reply"}
        circular["self"] = circular
        with caplog.at_level(logging.WARNING, logger="gb.events"):
            events.publish(sid, circular)  # json.dumps raises ValueError: logged
        assert got == [circular]
        assert any("not sent" in r.getMessage() for r in caplog.records)
    finally:
        await events.stop()


async def test_for_storage_picks_valkey_with_a_client_else_the_data_folder(tmp_path: Path,
                                                                          redis_client: Redis) -> None:
    with_valkey = SessionEvents.for_storage(redis_client, tmp_path)
    assert isinstance(with_valkey.transport, ValkeyTransport) and with_valkey.transport.redis is redis_client
    embedded = SessionEvents.for_storage(None, tmp_path)
    assert isinstance(embedded.transport, SocketTransport)
    assert embedded.transport.directory == (tmp_path / "events").resolve()
    assert embedded.transport.path.name == f"{embedded.origin}.sock"


# --- across processes --------------------------------------------------------------------------------


class Peer:
    """A running events_peer.py: its ``ready`` origin, its command acknowledgements, the payloads it got."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.acks: asyncio.Queue[str] = asyncio.Queue()
        self.got: asyncio.Queue[tuple[str, Payload]] = asyncio.Queue()
        self.log: list[tuple[str, Payload]] = []  # every payload but pings, in order
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def spawn(cls, kind: str, target: str) -> Peer:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(PEER), kind, target, cwd=str(ROOT), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        peer = cls(proc)
        try:
            await asyncio.wait_for(asyncio.shield(peer.ready), START)
        except TimeoutError:
            await peer.kill()
            raise
        return peer

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            line = json.loads(raw)
            if "ready" in line:
                self.ready.set_result(line["ready"])
            elif "ok" in line:
                self.acks.put_nowait(line["ok"])
            elif "got" in line:
                self.got.put_nowait((line["got"], line["payload"]))
                if line["payload"].get("type") != "ping":
                    self.log.append((line["got"], line["payload"]))
        if not self.ready.done():
            assert self.proc.stderr is not None
            self.ready.set_exception(RuntimeError((await self.proc.stderr.read()).decode()[-3000:]))

    async def command(self, *words: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((" ".join(words) + "\n").encode())
        await self.proc.stdin.drain()
        assert await asyncio.wait_for(self.acks.get(), WAIT) == words[0]

    async def publish(self, sid: uuid.UUID, payload: Payload) -> None:
        await self.command("pub", str(sid), json.dumps(payload))

    async def next(self) -> tuple[str, Payload]:
        """The next payload the peer got, pings left out."""
        while True:
            sid, payload = await asyncio.wait_for(self.got.get(), WAIT)
            if payload.get("type") != "ping":
                return sid, payload

    async def exit(self) -> None:
        """Stop the peer cleanly and wait until everything it printed is read."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"exit\n")
        await self.proc.stdin.drain()
        await asyncio.wait_for(self.proc.wait(), WAIT)
        await asyncio.wait_for(self._reader, WAIT)
        assert self.proc.returncode == 0

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()


class Side:
    """One transport kind: makes this process's SessionEvents and the peers on the same Valkey or folder."""

    def __init__(self, kind: str, target: str) -> None:
        self.kind, self.target = kind, target
        self.events: list[SessionEvents] = []
        self.clients: list[Redis] = []
        self.peers: list[Peer] = []

    def transport(self) -> Transport:
        if self.kind == "valkey":
            client = Redis.from_url(self.target)
            self.clients.append(client)
            return ValkeyTransport(client)
        return SocketTransport(Path(self.target) / "events")

    async def open(self) -> SessionEvents:
        events = SessionEvents(self.transport())
        await events.start()
        self.events.append(events)
        return events

    async def peer(self) -> Peer:
        peer = await Peer.spawn(self.kind, self.target)
        self.peers.append(peer)
        return peer

    async def close(self) -> None:
        for peer in self.peers:
            await peer.kill()
        for events in self.events:
            await events.stop()
        for client in self.clients:
            await client.aclose()


@pytest.fixture(params=["valkey", "socket"])
async def side(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Side]:
    target = request.getfixturevalue("redis_url") if request.param == "valkey" else str(tmp_path / "data")
    s = Side(request.param, target)
    yield s
    await s.close()


def queue_listener() -> tuple[asyncio.Queue[Payload], list[Payload], Callable[[Payload], None]]:
    """A listener that queues each payload and logs the ones that are not pings."""
    queue: asyncio.Queue[Payload] = asyncio.Queue()
    log: list[Payload] = []

    def listener(payload: Payload) -> None:
        queue.put_nowait(payload)
        if payload.get("type") != "ping":
            log.append(payload)

    return queue, log, listener


async def next_payload(queue: asyncio.Queue[Payload]) -> Payload:
    while (payload := await asyncio.wait_for(queue.get(), WAIT))["type"] == "ping":
        pass
    return payload


async def until_received(send: Callable[[Payload], Awaitable[None]], received: Callable[[], Awaitable[Any]]) -> None:
    """Send pings every 50 ms until one is received: the receiving side's subscription is live."""
    for n in range(int(WAIT / 0.05)):
        await send({"type": "ping", "n": n})
        try:
            await asyncio.wait_for(received(), 0.05)  # 50 ms
            return
        except TimeoutError:
            continue
    raise AssertionError("no ping got through")


async def reach_peer(events: SessionEvents, peer: Peer, sid: uuid.UUID) -> None:
    async def send(payload: Payload) -> None:
        events.publish(sid, payload)

    await until_received(send, peer.got.get)


async def reach_us(peer: Peer, queue: asyncio.Queue[Payload], sid: uuid.UUID) -> None:
    await until_received(lambda payload: peer.publish(sid, payload), queue.get)


async def test_payloads_cross_processes_both_ways_without_duplicates(side: Side) -> None:
    events = await side.open()
    peer = await side.peer()
    sid = uuid.uuid4()
    queue, ours, listener = queue_listener()
    events.subscribe(sid, listener)
    await peer.command("sub", str(sid))
    await reach_peer(events, peer, sid)
    await reach_us(peer, queue, sid)

    events.publish(sid, {"type": "reply", "text": "X", "at": uuid.UUID(int=1)})  # str() on the wire
    assert await next_payload(queue) == {"type": "reply", "text": "X", "at": uuid.UUID(int=1)}  # here: at once
    assert await peer.next() == (str(sid), {"type": "reply", "text": "X", "at": str(uuid.UUID(int=1))})
    await peer.publish(sid, {"type": "reply", "text": "Y"})
    assert (await peer.next())[1]["text"] == "Y"
    assert (await next_payload(queue))["text"] == "Y"
    events.publish(sid, {"type": "reply", "text": "Z"})
    assert (await next_payload(queue))["text"] == "Z"
    assert (await peer.next())[1]["text"] == "Z"
    await peer.publish(sid, {"type": "reply", "text": "W"})
    assert (await peer.next())[1]["text"] == "W"
    assert (await next_payload(queue))["text"] == "W"
    # Valkey sends X and Z back to us before W (it keeps the order on our subscription): no echo came
    assert [p["text"] for p in ours] == ["X", "Y", "Z", "W"]
    events.publish(sid, {"type": "reply", "text": "V"})
    assert (await next_payload(queue))["text"] == "V"
    assert (await peer.next())[1]["text"] == "V"
    assert [p["text"] for _, p in peer.log] == ["X", "Y", "Z", "W", "V"]  # the peer's own Y and W: once


async def test_a_session_without_listener_in_the_peer_is_not_delivered_there(side: Side) -> None:
    events = await side.open()
    peer = await side.peer()
    listened, dropped, never = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await peer.command("sub", str(listened))
    await peer.command("sub", str(dropped))
    await peer.command("unsub", str(dropped))
    await reach_peer(events, peer, listened)
    events.publish(dropped, {"type": "reply", "text": "dropped"})
    events.publish(never, {"type": "reply", "text": "never"})
    events.publish(listened, {"type": "reply", "text": "listened"})
    assert await peer.next() == (str(listened), {"type": "reply", "text": "listened"})
    await peer.exit()
    assert peer.log == [(str(listened), {"type": "reply", "text": "listened"})]


async def test_a_burst_arrives_complete_and_in_order(side: Side) -> None:
    events = await side.open()
    peer = await side.peer()
    sid = uuid.uuid4()
    await peer.command("sub", str(sid))
    await reach_peer(events, peer, sid)
    for n in range(500):  # far more than a Unix datagram queue holds (10), and than one Valkey batch (200)
        events.publish(sid, {"type": "reply", "n": n})
    assert [(await peer.next())[1]["n"] for _ in range(500)] == list(range(500))


async def test_valkey_subscribes_only_while_a_listener_is_here(redis_url: str, redis_client: Redis) -> None:
    client = Redis.from_url(redis_url)
    events = SessionEvents(ValkeyTransport(client))
    await events.start()
    sid = uuid.uuid4()
    channel = f"gb:replies:{sid}"

    async def subscribers() -> int:
        return int((await redis_client.pubsub_numsub(channel))[0][1])

    async def until(n: int) -> None:
        for _ in range(int(WAIT / 0.02)):
            if await subscribers() == n:
                return
            await asyncio.sleep(0.02)  # 20 ms
        raise AssertionError(f"{channel}: {await subscribers()} subscribers, expected {n}")

    try:
        _, listener = recorder()
        assert await subscribers() == 0
        events.subscribe(sid, listener)
        await until(1)
        events.unsubscribe(sid, listener)
        await until(0)
    finally:
        await events.stop()
        await client.aclose()


async def test_valkey_unreachable_logs_one_warning_and_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)  # nothing listens on port 1
    events = SessionEvents(ValkeyTransport(client))
    try:
        with caplog.at_level(logging.WARNING, logger="gb.events"):
            await events.start()
            sid = uuid.uuid4()
            got, listener = recorder()
            events.subscribe(sid, listener)
            for n in range(5):
                events.publish(sid, {"n": n})
                await asyncio.sleep(0.05)  # 50 ms: each publish is tried and fails
        assert got == [{"n": n} for n in range(5)]  # this process's listeners still get them
        warnings = [r.getMessage() for r in caplog.records if r.name == "gb.events"]
        assert len([w for w in warnings if w.startswith("events publisher")]) == 1
        assert len([w for w in warnings if w.startswith("events subscriber")]) == 1
    finally:
        await events.stop()
        await client.aclose()


# --- the socket transport ----------------------------------------------------------------------------


async def test_socket_folder_is_private_and_stop_removes_the_socket(tmp_path: Path) -> None:
    transport = SocketTransport(tmp_path / "data" / "events")
    events = SessionEvents(transport)
    await events.start()
    assert stat.S_IMODE(os.stat(transport.directory).st_mode) == 0o700
    assert stat.S_ISSOCK(os.stat(transport.path).st_mode)
    await events.stop()
    assert not transport.path.exists()


async def test_socket_of_a_dead_process_is_removed_on_publish(tmp_path: Path) -> None:
    side = Side("socket", str(tmp_path / "data"))
    try:
        events = await side.open()
        peer = await side.peer()
        # the sockets' folder: data/events, or a short one in /tmp when that path is too long for a
        # socket (pytest-xdist's tmp_path is longer)
        folder = SocketTransport.socket_directory(tmp_path / "data" / "events")
        dead = folder / f"{peer.ready.result()}.sock"
        assert dead.exists()
        os.kill(peer.proc.pid, signal.SIGKILL)  # no stop(): its socket file stays
        await peer.proc.wait()
        assert dead.exists()
        events.publish(uuid.uuid4(), {"type": "reply", "text": "anyone?"})
        assert not dead.exists()
        assert isinstance(events.transport, SocketTransport) and events.transport.path.exists()
    finally:
        await side.close()


async def test_socket_oversized_payload_arrives_as_a_refresh_notice(tmp_path: Path) -> None:
    side = Side("socket", str(tmp_path / "data"))
    try:
        events = await side.open()
        peer = await side.peer()
        sid = uuid.uuid4()
        got, listener = recorder()
        events.subscribe(sid, listener)
        await peer.command("sub", str(sid))
        await reach_peer(events, peer, sid)
        big = {"type": "reply", "text": "é" * 100_000}  # 200 KB of UTF-8: over the 64 KB datagram cap
        events.publish(sid, big)
        assert await peer.next() == (str(sid), {"type": "refresh"})
        assert got[-1] == big  # this process's listeners get the payload itself
        events.publish(sid, {"type": "reply", "text": "small"})
        assert await peer.next() == (str(sid), {"type": "reply", "text": "small"})
    finally:
        await side.close()


async def test_socket_long_folder_falls_back_to_a_short_one_under_tmp(tmp_path: Path) -> None:
    long = tmp_path / ("d" * 60) / ("e" * 60) / "events"
    first, second = SocketTransport(long), SocketTransport(long)
    assert first.directory == second.directory
    assert str(first.directory).startswith("/tmp/gb-events-")
    assert len(os.fsencode(first.path)) <= 107
    a, b = SessionEvents(first), SessionEvents(second)
    await a.start()
    await b.start()
    try:
        sid = uuid.uuid4()
        queue, _, listener = queue_listener()
        b.subscribe(sid, listener)
        a.publish(sid, {"type": "reply", "text": "short path"})
        assert (await next_payload(queue))["text"] == "short path"
    finally:
        await a.stop()
        await b.stop()
        shutil.rmtree(first.directory, ignore_errors=True)


async def test_socket_full_queue_is_retried_in_order_and_a_stalled_peer_is_dropped(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "events"
    sender, receiver = SocketTransport(folder), SocketTransport(folder)
    sender.STALL = 0.2  # seconds: give up on the stalled peer quickly
    a, b = SessionEvents(sender), SessionEvents(receiver)
    await a.start()
    await b.start()
    stalled = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # bound, never read: its queue fills up
    stalled.bind(str(sender.directory / "stalled.sock"))
    try:
        sid = uuid.uuid4()
        queue, _, listener = queue_listener()
        b.subscribe(sid, listener)
        with caplog.at_level(logging.WARNING, logger="gb.events"):
            for n in range(100):  # in one go: the receiver cannot read before the loop runs again
                a.publish(sid, {"type": "reply", "n": n})
            assert [(await next_payload(queue))["n"] for _ in range(100)] == list(range(100))
            for _ in range(int(WAIT / 0.05)):
                if not sender.pending():
                    break
                await asyncio.sleep(0.05)  # 50 ms
        assert sender.pending() == 0
        assert any("stalled.sock" in r.getMessage() and "dropped" in r.getMessage() for r in caplog.records)
    finally:
        stalled.close()
        await a.stop()
        await b.stop()
