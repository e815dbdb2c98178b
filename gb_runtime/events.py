"""Live session events between processes: a reply committed anywhere reaches every listener of its session.

A session can be served by several processes at once: ``gb serve`` workers (on one machine or many),
and a Jupyter kernel that has attached to a session a browser started. Whichever process commits a
reply, the listeners of that session (open WebSockets, a notebook's chat widget) must see it, in
every process. :class:`SessionEvents` calls the listeners of its own process directly and hands the
payload to a :class:`Transport` that carries it to the other processes:

- :class:`ValkeyTransport`, when Valkey is configured: pub/sub on the channel
  ``gb:replies:<session id>``. A process subscribes only to the channels of the sessions it has
  listeners for, so a payload costs nothing to the processes that have none (no sticky sessions).
- :class:`SocketTransport`, for the embedded setup without Valkey (a kernel and ``gb serve`` on one
  SQLite file in one data folder): each instance binds a Unix datagram socket in a shared folder
  and sends each message to every other socket there.

Delivery is best effort on both: a listener that misses a payload catches up from the session's
history (a payload ``{"type": "refresh"}`` asks for that explicitly). Nothing here raises into the
code that publishes or into the transports: a failing transport or listener is logged (logger
``gb.events``) and the other listeners still get the payload. Everything runs on the event loop's
thread; none of it is thread-safe.

The message on the wire is one JSON object: ``{"origin": ..., "session_id": ..., "payload": ...}``.
``origin`` identifies the publishing instance, so it drops its own echoes (Valkey sends a
subscriber what it published itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import json
import logging
import os
import socket
import stat
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gb_basic import jsontext

__all__ = ["Listener", "Receiver", "SessionEvents", "SocketTransport", "Transport", "ValkeyTransport"]

log = logging.getLogger("gb.events")

Listener = Callable[[dict[str, Any]], None]
"""A listener of a session: gets each payload (a JSON-serialisable dict); called on the event loop."""

Receiver = Callable[[str | bytes], None]
"""What a transport calls with each message (the JSON text) it receives from another process."""

REFRESH: dict[str, Any] = {"type": "refresh"}
"""The payload that replaces one that could not be carried: re-read the session's history."""


def new_origin() -> str:
    """A unique id of one SessionEvents instance: the process id and a random part.

    Returns:
        A short id that is safe as a file name, e.g. ``"4242-1a2b3c4d"``.
    """
    return f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


def encode(origin: str, session_id: uuid.UUID | str, payload: dict[str, Any]) -> str:
    """The wire message of a payload.

    Args:
        origin: The publishing instance's id.
        session_id: The session the payload belongs to.
        payload: A JSON-serialisable dict; other values (UUIDs, datetimes) are sent as ``str()``.

    Returns:
        The JSON text ``{"origin", "session_id", "payload"}``.
    """
    return jsontext.dumps_bytes({"origin": origin, "session_id": str(session_id), "payload": payload},
                                default=str).decode()


def refresh_notice(message: str | bytes) -> bytes | None:
    """The small message that stands for one too large to carry: the same origin and session, a refresh payload.

    Args:
        message: A wire message (see :func:`encode`).

    Returns:
        The notice as UTF-8 bytes, or None when the message is not a wire message.
    """
    try:
        data = json.loads(message)
        return encode(data["origin"], data["session_id"], REFRESH).encode()
    except (ValueError, KeyError, TypeError):
        return None


class Transport(Protocol):
    """Carries wire messages between the SessionEvents instances of different processes."""

    async def start(self, deliver: Receiver) -> None:
        """Start receiving: call ``deliver`` with each message from another instance."""

    async def stop(self) -> None:
        """Stop receiving; send what is still queued if that is quick; release sockets and connections."""

    def send(self, session_id: uuid.UUID, message: str) -> None:
        """Send a message to the other instances; fire-and-forget, never raises."""

    def watch(self, session_id: uuid.UUID) -> None:
        """This instance has a listener for the session now: receive its messages."""

    def unwatch(self, session_id: uuid.UUID) -> None:
        """This instance has no listener for the session any more."""


