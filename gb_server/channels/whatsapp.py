"""WhatsApp Business Cloud API (Meta): ``GET|POST /<bot>/whatsapp``.

config.csv keys: ``whatsapp-app-secret`` (signs the webhooks), ``whatsapp-token`` (a system
user's token: sends), ``whatsapp-phone-number-id`` (the sending number), ``whatsapp-verify-token``
(the subscribe handshake), ``whatsapp-api-url`` (default Meta's Graph URL, GRAPH). Any value may
be ``env:NAME``.

- Handshake: ``GET ?hub.mode=subscribe&hub.verify_token=...&hub.challenge=N`` answers N (403 otherwise).
- Verify: ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the app secret>``,
  compared in constant time; missing or wrong is a 401 and nothing is stored.
- In: ``entry[].changes[]`` of field ``messages``: each ``messages[]`` (text; a button or list
  reply: its title is the text, its id the choice; media: an attachment fetched by its id) is
  one inbound message, de-duplicated on its ``wamid``; ``statuses[]`` (sent, delivered, read,
  failed) are recorded on the outbound message of that id.
- Out: ``POST {api}/{phone-number-id}/messages`` with the token: text; a menu of up to 3
  options as reply buttons, up to 10 as a list, more as numbered text; a file by its public
  link; a template (SEND TEMPLATE). A text over Meta's limits (4,096 characters; 1,024 for a
  menu's body or a file's caption) goes first in several text messages, the menu or the file
  after it; a retry after some went sends only the rest (Channel.send_parts). Free-form
  messages only within 24 hours of the user's last
  message (the customer-service window): outside it the send fails at once, clearly, and
  SEND TEMPLATE is the way; Meta's own refusal (error 131047) says the same.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from tornado.httputil import HTTPServerRequest

from gb_runtime import utcnow

from ..base import ApiError, parse_json
from .base import (
    Channel,
    DeliveryFailed,
    DeliveryStatus,
    Parsed,
    Received,
    failed_response,
    numbered,
    options_of,
    split_text,
)

if TYPE_CHECKING:
    from gb_runtime import OutboxItem

__all__ = ["WhatsApp", "GRAPH", "WINDOW"]

GRAPH = "https://graph.facebook.com/v21.0"
WINDOW = dt.timedelta(hours=24)
MAX_BUTTONS, MAX_ROWS = 3, 10
BUTTON_TITLE, ROW_TITLE = 20, 24  # Meta's limits on a reply button's and a list row's title
MAX_TEXT, MAX_BODY = 4096, 1024  # characters of a text message's body, of a menu's body or a file's caption
MEDIA = ("image", "audio", "video", "document", "sticker")
OUT_OF_WINDOW = 131047  # Meta's error code: more than 24 hours since the user's last message


class WhatsApp(Channel):
    name = "whatsapp"
    path = "whatsapp"
    keys = ("whatsapp-app-secret", "whatsapp-token", "whatsapp-phone-number-id")

    @property
    def api(self) -> str:
        return (self.config.get("whatsapp-api-url") or GRAPH).rstrip("/")

    # --- in ------------------------------------------------------------------------------------------
    def handshake(self, request: HTTPServerRequest) -> str:
        args = {k: v[-1].decode("utf-8", "replace") for k, v in request.query_arguments.items()}
        expected = self.config.get("whatsapp-verify-token")
        if args.get("hub.mode") != "subscribe" or expected is None \
                or not hmac.compare_digest(args.get("hub.verify_token", "").encode(), expected.encode()):
            raise ApiError(403, "bad_verify_token", "the subscribe request's hub.verify_token does not match "
                                                    "whatsapp-verify-token")
        return args.get("hub.challenge", "")

    async def verify(self, request: HTTPServerRequest, body: bytes) -> None:
        header = request.headers.get("X-Hub-Signature-256", "")
        if not header.startswith("sha256="):
            raise ApiError(401, "missing_signature", "the X-Hub-Signature-256 header is missing")
        secret = self.config.require("whatsapp-app-secret").encode()
        expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(header[7:].strip().lower().encode(), expected.encode()):
            raise ApiError(401, "bad_signature", "the X-Hub-Signature-256 signature does not match the body")

    def parse(self, request: HTTPServerRequest, body: bytes) -> Parsed:
        data = parse_json(body)
        if not isinstance(data, dict) or not isinstance(data.get("entry"), list):
            raise ApiError(400, "bad_request", 'a WhatsApp webhook body is {"object": ..., "entry": [...]}')
        parsed = Parsed()
        for entry in data["entry"]:
            for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
                if not isinstance(change, dict) or change.get("field") != "messages":
                    continue
                value = change.get("value") or {}
                names = {c.get("wa_id"): (c.get("profile") or {}).get("name")
                         for c in value.get("contacts") or [] if isinstance(c, dict)}
                for m in value.get("messages") or []:
                    if isinstance(m, dict) and m.get("id") and m.get("from"):
                        parsed.messages.append(_received(m, names.get(m["from"])))
                for st in value.get("statuses") or []:
                    if isinstance(st, dict) and st.get("id") and st.get("status"):
                        errors = st.get("errors") or []
                        error = None
                        if errors and isinstance(errors[0], dict):
                            error = f"{errors[0].get('code')}: {errors[0].get('title') or errors[0].get('message')}"
                        parsed.statuses.append(DeliveryStatus(str(st["id"]), str(st["status"]), error))
        return parsed

    async def fetch(self, attachment: dict[str, Any]) -> tuple[bytes, str | None, str | None]:
        """A media id's bytes: its URL from ``GET {api}/{id}``, then the bytes (both with the token)."""
        auth = {"Authorization": f"Bearer {self.config.require('whatsapp-token')}"}
        meta = await self.http.get(f"{self.api}/{attachment['media_id']}", headers=auth)
        if meta.status_code != 200:
            raise await failed_response(meta, "WhatsApp's media lookup")
        info = meta.json()
        data = await self.http.get(str(info["url"]), headers=auth)
        if data.status_code != 200:
            raise await failed_response(data, "WhatsApp's media download")
        return data.content, attachment.get("name"), info.get("mime_type") or attachment.get("type")

    # --- out -----------------------------------------------------------------------------------------
    async def send(self, item: OutboxItem) -> str | None:
        payload = item.payload
        if "template" not in payload:
            await self._check_window(item)
        return await self.send_parts(item, [functools.partial(self._post, item, message)
                                            for message in self.messages(payload)])

    async def _post(self, item: OutboxItem, message: dict[str, Any]) -> str | None:
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": item.address, **message}
        response = await self.http.post(f"{self.api}/{self.config.require('whatsapp-phone-number-id')}/messages",
                                        json=body,
                                        headers={"Authorization": f"Bearer {self.config.require('whatsapp-token')}"})
        if response.status_code >= 300:
            failure = await failed_response(response, "WhatsApp")
            if _error_code(response) == OUT_OF_WINDOW:
                raise DeliveryFailed(f"outside WhatsApp's 24-hour window for {item.address}: send a template "
                                     f"(SEND TEMPLATE) instead ({failure.message})", retry=False)
            raise failure
        messages = response.json().get("messages") or [{}]
        return str(messages[0].get("id")) if messages[0].get("id") else None

    async def _check_window(self, item: OutboxItem) -> None:
        """Refuse a free-form message outside the 24-hour window. Answered from the dispatcher's
        memory while it says the window is open; otherwise (it does not know the address, or its
        time is old: another process may have handled a newer message) the inbox confirms."""
        if self.dispatcher is None:
            return
        known = self.dispatcher.last_wrote(item.bot_id, self.name, item.address)
        if known is not None and utcnow() - known <= WINDOW:
            return
        last = await self.dispatcher.queue.last_inbound(item.bot_id, self.name, item.address)
        if last is not None:
            self.dispatcher.wrote(item.bot_id, self.name, item.address, last)
        if last is None or utcnow() - last > WINDOW:
            since = f"last wrote at {last:%Y-%m-%d %H:%M} UTC" if last else "never wrote to this bot"
            raise DeliveryFailed(f"outside WhatsApp's 24-hour window: {item.address} {since}; a free-form "
                                 "message is refused, send a template (SEND TEMPLATE) instead", retry=False)

    def messages(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """The Cloud API's message objects of an outbox payload, in order: one, unless its text is
        over what the message can hold (MAX_TEXT for a text, MAX_BODY for a menu's body or a file's
        caption): then the text goes first, in text messages of at most MAX_TEXT characters, and
        the menu (its body the last part) or the file (no caption) after it."""
        text = str(payload.get("content") or "")
        file, options = payload.get("file"), options_of(payload)
        if payload.get("template") or len(text) <= (MAX_BODY if file or options else MAX_TEXT):
            return [self.message(payload)]
        parts = split_text(text, MAX_TEXT)
        if file:
            return [*map(_text, parts), self.message({**payload, "content": ""})]
        if not options:
            return [_text(part) for part in parts]
        body = split_text(parts[-1], MAX_BODY)  # the menu's body: the text's end, at most MAX_BODY
        return [*map(_text, [*parts[:-1], *body[:-1]]), self.message({**payload, "content": body[-1]})]

    def message(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The Cloud API's message object of an outbox payload (its text within the limits)."""
        text = str(payload.get("content") or "")
        template = payload.get("template")
        if template:
            params = [{"type": "text", "text": str(v)} for v in template.get("parameters") or []]
            t: dict[str, Any] = {"name": template["name"], "language": {"code": template.get("language") or "en_US"}}
            if params:
                t["components"] = [{"type": "body", "parameters": params}]
            return {"type": "template", "template": t}
        file = payload.get("file")
        if file:
            kind = _media_kind(str(file.get("type") or ""))
            media: dict[str, Any] = {"link": self.public(str(file["url"]))}
            if text and kind != "audio":
                media["caption"] = text
            if kind == "document":
                media["filename"] = file.get("name") or "file"
            return {"type": kind, kind: media}
        options = options_of(payload)
        if options and len(options) <= MAX_BUTTONS and all(len(o) <= BUTTON_TITLE for o in options):
            return {"type": "interactive", "interactive": {
                "type": "button", "body": {"text": text or "…"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": f"opt{i}", "title": o}}
                                       for i, o in enumerate(options, 1)]}}}
        if options and len(options) <= MAX_ROWS and all(len(o) <= ROW_TITLE for o in options):
            return {"type": "interactive", "interactive": {
                "type": "list", "body": {"text": text or "…"},
                "action": {"button": "Options", "sections": [{"title": "Options", "rows": [
                    {"id": f"opt{i}", "title": o} for i, o in enumerate(options, 1)]}]}}}
        return _text(numbered(text, options) or "…")


def _text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body, "preview_url": False}}


