"""gb_runtime: bot packages and the DialogRuntime, the one door into a bot.

The fronts (the kernel, the server and its channels) import what they need from here: the
runtime and its types, the errors they turn into responses (every ``Refusal``), the message
and session types of gb_sessions that the runtime's read API returns, and the channels' queues
(``DialogRuntime.channels``: the inbox and outbox the server's channels fill and drain).
"""

from gb_sessions import (
    ChannelQueue,
    InboxDone,
    InboxItem,
    MailboxStore,
    Message,
    OutboxItem,
    RateLimited,
    SessionBusy,
    SessionError,
    SessionExists,
    SessionRecord,
    StoreSettings,
    StoreUnavailable,
    utcnow,
)

from .bots import BotPackage, BotRegistry, BotSettings
from .errors import (
    BotError,
    DialogRuntimeError,
    DialogWaiting,
    InvalidToken,
    Refusal,
    SessionEnded,
    SessionExpired,
    SessionNotFound,
    TemplateNotFound,
    TooManyNewSessions,
    TooManySessions,
    UnknownBot,
    UnknownDialog,
    UnknownFile,
    UnsupportedFile,
    UploadTooLarge,
    WrongBot,
)
from .files import FileStore
from .messages import DialogState, Inbound, Reply, Result, SessionSummary, Suggestion, Waiting
from .runtime import DialogRuntime
from .timers import TimerService

__all__ = [
    "ChannelQueue", "InboxDone", "InboxItem", "MailboxStore", "OutboxItem", "RateLimited", "SessionBusy",
    "SessionExists", "utcnow",
    "BotError", "BotPackage", "BotRegistry", "BotSettings", "DialogRuntime", "DialogRuntimeError",
    "DialogState", "DialogWaiting", "FileStore", "Inbound", "InvalidToken", "Message", "Refusal", "Reply", "Result",
    "SessionEnded",
    "SessionError", "SessionExpired", "SessionNotFound", "SessionRecord", "SessionSummary", "StoreSettings",
    "StoreUnavailable", "Suggestion", "TemplateNotFound", "TimerService", "TooManyNewSessions", "TooManySessions",
    "UnknownBot", "UnknownDialog", "UnknownFile", "UploadTooLarge", "UnsupportedFile", "Waiting",
    "WrongBot",
]
