"""The bot server on PostgreSQL + Valkey, against a floor measured in the same run.

1. ``POST /api/chat`` through the REAL server (``gb serve`` in a subprocess) against the floor of
   design.md: a bare Tornado handler in another subprocess (this file, ``--floor-server``) doing
   per request one Valkey read, one PostgreSQL transaction inserting two message rows and
   updating one state row (SQLAlchemy async, same schema, same engine settings), one Valkey
   pipeline, then a JSON answer. The same async load generator drives both (httpx, N clients
   each on its own session, keep-alive), interleaved rounds, best of the rounds.
   Target >= 0.8x the floor's throughput.
2. 10,000 WebSockets held by ONE server process (200 sessions x 50 sockets, each after hello and
   ready): the server's RSS before and after, printed per idle socket.

Usage: python bench/server.py [--quick] [--sockets N] [--py-spy PREFIX]
       (needs PostgreSQL on 127.0.0.1:5432 and Redis on :6379; creates and drops its own database)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project root, for tests/helpers
from tests.helpers.bots import make_bot
from tests.helpers.servers import Server, bearer, gb_environ
from tests.helpers.stores import create_database, drop_database

PG = os.environ.get("GB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("GB_BENCH_REDIS", "redis://127.0.0.1:6379/0")
ECHO = 'DO\n  x = HEAR\n  SET last = x\n  TALK "echo " + x\nLOOP\n'
HERE = Path(__file__).resolve()


# --- the floor server (a subprocess: python bench/server.py --floor-server PORT DBURL) ------------------

def floor_server(port: int, db_url: str) -> None:
    """A bare Tornado handler: 1 Valkey read, 1 PG transaction (2 inserts, 1 update), 1 Valkey pipeline."""
    import tornado.httpserver
    import tornado.netutil
    import tornado.web
    from redis.asyncio import Redis
    from sqlalchemy import insert, update

    from gb_sessions.cache import cache_keys
    from gb_sessions.database import make_engine
    from gb_sessions.session import Message, utcnow
    from gb_sessions.store import ST, M

    async def serve() -> None:
        engine = make_engine(db_url)  # the engine settings of the gb server
        redis = Redis.from_url(REDIS, socket_timeout=2, socket_connect_timeout=2)

        class Floor(tornado.web.RequestHandler):
            async def post(self) -> None:
                sid = uuid.UUID(self.request.headers["X-Session"])
                text = json.loads(self.request.body)["message"]
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
                self.set_header("Content-Type", "application/json; charset=utf-8")
                self.finish(json.dumps({"session_id": str(sid), "messages": [
                    {"role": "assistant", "content": f"echo {text}"}], "waiting": None}))

        class Health(tornado.web.RequestHandler):
            def get(self) -> None:
                self.finish({"status": "ok"})

        app = tornado.web.Application([(r"/api/chat", Floor), (r"/healthz", Health)])
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


# --- helpers ---------------------------------------------------------------------------------------------

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


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


# --- the load generator ----------------------------------------------------------------------------------

async def drive(base: str, headers: list[dict[str, str]], per_client: int) -> tuple[float, list[float]]:
    """N clients (one per entry of `headers`, each its own session), keep-alive; msg/s and latencies."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=len(headers), max_keepalive_connections=len(headers))
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as c:
        async def client(h: dict[str, str]) -> None:
            for i in range(per_client):
                t0 = time.perf_counter()
                r = await c.post("/api/chat", json={"message": f"m{i}"}, headers=h)
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise RuntimeError(f"{base}/api/chat answered {r.status_code}: {r.text[:300]}")

        # one request each first, so every client's connection is open before the clock starts
        await asyncio.gather(*(c.post("/api/chat", json={"message": "warm"}, headers=h) for h in headers))
        t0 = time.perf_counter()
        await asyncio.gather(*(client(h) for h in headers))
        return len(headers) * per_client / (time.perf_counter() - t0), latencies


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


# --- 10,000 WebSockets -----------------------------------------------------------------------------------

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


# --- main ------------------------------------------------------------------------------------------------

