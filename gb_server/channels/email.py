"""Email: the bot's mailbox read over IMAP (mailbox.py's poller), its replies sent by SMTP.

config.csv keys: ``email-smtp-url`` (``smtp://user:pass@host:587``, STARTTLS when the server
offers it; ``smtps://user:pass@host:465``, implicit TLS) and ``email-from`` (the bot's address)
turn the channel on (replies, SEND MAIL); ``email-imap-url`` (``imaps://user:pass@host:993/INBOX``,
``imap://`` without TLS) makes the bot read its mailbox, every ``email-poll-seconds`` (default 30);
``email-rate-per-hour`` (default 20) caps the mails of one sender that become messages;
``email-subject`` is the subject of a mail that answers none; ``email-authserv-id`` (the
receiving server's name in its ``Authentication-Results``) makes only mail that server
authenticated (DMARC, else DKIM for the From domain) a message. Any value may be ``env:NAME``.

- In: each new mail of the mailbox is one inbound message, its platform id the Message-ID (the
  inbox stores a mail once however often it is fetched), its address the conversation's: the
  address of the thread the mail belongs to (its References' root, then its In-Reply-To, looked
  up among the bot's stored mails) and otherwise its sender. The text is the new part only
  (quoted history, "On ... wrote:" and a "-- " signature stripped: mail-parser-reply); the
  first attachment feeds ``HEAR ... AS FILE`` from the mail's own bytes.
- Not turned into messages: automatic mail (``Auto-Submitted`` other than ``no``, RFC 3834;
  ``Precedence: bulk/list/junk``), bounces (mailer-daemon, postmaster, an empty Return-Path),
  no-reply senders, the bot's own address, and a sender past the hourly rate. They are marked
  read and passed over, logged.
- ``From`` is a claim, not a proof (protocols.md §4.4): an email session is anonymous, like
  every channel's, and nothing here logs a user in by it. With ``email-authserv-id`` a mail
  whose From the receiving server did not authenticate is passed over, logged.
- Out: one multipart/alternative mail (text and HTML, a menu's options numbered, a file
  attached) per reply, threaded on the user's last mail: ``In-Reply-To`` its Message-ID,
  ``References`` its References and its Message-ID, ``Subject: Re: <its subject>`` (never "Re:
  Re:"), ``Auto-Submitted: auto-replied`` (SEND MAIL's new mails: ``auto-generated``); the
  Message-ID it sets is the outbound message's platform id (a user's reply to it finds the thread).
"""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import email.utils
import html
import logging
import re
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote, urlsplit

import aiosmtplib
import authres
from mailparser_reply import EmailReplyParser
from tornado.httputil import HTTPServerRequest

from gb_runtime import MailboxStore

from ..base import ApiError
from .base import Channel, DeliveryFailed, Parsed, Received, numbered, options_of

if TYPE_CHECKING:
    from gb_runtime import OutboxItem

__all__ = ["Email", "MailServer", "Skipped", "read_mail", "new_text", "reply_subject", "server_of"]

log = logging.getLogger("gb.channels")
MAX_ATTACHMENT = 10 * 1024 * 1024  # bytes: larger attachments are left out of the message (named in its text)
MAX_REFERENCES = 20  # ids kept in a reply's References (RFC 5322 lets it grow; servers cap header lines)
SMTP_TIMEOUT = 30.0  # seconds, each SMTP step
NO_REPLY = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+.-].*)?$", re.I)
RE = re.compile(r"^\s*((re|aw|sv|res)\s*(\[\d+\])?\s*:\s*)+", re.I)
WROTE = re.compile(r"^\s*(on|em|el|le|am|il|op)\b.*\b(wrote|escreveu|escribió|a écrit|schrieb|ha scritto|schreef)"
                   r"\s*:\s*$", re.I)  # the line that introduces the quoted history, where the parser missed it
LANGUAGES = ["en", "pt", "es", "de", "fr", "it", "nl"]


@dataclass(frozen=True)
class MailServer:
    """An IMAP or SMTP server of a config.csv URL: host, port, TLS, login, the IMAP folder."""

    scheme: str
    host: str
    port: int
    user: str | None
    password: str | None
    folder: str

    @property
    def tls(self) -> bool:
        return self.scheme in ("imaps", "smtps")

    @property
    def name(self) -> str:
        """The mailbox's name without credentials (its cursor's key, what logs show)."""
        return f"{self.user or ''}@{self.host}:{self.port}/{self.folder}"


DEFAULT_PORTS = {"imap": 143, "imaps": 993, "smtp": 587, "smtps": 465}


