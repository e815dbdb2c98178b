"""gb serve's dialog workers (gb_runtime/worker.py) do not outlive it: a ``kill -9`` of the server
takes its fork server and the fork server's worker processes with it (gb_runtime/forkserver.py),
where before they stayed, reparented to init, about 80 MB each."""

from __future__ import annotations

import time
from pathlib import Path

from tests.helpers.bots import make_bot
from tests.helpers.servers import Server, gb_environ


def _children() -> dict[int, list[int]]:
    """Parent pid -> the pids of its live (not zombie) children, from /proc."""
    out: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            out.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return out


def _descendants(pid: int) -> set[int]:
    children, found, todo = _children(), set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_a_killed_server_leaves_no_worker_processes(tmp_path: Path) -> None:
    make_bot(tmp_path / "bots", "default")
    server = Server(gb_environ(tmp_path / "bots", tmp_path / "data"), tmp_path / "server.log").start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the server warms its fork server and 2 workers up at start
            family = _descendants(server.pid)
            fork_servers = [p for p in family if "multiprocessing.forkserver" in _cmdline(p)]
            if fork_servers and len(family) >= 3:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"no fork server with workers under gb serve: {[_cmdline(p) for p in family]}")
        server.kill9()
        deadline = time.monotonic() + 10
        while True:
            running = set().union(*_children().values())  # zombies (dead, not reaped yet) excluded
            left = [p for p in family if p in running]
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert not left, f"still running after gb serve was killed: {[_cmdline(p) for p in left]}"
    finally:
        server.stop()
