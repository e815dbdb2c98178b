"""What goes into the runtime (Inbound) and what comes out (Reply, Result)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Inbound", "Reply", "Result"]


@dataclass
class Inbound:
    """One message for a bot. The session comes from `token` (web, API), from `session_id`
    (a trusted caller such as the notebook kernel) or from (`channel`, `address`)."""

    bot: str
    text: str
    channel: str = "web"
    token: str | None = None
    session_id: uuid.UUID | None = None
    address: str | None = None
    attachment: dict[str, Any] | None = None


@dataclass
class Reply:
    """One outbound message. `to` is set for TALK TO (another address)."""

    content: str
    role: str = "assistant"
    choices: list[str] | None = None
    to: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.choices:
            d["choices"] = self.choices
        if self.to:
            d["to"] = self.to
        return d


@dataclass
class Result:
    """The outcome of one message: the replies, and what the dialog now waits for."""

    session_id: uuid.UUID
    bot: str
    replies: list[Reply] = field(default_factory=list)
    waiting: dict[str, Any] | None = None
    token: str | None = None  # set when a session starts or a login issues a new token
    error: Exception | None = None  # a dialog that failed (the replies say so to the user)
    value: Any = None  # run_source: the value of the expression of an expression cell
    variables: dict[str, Any] | None = None  # run_source: the session's variables after the cell

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"session_id": str(self.session_id), "bot": self.bot,
                             "messages": [r.to_dict() for r in self.replies], "waiting": self.waiting}
        if self.token:
            d["token"] = self.token
        return d
