"""Which replies of a turn leave through the outbox, and in what form (design.md, Channels).

A session on a push channel (WhatsApp, Telegram, SMS) gets its replies by a call the server
makes to the platform after the turn's commit; an inline channel (voice) answers in the
webhook's own HTTP response. Either way the replies are rows of the outbox written in the
turn's transaction (:class:`gb_sessions.Outgoing`), in gb's own terms: the channel's adapter
renders them (buttons, lists, numbered options, ``<Say>``/``<Gather>``).

The payload of a row: ``content`` (the text), ``choices`` (a HEAR's menu), ``file`` (SEND FILE's
``{name, type, size, url}``), ``suggestions`` (the labels the bot offers after its last reply),
``waiting`` (what the dialog now waits for: its type, so a BOOLEAN HEAR can show Yes/No),
``template`` (SEND TEMPLATE's ``{name, language, parameters}``).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any

from gb_sessions import Outgoing, Session

from .messages import Reply, Result

__all__ = ["PUSH", "INLINE", "config_prefix", "route", "session_id_for", "conversation_at", "addressed"]

PUSH, INLINE = "push", "inline"
_CHANNEL_SESSIONS = uuid.UUID("0b6f8f3e-5f7e-4a55-9d7c-3f1c2b6a9e10")


def config_prefix(channel: str) -> str:
    """What the config.csv keys of a channel start with: its platform's name (sms and voice are Twilio's)."""
    return "twilio-" if channel in ("sms", "voice") else channel + "-"


def session_id_for(bot: str, channel: str, address: str, platform_id: str) -> uuid.UUID:
    """The id of the session a channel's first inbound message starts: derived from that
    message (the platform's own id of it, and who sent it), so two processes handling it both
    try to create the same session and the second fails (SessionExists) with nothing stored:
    one conversation, one greeting. Not from the inbox's row id: those repeat in every
    database, and databases may share one Valkey (a test run's, staging's beside production's),
    where equal session ids would share cached state."""
    return uuid.uuid5(_CHANNEL_SESSIONS, f"{bot}/{channel}/{address}/{platform_id}")


def payload_of(reply: Reply) -> dict[str, Any]:
    """A reply in the outbox's terms (no row id or timestamp: those are the message's)."""
    d: dict[str, Any] = {"content": reply.content}
    if reply.choices:
        d["choices"] = list(reply.choices)
    file = getattr(reply, "file", None)
    if file:
        d["file"] = dict(file)
    return d


def route(session: Session, result: Result, modes: Mapping[str, str], *, inbox_id: int | None = None,
          handled: bool = False) -> None:
    """Queue the turn's replies on `session` for their channels (those `modes` names), and mark
    inbound message `inbox_id` done with the turn when `handled`.

    The replies of the session's own conversation go to its address on its channel, or, after a
    TRANSFER_SESSION in the turn (``result.handoffs``), to the new channel's address; a TALK TO's
    to the address it names, on the conversation's channel or on the one its prefix names
    (``"whatsapp:5511..."``: a web chat's or a scheduled dialog's proactive message). The last
    reply carries the suggestions and what the dialog waits for."""
    if handled and inbox_id is not None:
        session.inbox_done.append(inbox_id)
    replies = [(i, r) for i, r in enumerate(result.replies) if r.role == "assistant" or r.to]
    menu = result.waiting.choices if result.waiting is not None and result.waiting.kind == "hear" else None
    if menu and not any(r.choices for _, r in replies):
        if replies and not replies[-1][1].to:
            replies[-1] = (replies[-1][0], dataclasses.replace(replies[-1][1], choices=list(menu)))
        else:  # a HEAR with a menu and nothing said before it: the menu is a message of its own
            replies.append((len(result.replies), Reply("", choices=list(menu))))
    for n, (i, reply) in enumerate(replies):
        channel, address = conversation_at(session, result, i)
        if reply.to:
            channel, address = addressed(reply.to, channel, modes)
        mode = modes.get(channel)
        if mode is None or address is None:
            continue
        payload = payload_of(reply)
        if n == len(replies) - 1:
            if result.suggestions:
                payload["suggestions"] = [s.text for s in result.suggestions]
            if result.waiting is not None and result.waiting.kind == "hear":
                payload["waiting"] = {"type": result.waiting.type, "variable": result.waiting.variable}
        session.outbox.append(Outgoing(channel, address, payload, session.bot_id, inbox_id, inline=mode == INLINE))


def conversation_at(session: Session, result: Result, index: int) -> tuple[str, str | None]:
    """The channel and address of the conversation when the turn's reply `index` was said."""
    if not result.handoffs:
        return session.channel, session.address
    if index < result.handoffs[0].at:
        return result.handoffs[0].was, result.handoffs[0].was_address
    last = [h for h in result.handoffs if h.at <= index][-1]
    return last.channel, last.address


def addressed(to: str, channel: str, modes: Mapping[str, str]) -> tuple[str, str]:
    """A TALK TO's channel and address: ``"telegram:42"`` names its channel (one the server
    serves), a bare address is on the conversation's `channel`."""
    prefix, sep, rest = to.partition(":")
    if sep and prefix.strip().lower() in modes and rest.strip():
        return prefix.strip().lower(), rest.strip()
    return channel, to
