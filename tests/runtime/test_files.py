"""The bots' file storage (gb_runtime/files.py) on a real data folder, and SEND FILE through the
runtime on a real store: types by content, the limit, unguessable ids, the bot folder's bounds."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from gb_runtime import BotRegistry, FileStore, Inbound, UnknownFile, UnsupportedFile, UploadTooLarge
from gb_runtime.files import safe_name, sniff
from gb_sessions.config import Stores
from tests.helpers.bots import make_bot, runtime_for, texts
from tests.helpers.files import docx, pdf, png, wav


@pytest.fixture
def files(tmp_path: Path) -> FileStore:
    make_bot(tmp_path / "bots", "media", config="max-upload-mb,1\n")
    return FileStore(BotRegistry(tmp_path / "bots", tmp_path / "data"))


@pytest.mark.parametrize(("data", "name", "declared", "mime"), [
    (png(), "scan.pdf", "application/pdf", "image/png"),  # by content, never by name or declared type
    (pdf(), "photo.png", "image/png", "application/pdf"),
    (wav(), "x", None, "audio/x-wav"),
    (docx(), "contract.docx", None, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"a,b\n1,2\n", "data.csv", None, "text/csv"),
    (b"a,b\n1,2\n", "data", "text/csv", "text/csv"),
    (b'{"a": [1, 2]}', "data.txt", None, "application/json"),
    (b"hello\n", "notes.md", None, "text/plain"),
    (b"<html><script>alert(1)</script>", "page.html", "text/html", "text/plain"),  # never served as HTML
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "a.svg", "image/svg+xml", "text/plain"),
    (b"\xff\xfe\x00\x01binary", "blob", None, "application/octet-stream"),
])
def test_the_type_is_sniffed_from_the_content(data: bytes, name: str, declared: str | None, mime: str) -> None:
    assert sniff(data, name, declared) == mime


@pytest.mark.parametrize(("name", "kept"), [
    ("report.pdf", "report.pdf"), ("../../etc/passwd", "passwd"), ("C:\\docs\\a b.txt", "a b.txt"),
    ('bad"<name>|.txt', "bad_name_.txt"), ("", "file.png"), (None, "file.png"),
    ("x" * 300 + ".png", "x" * 196 + ".png"),
])
def test_names_are_kept_without_folders_or_odd_characters(name: str | None, kept: str) -> None:
    assert safe_name(name, "image/png") == kept


async def test_save_then_open(files: FileStore, tmp_path: Path) -> None:
    saved = await files.save("media", png(), "scan.pdf", "application/pdf")
    assert set(saved) == {"id", "name", "type", "size", "url"}
    assert saved["name"] == "scan.pdf" and saved["type"] == "image/png" and saved["size"] == len(png())
    assert saved["url"] == f"/media/files/{saved['id']}" and len(saved["id"]) == 22  # 128 random bits
    stored = await files.open("media", saved["id"])
    assert stored.info == saved and stored.read() == png()
    sidecar = json.loads((tmp_path / "data" / "files" / "media" / f"{saved['id']}.json").read_text())
    assert sidecar["type"] == "image/png" and sidecar["created"]
    other = await files.save("media", png(), "scan.pdf")
    assert other["id"] != saved["id"]


async def test_over_the_limit_or_of_another_kind_nothing_is_stored(files: FileStore, tmp_path: Path) -> None:
    with pytest.raises(UploadTooLarge, match="max-upload-mb of 1 MB"):
        await files.save("media", b"x" * (1024 * 1024 + 1), "big.txt")
    with pytest.raises(UnsupportedFile, match="application/pdf, not image"):
        await files.save("media", pdf(), "photo.png", kind="IMAGE")
    assert not (tmp_path / "data" / "files" / "media").exists() or not any((tmp_path / "data" / "files").rglob("*"))
    assert (await files.save("media", b"x" * (1024 * 1024), "exactly.txt"))["size"] == 1024 * 1024


@pytest.mark.parametrize("file_id", ["", "short", "../../bots/media", "A" * 22 + "/x", "AAAAAAAAAAAAAAAAAAAAAA"])
async def test_open_refuses_what_is_not_a_stored_file(files: FileStore, file_id: str) -> None:
    with pytest.raises(UnknownFile):
        await files.open("media", file_id)


async def test_a_file_of_one_bot_is_not_another_bots(files: FileStore, tmp_path: Path) -> None:
    make_bot(tmp_path / "bots", "other")
    saved = await files.save("media", png(), "a.png")
    with pytest.raises(UnknownFile):
        await files.open("other", saved["id"])
    with pytest.raises(UnknownFile):
        await files.open("../media", saved["id"])


SEND = {
    "start": 'TALK "hi"\n',
    "drive": 'SEND FILE "guide.pdf", "Your guide"\n',
    "stored": 'SAVE "notes.txt", "remember"\nSEND FILE "notes.txt"\n',
    "package": 'SEND FILE "media.gbai/media.gbkb/faq.md"\n',
    "link": 'SEND FILE "https://example.com/files/photo%201.png?x=1", "A link"\n',
    "echo": 'HEAR f AS FILE\nSEND FILE f, "back: " + f.name\n',
    "secrets": 'SEND FILE "media.gbot/config.csv"\n',
    "escape": 'SEND FILE "../../outside.txt"\n',
    "absolute": 'SEND FILE "/etc/passwd"\n',
    "missing": 'SEND FILE "nothing.pdf"\n',
    "forged": 'f = {"id": "AAAAAAAAAAAAAAAAAAAAAA", "name": "x"}\nSEND FILE f\n',
}


@pytest.fixture
def bot_runtime(sqlite_stores: Stores, tmp_path: Path):  # type: ignore[no-untyped-def]
    pkg = make_bot(tmp_path / "bots", "media", SEND, kb={"faq.md": "# FAQ\n"}, config="public-dialogs,x\n")
    (pkg / "media.gbdrive").mkdir()
    (pkg / "media.gbdrive" / "guide.pdf").write_bytes(pdf())
    (tmp_path / "outside.txt").write_text("not the bot's")
    return runtime_for(sqlite_stores, tmp_path / "bots", tmp_path / "data")


async def _send(runtime, text: str, attachment=None):  # type: ignore[no-untyped-def]
    started = await runtime.start("media", channel="test", address=uuid.uuid4().hex)
    return await runtime.handle(Inbound("media", text, channel="test", token=started.token, attachment=attachment))


@pytest.mark.parametrize(("dialog", "content", "name", "mime"), [
    ("drive", "Your guide", "guide.pdf", "application/pdf"),
    ("stored", "notes.txt", "notes.txt", "text/plain"),
    ("package", "faq.md", "faq.md", "text/plain"),
])
async def test_send_file_of_the_bots_folder(bot_runtime, dialog: str, content: str, name: str, mime: str) -> None:  # type: ignore[no-untyped-def]
    result = await _send(bot_runtime, dialog)
    [reply] = result.replies
    assert reply.content == content and reply.message is not None and reply.message.content == content
    file = reply.to_dict()["file"]
    assert file["name"] == name and file["type"] == mime and file["url"] == f"/media/files/{file['id']}"
    assert (await bot_runtime.files.open("media", file["id"])).info == file


async def test_send_file_of_a_url_is_a_link(bot_runtime) -> None:  # type: ignore[no-untyped-def]
    [reply] = (await _send(bot_runtime, "link")).replies
    assert reply.to_dict()["file"] == {"id": None, "name": "photo 1.png", "type": "image/png", "size": None,
                                       "url": "https://example.com/files/photo%201.png?x=1"}
    assert reply.content == "A link"


async def test_send_file_of_a_file_the_user_sent(bot_runtime) -> None:  # type: ignore[no-untyped-def]
    saved = await bot_runtime.files.save("media", png(), "me.png")
    started = await bot_runtime.start("media", channel="test", address="ann")
    await bot_runtime.handle(Inbound("media", "echo", channel="test", token=started.token))
    changed = dict(saved, type="text/plain")  # a type the dialog changed is not believed: the stored one is sent
    result = await bot_runtime.handle(Inbound("media", "[file] me.png", channel="test", token=started.token,
                                              attachment=changed))
    assert [(r.content, r.file) for r in result.replies] == [("back: me.png", saved)]


@pytest.mark.parametrize(("dialog", "error"), [
    ("secrets", "the bot's settings folder media.gbot is not sent"),
    ("escape", "the path leaves the bot's folder"),
    ("absolute", "an absolute path is not allowed"),
    ("missing", "no such file in the bot's media.gbdrive, its storage or its media.gbai folder"),
    ("forged", "the object is not a stored file of this bot"),
])
async def test_send_file_refuses_what_is_not_the_bots(bot_runtime, dialog: str, error: str) -> None:  # type: ignore[no-untyped-def]
    result = await _send(bot_runtime, dialog)
    assert result.error is not None and error in str(result.error)
    assert texts(result) == ["Sorry, something went wrong in this conversation."]
    assert all(r.file is None for r in result.replies)
