"""Store benchmarks on PostgreSQL + Valkey, each against a floor measured in the same run.

1. Messages per second through ``DialogRuntime.handle`` (token check, rate limit, lock, load,
   run a dialog, one transaction, write-through) against the floor of design.md: per message
   one Valkey read, one PostgreSQL transaction inserting two message rows and updating one
   state row, one Valkey pipeline. Target >= 0.8x the floor's throughput.
2. Resuming a session absent from the cache against one present in it.

Usage: python bench/store.py [--quick]   (needs PostgreSQL on 127.0.0.1:5432 and Redis on :6379)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert, update

from gb_runtime import DialogRuntime, Inbound
from gb_sessions.cache import cache_keys
from gb_sessions.config import Stores, StoreSettings
from gb_sessions.session import Message, utcnow
from gb_sessions.store import ST, M

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project root, for tests/helpers
from tests.helpers.bots import make_bot, runtime_for
from tests.helpers.stores import create_database, drop_database, opened

PG = os.environ.get("GB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("GB_BENCH_REDIS", "redis://127.0.0.1:6379/0")
ECHO = 'DO\n  x = HEAR\n  SET last = x\n  TALK "echo " + x\nLOOP\n'


async def runtime_rate(rt: DialogRuntime, tokens: list[str], per_client: int) -> float:
    async def client(token: str) -> None:
        for i in range(per_client):
            await rt.handle(Inbound("bench", f"m{i}", token=token))

    t0 = time.perf_counter()
    await asyncio.gather(*(client(t) for t in tokens))
    return len(tokens) * per_client / (time.perf_counter() - t0)


async def floor_rate(stores: Stores, sids: list[uuid.UUID], per_client: int) -> float:
    """The floor handler: one Valkey read, one PG transaction (2 inserts, 1 update), one Valkey pipeline."""
    redis = stores.redis
    assert redis is not None

    async def client(sid: uuid.UUID) -> None:
        keys = cache_keys(sid)
        for i in range(per_client):
            raw = await redis.get(keys["variables"])
            variables = json.loads(raw) if raw else {}
            variables["last"] = f"m{i}"
            now = utcnow()
            async with stores.engine.begin() as conn:
                await conn.execute(insert(M), [
                    {"session_id": sid, "role": "user", "content": f"m{i}", "timestamp": now, "channel": "web"},
                    {"session_id": sid, "role": "assistant", "content": f"echo m{i}", "timestamp": now,
                     "channel": "web"}])
                await conn.execute(update(ST).where(ST.c.session_id == sid).values(variables=variables))
            pipe = redis.pipeline(transaction=True)
            pipe.set(keys["variables"], json.dumps(variables), ex=1800)
            pipe.rpush(keys["messages"], json.dumps(Message("user", f"m{i}", now, "web").to_dict()),
                       json.dumps(Message("assistant", f"echo m{i}", now, "web").to_dict()))
            pipe.ltrim(keys["messages"], -50, -1)
            await pipe.execute()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(s) for s in sids))
    return len(sids) * per_client / (time.perf_counter() - t0)


async def resume_times(rt: DialogRuntime, stores: Stores, tokens: list[str], sids: list[uuid.UUID],
                       cold: bool) -> list[float]:
    assert stores.redis is not None
    times = []
    for token, sid in zip(tokens, sids):
        if cold:
            await stores.redis.delete(*cache_keys(sid).values())
        t0 = time.perf_counter()
        await rt.handle(Inbound("bench", "again", token=token))
        times.append(time.perf_counter() - t0)
    return times


async def bench(stores: Stores, tmp: Path, clients: int, per_client: int, rounds: int) -> None:
    """Both measurements on `stores`, printed."""
    make_bot(tmp / "bots", "bench", {"start": ECHO}, config="rate-limit,100000\n")
    rt = runtime_for(stores, tmp / "bots", tmp)
    started = [await rt.start("bench") for _ in range(clients)]
    tokens = [s.token for s in started if s.token]
    sids = [s.session_id for s in started]
    floor_sids = [(await rt.start("bench")).session_id for _ in range(clients)]
    await runtime_rate(rt, tokens, 5)  # warm up both paths
    await floor_rate(stores, floor_sids, 5)
    rt_rates, floor_rates = [], []
    for _ in range(rounds):  # interleaved, so both see the same machine load
        floor_rates.append(await floor_rate(stores, floor_sids, per_client))
        rt_rates.append(await runtime_rate(rt, tokens, per_client))
    r_rt, r_floor = max(rt_rates), max(floor_rates)
    ratio = r_rt / r_floor
    print(f"messages: {clients} concurrent clients x {per_client} messages, best of {rounds}")
    print(f"  floor (1 Valkey read, 1 PG transaction, 1 Valkey pipeline): {r_floor:,.0f} msg/s")
    print(f"  DialogRuntime.handle on PostgreSQL + Valkey:               {r_rt:,.0f} msg/s")
    print(f"  ratio {ratio:.2f}x the floor (target >= 0.8x) -> {'OK' if ratio >= 0.8 else 'BELOW TARGET'}")
    warm = statistics.median(await resume_times(rt, stores, tokens, sids, cold=False))
    cold = statistics.median(await resume_times(rt, stores, tokens, sids, cold=True))
    print(f"resume: cached {warm * 1e3:.2f} ms, not cached {cold * 1e3:.2f} ms (median of {len(sids)}): "
          f"cold/warm {cold / warm:.2f}x")
    print(f"summary: store_ratio={ratio:.2f} runtime_msgs_per_s={r_rt:.0f} floor_msgs_per_s={r_floor:.0f} "
          f"cold_resume_ratio={cold / warm:.2f}")


async def main(quick: bool) -> None:
    clients, per_client, rounds = (8, 20, 2) if quick else (16, 60, 3)
    name = f"gb_bench_{os.getpid()}"
    url = create_database(PG, name)
    tmp = Path(tempfile.mkdtemp())
    try:
        async with opened(StoreSettings(url, REDIS, tmp)) as stores:
            await bench(stores, tmp, clients, per_client, rounds)
    finally:
        drop_database(PG, name)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    asyncio.run(main(ap.parse_args().quick))