async def profile(prefix: str, targets: dict[str, tuple[str, list[dict[str, str]], int]]) -> None:
    """py-spy on each server for 10 s under the same load: <prefix>.<name>.txt, folded stacks (-f raw)."""
    spy = Path(sys.executable).with_name("py-spy")
    for name, (base, headers, pid) in targets.items():
        out = f"{prefix}.{name}.txt"
        rec = subprocess.Popen([str(spy), "record", "-p", str(pid), "-f", "raw", "-o", out, "-d", "10", "-r", "200"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await asyncio.sleep(1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and rec.poll() is None:
            await drive(base, headers, 20)
        rec.wait(30)
        print(f"  py-spy: {name} server profile in {out}")


async def main(quick: bool, n_sockets: int, py_spy: str | None) -> None:
    clients, per_client, rounds = (8, 25, 2) if quick else (16, 60, 3)
    limit = raise_file_limit()  # before spawning: the servers inherit it
    if limit < n_sockets + 200:
        print(f"warning: open file limit {limit} < {n_sockets} sockets; lowering the socket count")
        n_sockets = max(50, limit - 500)
    name = f"gb_bench_server_{os.getpid()}"
    db_url = create_database(PG, name)
    tmp = Path(tempfile.mkdtemp(prefix="gb-bench-server-"))
    try:
        make_bot(tmp / "bots", "default", {"start": ECHO}, config="rate-limit,1000000\n")
        env = gb_environ(tmp / "bots", tmp / "data", database_url=db_url, valkey_url=REDIS)
        with Server(env, tmp / "gb.log") as gb:
            with Server(env, tmp / "floor.log", command=lambda port: floor_command(port, db_url)) as floor:
                gb_base, floor_base = gb.url, floor.url
                gb_tokens = [s["token"] for s in await create_sessions(gb_base, clients)]
                floor_sids = [s["session_id"] for s in await create_sessions(gb_base, clients)]
                gb_headers = [bearer(t) for t in gb_tokens]
                floor_headers = [{"X-Session": s} for s in floor_sids]
                await drive(gb_base, gb_headers, 5)  # warm up both
                await drive(floor_base, floor_headers, 5)
                gb_rates: list[float] = []
                floor_rates: list[float] = []
                gb_lat: list[float] = []
                floor_lat: list[float] = []
                gb_cpu = floor_cpu = 0.0  # the server process's CPU seconds over the timed rounds
                for _ in range(rounds):  # interleaved, so both see the same machine load
                    c0 = cpu_s(floor.pid)
                    rate, lat = await drive(floor_base, floor_headers, per_client)
                    floor_cpu += cpu_s(floor.pid) - c0
                    floor_rates.append(rate)
                    floor_lat += lat
                    c0 = cpu_s(gb.pid)
                    rate, lat = await drive(gb_base, gb_headers, per_client)
                    gb_cpu += cpu_s(gb.pid) - c0
                    gb_rates.append(rate)
                    gb_lat += lat
                n_msgs = rounds * clients * (per_client + 1)  # + the one untimed request per client
                gb_cpu_ms, floor_cpu_ms = gb_cpu / n_msgs * 1e3, floor_cpu / n_msgs * 1e3
                if py_spy:
                    await profile(py_spy, {"gb": (gb_base, gb_headers, gb.pid),
                                           "floor": (floor_base, floor_headers, floor.pid)})
            r_gb, r_floor = max(gb_rates), max(floor_rates)
            ratio = r_gb / r_floor
            print(f"POST /api/chat: {clients} concurrent clients x {per_client} messages, best of {rounds} "
                  f"interleaved rounds (latency over all {len(gb_lat)} requests)")
            print(f"  floor (Tornado: 1 Valkey read, 1 PG transaction, 1 Valkey pipeline): {r_floor:,.0f} msg/s  "
                  f"p50 {pct(floor_lat, 50) * 1e3:.2f} ms  p99 {pct(floor_lat, 99) * 1e3:.2f} ms")
            print(f"  gb serve on PostgreSQL + Valkey:                                       {r_gb:,.0f} msg/s  "
                  f"p50 {pct(gb_lat, 50) * 1e3:.2f} ms  p99 {pct(gb_lat, 99) * 1e3:.2f} ms")
            print(f"  rounds: floor {', '.join(f'{r:,.0f}' for r in floor_rates)}; "
                  f"gb {', '.join(f'{r:,.0f}' for r in gb_rates)} msg/s; median ratio "
                  f"{statistics.median(gb_rates) / statistics.median(floor_rates):.2f}x")
            print(f"  server process CPU per message: floor {floor_cpu_ms:.2f} ms, gb {gb_cpu_ms:.2f} ms "
                  f"({gb_cpu_ms / floor_cpu_ms:.2f}x; {os.cpu_count()} cores shared with PostgreSQL, Valkey and the "
                  f"load generator)")
            print(f"  ratio {ratio:.2f}x the floor (target >= 0.8x) -> {'OK' if ratio >= 0.8 else 'BELOW TARGET'}")
            ws = await socket_bench(gb_base, gb.pid, n_sockets)
            print(f"websockets: {ws['sockets']:,.0f} open on one gb serve process ({ws['held']:,.0f} held per "
                  f"/healthz; {ws['sessions']:,.0f} sessions x 50 sockets, hello + ready each, opened in "
                  f"{ws['open_s']:.1f} s)")
            print(f"  server RSS {ws['rss_before_mb']:,.1f} MB before, {ws['rss_after_mb']:,.1f} MB after: "
                  f"{ws['kb_per_socket']:.1f} KB per idle socket")
            print(f"summary: server_ratio={ratio:.2f} gb_msgs_per_s={r_gb:.0f} floor_msgs_per_s={r_floor:.0f} "
                  f"gb_p50_ms={pct(gb_lat, 50) * 1e3:.2f} gb_p99_ms={pct(gb_lat, 99) * 1e3:.2f} "
                  f"floor_p50_ms={pct(floor_lat, 50) * 1e3:.2f} floor_p99_ms={pct(floor_lat, 99) * 1e3:.2f} "
                  f"gb_cpu_ms_per_msg={gb_cpu_ms:.2f} floor_cpu_ms_per_msg={floor_cpu_ms:.2f} "
                  f"sockets={ws['sockets']:.0f} kb_per_socket={ws['kb_per_socket']:.1f}")
    finally:
        drop_database(PG, name)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer messages and rounds")
    ap.add_argument("--sockets", type=int, default=10_000, help="WebSockets to hold open (default 10,000)")
    ap.add_argument("--py-spy", metavar="PREFIX", help="also profile both servers: PREFIX.gb.txt, PREFIX.floor.txt")
    ap.add_argument("--floor-server", nargs=2, metavar=("PORT", "DBURL"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.floor_server:
        floor_server(int(a.floor_server[0]), a.floor_server[1])
    else:
        asyncio.run(main(a.quick, a.sockets, a.py_spy))
