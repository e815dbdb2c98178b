"""Twilio: SMS (and WhatsApp through Twilio) at ``POST /<bot>/twilio/sms``, voice calls at
``POST /<bot>/twilio/voice``.

config.csv keys (both channels): ``twilio-account-sid``, ``twilio-auth-token`` (signs the
webhooks, authenticates the REST calls), ``twilio-number`` (the sending number, or
``whatsapp:+1555...``), ``twilio-api-url`` (default Twilio's, API), ``twilio-voice-language``
(default: the bot's ``language`` as Twilio names it, ``pt`` -> ``pt-BR``). Any value may be
``env:NAME``.

- Verify: ``X-Twilio-Signature`` checked with the twilio package's RequestValidator over the
  URL Twilio called (``GB_PUBLIC_URL`` + the request's path and query when set, else the
  request's own URL) and the form's parameters; missing or wrong is a 403 (Twilio's
  convention) and nothing is stored.
- SMS in: one form per message (``MessageSid``, ``From``, ``Body``, ``NumMedia`` and
  ``MediaUrl<i>``/``MediaContentType<i>``), de-duplicated on its MessageSid; a status callback
  (``MessageStatus``) is recorded on the outbound message it names. The webhook answers with an
  empty TwiML ``<Response/>``: replies leave through the outbox.
- SMS out: ``POST {api}/2010-04-01/Accounts/{sid}/Messages.json`` (form ``To``, ``From``,
  ``Body``; ``MediaUrl`` for a file, by its public URL; a template is a Content SID ``HX...``
  with ``ContentVariables``) with HTTP basic auth; menus as numbered options. A Body over
  MAX_BODY (1,600) characters is sent as several messages, the file on the last; a retry after
  some went sends only the rest (Channel.send_parts).
- Voice: a call is a session (its address is the ``CallSid``). The call's first request starts
  it (start.bas runs, no user message); each ``<Gather>`` answer (``SpeechResult`` or DTMF
  ``Digits``, given to HEAR as text: a menu's HEAR takes the number) is a message. The webhook's
  answer is the turn's TwiML: each reply a ``<Say>``, and a ``<Gather>`` around the last one
  when the dialog waits (a ``<Redirect>`` after it asks again when the caller says nothing),
  else ``<Hangup/>``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import mimetypes
import urllib.parse
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any, ClassVar

from tornado.httputil import HTTPServerRequest
from twilio.request_validator import RequestValidator

from ..base import ApiError
from .base import (
    INLINE,
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

__all__ = ["TwilioSms", "TwilioVoice", "API", "EMPTY_TWIML"]

API = "https://api.twilio.com"
MAX_BODY = 1600  # characters of an SMS's Body (Twilio joins the segments; over it, error 21617)
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
XML = "text/xml; charset=utf-8"
ENDED = ("completed", "busy", "failed", "no-answer", "canceled")  # a call's final CallStatus values
NOINPUT_MAX = 3  # times a silent caller is asked again before the call ends
LANGUAGES = {"pt": "pt-BR", "en": "en-US", "es": "es-ES", "fr": "fr-FR", "de": "de-DE", "it": "it-IT"}
SAY_OPTION = {"en": ("Say", "for", "or"), "pt": ("Diga", "para", "ou"), "es": ("Diga", "para", "o")}
"""How a menu's options are read out: "Say 1 for Red, 2 for Green, or 3 for Blue"."""


class _Form(dict[str, str]):
    """A form's parameters as the RequestValidator reads them: each name's values (``getall``),
    so a repeated parameter is signed as Twilio signs it."""

    def __init__(self, body: bytes) -> None:
        self.lists = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        super().__init__({k: v[-1] for k, v in self.lists.items()})

    def getall(self, name: str) -> list[str]:
        return self.lists.get(name, [])


