"""``SEND FILE file[, caption]``: the file object a reply carries (``Reply.file``).

The argument is one of:

* a file object of this bot's storage (what ``HEAR x AS FILE`` gave, or another SEND FILE's):
  an object with an ``id``; its stored description is used (a dialog cannot change a file's
  type or size by editing the object);
* an http(s) URL (text, or an object with a ``url`` and no ``id``): sent as a link, not
  downloaded (``size`` None, ``type`` guessed from the URL's name);
* a path of a file of the bot: looked for, in order, in the bot's drive
  (``<bot>.gbai/<bot>.gbdrive/``), in its storage (where SAVE writes), and in its package folder
  ``<bot>.gbai/`` (a path may start with ``<bot>.gbai/``); it is copied into the bot's file storage
  (files.py), which gives it its unguessable URL. A path that leaves those folders (``..``, a
  symlink, an absolute path) is refused, and so is the package's ``<bot>.gbot`` folder
  (config.csv holds the bot's secrets).
"""

from __future__ import annotations

import asyncio
import mimetypes
import urllib.parse
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from gb_basic import BasicRuntimeError, values

from .bots import BotPackage
from .errors import UnknownFile, UploadTooLarge
from .files import FileStore, safe_name
from .http_keywords import is_url, shown_url

__all__ = ["file_to_send"]


async def file_to_send(files: FileStore, bot: BotPackage, arg: Any) -> dict[str, Any]:
    """The file object SEND FILE's argument names (see the module's docstring).

    Raises:
        BasicRuntimeError: not a file of this bot, no such file, a path outside the bot's
            folders, over max-upload-mb, or not a file object, URL or path at all.
    """
    if isinstance(arg, dict):
        if arg.get("id") is not None:
            try:
                return (await files.open(bot.name, values.to_str(arg["id"]))).info
            except UnknownFile:
                raise BasicRuntimeError("SEND FILE: the object is not a stored file of this bot") from None
        if is_url(arg.get("url")):
            return _link(str(arg["url"]).strip(), arg.get("name"))
        raise BasicRuntimeError("SEND FILE needs a file (from HEAR ... AS FILE), a URL or a path of the bot's "
                                "folder; got an object without id or url")
    if not isinstance(arg, str) or not arg.strip():
        raise BasicRuntimeError(f"SEND FILE needs a file, a URL or a path; got {values.type_name(arg)}")
    if is_url(arg):
        return _link(arg.strip(), None)
    path = _bot_file(bot, arg)
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise BasicRuntimeError(f"SEND FILE {arg!r}: the file cannot be read ({exc.strerror or type(exc).__name__})") \
            from None
    try:
        return await files.save(bot.name, data, path.name)
    except UploadTooLarge as exc:
        raise BasicRuntimeError(f"SEND FILE {arg!r}: {exc.message}") from None


def _link(url: str, name: Any) -> dict[str, Any]:
    """A URL sent as is: its name from the path, its type guessed from that name."""
    try:
        path = urllib.parse.urlsplit(url).path
    except ValueError:
        raise BasicRuntimeError(f"SEND FILE {shown_url(url)}: not a valid URL") from None
    shown = values.to_str(name) if name else urllib.parse.unquote(path.rstrip("/").rpartition("/")[2])
    guessed = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return {"id": None, "name": safe_name(shown, guessed), "type": guessed, "size": None, "url": url}


def _bot_file(bot: BotPackage, written: str) -> Path:
    """The file of the bot that `written` names (see the module's docstring).

    Raises:
        BasicRuntimeError: absolute, outside the bot's folders, in ``<bot>.gbot``, or not found.
    """
    name = written.strip().replace("\\", "/")
    if PurePosixPath(name).is_absolute() or PureWindowsPath(written).drive or "\x00" in name:
        raise BasicRuntimeError(f"SEND FILE {written!r}: an absolute path is not allowed (a path of the bot's "
                                "folder is)")
    package = bot.path.resolve()
    prefix = f"{bot.name}.gbai/"
    if name.lower().startswith(prefix.lower()):
        name = name[len(prefix):]
    places = [package / f"{bot.name}.gbdrive", bot.storage_dir.resolve(), package]
    escaped = False
    for base in places:
        target = (base / name).resolve()
        if target == base or not target.is_relative_to(base):
            escaped = True
            continue
        if target.is_relative_to(package) and target.relative_to(package).parts[:1] == (f"{bot.name}.gbot",):
            raise BasicRuntimeError(f"SEND FILE {written!r}: the bot's settings folder {bot.name}.gbot is not sent")
        if target.is_file():
            return target
    if escaped:
        raise BasicRuntimeError(f"SEND FILE {written!r}: the path leaves the bot's folder")
    raise BasicRuntimeError(f"SEND FILE {written!r}: no such file in the bot's {bot.name}.gbdrive, its storage "
                            f"or its {bot.name}.gbai folder")