def server_of(bot: str, key: str, url: str) -> MailServer:
    """The server of config.csv's `key`.

    Raises:
        ApiError: 503 channel_misconfigured (not an imap/imaps/smtp/smtps URL with a host).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    wanted = ("imap", "imaps") if key == "email-imap-url" else ("smtp", "smtps")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if scheme not in wanted or not parts.hostname or port == -1:
        raise ApiError(503, "channel_misconfigured", f"bot {bot}: {key} must be {wanted[0]}://user:password@host:port"
                                                     f" or {wanted[1]}://..., got scheme {scheme or '(none)'}")
    folder = unquote(parts.path.strip("/")) or "INBOX"
    return MailServer(scheme, parts.hostname, port or DEFAULT_PORTS[scheme],
                      unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None, folder)


class Skipped(Exception):
    """A mail that is not a user's message (automatic, a bounce, unreadable): why, for the log."""


class _Text(HTMLParser):
    """The text of an HTML body (a mail without a text part): its data, blocks on lines of their own."""

    BLOCKS: ClassVar[set[str]] = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "blockquote"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.quote = 0  # inside a <blockquote>: the quoted history, left out

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "blockquote":
            self.quote += 1
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "blockquote" and self.quote:
            self.quote -= 1

    def handle_data(self, data: str) -> None:
        if not self.quote:
            self.parts.append(data)