class SessionEvents:
    """Session id -> the listeners of this process; a transport carries payloads to the other processes.

    Without a transport, payloads reach the listeners of this process only.
    """

    def __init__(self, transport: Transport | None = None, *, origin: str | None = None) -> None:
        """Create the events of one instance (call :meth:`start` on the event loop to receive).

        Args:
            transport: Carries payloads to the other processes; None for this process only.
            origin: This instance's id (default: a new unique one, see :func:`new_origin`).
        """
        self.origin = origin or new_origin()
        self.transport = transport
        self._listeners: dict[uuid.UUID, list[Listener]] = defaultdict(list)
        self._started = False

    @classmethod
    def for_storage(cls, redis: Redis | None, data_dir: Path) -> SessionEvents:
        """The events of a process that uses these stores: Valkey when there is a client, else the data folder.

        Args:
            redis: The Valkey client of the stores, or None for the embedded setup.
            data_dir: The data folder; without Valkey the sockets live in ``<data_dir>/events/``.

        Returns:
            A SessionEvents, not started yet (call :meth:`start` on the event loop).
        """
        origin = new_origin()
        if redis is not None:
            return cls(ValkeyTransport(redis), origin=origin)
        return cls(SocketTransport(Path(data_dir) / "events", name=origin), origin=origin)

    # --- listeners of this process ---------------------------------------------------------------------
    def subscribe(self, session_id: uuid.UUID, listener: Listener) -> None:
        """Call ``listener`` with each payload of the session, published here or in another process.

        Args:
            session_id: The session.
            listener: Called with each payload; a listener added twice is called once.
        """
        listeners = self._listeners[session_id]
        if listener in listeners:
            return
        listeners.append(listener)
        if len(listeners) == 1 and self.transport is not None:
            self._guard("watch", self.transport.watch, session_id)

    def unsubscribe(self, session_id: uuid.UUID, listener: Listener) -> None:
        """Stop calling ``listener`` for the session (nothing happens if it was not subscribed).

        Args:
            session_id: The session.
            listener: A listener given to :meth:`subscribe` (bound methods compare equal, not identical).
        """
        listeners = self._listeners.get(session_id)
        if listeners is None or listener not in listeners:
            return
        listeners.remove(listener)
        if not listeners:
            del self._listeners[session_id]
            if self.transport is not None:
                self._guard("unwatch", self.transport.unwatch, session_id)

    def count(self) -> int:
        """Listeners in this process.

        Returns:
            The number of (session, listener) subscriptions.
        """
        return sum(len(v) for v in self._listeners.values())

    # --- publishing ------------------------------------------------------------------------------------
    def publish(self, session_id: uuid.UUID, payload: dict[str, Any], *, skip: Listener | None = None,
                here: bool = True, elsewhere: bool = True) -> None:
        """Give a payload to every listener of the session: here at once, elsewhere through the transport.

        Never raises: a failing listener or transport is logged.

        Args:
            session_id: The session.
            payload: A JSON-serialisable dict (other values are sent as ``str()``).
            skip: A listener of this process not to call (the one that caused the payload).
            here: deliver to this process's listeners.
            elsewhere: send to the other processes.
        """
        if here:
            self._deliver(session_id, payload, skip)
        if self.transport is None or not elsewhere:
            return
        try:
            message = encode(self.origin, session_id, payload)
        except (TypeError, ValueError) as exc:
            log.warning("payload of session %s not sent to the other processes: %s", session_id, exc)
            return
        self._guard("send", self.transport.send, session_id, message)

    def _deliver(self, session_id: uuid.UUID, payload: dict[str, Any], skip: Listener | None = None) -> None:
        for listener in list(self._listeners.get(session_id, ())):
            if listener == skip:  # bound methods compare equal, not identical
                continue
            try:
                listener(payload)
            except Exception:
                log.exception("a listener of session %s failed", session_id)

    def _guard(self, what: str, call: Callable[..., None], *args: Any) -> None:
        """Call a transport method; log instead of raising (the transports should not raise anyway)."""
        try:
            call(*args)
        except Exception:
            log.exception("events transport %s failed", what)

    # --- receiving from the other processes ----------------------------------------------------------
    async def start(self) -> None:
        """Receive from the other processes (call once, on the event loop the listeners run on).

        A transport that cannot start (e.g. a socket folder of another user) is logged, and the
        payloads then reach the listeners of this process only.
        """
        if self.transport is None or self._started:
            return
        try:
            await self.transport.start(self._received)
        except OSError as exc:
            log.warning("session events stay in this process: the transport did not start: %s", exc)
            return
        self._started = True

    async def stop(self) -> None:
        """Stop receiving and release the transport (a Valkey client given to it stays open)."""
        if self.transport is not None and self._started:
            self._started = False
            await self.transport.stop()

    def _received(self, message: str | bytes) -> None:
        """A wire message from a transport: deliver it unless it is our own or nobody here listens."""
        try:
            data = json.loads(message)
            origin, payload = data["origin"], data["payload"]
            session_id = uuid.UUID(data["session_id"])
        except (ValueError, KeyError, TypeError, AttributeError):
            log.debug("malformed events message dropped: %.200r", message)
            return
        if origin == self.origin or session_id not in self._listeners or not isinstance(payload, dict):
            return
        self._deliver(session_id, payload)


