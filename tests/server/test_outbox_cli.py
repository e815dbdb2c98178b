"""``gb outbox``: a dead letter listed with the platform's answer, replayed by ``retry``, then
delivered by the running server (the CLI is a real subprocess on the server's SQLite file)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backends import open_backend
from tests.helpers.bots import make_bot
from tests.helpers.platforms import Call, meta_signature, platform
from tests.server.inproc import serving


def gb(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GB_DATABASE_URL", "GB_VALKEY_URL")}
    return subprocess.run([sys.executable, "-m", "gb_basic.cli", "outbox", *args],
                          env={**env, "GB_DATA_DIR": str(data)}, capture_output=True, text=True, timeout=60)


async def test_a_dead_letter_is_listed_with_its_error_and_retry_delivers_it(tmp_path: Path,
                                                                           request: pytest.FixtureRequest) -> None:
    refuse = {"on": True}

    def graph(call: Call) -> tuple[int, Any]:
        if refuse["on"]:
            return 400, {"error": {"message": "(#100) Invalid parameter", "code": 100}}
        return 200, {"messages": [{"id": "wamid.OK"}]}

    data = tmp_path / "data"
    async with open_backend("sqlite", request, data) as stores, platform(graph) as api:
        make_bot(tmp_path / "bots", "default", {"start": 'TALK "Hello there"\n'},
                 config=f"whatsapp-app-secret,s\nwhatsapp-token,t\nwhatsapp-phone-number-id,9\nwhatsapp-api-url,{api.url}\n")
        async with serving(stores, tmp_path / "bots", data) as server:
            sender = "5541" + str(uuid.uuid4().int)[:9]
            body = json.dumps({"object": "whatsapp_business_account", "entry": [{"changes": [{
                "field": "messages", "value": {"messages": [
                    {"from": sender, "id": "wamid.in1", "type": "text", "text": {"body": "oi"}}]}}]}]}).encode()
            async with httpx.AsyncClient() as client:
                r = await client.post(server.url + "/whatsapp", content=body,
                                      headers={"X-Hub-Signature-256": meta_signature("s", body)})
            assert r.status_code == 200
            queue = server.runtime.channels
            assert queue is not None
            for _ in range(200):
                rows = await queue.outbox(status="dead")
                if rows:
                    break
                await asyncio.sleep(0.05)
            (dead,) = rows
            listed = await asyncio.to_thread(gb, data, "list", "--status", "dead")
            assert listed.returncode == 0, listed.stderr
            line = next(x for x in listed.stdout.splitlines() if x.startswith(str(dead.id) + " "))
            assert "whatsapp" in line and sender in line and "dead" in line and "Hello there" in line
            assert "error: WhatsApp answered 400" in listed.stdout and "Invalid parameter" in listed.stdout
            refuse["on"] = False
            retried = await asyncio.to_thread(gb, data, "retry", str(dead.id))
            assert retried.returncode == 0 and "pending again" in retried.stdout
            for _ in range(200):
                (row,) = await queue.outbox(session_id=dead.session_id)
                if row.status == "sent":
                    break
                await asyncio.sleep(0.05)
            assert row.status == "sent" and row.platform_id == "wamid.OK"
            missing = await asyncio.to_thread(gb, data, "retry", "999999")
            assert missing.returncode != 0 and "no outbound message 999999" in missing.stderr
