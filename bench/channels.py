"""WhatsApp: a webhook to its delivered reply, against the same dialog over ``POST /api/chat``, in one run.

One ``gb serve`` (PostgreSQL + Valkey, a database of its own) runs the ECHO dialog of
bench/server.py (``DO / x = HEAR / SET last = x / TALK "echo " + x / LOOP``); its bot's
``whatsapp-*`` keys point at a stand-in of Meta's Graph API in a process of its own (this file,
``--graph-server``: raw asyncio HTTP, answers ``200 {"messages": [{"id": ...}]}`` to every
``POST /{phone-number-id}/messages`` and records who got what, when).

- **A, the floor**: ``POST /api/chat`` under wrk (bench/chat.lua: round-robin over 200 sessions'
  Bearer tokens): messages answered per second.
- **B, WhatsApp**: 200 senders, each opened by a first message (not measured); then wrk posts
  pre-signed webhook bodies (bench/webhook.lua: lines ``signature<TAB>index<TAB>body`` made
  here, each with its own wamid, since a repeated one is de-duplicated by design, round-robin
  over the senders, each body's text ``m<index>``). gb verifies, commits to the inbox, answers
  200; its dispatcher runs the turn and its outbox POSTs ``echo m<index>`` to the stand-in.
  Throughput: replies delivered / (the stand-in's last reply of the run - wrk's first request),
  waiting for the queues to drain after wrk stops; also the acknowledgement rate (wrk's
  requests/s) and the delivery lag (the stand-in's arrival - when wrk sent that body), p50/p99.
  Checked every run: no non-2xx, and every stored message (all acknowledged ones, and those
  in flight when wrk stopped) got exactly one reply, to its sender.

A and B alternate over the rounds; the verdict is on the median of the rounds' ratios B/A,
against the issue's target: WhatsApp within 1.5x of the API's throughput (B >= A / 1.5).
CPU per message of gb serve (and PostgreSQL, Valkey, the stand-in) from /proc, as bench/server.py.

Usage: python bench/channels.py [--quick] [--seconds S] [--rounds N] [--connections C] [--py-spy PREFIX] [--keep]
       (needs PostgreSQL on 127.0.0.1:5432, Redis/Valkey on :6379, wrk; creates and drops its own database)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project root, for tests/helpers
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/, for server.py's helpers
from server import (
    ECHO,
    PG,
    REDIS,
    Meter,
    Run,
    create_sessions,
    folded_top,
    parse_wrk,
    proc_cpu,
    raise_file_limit,
    verdict,
    wrk,
)

from tests.helpers.bots import make_bot
from tests.helpers.servers import Server, gb_environ
from tests.helpers.stores import create_database, drop_database

HERE = Path(__file__).resolve()
WEBHOOK_LUA = HERE.with_name("webhook.lua")
SECRET, TOKEN, PHONE_ID = "bench-app-secret", "bench-graph-token", "1234567890"
TARGET = 1.5  # WhatsApp's throughput within 1.5x of the API's: B >= A / TARGET
SENDERS = 200
THREADS = 2


def config(api: str) -> str:
    return (f"rate-limit,1000000\nmax-sessions,1000000\nsession-create-rate,1000000\n"
            f"whatsapp-app-secret,{SECRET}\nwhatsapp-token,{TOKEN}\nwhatsapp-phone-number-id,{PHONE_ID}\n"
            f"whatsapp-verify-token,bench\nwhatsapp-api-url,{api}\noutbox-retry-seconds,0.2\n")


# --- the Graph API stand-in (a subprocess: python bench/channels.py --graph-server PORT) ------------------

def graph_server(port: int) -> None:
    """Answer every ``POST .../messages`` with 200 and a new message id; record (to, text, arrival
    time on CLOCK_MONOTONIC). ``GET /stats``: {"posts": n, "last": t}; ``GET /dump?since=k``: the
    arrivals from the k-th on, as [to, text, t] lists. Raw asyncio: nothing else runs in this loop."""
    arrivals: list[tuple[str, str, float]] = []

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                line, _, rest = head.decode("latin-1").partition("\r\n")
                method, target, _ = line.split(" ", 2)
                length = 0
                for h in rest.split("\r\n"):
                    name, _, value = h.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                if method == "POST" and target.endswith("/messages"):
                    at = time.monotonic()
                    msg = json.loads(body)
                    arrivals.append((str(msg.get("to")), str((msg.get("text") or {}).get("body")), at))
                    answer = json.dumps({"messaging_product": "whatsapp",
                                         "messages": [{"id": f"wamid.OUT{len(arrivals)}"}]}).encode()
                elif target.startswith("/stats"):
                    answer = json.dumps({"posts": len(arrivals),
                                         "last": arrivals[-1][2] if arrivals else None}).encode()
                elif target.startswith("/dump"):
                    since = int(target.partition("since=")[2] or 0)
                    answer = json.dumps(arrivals[since:]).encode()
                else:
                    answer = b'{"error": {"message": "not here", "code": 1}}'
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(answer), answer))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(client, "127.0.0.1", port, backlog=512)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


class Graph:
    """The stand-in, from the bench's side."""

    def __init__(self, url: str, pid: int) -> None:
        self.url, self.pid = url, pid
        self.http = httpx.Client(base_url=url, timeout=30)
        self.seen = 0  # arrivals already read

    def stats(self) -> dict[str, Any]:
        return dict(self.http.get("/stats").json())

    def new_arrivals(self) -> list[tuple[str, str, float]]:
        got = [(str(to), str(text), float(t)) for to, text, t in self.http.get(f"/dump?since={self.seen}").json()]
        self.seen += len(got)
        return got


