"""Files over HTTP on a real server (in this process, over real sockets, on SQLite and PostgreSQL):
the upload endpoint, HEAR AS IMAGE answered by an upload, the stored file's URL, SEND FILE's
reply over REST and Direct Line."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gb_basic.machine import state_variables
from gb_sessions.config import Stores
from tests.helpers.bots import make_bot
from tests.helpers.files import pdf, png
from tests.helpers.servers import bearer
from tests.server.inproc import InProcess, serving

DIALOGS = {
    "start": 'TALK "Send me a photo"\nHEAR photo AS IMAGE\n'
             'TALK "got " + photo.name + " " + photo.type + " " + photo.size\n'
             'SEND FILE photo, "Your photo back"\nHEAR doc AS DOCUMENT\nTALK "thanks for " + doc.name\n',
}
RETRY = "Please send an image, like a photo (JPEG or PNG)."


@pytest.fixture
async def srv(stores: Stores, tmp_path: Path) -> AsyncIterator[InProcess]:
    make_bot(tmp_path / "bots", "media", DIALOGS, config="max-upload-mb,1\n")
    make_bot(tmp_path / "bots", "default", {"start": 'TALK "hello"\n'})
    drive = make_bot(tmp_path / "bots", "drive", {"start": 'TALK "Type guide"\n',
                                                  "guide": 'SEND FILE "guide.pdf", "Your guide"\n'})
    (drive / "drive.gbdrive").mkdir()
    (drive / "drive.gbdrive" / "guide.pdf").write_bytes(pdf())
    async with serving(stores, tmp_path / "bots", tmp_path / "data") as s:
        yield s


def stored_files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "data" / "files"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


async def session(c: httpx.AsyncClient, bot: str = "media") -> dict[str, Any]:
    r = await c.post(f"/{bot}/api/session", json={})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_an_upload_answers_hear_as_image_and_send_file_sends_it_back(srv: InProcess, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=srv.url) as c:
        s = await session(c)
        assert s["waiting"]["type"] == "IMAGE"
        auth = bearer(s["token"])
        # a PDF is not an image: refused with the re-ask, the HEAR still waits
        r = await c.post("/media/api/upload", headers=auth, files={"file": ("photo.png", pdf(), "image/png")})
        assert r.status_code == 200, r.text
        body = r.json()
        assert [m["content"] for m in body["messages"]] == [RETRY] and body["waiting"]["type"] == "IMAGE"
        assert body["file"]["type"] == "application/pdf" and body["received"]["content"] == "[file] photo.png"
        # a PNG named .pdf is an image (by its content)
        r = await c.post("/media/api/upload", headers=auth, files={"file": ("scan.pdf", png(), "application/pdf")})
        assert r.status_code == 200, r.text
        body = r.json()
        file = body["file"]
        assert file["name"] == "scan.pdf" and file["type"] == "image/png" and file["size"] == len(png())
        assert file["url"] == f"/media/files/{file['id']}"
        assert body["received"]["role"] == "user" and body["received"]["file"] == file
        got, back = body["messages"]
        assert got["content"] == f"got scan.pdf image/png {len(png())}" and "file" not in got
        assert back["content"] == "Your photo back" and back["file"] == file and back["id"] > got["id"]
        assert body["waiting"]["type"] == "DOCUMENT"
        # the dialog's variable holds the object (in its saved state, as it waits at the next HEAR)
        stored = await srv.runtime.store.load(uuid.UUID(s["session_id"]))
        assert stored is not None and stored.dialog is not None
        assert state_variables(stored.dialog["state"])["photo"] == file
        # the URL serves the bytes, typed by content, never sniffed by the browser
        r = await c.get(file["url"])
        assert r.status_code == 200 and r.content == png()
        assert r.headers["Content-Type"] == "image/png" and r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Content-Disposition"] == "inline; filename=\"scan.pdf\"; filename*=UTF-8''scan.pdf"
        assert "sandbox" in r.headers["Content-Security-Policy"]
        # a raw body with ?name= (the answer to HEAR doc AS DOCUMENT)
        r = await c.post("/media/api/upload?name=contrato.pdf", headers={**auth, "Content-Type": "application/pdf"},
                         content=pdf())
        assert [m["content"] for m in r.json()["messages"]] == ["thanks for contrato.pdf"], r.text
        r = await c.get(r.json()["file"]["url"])
        assert r.headers["Content-Type"] == "application/pdf" and r.content == pdf()
        # the history records the uploads as the user's messages
        r = await c.get("/media/api/session/history", headers=auth)
        user = [m["content"] for m in r.json()["messages"] if m["role"] == "user"]
        assert user == ["[file] photo.png", "[file] scan.pdf", "[file] contrato.pdf"]
    assert len(stored_files(tmp_path)) == 6  # three files, each with its sidecar


async def test_a_file_no_hear_asked_for_is_stored_and_recorded(srv: InProcess, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=srv.url) as c:
        s = await session(c, "default")
        assert s["waiting"] is None
        r = await c.post("/api/upload", headers=bearer(s["token"]),
                         files={"file": ("data.csv", b"a,b\n1,2\n", "application/octet-stream")})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["messages"] == [] and body["file"]["type"] == "text/csv"
        assert body["file"]["url"].startswith("/default/files/")
        r = await c.get("/files/" + body["file"]["id"])  # the default bot's files, unprefixed
        assert r.content == b"a,b\n1,2\n" and r.headers["Content-Type"] == "text/csv"
        assert r.headers["Content-Disposition"].startswith("attachment;")
        r = await c.get("/api/session/history", headers=bearer(s["token"]))
        assert r.json()["messages"][-1] == {**r.json()["messages"][-1], "role": "user", "content": "[file] data.csv"}


async def test_upload_refusals(srv: InProcess, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=srv.url) as c:
        s = await session(c)
        other = await session(c, "default")
        auth = bearer(s["token"])
        one = {"file": ("a.png", png(), "image/png")}
        r = await c.post("/media/api/upload", files=one)
        assert r.status_code == 401 and r.json()["error"]["code"] == "missing_token"
        r = await c.post("/media/api/upload", headers=bearer("not-a-token"), files=one)
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
        r = await c.post("/media/api/upload", headers=bearer(other["token"]), files=one)
        assert r.status_code == 401 and r.json()["error"]["code"] == "wrong_bot"
        # over max-upload-mb (1 MB here): declared, then chunked (no Content-Length)
        big = b"x" * (1024 * 1024 + 70 * 1024)
        r = await c.post("/media/api/upload", headers=auth, files={"file": ("big.txt", big, "text/plain")})
        assert r.status_code == 413, r.text
        assert r.json()["error"] == {"code": "upload_too_large",
                                     "message": "the file is larger than the bot's max-upload-mb of 1 MB"}

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(20):
                yield b"y" * (64 * 1024)

        r = await c.post("/media/api/upload?name=big.txt", headers=auth, content=chunks())
        assert r.status_code == 413 and r.json()["error"]["code"] == "upload_too_large", r.text
        # within the body's cap (the form's slack) but over the file's limit: refused by the store
        r = await c.post("/media/api/upload?name=edge.txt", headers=auth, content=b"z" * (1024 * 1024 + 10))
        assert r.status_code == 413 and r.json()["error"]["code"] == "upload_too_large"
        r = await c.post("/media/api/upload", headers=auth, files={"other": ("a.png", png(), "image/png")})
        assert r.status_code == 400 and "field \"file\"" in r.json()["error"]["message"]
        malformed = b'--b\r\nContent-Disposition: form-data; name="\x89\tA"\r\n\r\n{}\r\n--b--\r\n'
        r = await c.post("/media/api/upload", headers={**auth, "Content-Type": "multipart/form-data; boundary=b"},
                         content=malformed)
        assert r.status_code == 400 and "malformed" in r.json()["error"]["message"]
        r = await c.post("/media/api/upload?name=a.txt", headers=auth, content=b"")
        assert r.status_code == 400 and r.json()["error"]["message"] == "the file is empty"
        for url in ("/media/files/AAAAAAAAAAAAAAAAAAAAAA", "/media/files/short", "/nobot/files/AAAAAAAAAAAAAAAAAAAAAA"):
            r = await c.get(url)
            assert r.status_code == 404 and r.json()["error"]["code"] in ("unknown_file", "unknown_bot")
    assert stored_files(tmp_path) == []  # nothing refused was stored


async def test_a_huge_declared_body_is_refused_before_it_is_read(srv: InProcess) -> None:
    async with httpx.AsyncClient(base_url=srv.url) as c:
        s = await session(c)
    host, port = srv.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write((f"POST /media/api/upload?name=huge.bin HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {s['token']}"
                  "\r\nContent-Type: application/octet-stream\r\nContent-Length: 10000000000\r\n\r\n").encode()
                 + b"x" * 1024)
    await writer.drain()
    head = await asyncio.wait_for(reader.read(4096), 10)  # long before 10 GB could arrive
    writer.close()
    assert head.startswith(b"HTTP/1.1 413") and b"upload_too_large" in head and b"Connection: close" in head


async def test_send_file_over_rest_and_direct_line(srv: InProcess) -> None:
    async with httpx.AsyncClient(base_url=srv.url) as c:
        # REST: the reply's "file"
        s = await session(c, "drive")
        r = await c.post("/drive/api/chat", headers=bearer(s["token"]), json={"message": "guide"})
        [reply] = r.json()["messages"]
        assert reply["content"] == "Your guide" and set(reply["file"]) == {"id", "name", "type", "size", "url"}
        assert reply["file"]["name"] == "guide.pdf" and reply["file"]["type"] == "application/pdf"
        assert reply["file"]["size"] == len(pdf()) and reply["file"]["url"] == f"/drive/files/{reply['file']['id']}"
        # Direct Line: an attachment {contentType, contentUrl, name}, the caption as its text
        dl = (await c.post("/drive/v3/directline/tokens/generate", json={})).json()
        auth = bearer(dl["token"])
        base = f"/drive/v3/directline/conversations/{dl['conversationId']}/activities"
        r = await c.post(base, headers=auth, json={"type": "message", "from": {"id": "ann"}, "text": "guide"})
        assert r.status_code == 200, r.text
        acts = (await c.get(base, headers=auth)).json()["activities"]
        sent = [a for a in acts if a.get("attachments")]
        assert len(sent) == 1 and sent[0]["text"] == "Your guide" and sent[0]["from"]["role"] == "bot"
        [attachment] = sent[0]["attachments"]
        assert attachment["contentType"] == "application/pdf" and attachment["name"] == "guide.pdf"
        assert attachment["contentUrl"].startswith(f"{srv.url}/drive/files/")
        r = await c.get(attachment["contentUrl"])
        assert r.content == pdf() and r.headers["Content-Disposition"].startswith("inline;")
        assert "Content-Security-Policy" not in r.headers  # a browser's PDF viewer does not run sandboxed
