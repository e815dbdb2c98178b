"""The session inspector's API (gb_kernel/inspector.py), served by a real JupyterLab (the kernel
tests' shared one) from the storage a web chat session lives in: it lists the session and what
it waits for, shows a web answer in its next read, sends a message, ends the session, and
refuses bad requests with a clear error."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx

from gb_runtime import Inbound, StoreSettings
from gb_runtime.setup import open_services
from tests.browser import Lab


def test_the_inspector_lists_reads_writes_and_ends_sessions(lab: Lab) -> None:
    root = lab.notebooks.parent
    asyncio.run(_scenario(lab, StoreSettings.from_env({}, data_dir=root / "data"), root))


async def _scenario(lab: Lab, settings: StoreSettings, root: Path) -> None:
    services = await open_services(settings, root / "bots", run_schedules=False, run_timers=False)
    runtime = services.runtime
    try:
        web = await runtime.start("default")  # a web chat's session, as gb serve starts one
        sid = str(web.session_id)
        auth = {"Authorization": f"token {lab.token}"}
        async with httpx.AsyncClient(base_url=f"{lab.base}/gb/api/", headers=auth, timeout=30) as http:
            listed = (await http.get("sessions", params={"bot": "default"})).json()
            assert "default" in listed["bots"]
            row = next(r for r in listed["sessions"] if r["session_id"] == sid)
            assert (row["bot"], row["channel"], row["status"]) == ("default", "web", "active")
            assert row["waiting"]["variable"] == "name" and row["waiting"]["type"] == "NAME"

            await runtime.handle(Inbound("default", "Ann", token=web.token))  # the web user answers
            one = (await http.get(f"sessions/{sid}")).json()
            assert one["variables"]["user_name"] == "Ann"
            assert one["waiting"]["variable"] == "topic" and one["waiting"]["choices"][:2] == ["Sessions", "Channels"]
            assert [m["content"] for m in one["history"]][-2:] == ["Ann", "Hi Ann, what would you like to know about?"]

            sent = await http.post(f"sessions/{sid}/messages", json={"text": "Channels"})
            assert sent.status_code == 200, sent.text
            assert [m["content"] for m in sent.json()["messages"]] == [
                "The same dialog runs on the web, WhatsApp, Teams, email and voice."]
            assert (await runtime.variables(web.session_id))["last_topic"] == "Channels"  # stored, for everyone

            assert (await http.delete(f"sessions/{sid}")).status_code == 204
            assert (await runtime.summary(web.session_id)).status == "ended"
            again = await http.post(f"sessions/{sid}/messages", json={"text": "hello"})
            assert again.status_code == 409 and "has ended" in again.json()["message"]

            for method, path, body, status, said in [
                ("GET", "sessions", {"limit": "lots"}, 400, "limit must be a whole number"),
                ("GET", "sessions", {"limit": "0"}, 400, "limit must be between 1 and 200"),
                ("GET", "sessions", {"bot": "nobot"}, 404, "no bot 'nobot'"),
                ("GET", f"sessions/{uuid.uuid4()}", None, 404, "no session"),
                ("GET", "sessions/not-an-id", None, 404, "no session 'not-an-id'"),
                ("DELETE", f"sessions/{uuid.uuid4()}", None, 404, "no session"),
            ]:
                answer = await http.request(method, path, params=body)
                assert answer.status_code == status and said in answer.json()["message"], (path, answer.text)
            fresh = await runtime.start("default")
            for content in (b"{not json", b'{"text": "   "}', b'["text"]'):
                bad = await http.post(f"sessions/{fresh.session_id}/messages", content=content)
                assert bad.status_code == 400 and "expected" in bad.json()["message"], bad.text
        async with httpx.AsyncClient(base_url=f"{lab.base}/gb/api/", timeout=30) as anonymous:
            assert (await anonymous.get("sessions")).status_code == 403  # Jupyter's authentication guards it
    finally:
        await services.close()