class _Twilio(Channel):
    """What SMS and voice share: the keys, the signature, the REST API's address and auth."""

    keys = ("twilio-account-sid", "twilio-auth-token", "twilio-number")

    @property
    def api(self) -> str:
        return (self.config.get("twilio-api-url") or API).rstrip("/")

    @property
    def auth(self) -> tuple[str, str]:
        return self.config.require("twilio-account-sid"), self.config.require("twilio-auth-token")

    def url(self, request: HTTPServerRequest, *, query: bool = True) -> str:
        """The URL Twilio called: ``GB_PUBLIC_URL`` + path (+ query), else the request's own."""
        tail = request.uri if query else request.path
        if self.public_url:
            return self.public_url.rstrip("/") + (tail or "")
        return f"{request.protocol}://{request.host}{tail}"

    async def verify(self, request: HTTPServerRequest, body: bytes) -> None:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            raise ApiError(403, "missing_signature", "the X-Twilio-Signature header is missing")
        if not RequestValidator(self.config.require("twilio-auth-token")).validate(
                self.url(request), _Form(body), signature):
            raise ApiError(403, "bad_signature", f"the X-Twilio-Signature does not match {self.url(request)} and "
                                                 "the form (behind a proxy, set GB_PUBLIC_URL to the URL in Twilio's "
                                                 "console)")

    @staticmethod
    def form(body: bytes, *required: str) -> _Form:
        form = _Form(body)
        missing = [k for k in required if not form.get(k)]
        if missing:
            raise ApiError(400, "bad_request", f"a Twilio webhook form has {', '.join(required)}; this one lacks "
                                               f"{', '.join(missing)}")
        return form


class TwilioSms(_Twilio):
    name = "sms"
    path = "twilio/sms"

    # --- in ------------------------------------------------------------------------------------------
    def parse(self, request: HTTPServerRequest, body: bytes) -> Parsed:
        form = self.form(body, "MessageSid")
        if form.get("MessageStatus") and "Body" not in form:  # a status callback of a message sent
            error = f"{form['ErrorCode']}: {form.get('ErrorMessage', '')}".strip(": ") if form.get("ErrorCode") \
                else None
            return Parsed(statuses=[DeliveryStatus(form["MessageSid"], form["MessageStatus"], error)])
        if not form.get("From"):
            raise ApiError(400, "bad_request", "a Twilio message webhook has From; this one does not")
        attachments = []
        for i in range(_count(form.get("NumMedia"))):
            url = form.get(f"MediaUrl{i}")
            if url:
                mime = form.get(f"MediaContentType{i}") or ""
                attachments.append({"kind": _media_kind(mime), "url": url, "type": mime or None})
        return Parsed(messages=[Received(form["MessageSid"], form["From"], form.get("Body", ""),
                                         attachments=attachments, name=form.get("ProfileName") or None)])

    def ack(self) -> tuple[str, bytes]:
        return XML, EMPTY_TWIML

    async def fetch(self, attachment: dict[str, Any]) -> tuple[bytes, str | None, str | None]:
        """A MediaUrl's bytes, with basic auth; Twilio redirects to its CDN (followed: the
        Authorization header is not sent to another host)."""
        response = await self.http.get(str(attachment["url"]), auth=self.auth, follow_redirects=True)
        if response.status_code != 200:
            raise await _failed(response, "Twilio's media download")
        declared = attachment.get("type") or response.headers.get("Content-Type")
        return response.content, attachment.get("name") or _media_name(str(attachment["url"]), declared), declared

    # --- out -----------------------------------------------------------------------------------------
    async def send(self, item: OutboxItem) -> str | None:
        return await self.send_parts(item, [functools.partial(self._post, form)
                                            for form in self.messages(item.address, item.payload)])

    async def _post(self, form: dict[str, str]) -> str | None:
        sid, _ = self.auth
        response = await self.http.post(f"{self.api}/2010-04-01/Accounts/{sid}/Messages.json", data=form,
                                        auth=self.auth)
        if response.status_code >= 300:
            raise await _failed(response, "Twilio")
        message_sid = response.json().get("sid")
        return str(message_sid) if message_sid else None

    def messages(self, to: str, payload: dict[str, Any]) -> list[dict[str, str]]:
        """The Messages API's forms of an outbox payload, in order: one, unless its text is over
        Twilio's MAX_BODY characters (error 21617): then several, the file (MediaUrl) on the last."""
        form = self.message(to, payload)
        body = form.get("Body", "")
        if len(body) <= MAX_BODY:
            return [form]
        parts = split_text(body, MAX_BODY)
        plain = {k: v for k, v in form.items() if k != "MediaUrl"}
        return [*({**plain, "Body": part} for part in parts[:-1]), {**form, "Body": parts[-1]}]

    def message(self, to: str, payload: dict[str, Any]) -> dict[str, str]:
        """The Messages API's form of an outbox payload (its Body may be over MAX_BODY: messages splits it)."""
        form = {"To": to, "From": self.config.require("twilio-number")}
        if self.public_url:  # delivery statuses come back to this webhook (Twilio needs a public URL)
            form["StatusCallback"] = f"{self.public_url.rstrip('/')}/{self.bot}/{self.path}"
        template = payload.get("template")
        if template:
            if not str(template.get("name", "")).startswith("HX"):
                raise DeliveryFailed(f"a Twilio template is a Content SID (HX...), not {template.get('name')!r}",
                                     retry=False)
            form["ContentSid"] = str(template["name"])
            params = template.get("parameters") or []
            if params:
                form["ContentVariables"] = json.dumps({str(i): str(v) for i, v in enumerate(params, 1)})
            return form
        text = numbered(str(payload.get("content") or ""), options_of(payload))
        file = payload.get("file")
        if file:
            form["MediaUrl"] = self.public(str(file["url"]))
        if text or not file:
            form["Body"] = text or "…"
        return form


