"""The bot server on PostgreSQL + Valkey, against a floor measured in the same run, under wrk.

The floor is design.md's: a bare Tornado process (this file, ``--floor-server``) doing per message
one Valkey GET, one PostgreSQL transaction inserting two message rows and updating one state row
(SQLAlchemy async, same schema, same engine settings), one Valkey pipeline, then a JSON answer.
gb is a real ``gb serve`` running a dialog that loops HEAR / SET / TALK.

1. ``POST /api/chat`` under wrk (bench/chat.lua: 32 connections, round-robin over 200 sessions'
   Bearer tokens, body ``{"message": "hello there"}``): a warm-up run of each server, then 3
   rounds of 6 s runs, alternating floor, gb --workers 1, gb --workers 2. For each: requests/s,
   p50/p99, non-2xx responses, socket errors, and CPU seconds per message of the server's
   processes (/proc utime+stime of the process and its descendants), of PostgreSQL and of
   Valkey; the load generator's CPU (RUSAGE_CHILDREN). Ratios gb/floor: throughput (target
   >= 0.8x), p99 (target <= 1.5x), server CPU per message (target <= 1.25x); the scaling of
   --workers 2 over --workers 1. A floor that does not keep a core busy is said: then the
   load generator or the database is the bottleneck, not the floor's Python.
2. The same over the WebSocket (gb's /ws: hello -> ready, then message -> reply), against a
   floor WebSocket handler doing the floor's I/O; the load generator is bench/wsload.js (Node,
   ws), closed-loop: each of N connections sends its next message when the reply comes.
3. 10,000 WebSockets held by ONE gb serve process (200 sessions x 50 sockets, each after hello
   and ready): the server's RSS before and after, per idle socket (--sockets 0: skipped).

With ``--py-spy PREFIX``, py-spy records gb serve (--workers 1) and the floor under the same wrk
load: PREFIX.gb.folded and PREFIX.floor.folded (raw folded stacks, --native), and the top
functions by own time in PREFIX.gb.top.txt and PREFIX.floor.top.txt.

Usage: python bench/server.py [--quick] [--seconds S] [--rounds N] [--connections C]
                              [--ws-connections N] [--sockets N] [--py-spy PREFIX]
       (needs PostgreSQL on 127.0.0.1:5432, Redis/Valkey on :6379, wrk, node with bench/node_modules
       (npm ci in bench/; `make bench` does both); creates and drops its own database)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project root, for tests/helpers
from tests.helpers.bots import make_bot
from tests.helpers.servers import Server, gb_environ
from tests.helpers.stores import create_database, drop_database

PG = os.environ.get("GB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("GB_BENCH_REDIS", "redis://127.0.0.1:6379/0")
ECHO = 'DO\n  x = HEAR\n  SET last = x\n  TALK "echo " + x\nLOOP\n'
CONFIG = "rate-limit,1000000\nmax-sessions,1000000\nsession-create-rate,1000000\n"
HERE = Path(__file__).resolve()
CHAT_LUA = HERE.with_name("chat.lua")
WSLOAD_JS = HERE.with_name("wsload.js")
TICK = os.sysconf("SC_CLK_TCK")
SATURATED = 0.85  # a floor busy this share of one core or more is taken as CPU-bound


# --- the floor server (a subprocess: python bench/server.py --floor-server PORT DBURL) ------------------

def floor_server(port: int, db_url: str) -> None:
    """A bare Tornado server: per message 1 Valkey GET, 1 PG transaction (2 inserts, 1 update), 1 Valkey
    pipeline. ``POST /api/chat`` (the session id as the Bearer token, or in X-Session) and ``/ws``
    (hello with the session id as token -> ready; message -> reply)."""
    import tornado.httpserver
    import tornado.netutil
    import tornado.web
    import tornado.websocket
    from redis.asyncio import Redis
    from sqlalchemy import insert, update

    from gb_sessions.cache import cache_keys
    from gb_sessions.database import make_engine
    from gb_sessions.session import Message, utcnow
    from gb_sessions.store import ST, M

    async def serve() -> None:
        engine = make_engine(db_url)  # the engine settings of the gb server
        redis = Redis.from_url(REDIS, socket_timeout=2, socket_connect_timeout=2)

        async def turn(sid: uuid.UUID, text: str) -> dict[str, Any]:
            keys = cache_keys(sid)
            raw = await redis.get(keys["variables"])
            variables = json.loads(raw) if raw else {}
            variables["last"] = text
            now = utcnow()
            async with engine.begin() as conn:
                await conn.execute(insert(M), [
                    {"session_id": sid, "role": "user", "content": text, "timestamp": now, "channel": "web"},
                    {"session_id": sid, "role": "assistant", "content": f"echo {text}", "timestamp": now,
                     "channel": "web"}])
                await conn.execute(update(ST).where(ST.c.session_id == sid).values(variables=variables))
            pipe = redis.pipeline(transaction=True)
            pipe.set(keys["variables"], json.dumps(variables), ex=1800)
            pipe.rpush(keys["messages"], json.dumps(Message("user", text, now, "web").to_dict()),
                       json.dumps(Message("assistant", f"echo {text}", now, "web").to_dict()))
            pipe.ltrim(keys["messages"], -50, -1)
            await pipe.execute()
            return {"session_id": str(sid), "messages": [{"role": "assistant", "content": f"echo {text}"}],
                    "waiting": None}

        class Floor(tornado.web.RequestHandler):
            async def post(self) -> None:
                auth = self.request.headers.get("Authorization", "")
                sid = uuid.UUID(auth[7:] if auth.startswith("Bearer ") else self.request.headers["X-Session"])
                answer = await turn(sid, json.loads(self.request.body)["message"])
                self.set_header("Content-Type", "application/json; charset=utf-8")
                self.finish(json.dumps(answer))

        class FloorSocket(tornado.websocket.WebSocketHandler):
            sid: uuid.UUID | None = None

            async def on_message(self, raw: str | bytes) -> None:
                msg = json.loads(raw)
                if msg["type"] == "hello":
                    self.sid = uuid.UUID(msg["token"])
                    self.write_message(json.dumps({"type": "ready", "session_id": str(self.sid), "messages": [],
                                                   "waiting": None}))
                else:
                    assert self.sid is not None
                    answer = await turn(self.sid, msg["text"])
                    self.write_message(json.dumps({"type": "reply", **answer}))

        class Health(tornado.web.RequestHandler):
            def get(self) -> None:
                self.finish({"status": "ok"})

        app = tornado.web.Application([(r"/api/chat", Floor), (r"/ws", FloorSocket), (r"/healthz", Health)])
        server = tornado.httpserver.HTTPServer(app)
        server.add_sockets(tornado.netutil.bind_sockets(port, "127.0.0.1"))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        server.stop()
        await redis.aclose()
        await engine.dispose()

    asyncio.run(serve())


def floor_command(port: int, db_url: str) -> list[str]:
    """The command line of the floor server (this file, --floor-server)."""
    return [sys.executable, str(HERE), "--floor-server", str(port), db_url]


# --- CPU accounting from /proc ---------------------------------------------------------------------------

def proc_cpu(pid: int) -> float:
    """CPU seconds of a process: its own (utime + stime) and its reaped children's (cutime + cstime);
    0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / TICK


