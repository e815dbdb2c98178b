"""Hostile dialogs against a real ``gb serve`` (tests/helpers/attacks.py): for each attack, the
time until its reply, ``/healthz`` latency while it ran (p99 and max, polled every 10 ms), the
RSS growth of the server and its dialog worker processes, and the slowest bystander request
(another bot's new session + message).

The bots run with the default budget (10 s; the step budget raised to 10^9 so that the
deadline and the 256 MB memory ceiling are what stop them) on the embedded SQLite store and,
with --postgres, on PostgreSQL + Valkey too.

Usage: python bench/hostile.py [--postgres] [--only NAME,...]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project root, for tests/helpers
from tests.helpers.attacks import ATTACKS, attack, wait_for_workers, write_attack_bots
from tests.helpers.servers import Server, gb_environ
from tests.helpers.stores import create_database, drop_database

PG = os.environ.get("GB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("GB_BENCH_REDIS", "redis://127.0.0.1:6379/0")


def run(label: str, env: dict[str, str], root: Path, names: list[str]) -> None:
    print(f"\n{label}")
    print(f"{'attack':10} {'reply s':>8} {'health p99 ms':>14} {'max ms':>7} {'RSS +MB':>8} "
          f"{'bystander ms':>13}  stopped by")
    with Server(env, root / f"{label.split()[0]}.log") as server:
        wait_for_workers(server)
        for name in names:
            m = attack(server, name)
            why = m.error.split("Error: ", 1)[-1][:60] if m.error else "(answered)"
            print(f"{name:10} {m.seconds:8.2f} {m.health_p99 * 1000:14.1f} {m.health_max * 1000:7.1f} "
                  f"{m.peak_rss_mb - m.base_rss_mb:8.0f} {max(m.bystander) * 1000:13.0f}  {why}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--postgres", action="store_true", help="also on PostgreSQL + Valkey")
    ap.add_argument("--only", default="", help="comma-separated attack names")
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n] or list(ATTACKS)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_attack_bots(root / "bots", "max-steps,1000000000")
        run("SQLite (embedded)", gb_environ(root / "bots", root / "data"), root, names)
        if args.postgres:
            name = f"gb_bench_hostile_{uuid.uuid4().hex[:8]}"
            url = create_database(PG, name)
            try:
                run("PostgreSQL + Valkey", gb_environ(root / "bots", root / "data-pg", database_url=url,
                                                      valkey_url=REDIS), root, names)
            finally:
                drop_database(PG, name)


if __name__ == "__main__":
    main()
