"""Files over HTTP: the web chat's upload and the stored files' URLs.

``POST /api/upload`` and ``/<bot>/api/upload`` (Bearer): a ``multipart/form-data`` body with
the field ``file``, or the file itself as the body (its name in ``?name=``, its declared type in
Content-Type). The token is checked before the body is read; a body declared larger than
the bot's ``max-upload-mb`` (plus MULTIPART_SLACK for the form's framing) is refused with a 413
and never held: one declared larger than DISCARD_BYTES as soon as its headers arrive (the
connection closed), a smaller one, or a chunked one, dropped as it comes, then refused (so that
a client still sending sees the JSON 413, not a reset); a refused token likewise (401). A file
within the limit is stored (gb_runtime.files: its type sniffed from the content), then goes
through the one turn path as the user's message ``[file] <name>`` with the file object as its
attachment: the answer to a waiting ``HEAR x AS FILE`` (IMAGE, AUDIO,
DOCUMENT check its kind, and re-ask), or, when no HEAR waits, a message recorded with no reply.
The response is POST /api/chat's, with ``file`` (the stored object) and ``received`` (the user's
message as stored, with its ``file``).

An ``X-GB-Origin`` header with the origin the chat's socket was given (its "ready" frame) keeps
that socket from echoing the turn back to the page that made it (other tabs still get it).

``GET /<bot>/files/<id>`` and ``/files/<id>`` (the default bot's) serve a stored file: its
sniffed Content-Type, ``X-Content-Type-Options: nosniff``, a ``Content-Disposition`` (inline for
images, audio, video and PDF, attachment for the rest) with the file's name, and a sandboxing
Content-Security-Policy. No token: the id's 128 random bits are the capability (a channel's
servers fetch media by URL).
"""

from __future__ import annotations

import asyncio
import re
import urllib.parse
from typing import Any

import tornado.httputil
import tornado.web

from gb_runtime import Inbound

from .base import DISCARD_BYTES, ApiError, BaseHandler

__all__ = ["UploadHandler", "FileHandler", "MULTIPART_SLACK", "disposition"]

MULTIPART_SLACK = 64 * 1024  # bytes a multipart body may have beyond the file: boundaries, part headers
_ORIGIN = re.compile(r"ws-[0-9a-f]{32}")
_INLINE = re.compile(r"(image/(png|jpeg|gif|webp|bmp)|audio/.+|video/.+|application/pdf)")


@tornado.web.stream_request_body
class UploadHandler(BaseHandler):
    """``POST [/<bot>]/api/upload`` (Bearer): store a file, then deliver it to the session."""

    token: str | None = None
    bot: str | None = None
    limit = 0
    refusal: Exception | None = None  # found in prepare, raised once the body is read (or at once: see there)

    async def prepare(self) -> None:  # type: ignore[override]
        """The token and the declared size, before any of the body is read. A refusal of a body
        declared larger than DISCARD_BYTES is sent at once (and the connection closed); a smaller
        body is read and dropped first, then refused (a client still sending would see a reset
        rather than the JSON error)."""
        self.cors()
        if self.request.method != "POST":
            return
        length = self.request.headers.get("Content-Length")
        declared = int(length) if length is not None and length.isdigit() else None
        try:
            self.token = self.bearer()
            url_bot = self.url_bot(self.path_kwargs.get("bot"))
            sid = await self.ctx.runtime.authenticate(self.token, url_bot)
            self.bot = (await self.ctx.runtime.summary(sid)).bot
            self.limit = self.ctx.runtime.files.max_bytes(self.bot)
            self.max_body_bytes = self.limit + MULTIPART_SLACK
            if declared is not None and declared > self.max_body_bytes:
                raise self.too_large()
        except Exception as exc:
            self.refusal = exc
            self.max_body_bytes = 0  # what comes is dropped
            if declared is not None and declared > DISCARD_BYTES:
                self._unread_body = True
                raise

    def too_large(self) -> ApiError:
        return ApiError(413, "upload_too_large", f"the file is larger than the bot's max-upload-mb of "
                                                 f"{self.limit // (1024 * 1024)} MB")

    async def post(self, bot: str | None = None) -> None:
        if self.refusal is not None:
            raise self.refusal
        data, name, declared = self._file(self.body)
        files = self.ctx.runtime.files
        assert self.bot is not None and self.token is not None  # prepare set them
        stored = await files.save(self.bot, data, name, declared)
        origin = self.request.headers.get("X-GB-Origin")
        inbound = Inbound(self.url_bot(bot), f"[file] {stored['name']}", channel="web", token=self.token,
                          attachment=stored, origin=origin if origin and _ORIGIN.fullmatch(origin) else None)
        result = await self.ctx.turns.message(inbound)
        reply = result.to_dict()
        reply["file"] = stored
        if result.received is not None:
            reply["received"] = {**result.received.to_dict(), "file": stored}
        self.send_json(reply)

    def _file(self, body: bytes) -> tuple[bytes, str | None, str | None]:
        """(bytes, name, declared type) of a multipart body's ``file`` field, or of a raw body.

        Raises:
            ApiError: 400 bad_request: a malformed multipart body, no ``file`` field, or an empty file.
        """
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.lower().startswith("multipart/form-data"):
            args: dict[str, list[bytes]] = {}
            parts: dict[str, list[tornado.httputil.HTTPFile]] = {}
            name: str | None
            declared: str | None
            try:
                tornado.httputil.parse_body_arguments(content_type, body, args, parts)
            except tornado.httputil.HTTPInputError as exc:  # a part's headers are not HTTP headers
                raise ApiError(400, "bad_request", f"the multipart/form-data body is malformed: {exc}") from None
            found = parts.get("file")
            if not found:
                raise ApiError(400, "bad_request", "a multipart/form-data upload needs a file in the field \"file\"")
            part = found[0]
            data, name, declared = part.body, part.filename, part.content_type
        else:
            data, name, declared = body, self.get_query_argument("name", None), content_type or None
        if not data:
            raise ApiError(400, "bad_request", "the file is empty")
        return data, name, declared


def disposition(kind: str, name: str) -> str:
    """``inline`` (images, audio, video, PDF) or ``attachment``, with the name as ASCII and as UTF-8
    (RFC 6266)."""
    ascii_name = re.sub(r'[^\x20-\x7e]|["\\]', "_", name) or "file"
    how = "inline" if _INLINE.fullmatch(kind) else "attachment"
    return f"{how}; filename=\"{ascii_name}\"; filename*=UTF-8''{urllib.parse.quote(name, safe='')}"


class FileHandler(BaseHandler):
    """``GET [/<bot>]/files/<id>``: a stored file's bytes (see the module's docstring)."""

    async def get(self, bot: str | None = None, file_id: str = "") -> None:
        stored = await self.ctx.runtime.files.open(self.bot_name(bot), file_id)
        info: dict[str, Any] = stored.info
        kind = str(info.get("type") or "application/octet-stream")
        data = await asyncio.to_thread(stored.read)
        self.set_header("Content-Type", kind)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Disposition", disposition(kind, str(info.get("name") or "file")))
        self.set_header("Cache-Control", "private, max-age=86400")
        if kind != "application/pdf":  # a browser's PDF viewer does not run in a sandbox
            self.set_header("Content-Security-Policy", "default-src 'none'; img-src 'self'; media-src 'self'; "
                                                       "style-src 'unsafe-inline'; sandbox")
        self.finish(data)
