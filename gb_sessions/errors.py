"""Errors of the session layer. Each class carries its consequence: an HTTP status, a code.

Tree::

    Refusal                        a request refused, with its consequence (also gb_runtime's root)
    └── SessionError               every error this package raises
        ├── AuthenticationFailed 401   wrong user name or password
        ├── UserExists           409   a user name taken (users.py)
        ├── VariablesTooLarge    413   over max-variables-kb
        ├── RateLimited          429   over rate-limit messages per minute (retry_after seconds)
        │   └── TooManyNewSessions 429 over session-create-rate new sessions a minute from one client
        ├── TooManySessions      503   the bot has max-sessions active sessions (retry_after seconds)
        ├── StoreUnavailable     503   the SQL database cannot be reached (retry_after seconds)
        ├── TableError           400   a bot table refused an operation: no such table or column, a value
        │                              its column cannot hold, a duplicate key (tables.py)
        ├── SessionBusy          503   another message held the session for all of the wait (retry_after:
        │   │                          what is left of its lease; locks.py)
        │   └── LockLost         503   the turn lost its session's lock before it committed (nothing saved)
        ├── SessionExists        409   a session of that id exists already (a channel's first message
        │                              handled twice: the second start stores nothing)
        ├── InboxDone            409   the inbound message was handled already (by another process,
        │                              after this one's claim lapsed): this turn is not stored
        └── ConcurrentUpdate     409   the session changed under us (the caller retries the turn)
            └── LostUpdate       409   a background save found the session changed (writebehind.py)

What the runtime refuses (tokens, sessions, bots, uploads) is gb_runtime's own tree.
"""

from __future__ import annotations

__all__ = [
    "Refusal", "SessionError", "AuthenticationFailed", "VariablesTooLarge", "RateLimited", "TooManyNewSessions",
    "TooManySessions", "StoreUnavailable", "TableError", "SessionBusy", "LockLost", "ConcurrentUpdate",
    "SessionExists", "InboxDone",
]


class Refusal(Exception):
    """A request refused: `status` is its HTTP status, `code` a stable name, `retry_after`
    seconds when trying again later can work. A front turns any Refusal into its response."""

    status = 500
    code = "refused"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, object]:
        """The JSON body of an error response: ``{"error": {"code", "message"}}``."""
        return {"error": {"code": self.code, "message": self.message}}


class SessionError(Refusal):
    """Root of the session errors."""

    code = "session_error"


class AuthenticationFailed(SessionError):
    status, code = 401, "authentication_failed"


class VariablesTooLarge(SessionError):
    status, code = 413, "variables_too_large"


class RateLimited(SessionError):
    status, code = 429, "rate_limited"


class TooManyNewSessions(RateLimited):
    status, code = 429, "too_many_new_sessions"


class TooManySessions(SessionError):
    status, code = 503, "too_many_sessions"


class StoreUnavailable(SessionError):
    status, code = 503, "store_unavailable"


class TableError(SessionError):
    """A bot table refused an operation; the message names the table, the column and the value
    as the dialog wrote them (the runtime turns it into the dialog's BasicRuntimeError)."""

    status, code = 400, "table_error"


class SessionBusy(SessionError):
    """Another message of the session held its lock for all of the wait (locks.LOCK_WAIT)."""

    status, code = 503, "session_busy"


class LockLost(SessionBusy):
    """The turn could not keep its lock (its lease expired, another turn holds it now, or Valkey did
    not answer for a whole lease): its save is refused, nothing of the turn is stored. Not a
    ConcurrentUpdate: running the turn again would run it without the lock."""

    status, code = 503, "lock_lost"


class ConcurrentUpdate(SessionError):
    status, code = 409, "concurrent_update"


class SessionExists(SessionError):
    """A session of that id is stored already (ids derived from a channel's first message make a
    second start of one conversation fail here, with nothing written)."""

    status, code = 409, "session_exists"


class InboxDone(SessionError):
    """The inbound message this turn handles was handled already: the turn is rolled back (a
    message is handled once, even when two processes both got to it)."""

    status, code = 409, "inbox_done"