def descendants(pid: int) -> list[int]:
    """The process and all its descendants now (/proc/<pid>/task/*/children, recursively)."""
    found, i = [pid], 0
    while i < len(found):
        for task in Path(f"/proc/{found[i]}/task").glob("*"):
            try:
                found += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
        i += 1
    return found


def named(*names: str) -> list[int]:
    """The processes whose command name is one of `names` (PostgreSQL's backends, Valkey)."""
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() in names:
                pids.append(int(comm.parent.name))
        except OSError:
            pass
    return pids


def machine_busy() -> float:
    """CPU seconds the machine spent not idle so far, summed over the cores (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / TICK  # less idle and iowait


def children_cpu() -> float:
    """CPU seconds of this process's reaped children (the load generators)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


@dataclass
class Snapshot:
    wall: float
    server: dict[int, float]
    pg: dict[int, float]
    valkey: dict[int, float]
    machine: float
    loadgen: float
    pg_sessions: int
    valkey_connections: int


class Meter:
    """Takes snapshots of the CPU spent so far, and of the connections opened to PostgreSQL (the
    bench's database: pg_stat_database.sessions) and to Valkey (INFO total_connections_received):
    a pool that overflows opens and closes connections."""

    def __init__(self, admin_url: str, database: str) -> None:
        self.database = database
        self.admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
        self.valkey = redis.Redis.from_url(REDIS, socket_timeout=5)

    def sessions(self) -> int:
        row = self.admin.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s",
                                 (self.database,)).fetchone()
        return int(row[0]) if row else 0

    def take(self, server_pid: int) -> Snapshot:
        return Snapshot(time.monotonic(), {p: proc_cpu(p) for p in descendants(server_pid)},
                        {p: proc_cpu(p) for p in named("postgres")},
                        {p: proc_cpu(p) for p in named("redis-server", "valkey-server")}, machine_busy(),
                        children_cpu(), self.sessions(), int(self.valkey.info("stats")["total_connections_received"]))

    def close(self) -> None:
        self.admin.close()
        self.valkey.close()


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two samples of a group (a process born in between counts whole)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