def html_text(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    return re.sub(r"\n\s*\n+", "\n\n", "".join(parser.parts)).strip()


def new_text(body: str) -> str:
    """The part of a mail's text the user wrote now: quoted history ("On ... wrote:" in the
    languages mail-parser-reply knows, lines starting with ">") and the signature (after a
    "-- " line) left out."""
    body = body.replace("\r\n", "\n")
    try:
        text = EmailReplyParser(languages=LANGUAGES).parse_reply(text=body)
    except Exception:  # the parser's regexes on a body it does not expect: keep the whole text
        text = body
    lines: list[str] = []
    for line in (text or "").split("\n"):
        if line.rstrip() in ("--", "-- ") or WROTE.match(line):  # a signature (RFC 3676's "-- ") or the history
            break
        if line.lstrip().startswith(">"):
            continue
        lines.append(line)
    return "\n".join(lines).strip()


def reply_subject(subject: str) -> str:
    """``Re: <subject>``, one Re: however many the subject had (``Re: Re: x`` → ``Re: x``)."""
    core = RE.sub("", subject or "").strip()
    return f"Re: {core}" if core else "Re:"


def _ids(header: str | None) -> list[str]:
    return re.findall(r"<[^<>\s]+>", str(header or ""))


def automatic(message: EmailMessage, sender: str, bot_address: str | None) -> str | None:
    """Why a mail is automatic (not a person's message), or None when it is a person's."""
    auto = str(message.get("Auto-Submitted") or "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = str(message.get("Precedence") or "").strip().lower()
    if precedence in ("bulk", "list", "junk"):
        return f"Precedence: {precedence}"
    if str(message.get("Return-Path") or "").strip() == "<>":
        return "a bounce (empty Return-Path)"
    local = sender.split("@", 1)[0]
    if NO_REPLY.match(local):
        return f"an automatic sender ({sender})"
    if bot_address and sender == bot_address.lower():
        return "the bot's own mail"
    return None


def unauthenticated(message: EmailMessage, sender: str, authserv_id: str) -> str | None:
    """Why the receiving server `authserv_id` did not vouch for the mail's From, or None when it
    did: its ``Authentication-Results`` header (RFC 8601; the topmost of that server's, which a
    well-configured server strips from incoming mail before writing its own) says ``dmarc=pass``,
    or, with no DMARC result, ``dkim=pass`` with a signing domain (``header.d``) that is From's
    domain or one of its parents. Headers of other servers are the sender's to write: ignored."""
    domain = sender.rsplit("@", 1)[-1]
    for raw in message.get_all("Authentication-Results") or []:
        try:
            header = authres.AuthenticationResultsHeader.parse_value(str(raw))
        except Exception:  # not RFC 8601: not the server's either
            continue
        if str(header.authserv_id).lower() != authserv_id.lower():
            continue
        dmarc = [r for r in header.results if r.method == "dmarc"]
        if dmarc:
            return None if dmarc[0].result == "pass" else (
                f"not authenticated: {authserv_id} says dmarc={dmarc[0].result} for {domain}")
        for r in header.results:
            if (r.method, r.result) != ("dkim", "pass"):
                continue
            signer = next((str(p.value).lower() for p in r.properties if (p.type, p.name) == ("header", "d")), "")
            if signer and (domain == signer or domain.endswith("." + signer)):
                return None
        found = ", ".join(f"{r.method}={r.result}" for r in header.results) or "none"
        return f"not authenticated: {authserv_id} found no DMARC pass and no DKIM pass for {domain} ({found})"
    return f"not authenticated: no Authentication-Results of {authserv_id}"


def read_mail(raw: bytes, bot_address: str | None, fallback_id: str, authserv_id: str | None = None) -> Received:
    """A fetched mail as an inbound message (the address is its sender's; the poller may give it
    its thread's). `fallback_id` is its id when it has no Message-ID (the mailbox's UIDVALIDITY and UID).
    With `authserv_id` (config.csv's ``email-authserv-id``), only a mail that server
    authenticated is one (:func:`unauthenticated`).

    Raises:
        Skipped: an automatic mail, a bounce, one without a sender address, or one not authenticated.
    """
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    name, sender = email.utils.parseaddr(str(message.get("From") or ""))
    sender = sender.strip().lower()
    if "@" not in sender:
        raise Skipped(f"no sender address (From: {str(message.get('From') or '')[:80]!r})")
    why = automatic(message, sender, bot_address) or (authserv_id and unauthenticated(message, sender, authserv_id))
    if why:
        raise Skipped(why)
    message_id = (_ids(message.get("Message-ID")) or [f"<{fallback_id}>"])[0]
    references = _ids(message.get("References"))
    parents = _ids(message.get("In-Reply-To"))
    in_reply_to = parents[0] if parents else None
    subject = str(message.get("Subject") or "").strip()
    text = _body_text(message)
    attachments, dropped = _attachments(message)
    for d in dropped:
        text += f"\n[attachment {d} left out: over {MAX_ATTACHMENT // 1024 // 1024} MB]"
    if not text and not attachments:
        text = RE.sub("", subject).strip()  # a mail whose subject is the message
    root = references[0] if references else in_reply_to or message_id
    extra = {"message_id": message_id, "references": references, "in_reply_to": in_reply_to,
             "subject": subject, "from": sender, "root": root}
    return Received(message_id, sender, text, None, attachments, name or None, extra)


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset: the bytes as UTF-8, mended
        raw = part.get_payload(decode=True)
        content = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
    content = str(content)
    if part.get_content_type() == "text/html":
        content = html_text(content)
    return new_text(content)


def _attachments(message: EmailMessage) -> tuple[list[dict[str, Any]], list[str]]:
    """The mail's attachments and the names of those too large to keep. The first keeps its
    bytes, in base64 (the turn stores it for HEAR AS FILE: there is no platform to fetch it
    from); the others only their names and types (the inbox row stays small)."""
    kept: list[dict[str, Any]] = []
    dropped: list[str] = []
    for part in message.iter_attachments():
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        name = part.get_filename() or "attachment"
        if len(data) > MAX_ATTACHMENT:
            dropped.append(name)
            continue
        ref: dict[str, Any] = {"kind": "email", "name": name, "type": part.get_content_type(), "size": len(data)}
        if not kept:
            ref["data"] = base64.b64encode(data).decode("ascii")
        kept.append(ref)
    return kept, dropped


class Email(Channel):
    """The email channel of a bot (see the module docstring); its mailbox is read by mailbox.py."""

    name = "email"
    path = ""  # no webhook: the mailbox is polled
    keys = ("email-smtp-url", "email-from")

    async def verify(self, request: HTTPServerRequest, body: bytes) -> None:
        raise ApiError(404, "channel_off", "the email channel has no webhook: it reads its IMAP mailbox")

    def parse(self, request: HTTPServerRequest, body: bytes) -> Parsed:
        raise ApiError(404, "channel_off", "the email channel has no webhook: it reads its IMAP mailbox")

    @property
    def address(self) -> str:
        """The bot's own address (``email-from``'s, without its display name)."""
        return email.utils.parseaddr(self.config.require("email-from"))[1].lower()

    def imap(self) -> MailServer | None:
        """The mailbox to read, or None when the bot only sends."""
        url = self.config.get("email-imap-url")
        return server_of(self.bot, "email-imap-url", url) if url else None

    async def fetch(self, attachment: dict[str, Any]) -> tuple[bytes, str | None, str | None]:
        """An attachment's bytes, kept in the inbound message (a mail carries its files)."""
        try:
            return base64.b64decode(attachment["data"]), attachment.get("name"), attachment.get("type")
        except (KeyError, ValueError):
            raise DeliveryFailed("the mail's attachment was not kept", retry=False) from None

    # --- out -----------------------------------------------------------------------------------------
    async def send(self, item: OutboxItem) -> str | None:
        message = await self.compose(item)
        await self._submit(message, item.address)
        return str(message["Message-ID"])

    async def compose(self, item: OutboxItem) -> EmailMessage:
        """The mail of an outbound message: threaded on the user's last mail (or SEND MAIL's own
        subject), text and HTML, its files attached."""
        payload = item.payload
        sender = self.config.require("email-from")
        message = EmailMessage()
        message["From"] = sender
        message["To"] = item.address
        message["Date"] = email.utils.formatdate(localtime=False)
        message["Message-ID"] = email.utils.make_msgid(domain=self.address.split("@", 1)[1] or None)
        mail = payload.get("mail")
        if isinstance(mail, dict):  # SEND MAIL: a mail of its own
            message["Subject"] = str(mail.get("subject") or "")
            message["Auto-Submitted"] = "auto-generated"
        else:
            parent = await self._parent(item)
            message["Auto-Submitted"] = "auto-replied"
            if parent is not None:
                message["Subject"] = reply_subject(str(parent.get("subject") or ""))
                parent_id = parent.get("message_id")
                if parent_id:
                    message["In-Reply-To"] = parent_id
                    refs = [*(parent.get("references") or []), parent_id][-MAX_REFERENCES:]
                    message["References"] = " ".join(refs)
            else:
                message["Subject"] = self.config.get("email-subject") or f"A message from {self.bot}"
        text = numbered(str(payload.get("content") or ""), options_of(payload))
        message.set_content(text or " ")
        message.add_alternative(_html(str(payload.get("content") or ""), options_of(payload)), subtype="html")
        files = [payload["file"]] if isinstance(payload.get("file"), dict) else []
        files += [f for f in payload.get("files") or [] if isinstance(f, dict)]
        for f in files:
            await self._attach(message, item.bot_id, f)
        return message

    async def _parent(self, item: OutboxItem) -> dict[str, Any] | None:
        """What a reply threads on: the extra of the mail it answers (its turn's), else the
        address's last mail; None when the address never wrote (a TALK TO)."""
        mailboxes = self._mailboxes()
        if mailboxes is None:
            return None
        payload = await mailboxes.payload(item.inbox_id) if item.inbox_id is not None else None
        if payload is None or payload.get("extra") is None:
            payload = await mailboxes.last_payload(item.bot_id, self.name, item.address)
        extra = (payload or {}).get("extra")
        return extra if isinstance(extra, dict) else None

    def _mailboxes(self) -> MailboxStore | None:
        return MailboxStore(self.dispatcher.queue.engine) if self.dispatcher is not None else None

    async def _attach(self, message: EmailMessage, bot: str, file: dict[str, Any]) -> None:
        files = getattr(self.dispatcher.turns.ctx.runtime, "files", None) if self.dispatcher else None
        if file.get("id") is not None and files is not None:
            try:
                stored = await files.open(bot, str(file["id"]))
                data = await asyncio.to_thread(stored.read)
            except Exception as exc:
                raise DeliveryFailed(f"the file {file.get('name')!r} to attach cannot be read: {exc}",
                                     retry=False) from None
            maintype, _, subtype = str(file.get("type") or "application/octet-stream").partition("/")
            message.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream",
                                   filename=str(file.get("name") or "file"))
            return
        if file.get("url"):  # a link (SEND FILE of a URL): named in the text
            body = message.get_body(preferencelist=("plain",))
            if body is not None:
                body.set_content(str(body.get_content()).rstrip() + f"\n\n{file.get('name') or 'file'}: "
                                 f"{self.public(str(file['url']))}\n")

    async def _submit(self, message: EmailMessage, to: str) -> None:
        """Hand the mail to the submission server.

        Raises:
            DeliveryFailed: refused (5xx: not retried) or not reachable / 4xx (retried).
        """
        server = server_of(self.bot, "email-smtp-url", self.config.require("email-smtp-url"))
        try:
            await aiosmtplib.send(message, sender=self.address, recipients=[to], hostname=server.host,
                                  port=server.port, username=server.user, password=server.password,
                                  use_tls=server.tls, start_tls=None if not server.tls else False,
                                  timeout=SMTP_TIMEOUT)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise DeliveryFailed(f"the SMTP server refused {to}: {exc.recipients[0].message if exc.recipients else ''}",
                                 retry=all(400 <= c < 500 for c in codes)) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"the SMTP server answered {exc.code}: {exc.message}",
                                 retry=400 <= exc.code < 500) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"the SMTP server {server.host}:{server.port} could not be reached: {exc}",
                                 retry=True) from None


def _html(text: str, options: list[str]) -> str:
    paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n") if p)
    menu = "<ol>" + "".join(f"<li>{html.escape(o)}</li>" for o in options) + "</ol>" if options else ""
    return f"<!DOCTYPE html><html><body>{paragraphs}{menu}</body></html>"