# --- Valkey ------------------------------------------------------------------------------------------


class _Outage:
    """Logs one warning when a service goes away and one line when it is back, not one per attempt."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.down = False

    def failed(self, exc: BaseException, consequence: str) -> None:
        if not self.down:
            self.down = True
            log.warning("%s: valkey unavailable (%s); %s", self.what, exc, consequence)

    def ok(self) -> None:
        if self.down:
            self.down = False
            log.info("%s: valkey is back", self.what)


class ValkeyTransport:
    """Valkey pub/sub: a channel per session, subscribed only while this process has a listener for it.

    Messages are published in order by one sender task (a queue of at most ``OUTBOX`` messages),
    those queued while a publication is on its way together in one pipeline.
    When Valkey is down, the subscriber reconnects every second and resubscribes; one warning is
    logged per outage. The Valkey client belongs to the caller: :meth:`stop` does not close it.
    """

    CHANNEL = "gb:replies:"
    KEEPALIVE = "gb:replies:keepalive"  # always subscribed: redis-py's listen() ends when nothing is
    RETRY = 1.0  # seconds between reconnection attempts
    OUTBOX = 10_000  # messages waiting to be published; the oldest are dropped beyond
    DRAIN = 1.0  # seconds stop() waits for the outbox to be published
    BATCH = 200  # messages published in one round trip at most

    def __init__(self, redis: Redis) -> None:
        """Create the transport (:meth:`start` connects).

        Args:
            redis: An asyncio Valkey/Redis client.
        """
        self.redis = redis
        self._watched: set[uuid.UUID] = set()
        self._deliver: Receiver | None = None
        self._pubsub: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._outbox: deque[tuple[str, str]] = deque(maxlen=self.OUTBOX)
        self._publishing = False  # a message is taken from the outbox and not published yet
        self._stopped = False
        self._wakeup = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()  # subscribe/unsubscribe commands in flight
        self._listen_outage = _Outage("events subscriber")
        self._send_outage = _Outage("events publisher")

    def channel(self, session_id: uuid.UUID) -> str:
        """The channel of a session.

        Args:
            session_id: The session.

        Returns:
            ``gb:replies:<session id>``.
        """
        return f"{self.CHANNEL}{session_id}"

    # --- sending ---
    def send(self, session_id: uuid.UUID, message: str) -> None:
        """Queue a message for publication on the session's channel (fire-and-forget).

        Args:
            session_id: The session.
            message: The wire message.
        """
        if self._stopped:
            return
        if len(self._outbox) == self._outbox.maxlen:
            log.warning("events publisher: %d messages waiting, the oldest is dropped", len(self._outbox))
        self._outbox.append((self.channel(session_id), message))
        self._wakeup.set()
        if self._sender is None or self._sender.done():
            loop = _running_loop()
            if loop is not None:
                self._sender = loop.create_task(self._send_loop())

    async def _send_loop(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._outbox:
                # what queued up meanwhile goes in one pipeline: under load, a fraction of a round trip a turn
                batch = [self._outbox.popleft() for _ in range(min(len(self._outbox), self.BATCH))]
                self._publishing = True
                try:
                    if len(batch) == 1:
                        await self.redis.publish(*batch[0])
                    else:
                        pipe = self.redis.pipeline(transaction=False)
                        for channel, message in batch:
                            pipe.publish(channel, message)
                        await pipe.execute()
                    self._send_outage.ok()
                except (RedisError, OSError) as exc:
                    self._send_outage.failed(exc, "the other processes' listeners catch up on their next refresh")
                finally:
                    self._publishing = False

    async def _drain(self) -> None:
        """Wait (at most DRAIN seconds) until the outbox is published."""
        deadline = time.monotonic() + self.DRAIN
        while ((self._outbox or self._publishing) and self._sender is not None and not self._sender.done()
               and time.monotonic() < deadline):
            await asyncio.sleep(0.01)  # 10 ms

    # --- receiving ---
    def watch(self, session_id: uuid.UUID) -> None:
        """Subscribe to the session's channel (now if connected, else when the subscriber connects).

        Args:
            session_id: The session.
        """
        self._watched.add(session_id)
        self._command("subscribe", self.channel(session_id))

    def unwatch(self, session_id: uuid.UUID) -> None:
        """Unsubscribe from the session's channel.

        Args:
            session_id: The session.
        """
        self._watched.discard(session_id)
        self._command("unsubscribe", self.channel(session_id))

    def _command(self, name: str, *channels: str) -> None:
        pubsub, loop = self._pubsub, _running_loop()
        if pubsub is None or loop is None or not channels:
            return  # the subscriber subscribes to what is watched when it (re)connects
        task = loop.create_task(self._run_command(pubsub, name, channels))
        self._tasks.add(task)  # keep a reference until it is done
        task.add_done_callback(self._tasks.discard)

    async def _run_command(self, pubsub: Any, name: str, channels: tuple[str, ...]) -> None:
        try:
            await getattr(pubsub, name)(*channels)
        except (RedisError, OSError) as exc:
            log.debug("events subscriber: %s failed (%s); the reconnection catches up", name, exc)

    async def start(self, deliver: Receiver) -> None:
        """Start the subscriber task; it connects (and reconnects) in the background.

        Args:
            deliver: Called with each message received on a watched channel.
        """
        self._deliver = deliver
        self._stopped = False
        if self._listener is None:
            self._listener = asyncio.get_running_loop().create_task(self._listen())

    async def stop(self) -> None:
        """Publish what is queued (briefly), then stop the subscriber and the sender."""
        await self._drain()
        self._stopped = True
        self._outbox.clear()
        for task in (self._listener, self._sender, *self._tasks):
            if task is not None:
                task.cancel()
        for task in (self._listener, self._sender, *self._tasks):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                    await task
        self._listener = self._sender = None
        await self._close_pubsub()

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    async def _listen(self) -> None:
        while True:
            try:
                await self._connect()
                self._listen_outage.ok()
                async for msg in self._pubsub.listen():
                    self._received(msg)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self._listen_outage.failed(exc, f"retrying every {self.RETRY:g} s")
            await self._close_pubsub()
            await asyncio.sleep(self.RETRY)

    async def _connect(self) -> None:
        """Subscribe a new pub/sub connection to the keep-alive channel and every watched session's channel."""
        pubsub: Any = self.redis.pubsub()
        initial = set(self._watched)
        try:
            await pubsub.subscribe(self.KEEPALIVE, *(self.channel(s) for s in initial))
        except BaseException:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()
            raise
        self._pubsub = pubsub
        # what changed while subscribing; later changes go through _command
        self._command("subscribe", *(self.channel(s) for s in self._watched - initial))
        self._command("unsubscribe", *(self.channel(s) for s in initial - self._watched))

    def _received(self, msg: dict[str, Any]) -> None:
        if msg.get("type") != "message" or self._deliver is None:
            return
        data = msg.get("data")
        if isinstance(data, str | bytes):
            self._deliver(data)