@dataclass
class Run:
    """One load run against one server: what the load generator saw, and the CPU spent meanwhile."""

    label: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int = 0
    socket_errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    per_second: list[int] = field(default_factory=list)  # replies in each second (WebSocket runs)
    late: int = 0  # replies that came after the time was up (WebSocket runs)
    server_cpu: float = 0.0
    server_procs: int = 1
    pg_cpu: float = 0.0
    valkey_cpu: float = 0.0
    machine_cpu: float = 0.0
    loadgen_cpu: float = 0.0
    pg_connects: int = 0  # PostgreSQL sessions opened during the run
    valkey_connects: int = 0  # Valkey connections opened during the run (by anyone: the load is ours)
    wall: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def per_msg_ms(self, cpu: float) -> float:
        return cpu / max(1, self.requests) * 1e3

    def measured(self, a: Snapshot, b: Snapshot) -> Run:
        self.wall = b.wall - a.wall
        self.server_cpu, self.server_procs = spent(a.server, b.server), len(b.server)
        self.pg_cpu, self.valkey_cpu = spent(a.pg, b.pg), spent(a.valkey, b.valkey)
        self.machine_cpu, self.loadgen_cpu = b.machine - a.machine, b.loadgen - a.loadgen
        self.pg_connects = b.pg_sessions - a.pg_sessions
        self.valkey_connects = b.valkey_connections - a.valkey_connections
        return self

    def line(self) -> str:
        errors = f"non-2xx {self.non_2xx}" + (f" {self.statuses}" if self.statuses else "")
        if self.socket_errors:
            errors += f", socket errors {self.socket_errors}"
        if self.per_second and min(self.per_second) < 0.5 * statistics.median(self.per_second):
            errors += f", STALL: replies per second {self.per_second}, {self.late} late"
        return (f"{self.label:12} {self.rate:7,.0f} msg/s  p50 {self.p50_ms:6.1f} ms  p99 {self.p99_ms:6.1f} ms  "
                f"{errors};  CPU ms/msg: server {self.per_msg_ms(self.server_cpu):.2f} "
                f"({self.server_cpu / self.wall:.2f} cores, {self.server_procs} procs), "
                f"PG {self.per_msg_ms(self.pg_cpu):.2f} ({self.pg_connects} connects), "
                f"Valkey {self.per_msg_ms(self.valkey_cpu):.2f} ({self.valkey_connects} connects), "
                f"load gen {self.per_msg_ms(self.loadgen_cpu):.2f} ({self.loadgen_cpu / self.wall:.2f} cores); "
                f"machine {self.machine_cpu / self.wall:.2f} of {os.cpu_count()} cores busy")


