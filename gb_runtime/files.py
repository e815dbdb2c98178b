"""The bots' file storage: what a user sends (``HEAR x AS FILE|IMAGE|AUDIO|DOCUMENT``: the web
chat's upload, a WhatsApp media id or a Telegram file id the channel downloads) and what a
dialog sends (``SEND FILE``).

A file is kept under the data directory as ``<data_dir>/files/<bot>/<id>`` with a JSON sidecar
``<id>.json`` holding its object ``{id, name, type, size, url, created}``. The sidecar, not a SQL
row: the bytes and what describes them live and go together on one disk (no row without its file
after a crash, no migration, the same on SQLite and PostgreSQL), and serving a file reads one small
file instead of holding a database connection. Both are written to a temporary name first and
renamed into place (atomic on POSIX), the sidecar last: a file is visible only once complete.

`id` is 128 random bits (``secrets.token_urlsafe(16)``: 22 characters ``[A-Za-z0-9_-]``), so
the file's URL ``/<bot>/files/<id>`` is unguessable: it is the capability to read the file
(channels such as Twilio fetch media by URL, without credentials).

`type` is the MIME type sniffed from the CONTENT (the `filetype` package's magic numbers), never
from the name or the client's declared type: a PNG named ``invoice.pdf`` is ``image/png``. What
has no magic number is looked at as text: UTF-8 that parses as JSON is ``application/json``,
UTF-8 named ``.csv`` (or declared ``text/csv``) is ``text/csv``, other UTF-8 text is
``text/plain``, and anything else ``application/octet-stream``. HTML and SVG are never given
their own types (they would run scripts where served): they are ``text/plain``.

The variable's object (and the ``file`` of a reply, ``Reply.to_dict()["file"]``):
``{"id": str, "name": str, "type": str, "size": int, "url": "/<bot>/files/<id>"}``; the url is
path-absolute, a front joins it to its public address (GB_PUBLIC_URL).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filetype

from gb_basic.validators import file_fits

from .bots import BotRegistry
from .errors import UnknownFile, UnsupportedFile, UploadTooLarge

__all__ = ["FileStore", "StoredFile", "sniff", "safe_name", "MAX_NAME"]

MB = 1024 * 1024
MAX_NAME = 200  # characters of a file's name as kept (a longer one is cut, its extension kept)
SNIFF_BYTES = 8192  # bytes of the head that the magic numbers are looked for in
_ID = re.compile(r"[A-Za-z0-9_-]{22}")
_BOT = re.compile(r"[A-Za-z0-9_-]+")
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


@dataclass(frozen=True)
class StoredFile:
    """A stored file: its object (``{id, name, type, size, url}``) and where its bytes are."""

    info: dict[str, Any]
    path: Path

    def read(self) -> bytes:
        return self.path.read_bytes()


def sniff(data: bytes, name: str | None = None, declared: str | None = None) -> str:
    """The MIME type of `data` by its content (see the module's docstring for text)."""
    kind = filetype.guess(data[:SNIFF_BYTES])
    if kind is not None:
        return str(kind.mime)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    if any(c in text for c in "\x00"):
        return "application/octet-stream"
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] in ("{", "["):
        try:
            json.loads(stripped)
            return "application/json"
        except ValueError:
            pass
    hint = (declared or "").split(";")[0].strip().lower()
    if (name or "").lower().endswith(".csv") or hint == "text/csv":
        return "text/csv"
    return "text/plain"


