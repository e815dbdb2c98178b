"""Errors of the session layer. Each class carries its consequence: an HTTP status, a code.

Tree::

    SessionError                  every error this package raises
    ├── InvalidToken        401   unknown token
    ├── SessionExpired      401   an anonymous session past its expiry
    ├── WrongBot            401   a token of another bot
    ├── SessionEnded        401   the session was ended (DELETE /api/session)
    ├── AuthenticationFailed 401  wrong user name or password
    ├── SessionNotFound     404
    ├── VariablesTooLarge   413   over max-variables-kb
    ├── UploadTooLarge      413   over max-upload-mb
    ├── RateLimited         429   over rate-limit messages per minute (retry_after seconds)
    ├── TooManySessions     503   over max-sessions active sessions (retry_after seconds)
    ├── StoreUnavailable    503   the SQL database cannot be reached (retry_after seconds)
    └── ConcurrentUpdate    409   the session changed under us (the caller retries the turn)
"""

from __future__ import annotations

__all__ = [
    "SessionError", "InvalidToken", "SessionExpired", "WrongBot", "SessionEnded",
    "AuthenticationFailed", "SessionNotFound", "VariablesTooLarge", "UploadTooLarge",
    "RateLimited", "TooManySessions", "StoreUnavailable", "ConcurrentUpdate",
]


class SessionError(Exception):
    """Root of the session errors; `status` is the HTTP status, `code` a stable name."""

    status = 500
    code = "session_error"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, object]:
        """The JSON body of an error response: ``{"error": {"code", "message"}}``."""
        return {"error": {"code": self.code, "message": self.message}}


class InvalidToken(SessionError):
    status, code = 401, "invalid_token"


class SessionExpired(SessionError):
    status, code = 401, "session_expired"


class WrongBot(SessionError):
    status, code = 401, "wrong_bot"


class SessionEnded(SessionError):
    status, code = 401, "session_ended"


class AuthenticationFailed(SessionError):
    status, code = 401, "authentication_failed"


class SessionNotFound(SessionError):
    status, code = 404, "session_not_found"


class VariablesTooLarge(SessionError):
    status, code = 413, "variables_too_large"


class UploadTooLarge(SessionError):
    status, code = 413, "upload_too_large"


class RateLimited(SessionError):
    status, code = 429, "rate_limited"


class TooManySessions(SessionError):
    status, code = 503, "too_many_sessions"


class StoreUnavailable(SessionError):
    status, code = 503, "store_unavailable"


class ConcurrentUpdate(SessionError):
    status, code = 409, "concurrent_update"
