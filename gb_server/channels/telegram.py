"""Telegram's Bot API: ``POST /<bot>/telegram``.

config.csv keys: ``telegram-token`` (BotFather's token: every call is ``{api}/bot{token}/{method}``),
``telegram-secret`` (the ``secret_token`` given to setWebhook: Telegram sends it back on every
update), ``telegram-api-url`` (default API, Telegram's; a local Bot API server's URL also works).
Any value may be ``env:NAME``. The token is part of every URL, so it is never put in a message
or log line of this module (errors name the method, not the URL).

- Verify: ``X-Telegram-Bot-Api-Secret-Token`` equals telegram-secret, compared in constant time;
  missing or wrong is a 401 and nothing is stored.
- In: one ``Update`` per request, de-duplicated on its ``update_id``. A ``message`` (its text, or
  a media's caption; a photo's largest size, a document, audio, voice note or video is an
  attachment fetched by its ``file_id``; a location is ``lat,lon``) from ``chat.id``; a
  ``callback_query`` (an inline keyboard's button clicked) is its button's label as the text, its
  callback_data the choice, and Telegram is told it was seen (``answerCallbackQuery``, after the
  webhook's answer: the button stops spinning). ``edited_message`` is ignored: the message was
  answered as first written, and an edit is not a new turn. Updates with nothing a dialog can
  take (service messages, stickers, channel posts, polls) are acknowledged and not stored.
- Out: ``sendMessage`` (text; a menu or suggestions as an inline keyboard, one button a row, up
  to MAX_BUTTONS, more as numbered text; text over MAX_TEXT characters in several messages, the
  keyboard on the last); a file by its public URL with ``sendPhoto``/``sendAudio``/``sendVideo``/
  ``sendDocument`` and the text as its caption (a text over MAX_CAPTION goes first, as messages).
  A retry after some of a message's parts went sends only the rest (Channel.send_parts). A
  template (SEND TEMPLATE) is WhatsApp's: it fails at once, clearly. Telegram's refusals: 429 is
  retried after its ``retry_after``, 5xx retried, any other is not (its ``description`` kept,
  e.g. "Forbidden: bot was blocked by the user").
- Typing: ``sendChatAction`` typing, best effort.
"""

from __future__ import annotations

import functools
import hmac
import logging
import mimetypes
import re
from typing import TYPE_CHECKING, Any

from tornado.httputil import HTTPServerRequest

from ..base import ApiError, parse_json
from .base import Channel, DeliveryFailed, Parsed, Received, numbered, options_of, split_text
from .http import PlatformError

if TYPE_CHECKING:
    from gb_runtime import OutboxItem

__all__ = ["Telegram", "API", "MAX_BUTTONS", "MAX_TEXT", "MAX_CAPTION", "MAX_CALLBACK"]

log = logging.getLogger("gb.channels")
API = "https://api.telegram.org"
MAX_BUTTONS = 100  # Telegram's limit of an inline keyboard's buttons
MAX_CALLBACK = 64  # bytes of a button's callback_data
MAX_TEXT, MAX_CAPTION = 4096, 1024  # characters of a message's text, of a file's caption
MEDIA = ("document", "audio", "voice", "video")  # besides photo: a message's file fields with a file_id
SENDS = {"image": ("sendPhoto", "photo"), "audio": ("sendAudio", "audio"), "video": ("sendVideo", "video")}
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_INDEXED = re.compile(r"opt[0-9]+")