# --- webhook bodies -----------------------------------------------------------------------------------------

def sender(i: int) -> str:
    return f"5511{900000000 + i}"


def webhook(frm: str, wamid: str, text: str) -> bytes:
    """A WhatsApp Cloud API webhook body with one text message (tests/server/test_whatsapp.py's shape)."""
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001234", "phone_number_id": PHONE_ID},
            "contacts": [{"profile": {"name": "Bench"}, "wa_id": frm}],
            "messages": [{"from": frm, "id": wamid, "timestamp": str(int(time.time())), "type": "text",
                          "text": {"body": text}}]}}]}]}, separators=(",", ":")).encode()


def signature(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def write_bodies(prefix: Path, tag: str, first: int, count: int) -> None:
    """PREFIX.<thread> for bench/webhook.lua: body `first + k` goes to thread k % THREADS, to sender
    (first + k) % SENDERS, with the wamid ``wamid.<tag>.<index>`` and the text ``m<index>``."""
    files = [(prefix.parent / f"{prefix.name}.{t}").open("w") for t in range(THREADS)]
    try:
        for k in range(count):
            i = first + k
            body = webhook(sender(i % SENDERS), f"wamid.{tag}.{i}", f"m{i}")
            files[k % THREADS].write(f"{signature(body)}\t{i}\t{body.decode()}\n")
    finally:
        for f in files:
            f.close()


async def open_senders(url: str, tag: str) -> None:
    """Each sender's first message (its session starts): not measured."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as c:
        sem = asyncio.Semaphore(16)

        async def one(i: int) -> None:
            body = webhook(sender(i), f"wamid.{tag}.open{i}", "hello")
            async with sem:
                r = await c.post("/whatsapp", content=body, headers={"Content-Type": "application/json",
                                                                      "X-Hub-Signature-256": signature(body)})
            r.raise_for_status()
        await one(0)  # alone: concurrent first sessions of a new bot race (see create_sessions)
        await asyncio.gather(*(one(i) for i in range(1, SENDERS)))


# --- the queues ---------------------------------------------------------------------------------------------

class Queues:
    """The bench database's inbox and outbox, read with psycopg (not through gb)."""

    def __init__(self, db_url: str) -> None:
        self.conn = psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True)
        self.polls = 0  # statements of this connection (each a transaction of its own)

    def waiting(self) -> tuple[int, int]:
        """(inbox rows not handled yet, outbox rows not sent yet)."""
        self.polls += 1
        row = self.conn.execute("SELECT (SELECT count(*) FROM inbox WHERE status = 'new'), "
                                "(SELECT count(*) FROM outbox WHERE status = 'pending')").fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def drain(self, timeout: float = 300) -> float:
        """Wait until both queues are empty; how long it took (seconds)."""
        t0 = time.monotonic()
        while self.waiting() != (0, 0):
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(f"the queues did not drain in {timeout:g} s: {self.waiting()} waiting")
            time.sleep(0.02)
        return time.monotonic() - t0

    def stored(self, tag: str) -> dict[str, str]:
        """This run's inbound messages as stored: text -> status."""
        rows = self.conn.execute("SELECT payload->>'text', status FROM inbox WHERE platform_id LIKE %s",
                                 (f"wamid.{tag}.%",)).fetchall()
        return {str(text): str(status) for text, status in rows}

    def xacts(self) -> int:
        """Transactions committed or rolled back in this database so far (pg_stat_database; the
        statistics lag a little behind, so a run's count is taken after a pause)."""
        self.conn.execute("SELECT pg_stat_clear_snapshot()")
        row = self.conn.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                                "WHERE datname = current_database()").fetchone()
        self.polls += 2
        return (int(row[0]) if row else 0) - self.polls  # less this connection's own statements

    def dead(self) -> int:
        row = self.conn.execute("SELECT count(*) FROM outbox WHERE status = 'dead'").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.conn.close()


