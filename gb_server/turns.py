"""The one turn path of the server: every front (REST, the web chat's WebSocket, Direct Line,
each channel to come) starts sessions and sends messages through it.

A message is validated (its length), handled by the runtime (which stores the turn, then
publishes it to the session's live listeners in every process), measured, and comes back as
a :class:`~gb_runtime.Result` whose ``to_dict()`` is the API's reply shape.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from gb_runtime import Inbound, Result

from .base import ApiError

if TYPE_CHECKING:
    from .app import Context

__all__ = ["Turns", "message_text"]


class Turns:
    """Sessions and messages for a front: the runtime's door, with the server's checks and metrics."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def start(self, bot: str, channel: str, client: str | None = None) -> Result:
        """A new session of `bot` on `channel` for `client` (its address: at most the bot's
        session-create-rate a minute); start.bas's replies come back with its token."""
        result = await self.ctx.runtime.start(bot, channel=channel, client=client)
        self.ctx.metrics.sessions_started.labels(result.bot).inc()
        return result

    async def message(self, inbound: Inbound) -> Result:
        """One user message: checked, handled (stored, then published), measured.

        Raises:
            ApiError: 413 message_too_long, 400 empty_message or bad_text.
            DialogRuntimeError, SessionError: what the runtime refuses (each with its status).
        """
        check_text(inbound.text, self.ctx.settings.max_message_chars)
        started = time.perf_counter()
        result = await self.ctx.runtime.handle(inbound)
        self.ctx.metrics.latency.labels(result.bot).observe(time.perf_counter() - started)
        self.ctx.metrics.messages.labels(result.bot, inbound.channel).inc()
        return result


def check_text(text: str, limit: int) -> None:
    """A message the session can store: not empty, not too long, no NUL, no lone surrogate
    (neither can be stored as text: PostgreSQL refuses NUL, UTF-8 has no surrogates). An empty
    message (or one of white space only) says nothing a HEAR could take: a 400, no turn."""
    if len(text) > limit:
        raise ApiError(413, "message_too_long", f"the message has {len(text):,} characters, more than {limit:,}")
    if not text.strip():
        raise ApiError(400, "empty_message", "the message is empty" if not text else
                       f"the message is empty: its {len(text):,} characters are all white space")
    if "\x00" in text:
        raise ApiError(400, "bad_text", f"the message has a NUL character at position {text.index(chr(0))}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ApiError(400, "bad_text", f"the message has a lone surrogate (\\u{ord(text[exc.start]):04x}) "
                                        f"at position {exc.start}") from None


def message_text(body: dict[str, Any], key: str = "message") -> str:
    """The text of a JSON body's `key` (a 400 when it is not a string)."""
    text = body.get(key)
    if not isinstance(text, str):
        raise ApiError(400, "bad_request", f'the body must be {{"{key}": "..."}}')
    return text