class Telegram(Channel):
    name = "telegram"
    path = "telegram"
    keys = ("telegram-token", "telegram-secret")

    @property
    def api(self) -> str:
        return (self.config.get("telegram-api-url") or API).rstrip("/")

    # --- in ------------------------------------------------------------------------------------------
    async def verify(self, request: HTTPServerRequest, body: bytes) -> None:
        header = request.headers.get(SECRET_HEADER)
        if not header:
            raise ApiError(401, "missing_secret", f"the {SECRET_HEADER} header is missing")
        expected = self.config.require("telegram-secret")
        if not hmac.compare_digest(header.encode(), expected.encode()):
            raise ApiError(401, "bad_secret", f"the {SECRET_HEADER} header does not match telegram-secret")

    def parse(self, request: HTTPServerRequest, body: bytes) -> Parsed:
        update = parse_json(body)
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int) \
                or isinstance(update.get("update_id"), bool):
            raise ApiError(400, "bad_request", 'a Telegram webhook body is an Update: {"update_id": N, ...}')
        parsed = Parsed()
        platform_id = str(update["update_id"])
        message, query = update.get("message"), update.get("callback_query")
        if isinstance(message, dict):
            received = _message(platform_id, message)
            if received is not None:
                parsed.messages.append(received)
        elif isinstance(query, dict) and query.get("id"):
            received = _clicked(platform_id, query)
            if received is not None:
                parsed.messages.append(received)
            parsed.after.append(lambda: self._answer_callback(str(query["id"])))
        return parsed

    async def _answer_callback(self, query_id: str) -> None:
        await self.call("answerCallbackQuery", {"callback_query_id": query_id})

    async def fetch(self, attachment: dict[str, Any]) -> tuple[bytes, str | None, str | None]:
        """A file_id's bytes: its path from ``getFile``, then ``GET {api}/file/bot{token}/{path}``."""
        result = await self.call("getFile", {"file_id": attachment.get("file_id")})
        path = str(result.get("file_path") or "") if isinstance(result, dict) else ""
        if not path:
            raise DeliveryFailed(f"Telegram's getFile gave no file_path for file_id {attachment.get('file_id')}",
                                 retry=False)
        try:
            data = await self.http.get(f"{self.api}/file/bot{self.config.require('telegram-token')}/{path}")
        except PlatformError as exc:  # its message names the host, never the URL's path (the token)
            raise DeliveryFailed(f"Telegram's file download could not be reached: {exc.message}",
                                 retry=exc.retry) from None
        if data.status_code != 200:
            raise DeliveryFailed(f"Telegram's file download answered {data.status_code}",
                                 retry=data.status_code == 429 or data.status_code >= 500)
        name = attachment.get("name") or path.rpartition("/")[2] or None
        declared = attachment.get("type") or mimetypes.guess_type(path)[0]
        return data.content, name, declared

    # --- out -----------------------------------------------------------------------------------------
    async def send(self, item: OutboxItem) -> str | None:
        payload = item.payload
        if payload.get("template"):
            raise DeliveryFailed("SEND TEMPLATE is WhatsApp's (Meta's message templates): Telegram has none and no "
                                 "24-hour window, so TALK TO the user with the text instead", retry=False)
        return await self.send_parts(item, [functools.partial(self._send_one, method, body)
                                            for method, body in self.messages(item.address, payload)])

    async def _send_one(self, method: str, body: dict[str, Any]) -> str | None:
        result = await self.call(method, body)
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return str(message_id) if message_id is not None else None

    def messages(self, address: str, payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """The Bot API calls (method, parameters) that show an outbox payload, in order."""
        chat = _chat_id(address)
        text = str(payload.get("content") or "")
        options = options_of(payload)
        markup: dict[str, Any] = {}
        if options and len(options) <= MAX_BUTTONS:
            markup = {"reply_markup": {"inline_keyboard": [[{"text": o, "callback_data": _callback(o, i)}]
                                                           for i, o in enumerate(options, 1)]}}
        elif options:
            text = numbered(text, options)
        file = payload.get("file")
        if file:
            method, field = SENDS.get(str(file.get("type") or "").split("/", 1)[0], ("sendDocument", "document"))
            body: dict[str, Any] = {"chat_id": chat, field: self.public(str(file["url"]))}
            if len(text) > MAX_CAPTION:  # too long a caption: the text first, then the file
                return [*(("sendMessage", {"chat_id": chat, "text": part}) for part in split_text(text, MAX_TEXT)),
                        (method, {**body, **markup})]
            if text:
                body["caption"] = text
            return [(method, {**body, **markup})]
        parts = split_text(text or "…", MAX_TEXT)
        calls = [("sendMessage", {"chat_id": chat, "text": part}) for part in parts]
        calls[-1][1].update(markup)
        return calls

    async def typing(self, address: str) -> None:
        try:
            await self.call("sendChatAction", {"chat_id": _chat_id(address), "action": "typing"})
        except Exception as exc:  # best effort: the reply itself is what matters
            log.debug("telegram typing for %s of bot %s: %s", address, self.bot, exc)

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """One Bot API method: its ``result``.

        Raises:
            DeliveryFailed: Telegram refused it (``ok`` false: 429 and 5xx retried, after its
                retry_after when it gives one) or could not be reached (retried).
        """
        url = f"{self.api}/bot{self.config.require('telegram-token')}/{method}"
        try:
            response = await self.http.post(url, json=params)
        except PlatformError as exc:  # its message names the host, never the URL's path (the token)
            if not exc.retry:
                raise DeliveryFailed(f"bot {self.bot}: telegram-api-url {self.api!r} (or the token) does not make "
                                     f"a valid URL ({exc.message})", retry=False) from None
            raise DeliveryFailed(f"Telegram's {method} could not be reached: {exc.message}", retry=True) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if 200 <= response.status_code < 300 and isinstance(answer, dict) and answer.get("ok"):
            return answer.get("result")
        raise _refused(method, response.status_code, answer if isinstance(answer, dict) else {})


def _message(platform_id: str, m: dict[str, Any]) -> Received | None:
    chat = _dict(m.get("chat"))
    if chat.get("id") is None:
        return None
    text = str(m.get("text") or m.get("caption") or "")
    attachments: list[dict[str, Any]] = []
    photos = [p for p in m.get("photo") or [] if isinstance(p, dict) and p.get("file_id")]
    if photos:
        largest = max(photos, key=lambda p: (int(p.get("width") or 0) * int(p.get("height") or 0),
                                             int(p.get("file_size") or 0)))
        attachments.append({"kind": "photo", "file_id": largest["file_id"], "type": "image/jpeg", "name": None})
    for kind in MEDIA:
        media = m.get(kind)
        if isinstance(media, dict) and media.get("file_id"):
            attachments.append({"kind": kind, "file_id": media["file_id"], "type": media.get("mime_type"),
                                "name": media.get("file_name")})
    location = m.get("location")
    if not text and not attachments and isinstance(location, dict):
        text = f"{location.get('latitude')},{location.get('longitude')}"
    if not text and not attachments:
        return None  # a service message (a member joined, a title changed), a sticker, a poll: no turn
    return Received(platform_id, str(chat["id"]), text, None, attachments, _first_name(m.get("from")))


def _clicked(platform_id: str, query: dict[str, Any]) -> Received | None:
    """A button's click: its label is what the user 'said' (the menu's option), from the
    keyboard of the message it was on (its callback_data when that message is gone)."""
    data = str(query.get("data") or "")
    message, sender = _dict(query.get("message")), _dict(query.get("from"))
    chat = _dict(message.get("chat")).get("id")
    address = chat if chat is not None else sender.get("id")  # a private chat's id is the user's
    if not data or address is None:
        return None
    label = data
    keyboard = _dict(message.get("reply_markup")).get("inline_keyboard")
    for row in keyboard if isinstance(keyboard, list) else []:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict) and button.get("callback_data") == data and button.get("text"):
                label = str(button["text"])
    return Received(platform_id, str(address), label, data, [], _first_name(sender))