class _CallStart(Received):
    """The first request of a call: no message; the inbox row says ``start`` (the dispatcher
    starts the session, start.bas speaks first)."""

    def payload(self) -> dict[str, Any]:
        return {**super().payload(), "start": True}


class TwilioVoice(_Twilio):
    name = "voice"
    path = "twilio/voice"
    mode: ClassVar[str] = INLINE

    # --- in ------------------------------------------------------------------------------------------
    def parse(self, request: HTTPServerRequest, body: bytes) -> Parsed:
        """The call's first request starts it (``{CallSid}:start``); an answer to a ``<Gather>``
        is a message. Twilio gives a request no id of its own, so an answer's id is the CallSid
        and a digest of what a retry repeats: the query (its ``turn``, the inbound message whose
        replies asked) and the whole form. A retry stores nothing new; the same words said to
        another question are another message (another ``turn``). A noinput redirect, and a
        status callback of an ended call, bring no message (respond answers them)."""
        form = self.form(body, "CallSid")
        call = form["CallSid"]
        args = _query(request)
        answer = form.get("SpeechResult") or form.get("Digits") or ""
        if form.get("CallStatus") in ENDED:
            return Parsed()
        if answer.strip():
            digest = hashlib.sha256(json.dumps([sorted(args.items()), sorted(form.lists.items())]).encode())
            return Parsed(messages=[Received(f"{call}:{digest.hexdigest()[:32]}", call, _spoken(answer),
                                             extra={"from": form.get("From", "")})])
        if "turn" in args or "noinput" in args:
            return Parsed()
        return Parsed(messages=[_CallStart(f"{call}:start", call, "", extra={"from": form.get("From", "")})])

    # --- out -----------------------------------------------------------------------------------------
    async def send(self, item: OutboxItem) -> str | None:
        """Never called: a call's replies are the webhook's answer (inline outbox rows)."""
        raise DeliveryFailed("the voice channel answers in its webhook; it sends nothing", retry=False)

    async def respond(self, ids: list[int], request: HTTPServerRequest, body: bytes) -> tuple[str, bytes]:
        """The turn's TwiML: each reply a ``<Say>``; when the dialog waits, the last one inside a
        ``<Gather action="<this webhook>?turn=<id>">`` and a ``<Redirect>`` (noinput) after it;
        else ``<Hangup/>``. A noinput request speaks its turn's last reply again."""
        form = _Form(body)
        call = form.get("CallSid", "")
        root = ET.Element("Response")
        if form.get("CallStatus") in ENDED:
            return XML, EMPTY_TWIML
        payloads, turn, silent = await self._replies(ids, request, call)
        if not ids and payloads:  # the caller said nothing: ask again (the prompt, not what came before it)
            payloads = payloads[-1:] if silent <= NOINPUT_MAX else []
        if not payloads or "waiting" not in payloads[-1]:
            for p in payloads:
                self._say(root, p)
            ET.SubElement(root, "Hangup")
            return XML, _twiml(root)
        for p in payloads[:-1]:
            self._say(root, p)
        base = self.url(request, query=False)
        action = f"{base}?{urllib.parse.urlencode({'turn': turn})}"
        last = payloads[-1]
        gather = ET.SubElement(root, "Gather", input="speech dtmf", action=action, method="POST",
                               language=self.language, speechTimeout="auto")
        options = options_of(last)
        if options:
            if len(options) <= 9:
                gather.set("numDigits", "1")
            gather.set("hints", ", ".join(options))
        self._say(gather, last)
        redirect = ET.SubElement(root, "Redirect", method="POST")
        redirect.text = f"{action}&{urllib.parse.urlencode({'noinput': silent + 1})}"
        return XML, _twiml(root)

    async def _replies(self, ids: list[int], request: HTTPServerRequest, call: str
                       ) -> tuple[list[dict[str, Any]], int | None, int]:
        """The payloads to speak, the inbound message they answer (the next Gather's ``turn``)
        and how many times the caller said nothing: this request's messages' replies, or, for
        a noinput redirect, the replies of the ``turn`` it names (of this call only)."""
        if self.dispatcher is None:
            return [], None, 0
        queue = self.dispatcher.queue
        silent = 0
        if not ids:
            args = _query(request)
            turn = _count(args.get("turn")) or None
            silent = _count(args.get("noinput"))
            item = await queue.inbox(turn) if turn is not None else None
            if item is None or (item.bot_id, item.channel, item.address) != (self.bot, self.name, call):
                return [], None, silent
            ids = [item.id]
        payloads = [o.payload for i in ids for o in await queue.outbox(inbox_id=i)
                    if o.status == "inline" and o.address == call]
        return payloads, ids[-1], silent

    def _say(self, parent: ET.Element, payload: dict[str, Any]) -> None:
        """One reply: its text as a ``<Say>`` (a menu's options read out after it), an audio
        file as a ``<Play>``."""
        text = str(payload.get("content") or "")
        options = options_of(payload)
        if options:
            say, for_, or_ = SAY_OPTION.get(self.language.split("-")[0].lower(), SAY_OPTION["en"])
            items = [f"{i} {for_} {o}" for i, o in enumerate(options, 1)]
            listed = f"{', '.join(items[:-1])}, {or_} {items[-1]}" if len(items) > 1 else items[0]
            text = f"{text} {say} {listed}." if text else f"{say} {listed}."
        if text:
            ET.SubElement(parent, "Say", language=self.language).text = text
        file = payload.get("file")
        if file and str(file.get("type") or "").startswith("audio/"):
            ET.SubElement(parent, "Play").text = self.public(str(file["url"]))

    @property
    def language(self) -> str:
        """The ``language`` of ``<Say>`` and ``<Gather>``: twilio-voice-language, else the bot's."""
        configured = self.config.get("twilio-voice-language")
        if configured:
            return configured
        bot = "en"
        if self.dispatcher is not None:
            bot = str(self.dispatcher.channels.bots.get(self.bot).settings.language or "en")
        return twilio_language(bot)