def safe_name(name: str | None, mime: str) -> str:
    """A file name to keep and show: no folders, no control or reserved characters, at most
    MAX_NAME characters; empty: ``file`` with the type's extension."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = _UNSAFE_NAME.sub("_", base).strip(" .")
    if not base:
        ext = filetype.get_type(mime=mime)
        base = f"file.{ext.extension}" if ext is not None else "file"
    if len(base) > MAX_NAME:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: MAX_NAME - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else base[:MAX_NAME]
    return base


class FileStore:
    """The bots' stored files, under ``<data_dir>/files/<bot>/``.

    Args:
        bots: the bot packages (their data directory, and each bot's ``max-upload-mb``).
    """

    def __init__(self, bots: BotRegistry) -> None:
        self.bots = bots
        self.root = Path(bots.data_dir) / "files"

    def max_bytes(self, bot: str) -> int:
        """The largest file `bot` takes: its ``max-upload-mb`` (config.csv), in bytes."""
        return self.bots.get(bot).settings.max_upload_mb * MB

    def url(self, bot: str, file_id: str) -> str:
        return f"/{bot}/files/{file_id}"

    async def save(self, bot: str, data: bytes, name: str | None = None, declared_type: str | None = None, *,
                   kind: str | None = None) -> dict[str, Any]:
        """Store `data` as a file of `bot`; its object ``{id, name, type, size, url}``.

        Called by the server's upload endpoint, by the channels with what they downloaded, and by
        SEND FILE for a file of the bot's folder.

        Args:
            name: the name the sender gave (kept for showing; folders and odd characters dropped).
            declared_type: the sender's Content-Type: a hint for text only (CSV), never trusted.
            kind: FILE, IMAGE, AUDIO or DOCUMENT: refuse a file of another kind (by content).

        Raises:
            UnknownBot: no such bot.
            UploadTooLarge: over the bot's max-upload-mb (nothing is stored).
            UnsupportedFile: not of `kind` (nothing is stored).
        """
        limit = self.max_bytes(bot)
        if len(data) > limit:
            raise UploadTooLarge(f"the file has {len(data):,} bytes, more than the bot's max-upload-mb of "
                                 f"{limit // MB} MB")
        mime = sniff(data, name, declared_type)
        if kind is not None and not file_fits(kind, mime):
            raise UnsupportedFile(f"the file is {mime}, not {kind.lower()}")
        file_id = secrets.token_urlsafe(16)
        info = {"id": file_id, "name": safe_name(name, mime), "type": mime, "size": len(data),
                "url": self.url(bot, file_id), "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        await asyncio.to_thread(self._write, self._folder(bot), file_id, data, info)
        return public(info)

    async def open(self, bot: str, file_id: str) -> StoredFile:
        """A stored file of `bot`, to serve or to send.

        Raises:
            UnknownFile: no such file (or a malformed id, or a bot name that cannot be one).
        """
        if not _ID.fullmatch(file_id) or not _BOT.fullmatch(bot):
            raise UnknownFile("no such file")
        folder = self.root / bot
        try:
            info = json.loads(await asyncio.to_thread((folder / f"{file_id}.json").read_text, "utf-8"))
        except (OSError, ValueError):
            raise UnknownFile("no such file") from None
        path = folder / file_id
        if not isinstance(info, dict) or not path.is_file():
            raise UnknownFile("no such file")
        return StoredFile(public(info), path)

    def _folder(self, bot: str) -> Path:
        if not _BOT.fullmatch(bot):
            raise UnknownFile(f"{bot!r} is not a bot name")
        return self.root / bot

    @staticmethod
    def _write(folder: Path, file_id: str, data: bytes, info: dict[str, Any]) -> None:
        """The bytes, then the sidecar, each to a temporary name renamed into place (a worker thread)."""
        folder.mkdir(parents=True, exist_ok=True)
        for target, content in ((folder / file_id, data),
                                (folder / f"{file_id}.json", json.dumps(info, ensure_ascii=False).encode())):
            partial = target.with_name(f".{target.name}.partial")
            partial.write_bytes(content)
            os.replace(partial, target)


def public(info: dict[str, Any]) -> dict[str, Any]:
    """The object a dialog and a reply see: ``{id, name, type, size, url}``."""
    return {k: info.get(k) for k in ("id", "name", "type", "size", "url")}
