"""SEND TEMPLATE, SEND SMS and SEND MAIL: messages a dialog sends to an address on a channel, from any
channel (a web chat, a scheduled dialog), through the channel's outbox.

Like a turn's replies (routing.py), each is an outbox row of the running turn, written in its
transaction and delivered after its commit; the session's history records it as a system
message (``SEND TEMPLATE welcome to 5511...``). A channel the server does not serve, or that the
bot's config.csv does not turn on, fails the statement with "channel not configured".

A template (WhatsApp's pre-approved messages: the only ones allowed outside its 24-hour window)
is ``{name, language, parameters}``: the language is the session's (``pt`` → ``pt_BR``) unless
config.csv's ``whatsapp-template-language`` says otherwise; `vars` is one value or an array of
the template body's parameters, in order.

A mail (SEND MAIL, SEND EMAIL) is ``{content, mail: {subject}, files}``: the email channel
sends it as a mail of its own (not a reply in a thread), one row per address of `to` (commas
or semicolons between them), its files attached.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gb_basic import BasicRuntimeError, values
from gb_sessions import Outgoing, Session

from .bots import BotPackage
from .routing import config_prefix

__all__ = ["Messaging", "template_language", "mail_addresses"]

ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
LANGUAGES = {"pt": "pt_BR", "en": "en_US", "es": "es", "fr": "fr", "de": "de", "it": "it"}


def template_language(language: str) -> str:
    """WhatsApp's code of a language (``pt`` → ``pt_BR``; ``pt-BR`` → ``pt_BR``)."""
    low = language.strip().replace("-", "_")
    return LANGUAGES.get(low.lower(), low)


class Messaging:
    """The messaging keywords of one turn of `session`."""

    def __init__(self, session: Session, bot: BotPackage, channels: Mapping[str, str]) -> None:
        self.session = session
        self.bot = bot
        self.channels = channels

    def configured(self, keyword: str, channel: str, *, allow_web: bool = False) -> str:
        """The channel's name, if the server serves it and the bot's config.csv turns it on (the
        web, when `allow_web`, always is).

        Raises:
            BasicRuntimeError: "channel not configured", saying which and for which bot.
        """
        name = channel.strip().lower()
        if allow_web and name == "web":
            return name
        prefix = config_prefix(name)
        if name not in self.channels or not any(k.startswith(prefix) and v.strip()
                                                for k, v in self.bot.settings.extra.items()):
            raise BasicRuntimeError(f"{keyword}: channel not configured (the {name or '?'} channel is not set up "
                                    f"for bot {self.bot.name}: its keys are not in config.csv)")
        return name

    def queue(self, channel: str, to: str, payload: dict[str, Any], note: str) -> None:
        """An outbox row of this turn for `to` on `channel` (already checked), noted in the history."""
        if not to.strip():
            raise BasicRuntimeError(f"{note}: the address is empty")
        self.session.outbox.append(Outgoing(channel, to.strip(), payload, self.session.bot_id))
        self.session.add("system", f"{note} to {to.strip()}")

    def send_template(self, args: list[Any]) -> None:
        """``SEND TEMPLATE name, channel, to[, vars]``."""
        if len(args) < 3:
            raise BasicRuntimeError(f"SEND TEMPLATE expects name, channel, to[, vars], got {len(args)} argument(s)")
        name, channel, to = (values.to_str(a) for a in args[:3])
        if not name.strip():
            raise BasicRuntimeError("SEND TEMPLATE: the template's name is empty")
        channel = self.configured("SEND TEMPLATE", channel)
        params = args[3] if len(args) > 3 else []
        params = params if isinstance(params, list) else [params]
        language = self.bot.settings.extra.get(f"{channel}-template-language") \
            or template_language(str(self.session.context.get("language") or self.bot.settings.language))
        self.queue(channel, to, {"template": {"name": name.strip(), "language": language,
                                               "parameters": [values.to_str(p) for p in params]}},
                    f"SEND TEMPLATE {name.strip()}")

    def send_sms(self, args: list[Any]) -> None:
        """``SEND SMS to, text``."""
        if len(args) < 2:
            raise BasicRuntimeError(f"SEND SMS expects to, text, got {len(args)} argument(s)")
        to, text = values.to_str(args[0]), values.to_str(args[1])
        self.queue(self.configured("SEND SMS", "sms"), to, {"content": text}, "SEND SMS")

    def send_mail(self, args: list[Any], files: list[dict[str, Any]]) -> None:
        """``SEND MAIL to, subject, body[, attachments]`` (`files`: the attachments, resolved by
        the caller into stored file objects)."""
        if len(args) < 3:
            raise BasicRuntimeError(f"SEND MAIL expects to, subject, body[, attachments], got {len(args)} argument(s)")
        to, subject, body = (values.to_str(a) for a in args[:3])
        if "email" not in self.channels or not all(self.bot.settings.extra.get(k, "").strip()
                                                   for k in ("email-smtp-url", "email-from")):
            raise BasicRuntimeError(f"SEND MAIL: channel not configured (no email channel is set up for bot "
                                    f"{self.bot.name})")
        payload: dict[str, Any] = {"content": body, "mail": {"subject": subject.strip()}}
        if files:
            payload["files"] = files
        for address in mail_addresses(to):
            self.queue("email", address, payload, f"SEND MAIL {subject.strip()!r}")



def mail_addresses(to: str) -> list[str]:
    """The addresses of SEND MAIL's `to` (commas or semicolons between them).

    Raises:
        BasicRuntimeError: none, or one that is not an address.
    """
    found = [a.strip() for a in re.split(r"[,;]", to) if a.strip()]
    if not found:
        raise BasicRuntimeError("SEND MAIL: the address is empty")
    for a in found:
        if not ADDRESS.match(a):
            raise BasicRuntimeError(f"SEND MAIL: {a[:80]!r} is not an e-mail address")
    return found
