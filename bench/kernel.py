"""Kernel benchmark: the round trip of a cell on the gb kernel against ipykernel's Python kernel.

A round trip is the time from sending the execute_request until both the execute_reply (shell)
and the idle status (iopub) of that request are in. Measured: ``TALK "x"`` on gb against
``print("x")`` on Python, interleaved in rounds (the order of the two kernels alternates), then
a breakdown of gb cells (an empty cell, a magic, an expression, an assignment) to show where the
time goes. The gb kernel runs on a temporary copy of bots/ and a temporary data folder.

Prints ratios measured in one run (the machines are shared and noisy); see bench/README.md.
Usage: python bench/kernel.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project root, for tests/helpers
from tests.helpers.bots import copy_example_bots
from tests.helpers.kernels import start_kernel, stop_kernel
from tests.helpers.servers import gb_environ

TARGET = 1.2


def ensure_kernelspecs() -> None:
    """The gb kernelspec (this venv's) and ipykernel's python3 one, installed when missing."""
    specs = KernelSpecManager().find_kernel_specs()
    if "gb" not in specs:
        from gb_kernel.kernelspec import install

        install()
    if "python3" not in specs:
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix"], check=True,
                       stdout=subprocess.DEVNULL)


class Timer:
    """Round trips on one kernel, reading its shell and iopub sockets directly (no event loop)."""

    def __init__(self, kc: BlockingKernelClient) -> None:
        self.kc = kc
        self.shell, self.iopub = kc.shell_channel, kc.iopub_channel
        self.poller = zmq.Poller()
        self.poller.register(self.shell.socket, zmq.POLLIN)
        self.poller.register(self.iopub.socket, zmq.POLLIN)

    def drain(self) -> None:
        for channel in (self.shell, self.iopub):
            while channel.socket.poll(0):
                channel._recv()

    def run(self, code: str, timeout: float = 30) -> tuple[float, dict[str, Any], str]:
        """One cell: (seconds, execute_reply content, stdout of the cell)."""
        t0 = time.perf_counter()
        msg_id = self.kc.execute(code, store_history=True, allow_stdin=False)
        reply: dict[str, Any] | None = None
        idle = False
        stdout = ""
        while reply is None or not idle:
            if not self.poller.poll(timeout * 1000):
                raise TimeoutError(f"no reply to {code!r} within {timeout} s")
            while self.shell.socket.poll(0):
                msg = self.shell._recv()
                if msg["parent_header"].get("msg_id") == msg_id:
                    reply = msg["content"]
            while self.iopub.socket.poll(0):
                msg = self.iopub._recv()
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    idle = True
                elif msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
                    stdout += msg["content"]["text"]
        elapsed = time.perf_counter() - t0
        return elapsed, reply, stdout

    def check(self, code: str, stdout: str | None = None) -> None:
        _, reply, out = self.run(code)
        assert reply["status"] == "ok", f"{code!r} failed: {reply}"
        assert stdout is None or out == stdout, f"{code!r} printed {out!r}, expected {stdout!r}"

    def times(self, code: str, n: int) -> list[float]:
        return [self.run(code)[0] for _ in range(n)]


def ms(xs: list[float], q: float = 0.5) -> float:
    """The median (q=0.5) or the 90th percentile (q=0.9) of `xs`, in milliseconds."""
    if q == 0.5:
        return statistics.median(xs) * 1e3
    return statistics.quantiles(xs, n=10)[round(q * 10) - 1] * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    args = ap.parse_args()
    rounds, per_round, warmup, breakdown_n = (4, 20, 20, 30) if args.quick else (10, 50, 50, 100)
    ensure_kernelspecs()

    with tempfile.TemporaryDirectory(prefix="gb-bench-kernel-") as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        (root / "ipython").mkdir()
        gb_env = gb_environ(copy_example_bots(root / "bots"), root / "data", JPY_SESSION_NAME="bench.ipynb")
        py_env = dict(os.environ, IPYTHONDIR=str(root / "ipython"))  # its own history database

        kernels: list[tuple[KernelManager, BlockingKernelClient]] = []
        try:
            t0 = time.perf_counter()
            kernels.append(start_kernel("gb", gb_env, root))
            t_gb_start = time.perf_counter() - t0
            t0 = time.perf_counter()
            kernels.append(start_kernel("python3", py_env, root))
            t_py_start = time.perf_counter() - t0
            gb, py = Timer(kernels[0][1]), Timer(kernels[1][1])
            gb.drain()
            py.drain()
            gb.check('TALK "x"', "x\n")
            py.check('print("x")', "x\n")
            for _ in range(warmup):
                gb.run('TALK "x"')
                py.run('print("x")')

            t_gb: list[float] = []
            t_py: list[float] = []
            for i in range(rounds):
                if i % 2 == 0:
                    t_gb += gb.times('TALK "x"', per_round)
                    t_py += py.times('print("x")', per_round)
                else:
                    t_py += py.times('print("x")', per_round)
                    t_gb += gb.times('TALK "x"', per_round)

            # Where the time goes: gb cells that do less and less, each against Python's `pass`.
            gb.check("y = 1")
            cells = [("gb", gb, ""), ("gb", gb, "%session"), ("gb", gb, "1 + 2"), ("gb", gb, "y = 1"),
                     ("gb", gb, 'TALK "x"'), ("python", py, "pass"), ("python", py, 'print("x")')]
            breakdown: list[tuple[str, str, list[float]]] = []
            for kernel, timer, code in cells:
                timer.run(code)
                breakdown.append((kernel, code, timer.times(code, breakdown_n)))
        finally:
            for km, kc in kernels:
                stop_kernel(km, kc)

    n = rounds * per_round
    gb_med, py_med = ms(t_gb), ms(t_py)
    ratio = gb_med / py_med
    print(f"kernel start: gb {t_gb_start:.2f} s, python {t_py_start:.2f} s")
    print(f"round trip (execute_request -> execute_reply + idle), {rounds} rounds x {per_round} per kernel, "
          f"interleaved ({n} each):")
    print(f"  python  print(\"x\"): median {py_med:.2f} ms, p90 {ms(t_py, 0.9):.2f} ms")
    print(f"  gb      TALK \"x\":   median {gb_med:.2f} ms, p90 {ms(t_gb, 0.9):.2f} ms")
    print(f"  ratio gb/python {ratio:.2f}x (target within {TARGET}x) -> {'OK' if ratio <= TARGET else 'ABOVE TARGET'}")
    print(f"where the time goes (median of {breakdown_n} each, after the rounds):")
    for kernel, code, xs in breakdown:
        label = repr(code) if code else "(empty cell)"
        print(f"  {kernel:<6} {label:<14} {ms(xs):6.2f} ms  (p90 {ms(xs, 0.9):.2f})")
    print(f"summary: kernel_ratio={ratio:.2f} gb_median_ms={gb_med:.2f} python_median_ms={py_med:.2f} "
          f"(medians of {n} interleaved round trips)")


if __name__ == "__main__":
    main()