def _dict(value: Any) -> dict[str, Any]:
    """A JSON object of the update, or {} (a field missing or of another shape)."""
    return value if isinstance(value, dict) else {}


def _first_name(user: Any) -> str | None:
    return str(user["first_name"]) if isinstance(user, dict) and user.get("first_name") else None


def _callback(option: str, index: int) -> str:
    """A button's callback_data: the option itself when it fits Telegram's 64 bytes (the click
    then needs nothing else), else ``opt<index>`` (its label read back from the keyboard). An
    option that itself reads ``opt<digits>`` gets its index too, so no two options share one."""
    fits = 0 < len(option.encode()) <= MAX_CALLBACK and not _INDEXED.fullmatch(option)
    return option if fits else f"opt{index}"


def _chat_id(address: str) -> int | str:
    """A chat id as Telegram writes it (an integer; ``@channelname`` stays text)."""
    try:
        return int(address)
    except ValueError:
        return address


def _refused(method: str, status: int, answer: dict[str, Any]) -> DeliveryFailed:
    """The DeliveryFailed of a Bot API error (``{"ok": false, "error_code", "description", "parameters"}``)."""
    code = int(answer.get("error_code") or status)
    description = str(answer.get("description") or f"HTTP {status}")[:500]
    params = _dict(answer.get("parameters"))
    retry_after = params.get("retry_after")
    if params.get("migrate_to_chat_id"):
        description += f" (the group is now the supergroup {params['migrate_to_chat_id']})"
    retry = code == 429 or code >= 500 or status >= 500
    return DeliveryFailed(f"Telegram's {method} answered {code}: {description}", retry=retry,
                          retry_after=float(retry_after) if isinstance(retry_after, (int, float)) else None)
