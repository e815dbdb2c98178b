"""Errors of the runtime. Each class carries its consequence: an HTTP status and a stable code.

Tree::

    Refusal (gb_sessions)                 status, code, message, retry_after
    └── DialogRuntimeError                every error the runtime raises itself
        ├── InvalidToken         401          unknown token, or none
        ├── SessionExpired       401          an anonymous session past its expiry
        ├── WrongBot             401          a token of another bot
        ├── SessionEnded         401          the session was ended (DELETE /api/session)
        ├── SessionNotFound      404
        ├── SessionTransferred   409          the conversation continues on another channel (TRANSFER_SESSION)
        ├── UnknownDialog        404          the bot has no dialog of that name
        ├── UnknownFile          404          no stored file of that id (files.py)
        ├── UploadTooLarge       413          over max-upload-mb
        ├── UnsupportedFile      415          a file not of the kind asked for (by its content)
        ├── DialogWaiting        429          a dialog at a WAIT already holds its messages typed ahead (retry_after)
        └── BotError             500          a bot package (bots.py)
            ├── BotConfigError   500          config.csv or a template is malformed (also ValueError)
            ├── BotStorageError  403          a file name outside the bot's storage (also PermissionError)
            ├── UnknownBot       404          no package with that name (also KeyError)
            └── TemplateNotFound 404          no template with that name in the bot (also KeyError)

Errors from below pass through the runtime unchanged: gb_sessions' ``SessionError`` tree
(RateLimited 429, TooManyNewSessions 429, TooManySessions 503 (re-exported here: the store
counts a bot's active sessions in the insert's transaction), VariablesTooLarge 413,
StoreUnavailable 503, ...) and gb_basic's
``BasicError`` (a dialog that does not compile). Both trees are ``Refusal``s: a front turns
any of them into its error response.
"""

from __future__ import annotations

from gb_sessions.errors import Refusal, TooManyNewSessions, TooManySessions

__all__ = [
    "DialogRuntimeError", "InvalidToken", "SessionExpired", "WrongBot", "SessionEnded", "SessionNotFound",
    "SessionTransferred",
    "UnknownDialog", "UnknownFile", "UploadTooLarge", "UnsupportedFile", "DialogWaiting", "TooManySessions",
    "TooManyNewSessions", "BotError",
    "BotConfigError", "BotStorageError", "UnknownBot", "TemplateNotFound", "Refusal",
]


class DialogRuntimeError(Refusal):
    """Root of the runtime's errors."""

    code = "runtime_error"


class InvalidToken(DialogRuntimeError):
    status, code = 401, "invalid_token"


class SessionExpired(DialogRuntimeError):
    status, code = 401, "session_expired"


class WrongBot(DialogRuntimeError):
    status, code = 401, "wrong_bot"


class SessionEnded(DialogRuntimeError):
    status, code = 401, "session_ended"


class SessionNotFound(DialogRuntimeError):
    status, code = 404, "session_not_found"


class SessionTransferred(DialogRuntimeError):
    status, code = 409, "session_transferred"


class UnknownDialog(DialogRuntimeError):
    status, code = 404, "unknown_dialog"


class UnknownFile(DialogRuntimeError):
    """No stored file of that id for that bot (files.py)."""

    status, code = 404, "unknown_file"


class UploadTooLarge(DialogRuntimeError):
    status, code = 413, "upload_too_large"


class UnsupportedFile(DialogRuntimeError):
    """A file that is not of the kind asked for (IMAGE, AUDIO, DOCUMENT), by its content."""

    status, code = 415, "unsupported_file"


class DialogWaiting(DialogRuntimeError):
    """The dialog waits at a WAIT and already holds as many messages for after it as it keeps."""

    status, code = 429, "dialog_waiting"


class BotError(DialogRuntimeError):
    """Root of the bot package errors."""

    code = "bot_error"


class BotConfigError(BotError, ValueError):
    """config.csv or a template is malformed; the message names the file (and line)."""

    code = "bot_config_error"


class BotStorageError(BotError, PermissionError):
    """A file name resolves outside the bot's storage folder."""

    status, code = 403, "bot_storage_refused"


class _NamedLookupError(BotError, KeyError):
    """A KeyError whose str() is its message, not the repr of its key."""

    def __str__(self) -> str:  # KeyError's own str() is the repr of its key
        return self.message


class UnknownBot(_NamedLookupError):
    """No bot package with that name."""

    status, code = 404, "unknown_bot"


class TemplateNotFound(_NamedLookupError):
    """No session template with that name in the bot."""

    status, code = 404, "template_not_found"