def twilio_language(language: str) -> str:
    """A bot's language as Twilio names it: ``pt`` -> ``pt-BR``, ``pt-br`` -> ``pt-BR``, ``en`` -> ``en-US``."""
    lang, _, region = language.replace("_", "-").partition("-")
    if region:
        return f"{lang.lower()}-{region.upper()}"
    return LANGUAGES.get(lang.lower(), lang.lower() or "en-US")


def _twiml(root: ET.Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="unicode").encode()


def _query(request: HTTPServerRequest) -> dict[str, str]:
    return {k: v[-1].decode("utf-8", "replace") for k, v in request.query_arguments.items()}


def _count(raw: str | None) -> int:
    return int(raw) if raw and raw.strip().isdigit() else 0


def _spoken(text: str) -> str:
    """A speech result as HEAR should read it: Twilio's recogniser ends a sentence with a full
    stop ("Ana."), which no name or menu option has."""
    return text.strip().rstrip(".!?")


def _media_name(url: str, mime: str | None) -> str:
    """A file name for a MediaUrl (Twilio gives none): its media SID and the type's extension, ``ME1f....png``."""
    sid = urllib.parse.urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or "media"
    ext = mimetypes.guess_extension((mime or "").split(";")[0].strip()) or ""
    return sid + ext


def _media_kind(mime: str) -> str:
    top = mime.split("/", 1)[0]
    return top if top in ("image", "audio", "video") else "document"


async def _failed(response: Any, what: str) -> DeliveryFailed:
    """failed_response, with Twilio's own error (``{"code", "message"}``) in its message."""
    failure = await failed_response(response, what)
    try:
        error = response.json()
        failure.message = f"{what} answered {response.status_code}: {error['code']} {error['message']}"
        failure.args = (failure.message,)
    except Exception:  # not Twilio's JSON: failed_response kept the body as it was
        pass
    return failure
