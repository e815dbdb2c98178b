"""Hostile dialogs against a real ``gb serve``: each attack is a bot's dialog and a user's answer.

``attack(server, name)`` sends the answer while a probe thread polls ``/healthz`` every 10 ms
and samples the server's resident size; it returns how long the reply took, the health
latencies meanwhile, the peak RSS, and whether another bot accepted a session and a message
during it. tests/server/test_hostile_serve.py asserts on it; bench/hostile.py prints it.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from gb_runtime.worker import WORKERS

from .bots import make_bot
from .servers import Server, bearer

__all__ = ["ATTACKS", "Attack", "Measured", "attack", "wait_for_workers", "write_attack_bots"]


@dataclass(frozen=True)
class Attack:
    """A dialog (it asks, then does something with the answer) and the user's answer."""

    dialog: str
    answer: str
    expect: str  # a part of the error that stops it ("" for an attack the dialog survives)


_PATTERN = "0" * 131_072
ATTACKS: dict[str, Attack] = {
    # a ^ b with a user's b: refused before it is computed (the digit cap)
    "power": Attack("HEAR a AS INTEGER\nTALK a ^ 100000000", "3", "number too large"),
    # one FORMAT with a 131,072-character pattern (it took 139.8 s in one call)
    "format": Attack(f'HEAR n\nTALK LEN(FORMAT(1, "{_PATTERN}"))', "go", ""),
    # 40 sorts of a big list per message
    "sort": Attack("HEAR n\nl = RANGE(100000)\nFOR i = 1 TO 1000\n  s = SORT(l)\nNEXT\nTALK \"sorted\"", "go",
                   "longer than"),
    # 31 doublings of a text (3.25 GB for one message before the caps)
    "doubling": Attack('HEAR s\nFOR i = 1 TO 31\n  s = s & s\nNEXT\nTALK LEN(s)', "ab", "text too long"),
    # an endless loop: its budget stops it. HEAR gives the text "1", so `n + 1` appends a "1" each
    # time and each step costs as much as the text is long: on a quiet machine the step budget
    # (max-steps) is spent before the deadline (max-seconds), on a busy one the deadline comes
    # first; either stop says "for one message (an endless loop?)"
    "loop": Attack("HEAR n\nDO\n  n = n + 1\nLOOP", "1", "for one message (an endless loop?)"),
    # 300,000 texts of 4,000 characters, each under every cap: the memory ceiling stops it
    "memory": Attack('HEAR n\ns = "ab"\nFOR i = 1 TO 11\n  s = s & s\nNEXT\ns = MID(s, 1, 4000)\nl = []\nm = []\n'
                     "FOR i = 1 TO 300000\n  IF LEN(l) = 90000 THEN\n    PUSH(m, l)\n    l = []\n  END IF\n"
                     '  PUSH(l, REPLACE(s, "a", i))\nNEXT\nTALK LEN(m)', "go", "too much memory"),
}


def write_attack_bots(bots: Path, config: str = "") -> None:
    """One bot per attack (``attack-<name>``, its start.bas the dialog) and a bystander echo bot."""
    for name, a in ATTACKS.items():
        make_bot(bots, f"attack-{name}", {"start": a.dialog}, config=config or None)
    make_bot(bots, "bystander", {"start": 'DO\n  HEAR x\n  TALK "echo: " & x\nLOOP'}, config="rate-limit,100000")


@dataclass
class Measured:
    """What one attack cost the server."""

    seconds: float  # until its reply
    status: int
    error: str  # what the server logged about the session (the error that stopped it)
    health: list[float] = field(default_factory=list)  # /healthz latencies during it (seconds)
    health_errors: int = 0
    peak_rss_mb: float = 0.0  # the server and its dialog workers together
    base_rss_mb: float = 0.0
    bystander: list[float] = field(default_factory=list)  # another bot's new session and message
    probe_error: str = ""

    @property
    def health_p99(self) -> float:
        return _quantile(self.health, 0.99)

    @property
    def health_max(self) -> float:
        return max(self.health, default=0.0)


def _quantile(xs: list[float], q: float) -> float:
    if len(xs) < 2:
        return xs[0] if xs else 0.0
    return statistics.quantiles(xs, n=100, method="inclusive")[int(q * 100) - 1]


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (the dialog worker processes and their fork server)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            pass
    return out


def _rss_mb(pid: int) -> float:
    """The resident size of `pid` and its descendants, in MB."""
    total = 0
    for p in _tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def wait_for_workers(server: Server, timeout: float = 20) -> None:
    """Until the server's dialog workers run (the fork server and its WORKERS workers: it starts
    them at start), so that the RSS measured before an attack includes them."""
    deadline = time.monotonic() + timeout
    while len(_tree(server.pid)) < 2 + WORKERS:
        assert time.monotonic() < deadline, f"no dialog workers after {timeout} s"
        time.sleep(0.1)


def attack(server: Server, name: str) -> Measured:
    """Run one attack on `server` (which serves write_attack_bots' bots) and measure it."""
    a = ATTACKS[name]
    done = threading.Event()
    m = Measured(0.0, 0, "", base_rss_mb=_rss_mb(server.pid))

    def probe() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            while not done.is_set():
                t = time.monotonic()
                try:
                    ok = c.get("/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                m.health.append(time.monotonic() - t)
                m.health_errors += not ok
                m.peak_rss_mb = max(m.peak_rss_mb, _rss_mb(server.pid))
                time.sleep(0.01)

    def bystander() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            while not m.bystander or not done.is_set():  # at least once
                t = time.monotonic()
                s = c.post("/bystander/api/session", json={})
                r = c.post("/api/chat", json={"message": "hi"}, headers=bearer(s.json()["token"]))
                if r.status_code != 200 or r.json()["messages"][0]["content"] != "echo: hi":
                    m.probe_error = f"bystander: {r.status_code} {r.text}"
                    return
                m.bystander.append(time.monotonic() - t)
                time.sleep(0.2)

    with httpx.Client(base_url=server.url, timeout=120) as client:
        s = client.post(f"/attack-{name}/api/session", json={})
        assert s.status_code == 201, s.text
        headers = bearer(s.json()["token"])
        threads = [threading.Thread(target=probe), threading.Thread(target=bystander)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.2)
            start = time.monotonic()
            r = client.post("/api/chat", json={"message": a.answer}, headers=headers)
            m.seconds = time.monotonic() - start
        finally:
            done.set()
            for t in threads:
                t.join()
        m.status = r.status_code
        sid = s.json()["session_id"]
        m.error = " | ".join(line for line in server.log.read_text(errors="replace").splitlines() if sid in line)
    return m