# --- wrk -------------------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(text: str) -> float:
    """A wrk duration ('853.00us', '42.70ms', '1.02s', '2.00m') in milliseconds."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not m:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(m[1]) * _UNITS[m[2]]


def parse_wrk(label: str, out: str) -> Run:
    """wrk's printout (with --latency and bench/chat.lua's status line) as a Run."""
    done = re.search(r"(\d+) requests in ([\d.]+\w+)", out)
    dist = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)\s*$", out, re.M))
    if not done or set(dist) != {"50", "99"}:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    statuses = re.search(r"^statuses: (\{.*\})$", out, re.M)
    return Run(label, int(done[1]), _ms(done[2]) / 1e3, _ms(dist["50"]), _ms(dist["99"]),
               int(non2xx[1]) if non2xx else 0, sum(int(g) for g in socket.groups()) if socket else 0,
               json.loads(statuses[1]) if statuses else {})


def wrk(label: str, url: str, tokens: Path, pid: int, seconds: float, *, meter: Meter, connections: int,
        threads: int = 2) -> Run:
    """One wrk run of `seconds` on `url`/api/chat against the server `pid`, measured."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "--latency",
           "-s", str(CHAT_LUA), f"{url}/api/chat", "--", str(tokens), str(threads)]
    a = meter.take(pid)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    b = meter.take(pid)
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return parse_wrk(label, done.stdout).measured(a, b)


# --- the WebSocket load generator (node bench/wsload.js) ------------------------------------------------

