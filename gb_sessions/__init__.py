"""gb_sessions: sessions on PostgreSQL or SQLite, with an optional Valkey cache.

See store.py (the SQL store and the turn protocol), cache.py (the Valkey wrapper),
ratelimit.py, users.py and tokens.py.
"""

from .cache import CachedStore, ValkeyCache
from .config import Stores, StoreSettings, open_stores
from .errors import (
    AuthenticationFailed,
    ConcurrentUpdate,
    InvalidToken,
    RateLimited,
    SessionEnded,
    SessionError,
    SessionExpired,
    SessionNotFound,
    StoreUnavailable,
    TooManySessions,
    UploadTooLarge,
    VariablesTooLarge,
    WrongBot,
)
from .session import Message, Session, utcnow
from .store import SessionStore, SqlStore
from .users import User, UserStore

__all__ = [
    "AuthenticationFailed", "CachedStore", "ConcurrentUpdate", "InvalidToken", "Message", "RateLimited",
    "Session", "SessionEnded", "SessionError", "SessionExpired", "SessionNotFound",
    "SessionStore", "SqlStore", "StoreSettings", "StoreUnavailable", "Stores", "TooManySessions",
    "UploadTooLarge", "User", "UserStore", "ValkeyCache", "VariablesTooLarge", "WrongBot", "open_stores",
    "utcnow",
]