# --- leg B ----------------------------------------------------------------------------------------------------

@dataclass
class Delivery:
    """One webhook run: wrk's view (acknowledgements) and the stand-in's (delivered replies)."""

    ack: Run
    delivered: int
    seconds: float  # wrk's first request to the stand-in's last reply of the run
    drain_s: float  # wrk's end to the queues' being empty
    lag_ms: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    graph_cpu: float = 0.0
    xacts: int = 0  # PostgreSQL transactions during the run (this database's)

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds

    def line(self) -> str:
        lag = sorted(self.lag_ms)
        p50, p99 = (lag[len(lag) // 2], lag[min(len(lag) - 1, int(len(lag) * 0.99))]) if lag else (0.0, 0.0)
        a = self.ack
        return (f"{'whatsapp':8} {self.rate:7,.0f} msg/s delivered ({self.delivered:,} replies in "
                f"{self.seconds:.2f} s, drained {self.drain_s:.2f} s after wrk)  "
                f"ack {a.rate:7,.0f} req/s (p99 {a.p99_ms:.1f} ms)  "
                f"lag p50 {p50:7.1f} ms p99 {p99:7.1f} ms  non-2xx {a.non_2xx}"
                f"{', socket errors ' + str(a.socket_errors) if a.socket_errors else ''};  "
                f"CPU ms/msg: server {a.server_cpu / self.delivered * 1e3:.2f} ({a.server_cpu / a.wall:.2f} cores), "
                f"PG {a.pg_cpu / self.delivered * 1e3:.2f} ({a.pg_connects} connects), "
                f"Valkey {a.valkey_cpu / self.delivered * 1e3:.2f}, "
                f"stand-in {self.graph_cpu / self.delivered * 1e3:.2f}, "
                f"wrk {a.loadgen_cpu / self.delivered * 1e3:.2f}; "
                f"PG transactions/msg {self.xacts / self.delivered:.1f}; "
                f"machine {a.machine_cpu / a.wall:.2f} of {os.cpu_count()} cores busy"
                + ("\n     PROBLEMS: " + "; ".join(self.problems) if self.problems else ""))


class WebhookLoad:
    """Leg B's runs: fresh bodies for each (none is ever sent twice)."""

    def __init__(self, url: str, pid: int, graph: Graph, queues: Queues, meter: Meter, tmp: Path,
                 connections: int) -> None:
        self.url, self.pid, self.graph, self.queues, self.meter = url, pid, graph, queues, meter
        self.tmp, self.connections = tmp, connections
        self.runs = 0
        self.guess = 3000.0  # webhooks acknowledged per second, for how many bodies to make (grows)

    def __call__(self, seconds: float) -> Delivery:
        self.runs += 1
        tag = f"r{self.runs}"
        count = int(self.guess * seconds * 2) + 1000
        prefix = self.tmp / f"bodies.{tag}"
        write_bodies(prefix, tag, 0, count)
        self.graph.new_arrivals()  # skip what came before
        self.queues.drain()
        cmd = ["wrk", f"-t{THREADS}", f"-c{self.connections}", f"-d{seconds:g}s", "--timeout", "10s", "--latency",
               "-s", str(WEBHOOK_LUA), f"{self.url}/whatsapp", "--", str(prefix)]
        time.sleep(1)  # the statistics of what came before are in
        x0, g0, a = self.queues.xacts(), proc_cpu(self.graph.pid), self.meter.take(self.pid)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
        if done.returncode != 0:
            raise RuntimeError(f"wrk exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
        drain = self.queues.drain()
        b, g1 = self.meter.take(self.pid), proc_cpu(self.graph.pid)
        time.sleep(1)
        xacts = self.queues.xacts() - x0
        ack = parse_wrk("whatsapp", done.stdout).measured(a, b)
        self.guess = max(self.guess, 2 * ack.rate)
        sent = {int(i): float(t) for i, t in (line.split() for line in (prefix.parent / f"{prefix.name}.sent")
                                              .read_text().splitlines())}
        arrivals = [(to, text, t) for to, text, t in self.graph.new_arrivals() if text.startswith("echo m")]
        run = Delivery(ack, len(arrivals), max(t for *_, t in arrivals) - min(sent.values()), drain,
                       graph_cpu=g1 - g0, xacts=xacts)
        run.lag_ms = [(t - sent[int(text[6:])]) * 1e3 for _, text, t in arrivals if int(text[6:]) in sent]
        run.problems = self.check(tag, ack, arrivals, done.stdout)
        return run

    def check(self, tag: str, ack: Run, arrivals: list[tuple[str, str, float]], out: str) -> list[str]:
        """Every stored message of the run answered exactly once, to its sender; what is wrong, if anything."""
        problems = []
        if ack.non_2xx or ack.socket_errors:
            problems.append(f"non-2xx {ack.non_2xx} {ack.statuses}, socket errors {ack.socket_errors}")
        if "exhausted: 0" not in out:
            problems.append("wrk ran out of bodies and sent some again (de-duplicated: no reply)")
        stored = self.queues.stored(tag)
        not_done = {t: s for t, s in stored.items() if s != "done"}
        if not_done:
            problems.append(f"{len(not_done)} inbound messages not done: {dict(list(not_done.items())[:5])}")
        replies: dict[str, list[str]] = {}
        for to, text, _ in arrivals:
            replies.setdefault(text[5:], []).append(to)
        twice = {t: tos for t, tos in replies.items() if len(tos) > 1}
        wrong = {t: tos for t, tos in replies.items() if tos[0] != sender(int(t[1:]) % SENDERS)}
        missing = set(stored) - set(replies)
        extra = set(replies) - set(stored)
        if twice or wrong or missing or extra:
            problems.append(f"replies: {len(twice)} twice, {len(wrong)} to the wrong sender, {len(missing)} missing, "
                            f"{len(extra)} for nothing stored")
        if not ack.requests <= len(stored) <= ack.requests + self.connections:
            problems.append(f"{len(stored)} stored for {ack.requests} acknowledged")
        if dead := self.queues.dead():
            problems.append(f"{dead} outbound messages dead")
        return problems


# --- main -------------------------------------------------------------------------------------------------------

def median_lag(runs: list[Delivery], q: float) -> float:
    lag = sorted(x for r in runs for x in r.lag_ms)
    return lag[min(len(lag) - 1, int(len(lag) * q))] if lag else 0.0


async def main(args: argparse.Namespace) -> int:
    seconds, rounds, warm = (3.0, 1, 1.0) if args.quick else (args.seconds, args.rounds, 2.0)
    conns = args.connections
    raise_file_limit()
    name = f"gb_bench_channels_{os.getpid()}"
    db_url = create_database(PG, name)
    tmp = Path(tempfile.mkdtemp(prefix="gb-bench-channels-"))
    meter = Meter(PG, name)
    queues: Queues | None = None
    try:
        with Server({**os.environ}, tmp / "graph.log",
                    command=lambda port: [sys.executable, str(HERE), "--graph-server", str(port)]) as stand_in:
            graph = Graph(stand_in.url, stand_in.pid)
            make_bot(tmp / "bots", "default", {"start": ECHO}, config=config(stand_in.url))
            env = gb_environ(tmp / "bots", tmp / "data", database_url=db_url, valkey_url=REDIS)
            with Server(env, tmp / "gb.log") as gb:
                queues = Queues(db_url)
                tokens = [s["token"] for s in await create_sessions(gb.url, SENDERS)]
                (tmp / "gb.tokens").write_text("\n".join(tokens) + "\n")
                await open_senders(gb.url, "open")
                queues.drain()
                opened = len(graph.new_arrivals())
                print(f"one gb serve (PostgreSQL + Valkey), the ECHO dialog; wrk {conns} connections, {THREADS} "
                      f"threads; {rounds} rounds of {seconds:g} s runs alternating (after a {warm:g} s warm-up each):")
                print(f"  A: POST /api/chat, round-robin over {SENDERS} sessions' Bearer tokens")
                print(f"  B: POST /whatsapp, pre-signed webhooks (each its own wamid), round-robin over {SENDERS} "
                      f"senders (opened by a first message each: {opened} replies); delivered = the stand-in "
                      f"Graph API's POST /{PHONE_ID}/messages")
                load_b = WebhookLoad(gb.url, gb.pid, graph, queues, meter, tmp, conns)
                wrk("warm", gb.url, tmp / "gb.tokens", gb.pid, warm, meter=meter, connections=conns)
                load_b(warm)
                api: list[Run] = []
                wa: list[Delivery] = []
                for i in range(rounds):
                    x0 = queues.xacts()
                    api.append(wrk("api", gb.url, tmp / "gb.tokens", gb.pid, seconds, meter=meter, connections=conns))
                    time.sleep(1)
                    per = (queues.xacts() - x0) / api[-1].requests
                    print(f"  {i + 1}: {api[-1].line()}; PG transactions/msg {per:.1f}", flush=True)
                    wa.append(load_b(seconds))
                    print(f"  {i + 1}: {wa[-1].line()}  ->  B/A {wa[-1].rate / api[-1].rate:.2f}x", flush=True)
                code = report(api, wa)
                if args.py_spy:
                    profile(args.py_spy, gb.pid, load_b, seconds)
                return code
    finally:
        if queues is not None:
            queues.close()
        meter.close()
        drop_database(PG, name)
        if args.keep:
            print(f"the servers' logs and the bodies are in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def profile(prefix: str, pid: int, load: WebhookLoad, seconds: float) -> None:
    """py-spy (--native, 100 Hz) on gb serve during one more webhook run, until its queues drained:
    PREFIX.folded and PREFIX.top.txt (bench/server.py's summary)."""
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        spy = Path(shutil.which("py-spy") or "py-spy")
    out = Path(f"{prefix}.folded")
    rec = subprocess.Popen([str(spy), "record", "--native", "-p", str(pid), "-f", "raw", "-o", str(out), "-r", "100"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1)  # py-spy attached
    run = load(seconds)
    rec.send_signal(signal.SIGINT)
    _, err = rec.communicate(timeout=60)
    if not out.exists():
        raise RuntimeError(f"py-spy failed ({rec.returncode}): {err.decode(errors='replace')[-2000:]}")
    summary = folded_top(out)
    Path(f"{prefix}.top.txt").write_text(summary + "\n")
    print(f"py-spy on gb serve during a webhook run ({run.rate:,.0f} msg/s delivered while sampled): {out}, "
          f"{prefix}.top.txt")
    for part in summary.split("\n\n")[:3]:
        print("    " + "\n    ".join(part.splitlines()[:16]))


def report(api: list[Run], wa: list[Delivery]) -> int:
    """Print the medians and the verdict; the exit code (1 when a run had problems)."""
    ratios = [b.rate / a.rate for a, b in zip(api, wa, strict=True)]
    ratio = statistics.median(ratios)
    a_rate, b_rate = statistics.median(r.rate for r in api), statistics.median(r.rate for r in wa)
    ack = statistics.median(r.ack.rate for r in wa)
    api_cpu = sum(r.server_cpu for r in api) / sum(r.requests for r in api) * 1e3
    wa_cpu = sum(r.ack.server_cpu for r in wa) / sum(r.delivered for r in wa) * 1e3
    api_pg = sum(r.pg_cpu for r in api) / sum(r.requests for r in api) * 1e3
    wa_pg = sum(r.ack.pg_cpu for r in wa) / sum(r.delivered for r in wa) * 1e3
    problems = [p for r in wa for p in r.problems]
    print(f"medians of {len(api)} rounds:")
    print(f"  A  POST /api/chat        {a_rate:7,.0f} msg/s   p99 {statistics.median(r.p99_ms for r in api):.1f} ms   "
          f"CPU ms/msg gb {api_cpu:.2f}, PG {api_pg:.2f}")
    print(f"  B  WhatsApp, delivered   {b_rate:7,.0f} msg/s   lag p50 {median_lag(wa, 0.5):.1f} ms p99 "
          f"{median_lag(wa, 0.99):.1f} ms   CPU ms/msg gb {wa_cpu:.2f}, PG {wa_pg:.2f}   "
          f"(acknowledged {ack:,.0f} req/s)")
    per_round = ", ".join(f"{r:.2f}x" for r in ratios)
    print(f"  throughput B/A {ratio:.2f}x (target >= {1 / TARGET:.2f}x: within {TARGET}x of the API's) -> "
          f"{verdict(ratio, 1 / TARGET, True)}   (per round: {per_round})")
    ok = "every stored message got exactly one reply, to its sender; no non-2xx"
    print(f"  checks: {ok if not problems else 'FAILED: ' + '; '.join(problems)}")
    print(f"summary: whatsapp_ratio={ratio:.2f} api_msgs_per_s={a_rate:.0f} whatsapp_msgs_per_s={b_rate:.0f} "
          f"whatsapp_ack_per_s={ack:.0f} lag_p50_ms={median_lag(wa, 0.5):.1f} lag_p99_ms={median_lag(wa, 0.99):.1f} "
          f"api_cpu_ms={api_cpu:.2f} whatsapp_cpu_ms={wa_cpu:.2f}")
    return 1 if problems else 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="one round of 3 s runs")
    ap.add_argument("--seconds", type=float, default=6.0, help="seconds per run (default 6)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of alternating runs (default 3)")
    ap.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    ap.add_argument("--py-spy", metavar="PREFIX", help="also profile gb serve during a webhook run: PREFIX.folded, ...")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, bodies)")
    ap.add_argument("--graph-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.graph_server:
        graph_server(a.graph_server)
    else:
        sys.exit(asyncio.run(main(a)))
