"""Proving that an address on another channel is the user's: SEND CODE and VERIFY CODE.

A phone number or an email typed in a chat is a claim, not proof: whoever answers at that
address may be someone else. A dialog proves it the way people do, with a code sent there and
typed back::

    TALK "Your WhatsApp number?"
    HEAR phone
    SEND CODE "whatsapp", phone          ' "Your code for <bot>: 123456", through the outbox
    TALK "Type the code we sent you"
    HEAR typed
    IF VERIFY CODE typed THEN
      TRANSFER_SESSION "whatsapp", phone
    END IF

A code is six digits from ``secrets``, kept only as a hash in the session's context with its
address, for CODE_MINUTES, and for CODE_TRIES wrong answers at most (then it is gone: a new
SEND CODE is needed). A right one marks the address verified for this conversation and, when a
user is logged in, links it to the user (``user_identities``): their later conversations may move
there (TRANSFER_SESSION), and a login on that channel finds them. A login from a channel's
conversation links its address too (the login is the proof): see DialogRuntime.login.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable
from typing import Any

from gb_basic import BasicRuntimeError, values
from gb_sessions import Session, UserStore
from gb_sessions.users import UserExists

from .messaging import Messaging

__all__ = ["Verification", "verified", "proven", "link", "CODE_MINUTES", "CODE_TRIES"]

CODE_MINUTES = 10
CODE_TRIES = 5
PENDING, VERIFIED = "verifying", "verified"  # the session context's slots


def verified(session: Session, channel: str, address: str) -> bool:
    """Whether this conversation proved `address` on `channel` with a code (VERIFY CODE)."""
    return f"{channel}:{address}" in session.context.get(VERIFIED, [])


def proven(session: Session) -> list[tuple[str, str]]:
    """The (channel, address) pairs this conversation proved with a code."""
    return [(channel, address) for channel, _, address in
            (str(item).partition(":") for item in session.context.get(VERIFIED, []))]


async def link(users: UserStore, user_id: uuid.UUID, channel: str, address: str) -> bool:
    """Link a proven address to the user (user_identities); False when it is another user's
    already (it stays theirs)."""
    try:
        await users.link(user_id, channel, address)
    except UserExists:
        return False
    return True


class Verification:
    """SEND CODE and VERIFY CODE of one turn of `session`."""

    def __init__(self, session: Session, messaging: Messaging, users: UserStore | None, bot_name: str,
                 clock: Callable[[], dt.datetime]) -> None:
        self.session, self.messaging, self.users = session, messaging, users
        self.bot_name, self.clock = bot_name, clock

    def _hash(self, code: str) -> str:
        return hashlib.sha256(f"{self.session.id}:{code.strip()}".encode()).hexdigest()

    def send_code(self, args: list[Any]) -> None:
        """``SEND CODE channel, address``: a new code to that address (the one before is void)."""
        if len(args) < 2:
            raise BasicRuntimeError(f"SEND CODE expects channel, address, got {len(args)} argument(s)")
        channel = self.messaging.configured("SEND CODE", values.to_str(args[0]))
        address = values.to_str(args[1]).strip()
        code = f"{secrets.randbelow(10 ** 6):06d}"
        self.messaging.queue(channel, address, {"content": f"Your code for {self.bot_name}: {code}"},
                             f"SEND CODE {channel}")
        expires = self.clock() + dt.timedelta(minutes=CODE_MINUTES)
        self.session.context[PENDING] = {"channel": channel, "address": address, "hash": self._hash(code),
                                         "expires": expires.isoformat(), "tries": 0}

    async def verify_code(self, args: list[Any]) -> bool:
        """``VERIFY CODE typed``: True when `typed` is the code SEND CODE sent, in time; the
        address is then verified (and linked to the logged-in user). False otherwise (no code
        pending, expired, wrong: after CODE_TRIES wrong ones the code is gone)."""
        pending = self.session.context.get(PENDING)
        if not isinstance(pending, dict) or not args:
            return False
        if self.clock() > dt.datetime.fromisoformat(str(pending["expires"])):
            self.session.context.pop(PENDING, None)
            return False
        if not hmac.compare_digest(self._hash(values.to_str(args[0])), str(pending["hash"])):
            pending["tries"] = int(pending.get("tries", 0)) + 1
            if pending["tries"] >= CODE_TRIES:
                self.session.context.pop(PENDING, None)
            return False
        self.session.context.pop(PENDING, None)
        channel, address = str(pending["channel"]), str(pending["address"])
        proven: list[str] = self.session.context.setdefault(VERIFIED, [])
        if f"{channel}:{address}" not in proven:
            proven.append(f"{channel}:{address}")
        if self.session.user_id is not None and self.users is not None:  # another user's stays theirs
            await link(self.users, self.session.user_id, channel, address)
        self.session.add("system", f"VERIFY CODE: {channel} {address} verified")
        return True