# --- Unix datagram sockets ---------------------------------------------------------------------------

SUN_PATH_MAX = 107  # bytes: a Unix socket path on Linux (108 with the final NUL)


@dataclass
class _Backlog:
    """Messages for a peer whose receive queue was full, in order; ``since``: monotonic seconds of the stall."""

    messages: deque[bytes] = field(default_factory=deque)
    since: float = field(default_factory=time.monotonic)


class SocketTransport:
    """Unix datagram sockets in one folder: each instance binds ``<folder>/<name>.sock`` and sends to the others.

    For the embedded setup without Valkey: every process that uses one data folder (a kernel, ``gb
    serve``) binds a socket in ``<data_dir>/events/`` (mode 0700: only its user can send) and sends
    each message to every other ``*.sock`` there; a receiver drops the messages of the sessions it
    has no listener for. A socket file whose process is gone (connection refused) is removed when a
    message is sent to it. A message over ``MAX_DATAGRAM`` bytes, or one the system refuses as too
    large, is replaced by a refresh notice (``{"type": "refresh"}`` for the same session): the
    receivers re-read the session's history.

    A peer whose receive queue is full (Linux queues 10 datagrams: net.unix.max_dgram_qlen) gets its
    messages later, in order, retried every ``RETRY`` seconds; after ``STALL`` seconds without
    progress they are dropped (logged).

    Socket paths are limited to 107 bytes. When ``<folder>/<name>.sock`` could exceed that, the
    sockets live in ``/tmp/gb-events-<hash>`` instead, the hash being that of the folder's resolved
    path: every process using the same folder computes the same short folder.
    """

    MAX_DATAGRAM = 64 * 1024  # bytes: larger messages are sent as a refresh notice
    NAME_MAX = 24  # bytes reserved for "<name>.sock" when checking the path length (an origin takes <= 21)
    RETRY = 0.005  # seconds between sends to a peer whose queue is full
    STALL = 2.0  # seconds without progress before a full peer's messages are dropped
    DRAIN = 1.0  # seconds stop() waits for the messages to full peers

    def __init__(self, directory: Path, *, name: str | None = None) -> None:
        """Create the transport (:meth:`start` binds the socket).

        Args:
            directory: The folder every process of one data folder shares (created, mode 0700).
            name: This instance's socket name without ``.sock`` (default: a new unique id).

        Raises:
            ValueError: The name is not a short file name.
        """
        self.name = name or new_origin()
        if "/" in self.name or len(os.fsencode(self.name + ".sock")) > self.NAME_MAX:
            raise ValueError(f"socket name must be a file name of at most {self.NAME_MAX - 5} bytes: {self.name!r}")
        self.requested = Path(directory)
        self.directory = self.socket_directory(self.requested)
        self.path = self.directory / f"{self.name}.sock"
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deliver: Receiver | None = None
        self._backlog: dict[str, _Backlog] = {}
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    def socket_directory(cls, directory: Path) -> Path:
        """Where the sockets of a folder live: the folder itself, or a short one under /tmp if its path is too long.

        Args:
            directory: The requested folder.

        Returns:
            The resolved folder, or ``/tmp/gb-events-<first 16 hex digits of sha256(resolved path)>``.
        """
        real = Path(os.path.realpath(directory))
        if len(os.fsencode(real)) + 1 + cls.NAME_MAX <= SUN_PATH_MAX:
            return real
        digest = hashlib.sha256(os.fsencode(real)).hexdigest()[:16]
        return Path("/tmp") / f"gb-events-{digest}"

    def pending(self) -> int:
        """Messages waiting for peers whose receive queue is full.

        Returns:
            Their number, over all peers.
        """
        return sum(len(b.messages) for b in self._backlog.values())

    # --- lifecycle ---
    async def start(self, deliver: Receiver) -> None:
        """Bind this instance's socket and receive on the event loop.

        Args:
            deliver: Called with each message received.

        Raises:
            OSError: The folder cannot be made or is not owned by this user, or the socket cannot be bound.
        """
        if self._sock is not None:
            return
        self._make_directory()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            _raise_buffer(sock, socket.SO_SNDBUF, 2 * self.MAX_DATAGRAM)
            _raise_buffer(sock, socket.SO_RCVBUF, 2 * self.MAX_DATAGRAM)
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()  # our name is unique: a file there is a leftover
            sock.bind(os.fspath(self.path))
        except BaseException:
            sock.close()
            raise
        self._sock, self._deliver = sock, deliver
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._readable)

    def _make_directory(self) -> None:
        """Create the folder (mode 0700) or check that this user owns the existing one, and make it 0700."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.stat(self.directory)
        if st.st_uid != os.getuid():
            raise PermissionError(f"{self.directory} belongs to another user: not using it for session events")
        if stat.S_IMODE(st.st_mode) != 0o700:
            os.chmod(self.directory, 0o700)

    async def stop(self) -> None:
        """Send the messages still waiting for full peers (briefly), then close and remove the socket."""
        deadline = time.monotonic() + self.DRAIN
        while self._backlog and self._sock is not None and time.monotonic() < deadline:
            self._flush()
            await asyncio.sleep(self.RETRY)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._backlog.clear()
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if self._loop is not None:
            self._loop.remove_reader(sock.fileno())
        sock.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    # --- receiving ---
    def watch(self, session_id: uuid.UUID) -> None:
        """Nothing to do: every peer receives every message and drops those it has no listener for."""

    def unwatch(self, session_id: uuid.UUID) -> None:
        """Nothing to do (see :meth:`watch`)."""

    def _readable(self) -> None:
        """Read every datagram waiting on the socket (called by the event loop)."""
        while self._sock is not None:
            try:
                data = self._sock.recv(self.MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning("events socket %s: receive failed: %s", self.path, exc)
                return
            if self._deliver is not None:
                try:
                    self._deliver(data)
                except Exception:
                    log.exception("events socket %s: delivery failed", self.path)

    # --- sending ---
    def send(self, session_id: uuid.UUID, message: str) -> None:
        """Send a message to every other socket in the folder (non-blocking, never raises).

        Args:
            session_id: The session (the message carries it too).
            message: The wire message; over MAX_DATAGRAM bytes it is replaced by a refresh notice.
        """
        if self._sock is None:
            return  # not started (or stopped): nobody here to be a peer of
        data = self._fit(message.encode())
        if data is None:
            return
        for peer in self._peers():
            self._send_to(peer, data)

    def _fit(self, data: bytes) -> bytes | None:
        if len(data) <= self.MAX_DATAGRAM:
            return data
        return refresh_notice(data)

    def _peers(self) -> list[str]:
        """The socket files of the other instances in the folder."""
        mine = self.path.name
        try:
            with os.scandir(self.directory) as entries:
                return [e.path for e in entries if e.name.endswith(".sock") and e.name != mine]
        except OSError as exc:
            log.warning("events socket folder %s unreadable: %s", self.directory, exc)
            return []

    def _send_to(self, peer: str, data: bytes) -> None:
        backlog = self._backlog.get(peer)
        if backlog is not None:
            backlog.messages.append(data)  # behind the ones already waiting: keep the order
        elif not self._try_send(peer, data):
            self._backlog[peer] = _Backlog(deque([data]))
            self._schedule()

    def _try_send(self, peer: str, data: bytes) -> bool:
        """Send one datagram.

        Args:
            peer: The peer's socket path.
            data: The message.

        Returns:
            False when the peer's queue is full (try again later); True when it is done with
            (sent, or dropped because the peer is gone or the message cannot be sent).
        """
        assert self._sock is not None
        try:
            self._sock.sendto(data, peer)
        except (BlockingIOError, InterruptedError):
            return False
        except (ConnectionRefusedError, FileNotFoundError):
            self._forget(peer)
        except OSError as exc:
            if exc.errno != errno.EMSGSIZE:
                log.warning("events socket %s: sending to %s failed: %s", self.path, peer, exc)
                return True
            notice = refresh_notice(data)
            if notice is not None and len(notice) < len(data):
                return self._try_send(peer, notice)
        return True

    def _forget(self, peer: str) -> None:
        """A peer whose process is gone: remove its socket file and what was waiting for it."""
        self._backlog.pop(peer, None)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(peer)
        log.debug("events socket %s: removed the socket of a finished process", peer)

    def _schedule(self) -> None:
        if self._timer is None and self._loop is not None and self._backlog:
            self._timer = self._loop.call_later(self.RETRY, self._flush)

    def _flush(self) -> None:
        """Send what waits for full peers, in order; drop what waited more than STALL seconds."""
        self._timer = None
        if self._sock is None:
            return
        now = time.monotonic()
        for peer, backlog in list(self._backlog.items()):
            while backlog.messages and peer in self._backlog and self._try_send(peer, backlog.messages[0]):
                backlog.messages.popleft()
                backlog.since = now
            if not backlog.messages:
                self._backlog.pop(peer, None)
            elif now - backlog.since > self.STALL:
                log.warning("events socket %s: %d messages dropped, its process does not read them",
                            peer, len(backlog.messages))
                self._backlog.pop(peer, None)
        self._schedule()


def _raise_buffer(sock: socket.socket, option: int, size: int) -> None:
    """Raise a socket buffer to ``size`` bytes if it is smaller (macOS's defaults are far below 64 KB)."""
    with contextlib.suppress(OSError):
        if sock.getsockopt(socket.SOL_SOCKET, option) < size:
            sock.setsockopt(socket.SOL_SOCKET, option, size)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop, or None when called outside one."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