def wsload(label: str, url: str, tokens: list[str], pid: int, seconds: float, *, meter: Meter, connections: int,
           tmp: Path) -> Run:
    """One closed-loop WebSocket run of `seconds` against the server `pid`, measured once every
    connection has its "ready" (the hellos are not in the numbers)."""
    config = tmp / "wsload.json"
    config.write_text(json.dumps({"url": url.replace("http://", "ws://") + "/ws", "origin": url, "tokens": tokens,
                                  "connections": connections, "seconds": seconds}))
    node = subprocess.Popen(["node", str(WSLOAD_JS), str(config)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, cwd=HERE.parent)
    assert node.stdin is not None and node.stdout is not None
    try:
        if (line := node.stdout.readline().strip()) != "ready":
            raise RuntimeError(f"wsload: expected ready, got {line!r}")
        a = meter.take(pid)
        node.stdin.write("go\n")
        node.stdin.flush()
        if (line := node.stdout.readline().strip()) != "stopped":
            raise RuntimeError(f"wsload: expected stopped, got {line!r}")
        b = meter.take(pid)
        result = json.loads(node.stdout.readline())
        node.wait(30)
    finally:
        if node.poll() is None:
            node.kill()
            node.wait()
    b.loadgen = children_cpu()  # node is reaped only now; its hellos are in this too (a little)
    return Run(label, result["replies"], seconds, result["p50_ms"], result["p99_ms"], result["errors"],
               result["closed"], result["error_codes"], result["per_second"], result["late"]).measured(a, b)


# --- sessions, and the 10,000 WebSockets ----------------------------------------------------------------

def raise_file_limit() -> int:
    """Soft RLIMIT_NOFILE up to the hard limit (subprocesses inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


async def create_sessions(base: str, n: int, concurrency: int = 16) -> list[dict[str, Any]]:
    sem = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        async def one() -> dict[str, Any]:
            async with sem:
                r = await c.post("/api/session", json={})
                r.raise_for_status()
                return dict(r.json())
        first = await one()  # alone: concurrent first sessions of a new bot race (gb_sessions ensure_bot)
        return [first, *await asyncio.gather(*(one() for _ in range(n - 1)))]


async def open_sockets(base: str, tokens: list[str], per_token: int, concurrency: int = 100
                       ) -> list[websockets.ClientConnection]:
    url = base.replace("http://", "ws://") + "/ws"
    sem = asyncio.Semaphore(concurrency)  # the listen backlog is 128: do not flood it with SYNs

    async def one(token: str) -> websockets.ClientConnection:
        async with sem:
            ws = await websockets.connect(url, origin=base, ping_interval=None, open_timeout=60,  # type: ignore[arg-type]
                                          max_queue=4, compression=None)
            await ws.send(json.dumps({"type": "hello", "token": token}))
            ready = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if ready.get("type") != "ready":
                raise RuntimeError(f"expected ready, got {ready}")
            return ws

    return list(await asyncio.gather(*(one(t) for t in tokens for _ in range(per_token))))


async def socket_bench(base: str, pid: int, n_sockets: int) -> dict[str, float]:
    per_token = 50
    n_sessions = max(1, n_sockets // per_token)
    sessions = await create_sessions(base, n_sessions)
    tokens = [s["token"] for s in sessions]
    warm = await open_sockets(base, tokens[:2], 5)  # the first socket's code paths, not per socket
    for ws in warm:
        await ws.close()
    await asyncio.sleep(1)
    before = rss_kb(pid)
    t0 = time.perf_counter()
    sockets = await open_sockets(base, tokens, per_token)
    opened = time.perf_counter() - t0
    await asyncio.sleep(2)  # idle
    after = rss_kb(pid)
    async with httpx.AsyncClient(base_url=base) as c:
        held = (await c.get("/healthz")).json()["sockets"]
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return {"sockets": len(sockets), "held": held, "sessions": n_sessions, "open_s": opened,
            "rss_before_mb": before / 1024, "rss_after_mb": after / 1024,
            "kb_per_socket": (after - before) / len(sockets)}


# --- py-spy ----------------------------------------------------------------------------------------------

_PY_FRAME = re.compile(r"^(.*) \(((?:.*\.py|<frozen [\w.]+>)):(\d+)\)$")
# the deepest Python frame of a thread that waits (for I/O, a lock, a queue): an idle sample
_WAITS = {"EpollSelector.select", "_PollLikeSelector.select", "Condition.wait", "_worker", "Event.wait",
          "Queue.get", "Connection._recv", "Connection._poll", "wait", "Thread.join"}


def _package(path: str) -> str:
    """The package (or stdlib module) of a frame's file: sqlalchemy, gb_sessions, asyncio, json, ..."""
    path = path.split("site-packages/")[-1]
    if path.startswith("<frozen"):
        return path
    parts = path.split("/")
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def folded_top(path: Path, n: int = 30) -> str:
    """A py-spy ``top``-like summary of a raw folded file (py-spy record -f raw): the functions by
    own time (leaf frames aggregated, line numbers dropped), by own time of the deepest Python frame
    (with the C code and syscalls it called), the project's functions (gb_*, and the floor's in
    this file) by total time (each once per stack), own time by the package of the deepest Python
    frame.
    Samples of threads waiting (the deepest Python frame in a select, a lock, a queue) are idle,
    counted apart."""
    own: Counter[str] = Counter()
    own_py: Counter[str] = Counter()
    total: Counter[str] = Counter()
    package: Counter[str] = Counter()
    busy = idle = native = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        k, frames = int(count), stack.split(";")
        python = [m for m in map(_PY_FRAME.match, frames) if m]
        if python and python[-1][1] in _WAITS:
            idle += k
            continue
        busy += k
        leaf = _PY_FRAME.match(frames[-1])
        own[f"{leaf[1]} ({leaf[2]})" if leaf else frames[-1]] += k
        native += 0 if leaf else k
        own_py[f"{python[-1][1]} ({python[-1][2]})" if python else frames[-1]] += k
        for f in {f"{m[1]} ({m[2]})" for m in python if m[2].startswith("gb_") or m[2] == HERE.name}:
            total[f] += k
        package[_package(python[-1][2]) if python else "(no Python frame)"] += k
    if not busy:
        return f"no busy samples ({idle} idle)"
    out = [f"{busy} busy samples ({native / busy:.0%} of them in native code: C, syscalls), {idle} idle",
           "", f"top {n} functions by own time:"]
    out += [f"  {c / busy:6.1%}  {c:6}  {f}" for f, c in own.most_common(n)]
    out += ["", f"top {n} Python functions by own time (with the C code and syscalls they called):"]
    out += [f"  {c / busy:6.1%}  {c:6}  {f}" for f, c in own_py.most_common(n)]
    out += ["", f"top {n} gb (or floor) functions by total time:"]
    out += [f"  {c / busy:6.1%}  {c:6}  {f}" for f, c in total.most_common(n)]
    out += ["", "own time by the package of the deepest Python frame:"]
    out += [f"  {c / busy:6.1%}  {c:6}  {f}" for f, c in package.most_common(25)]
    return "\n".join(out)


def profile(prefix: str, name: str, url: str, tokens: Path, pid: int, meter: Meter, connections: int,
            seconds: float = 15) -> None:
    """py-spy (--native, 100 Hz) on the server `pid` for `seconds` under wrk: PREFIX.<name>.folded and
    PREFIX.<name>.top.txt."""
    spy = Path(sys.executable).with_name("py-spy")
    out = Path(f"{prefix}.{name}.folded")
    rec = subprocess.Popen([str(spy), "record", "--native", "-p", str(pid), "-f", "raw", "-o", str(out),
                            "-d", str(int(seconds)), "-r", "100"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
    run = wrk(f"{name} py-spy", url, tokens, pid, seconds + 2, meter=meter, connections=connections)
    _, err = rec.communicate(timeout=60)
    if rec.returncode != 0 or not out.exists():
        raise RuntimeError(f"py-spy failed ({rec.returncode}): {err.decode(errors='replace')[-2000:]}")
    summary = folded_top(out)
    Path(f"{prefix}.{name}.top.txt").write_text(summary + "\n")
    print(f"  py-spy on {name} under wrk ({run.rate:,.0f} msg/s while sampled): {out}, {prefix}.{name}.top.txt")
    for part in summary.split("\n\n")[:3]:
        print("    " + "\n    ".join(part.splitlines()[:16]))


# --- main ------------------------------------------------------------------------------------------------

def median_run(runs: list[Run]) -> dict[str, float]:
    """Medians over runs of one server (CPU per message over all of them)."""
    n = sum(r.requests for r in runs)
    return {"rate": statistics.median(r.rate for r in runs), "p50": statistics.median(r.p50_ms for r in runs),
            "p99": statistics.median(r.p99_ms for r in runs),
            "cpu": sum(r.server_cpu for r in runs) / n * 1e3, "pg": sum(r.pg_cpu for r in runs) / n * 1e3,
            "valkey": sum(r.valkey_cpu for r in runs) / n * 1e3, "non2xx": sum(r.non_2xx for r in runs),
            "connects": sum(r.pg_connects for r in runs) / n * 1e3,
            "valkey_connects": sum(r.valkey_connects for r in runs) / n * 1e3,
            "cores": sum(r.server_cpu for r in runs) / sum(r.wall for r in runs),
            "loadgen_cores": sum(r.loadgen_cpu for r in runs) / sum(r.wall for r in runs),
            "machine_cores": sum(r.machine_cpu for r in runs) / sum(r.wall for r in runs)}


def verdict(value: float, target: float, at_least: bool) -> str:
    ok = value >= target if at_least else value <= target
    return "OK" if ok else "MISSED"


def compare(title: str, floor: list[Run], gb: list[Run]) -> dict[str, float]:
    """Print the medians of the floor's and gb's runs and their ratios; the ratios."""
    f, g = median_run(floor), median_run(gb)
    ratios = {"rate": g["rate"] / f["rate"], "p99": g["p99"] / f["p99"], "cpu": g["cpu"] / f["cpu"]}
    print(f"{title}: medians of {len(floor)} runs each")
    for label, m in (("floor", f), ("gb", g)):
        print(f"  {label:6} {m['rate']:7,.0f} msg/s  p50 {m['p50']:6.1f} ms  p99 {m['p99']:6.1f} ms  "
              f"non-2xx {m['non2xx']:.0f};  CPU ms/msg server {m['cpu']:.2f} ({m['cores']:.2f} cores), "
              f"PG {m['pg']:.2f} ({m['connects']:.0f} connects per 1,000 msgs), Valkey {m['valkey']:.2f} "
              f"({m['valkey_connects']:.0f}); "
              f"load gen {m['loadgen_cores']:.2f} cores, "
              f"machine {m['machine_cores']:.2f} cores busy")
    per_round = ", ".join(f"{b.rate / a.rate:.2f}x" for a, b in zip(floor, gb, strict=False))
    print(f"  throughput gb/floor {ratios['rate']:.2f}x (target >= 0.8x) -> {verdict(ratios['rate'], 0.8, True)}"
          f"   (per round: {per_round})")
    print(f"  p99 gb/floor        {ratios['p99']:.2f}x (target <= 1.5x) -> {verdict(ratios['p99'], 1.5, False)}")
    print(f"  server CPU/msg      {ratios['cpu']:.2f}x (target <= 1.25x) -> {verdict(ratios['cpu'], 1.25, False)}")
    if f["cores"] < SATURATED:
        print(f"  NOTE: the floor kept only {f['cores']:.2f} of a core busy (< {SATURATED}): it is not CPU-bound, so "
              f"something else limits it: the load generator ({f['loadgen_cores']:.2f} cores), the database (PG "
              f"{f['pg']:.2f} ms/msg, Valkey {f['valkey']:.2f} ms/msg), or the machine ({f['machine_cores']:.2f} of "
              f"{os.cpu_count()} cores busy, all of it counted); the throughput ratio then flatters gb")
    else:
        print(f"  the floor kept {f['cores']:.2f} of a core busy: CPU-bound, as a floor should be")
    return ratios


def alternate(loads: dict[str, Callable[[float], Run]], rounds: int, seconds: float, warm: float
              ) -> dict[str, list[Run]]:
    """A warm-up run of each load, then `rounds` rounds of one `seconds` run of each in turn (so all
    see the same machine), printed as they come."""
    for load in loads.values():
        load(warm)
    runs: dict[str, list[Run]] = {label: [] for label in loads}
    for i in range(rounds):
        for label, load in loads.items():
            run = load(seconds)
            runs[label].append(run)
            print(f"  {i + 1}: {run.line()}", flush=True)
    return runs


def scaling(one: list[Run], two: list[Run]) -> float:
    """Print gb serve --workers 2 against --workers 1; the throughput ratio."""
    w1, w2 = median_run(one), median_run(two)
    ratio = w2["rate"] / w1["rate"]
    print(f"gb serve --workers 2 / --workers 1: {ratio:.2f}x throughput ({w2['rate']:,.0f} vs {w1['rate']:,.0f} "
          f"msg/s), p99 {w2['p99']:.1f} vs {w1['p99']:.1f} ms, CPU ms/msg of all their processes {w2['cpu']:.2f} vs "
          f"{w1['cpu']:.2f} ({w2['cores']:.2f} vs {w1['cores']:.2f} cores; PG {w2['pg']:.2f} vs {w1['pg']:.2f} "
          f"ms/msg; machine {w2['machine_cores']:.2f} of {os.cpu_count()} cores busy)")
    return ratio


def print_sockets(ws: dict[str, float]) -> None:
    print(f"\nwebsockets: {ws['sockets']:,.0f} open on one gb serve process ({ws['held']:,.0f} held per /healthz; "
          f"{ws['sessions']:,.0f} sessions x 50 sockets, hello + ready each, opened in {ws['open_s']:.1f} s)")
    print(f"  server RSS {ws['rss_before_mb']:,.1f} MB before, {ws['rss_after_mb']:,.1f} MB after: "
          f"{ws['kb_per_socket']:.1f} KB per idle socket")


def summary(http: dict[str, list[Run]], ws: dict[str, list[Run]], workers: float) -> str:
    """One line of key=value pairs for scripts."""
    f, g, fw, gw = (median_run(runs) for runs in (http["floor"], http["gb"], ws["floor"], ws["gb"]))
    return (f"summary: http_ratio={g['rate'] / f['rate']:.2f} http_p99_ratio={g['p99'] / f['p99']:.2f} "
            f"http_cpu_ratio={g['cpu'] / f['cpu']:.2f} gb_msgs_per_s={g['rate']:.0f} floor_msgs_per_s={f['rate']:.0f} "
            f"gb_p99_ms={g['p99']:.1f} floor_p99_ms={f['p99']:.1f} gb_cpu_ms={g['cpu']:.2f} "
            f"floor_cpu_ms={f['cpu']:.2f} floor_cores={f['cores']:.2f} workers2_scaling={workers:.2f} "
            f"ws_ratio={gw['rate'] / fw['rate']:.2f} ws_p99_ratio={gw['p99'] / fw['p99']:.2f} "
            f"ws_cpu_ratio={gw['cpu'] / fw['cpu']:.2f} gb_ws_msgs_per_s={gw['rate']:.0f} "
            f"floor_ws_msgs_per_s={fw['rate']:.0f} floor_ws_cores={fw['cores']:.2f}")


def check_tools() -> None:
    for tool in ("wrk", "node"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench/server.py needs {tool} (make bench installs it)")
    if not (HERE.parent / "node_modules" / "ws").is_dir():
        raise SystemExit("bench/server.py needs the ws package: cd bench && npm ci (make bench does it)")


async def main(args: argparse.Namespace) -> None:
    seconds, rounds, warm = (3.0, 1, 1.0) if args.quick else (args.seconds, args.rounds, 2.0)
    conns, ws_conns, n_sessions = args.connections, args.ws_connections, 200
    check_tools()
    limit = raise_file_limit()  # before spawning: the servers inherit it
    n_sockets = args.sockets
    if n_sockets and limit < n_sockets + 200:
        print(f"warning: open file limit {limit} < {n_sockets} sockets; lowering the socket count")
        n_sockets = max(50, limit - 500)
    name = f"gb_bench_server_{os.getpid()}"
    db_url = create_database(PG, name)
    tmp = Path(tempfile.mkdtemp(prefix="gb-bench-server-"))
    meter = Meter(PG, name)
    try:
        make_bot(tmp / "bots", "default", {"start": ECHO}, config=CONFIG)
        env = gb_environ(tmp / "bots", tmp / "data", database_url=db_url, valkey_url=REDIS)
        with Server(env, tmp / "gb1.log") as gb1, Server(env, tmp / "gb2.log", ["--workers", "2"]) as gb2, \
                Server(env, tmp / "floor.log", command=lambda port: floor_command(port, db_url)) as floor:
            gb_tokens = [s["token"] for s in await create_sessions(gb1.url, n_sessions)]
            floor_sids = [s["session_id"] for s in await create_sessions(gb1.url, n_sessions)]
            (tmp / "gb.tokens").write_text("\n".join(gb_tokens) + "\n")
            (tmp / "floor.tokens").write_text("\n".join(floor_sids) + "\n")
            print(f"POST /api/chat under wrk: {conns} connections, 2 threads, round-robin over {n_sessions} "
                  f"sessions' Bearer tokens, {{\"message\": \"hello there\"}}; {rounds} rounds of {seconds:g} s "
                  f"runs alternating floor, gb --workers 1, gb --workers 2 (after a {warm:g} s warm-up each)")
            http = alternate({
                label: partial(wrk, label, server.url, tokens, server.pid, meter=meter, connections=conns)
                for label, server, tokens in (("floor", floor, tmp / "floor.tokens"), ("gb", gb1, tmp / "gb.tokens"),
                                              ("gb -w2", gb2, tmp / "gb.tokens"))}, rounds, seconds, warm)
            compare("POST /api/chat", http["floor"], http["gb"])
            workers = scaling(http["gb"], http["gb -w2"])
            gb2.stop()

            print(f"\nWebSocket /ws (node bench/wsload.js): {ws_conns} connections, each on its own session "
                  f"after hello + ready, closed loop (the next message when the reply comes); {rounds} rounds "
                  f"of {seconds:g} s runs alternating floor, gb --workers 1")
            ws = alternate({
                label: partial(wsload, label, server.url, ids, server.pid, meter=meter, connections=ws_conns,
                              tmp=tmp)
                for label, server, ids in (("floor", floor, floor_sids), ("gb", gb1, gb_tokens))},
                rounds, seconds, warm)
            compare("WebSocket message -> reply", ws["floor"], ws["gb"])

            if args.py_spy:
                print()
                profile(args.py_spy, "gb", gb1.url, tmp / "gb.tokens", gb1.pid, meter, conns)
                profile(args.py_spy, "floor", floor.url, tmp / "floor.tokens", floor.pid, meter, conns)
            if n_sockets:
                print_sockets(await socket_bench(gb1.url, gb1.pid, n_sockets))
            print(summary(http, ws, workers))
    finally:
        meter.close()
        drop_database(PG, name)
        if args.keep:
            print(f"the servers' logs are in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one round of 3 s runs")
    ap.add_argument("--seconds", type=float, default=6.0, help="seconds per run (default 6)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of alternating runs (default 3)")
    ap.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    ap.add_argument("--ws-connections", type=int, default=32, help="WebSocket connections (default 32)")
    ap.add_argument("--sockets", type=int, default=10_000,
                    help="idle WebSockets to hold open (default 10,000; 0: skip)")
    ap.add_argument("--py-spy", metavar="PREFIX", help="also profile gb and the floor under wrk: PREFIX.gb.folded, ...")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (the servers' logs)")
    ap.add_argument("--floor-server", nargs=2, metavar=("PORT", "DBURL"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.floor_server:
        floor_server(int(a.floor_server[0]), a.floor_server[1])
    else:
        asyncio.run(main(a))
