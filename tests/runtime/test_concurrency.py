"""Two OS processes send 50 concurrent messages to one session: nothing lost, nothing interleaved."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from gb_sessions.config import Stores
from tests.backends import settings_for
from tests.helpers import ROOT
from tests.helpers.bots import make_bot, runtime_for

COUNTER = '''DO
  x = HEAR
  GET counter
  IF counter IS NULL THEN counter = 0
  SET counter = counter + 1
  TALK "count " + counter
LOOP
'''


async def test_two_processes_fifty_messages_one_session(stores: Stores, tmp_path: Path,
                                                        request: pytest.FixtureRequest) -> None:
    root = tmp_path / "bots"
    make_bot(root, "count", {"start": COUNTER})
    rt = runtime_for(stores, root, tmp_path / "data")
    s = await rt.start("count")
    settings = settings_for(request.node.callspec.params["stores"], request, tmp_path)
    procs = [await asyncio.create_subprocess_exec(  # -m from the project root: it imports tests.helpers
        sys.executable, "-m", "tests.runtime.concurrent_worker", settings.database_url, settings.valkey_url or "",
        str(root), str(tmp_path / "data"), s.token, "25", tag, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, cwd=str(ROOT)) for tag in ("a", "b")]
    outs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), timeout=240)
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err.decode()[-3000:]
    replies = sorted(int(line.split()[1]) for out, _ in outs for line in out.decode().split("\n") if line)
    assert replies == list(range(1, 51))  # each message saw the previous one's update
    history = await stores.store.history(s.session_id)
    assert len(history) == 100
    users, bots = history[0::2], history[1::2]
    assert all(m.role == "user" for m in users) and all(m.role == "assistant" for m in bots)
    assert [m.content for m in bots] == [f"count {i}" for i in range(1, 51)]  # stored in order
    assert sorted(m.content for m in users) == sorted([f"a{i}" for i in range(25)] + [f"b{i}" for i in range(25)])
    session = await stores.store.load(s.session_id, fresh=True)
    assert session.variables["counter"] == 50 and session.message_count == 50