def _received(m: dict[str, Any], name: str | None) -> Received:
    kind = m.get("type")
    text, choice = "", None
    attachments: list[dict[str, Any]] = []
    if kind == "text":
        text = str((m.get("text") or {}).get("body") or "")
    elif kind == "interactive":
        inter = m.get("interactive") or {}
        reply = inter.get("button_reply") or inter.get("list_reply") or {}
        text, choice = str(reply.get("title") or ""), reply.get("id")
    elif kind == "button":  # a template's quick reply
        text = str((m.get("button") or {}).get("text") or "")
    elif kind in MEDIA:
        media = m.get(kind) or {}
        text = str(media.get("caption") or "")
        attachments.append({"kind": kind, "media_id": media.get("id"), "type": media.get("mime_type"),
                            "name": media.get("filename")})
    elif kind == "location":
        loc = m.get("location") or {}
        text = f"{loc.get('latitude')},{loc.get('longitude')}"
    return Received(str(m["id"]), str(m["from"]), text, choice, attachments, name)


def _media_kind(mime: str) -> str:
    top = mime.split("/", 1)[0]
    return top if top in ("image", "audio", "video") else "document"


def _error_code(response: Any) -> int | None:
    try:
        return int(response.json()["error"]["code"])
    except Exception:
        return None
