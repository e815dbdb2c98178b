"""The notebook and a web chat on one session see each other's turns live, and the widget shows
each message once: a real kernel, a real `gb serve` on the same storage, a real WebSocket."""

from __future__ import annotations

import asyncio
import json
import queue
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.manager import KernelManager

from tests.helpers.bots import copy_example_bots
from tests.helpers.kernels import stop_kernel
from tests.helpers.servers import Server, bearer, gb_environ

from .conftest import run, start_kernel


def widget_of(r: Any) -> str:
    return str(r.displays[0]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"])


def last_messages(comms: list[dict[str, Any]], model_id: str) -> list[dict[str, Any]] | None:
    """The widget's transcript as its last synced state in `comms` says."""
    found = None
    for msg in comms:
        if msg["msg_type"] == "comm_msg" and msg["content"]["comm_id"] == model_id:
            state = msg["content"]["data"].get("state", {})
            if "messages" in state:
                found = state["messages"]
    return found


def test_a_talk_cell_shows_once_in_the_widget(kernel) -> None:
    _, kc = kernel
    run(kc, "%bot default")
    model_id = widget_of(run(kc, "%chat"))
    r = run(kc, 'TALK "only once"')
    assert r.stdout == "only once\n"
    messages = last_messages(r.comms, model_id)
    assert messages is not None and [m["content"] for m in messages].count("only once") == 1
    r = run(kc, "%user hello")
    messages = last_messages(r.comms, model_id)
    assert messages is not None and [m["content"] for m in messages].count("hello") == 1


@pytest.fixture(params=["sqlite", "postgres+valkey"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """One storage for the kernel and the server: the embedded SQLite file (events over the data
    folder's sockets) or PostgreSQL + Valkey (events over pub/sub)."""
    copy_example_bots(tmp_path / "bots")
    (tmp_path / "data").mkdir()
    urls = {"database_url": request.getfixturevalue("pg_database"), "valkey_url": request.getfixturevalue("redis_url")
            } if request.param == "postgres+valkey" else {}
    return gb_environ(tmp_path / "bots", tmp_path / "data", **urls, JPY_SESSION_NAME="live.ipynb")


@pytest.fixture
def lab_kernel(storage: dict[str, str], gb_kernelspec: str, tmp_path: Path
               ) -> Iterator[tuple[KernelManager, BlockingKernelClient]]:
    km, kc = start_kernel(tmp_path, gb_kernelspec, storage)
    yield km, kc
    stop_kernel(km, kc)


@dataclass
class Attached:
    """A web chat (its API client and open WebSocket) and a notebook on one session."""

    http: httpx.AsyncClient
    ws: Any
    session: dict[str, Any]
    kc: BlockingKernelClient

    async def cell(self, code: str) -> Any:
        return await asyncio.to_thread(run, self.kc, code)


@asynccontextmanager
async def attached(storage: dict[str, str], kc: BlockingKernelClient, log: Path) -> AsyncIterator[Attached]:
    """A real `gb serve` on the kernel's storage; a web chat session the notebook attaches to."""
    server = Server(storage, log).start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as c, \
                websockets.connect(server.url.replace("http", "ws") + "/ws", origin=server.url) as ws:
            s = (await c.post("/api/session")).json()
            await ws.send(json.dumps({"type": "hello", "token": s["token"]}))
            assert json.loads(await ws.recv())["type"] == "ready"
            both = Attached(c, ws, s, kc)
            r = await both.cell(f"%session attach {s['session_id']}")
            assert r.status == "ok", r.errors
            yield both
    finally:
        server.stop()


def widget_messages_until(kc: BlockingKernelClient, model_id: str, want: str, timeout: float = 20
                          ) -> list[dict[str, Any]]:
    """Read iopub (outside any cell) until the widget's transcript holds `want`."""
    deadline = time.monotonic() + timeout
    seen: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=0.2)
        except queue.Empty:
            continue
        messages = last_messages([msg], model_id)
        if messages is not None:
            seen = messages
            if any(want in m["content"] for m in messages):
                return messages
    raise AssertionError(f"the widget never showed {want!r}; it showed {[m['content'] for m in seen]}")


async def test_attach_is_live_both_ways(storage: dict[str, str], lab_kernel, tmp_path: Path) -> None:
    async with attached(storage, lab_kernel[1], tmp_path / "server.log") as both:
        # the notebook answers the web chat's HEAR: the open web chat sees it at once
        r = await both.cell("%user Zoe")
        assert "Hi Zoe" in r.stdout
        frame = json.loads(await asyncio.wait_for(both.ws.recv(), 15))
        assert frame["type"] == "reply" and frame["echo"] == "Zoe"
        assert any("Hi Zoe" in m["content"] for m in frame["messages"])
        model_id = widget_of(await both.cell("%chat"))

        # the web chat sends a message: the notebook's widget shows it, and the reply, once
        await both.ws.send(json.dumps({"type": "message", "text": "Sessions"}))
        reply = json.loads(await asyncio.wait_for(both.ws.recv(), 15))
        assert reply["type"] == "reply"
        last = reply["messages"][-1]["content"]
        messages = await asyncio.to_thread(widget_messages_until, both.kc, model_id, last[:20])
        contents = [m["content"] for m in messages]
        assert contents.count("Sessions") == 1 and contents.count(last) == 1
        assert contents.count("Zoe") == 1

        # and the next cell continues from the web chat's turn (no stale copy in the kernel)
        r = await both.cell("%session")
        assert "messages from the user: 2" in r.stdout, r.stdout
        history = (await both.http.get("/api/session/history", headers=bearer(both.session["token"]))).json()
        assert [m["content"] for m in history["messages"]].count("Sessions") == 1


async def test_a_cell_waiting_for_the_widget_stops_when_the_web_chat_answers(storage: dict[str, str], lab_kernel,
                                                                                tmp_path: Path) -> None:
    async with attached(storage, lab_kernel[1], tmp_path / "server.log") as both:
        await both.cell("%chat")
        cell = asyncio.ensure_future(both.cell("%user Zoe"))  # then waits at the menu, for the widget
        frame = json.loads(await asyncio.wait_for(both.ws.recv(), 15))
        assert frame["echo"] == "Zoe"
        await both.ws.send(json.dumps({"type": "message", "text": "Channels"}))
        r = await asyncio.wait_for(cell, 30)
        assert r.status == "ok"
        assert "(answered in another channel of this session" in r.stdout


async def test_a_web_turn_drops_the_notebooks_copy_of_the_session(storage: dict[str, str], lab_kernel,
                                                                     tmp_path: Path) -> None:
    """The next cell runs on the web chat's state, not on the kernel's in-memory copy (no widget
    and no %session in between: nothing else reads the session again)."""
    async with attached(storage, lab_kernel[1], tmp_path / "server.log") as both:
        assert "Hi Zoe" in (await both.cell("%user Zoe")).stdout  # the kernel now holds the session
        await asyncio.wait_for(both.ws.recv(), 15)
        await both.ws.send(json.dumps({"type": "message", "text": "Sessions"}))
        assert json.loads(await asyncio.wait_for(both.ws.recv(), 15))["type"] == "reply"
        await asyncio.sleep(1)  # the turn's event travels to the kernel (pub/sub, or the data folder's sockets)
        r = await both.cell("last_topic")
        assert r.results and r.results[0]["data"]["text/plain"] == '"Sessions"', (r.stdout, r.errors)
        r = await both.cell('TALK "after " + last_topic')
        assert r.stdout == "after Sessions\n" and not r.errors
