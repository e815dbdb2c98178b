"""gb_sessions: sessions on PostgreSQL or SQLite, with an optional Valkey cache.

See base.py (the turn protocol), store.py (SQL), memory.py, cache.py (the Valkey wrapper),
writebehind.py (the notebook's background saves), schedules.py (SET SCHEDULE's rows),
ratelimit.py, users.py and tokens.py.
"""

from .base import SessionCap, SessionRecord, SessionStore, variables_size
from .cache import CachedStore, ValkeyCache
from .channel_queue import ChannelQueue, InboxItem, OutboxItem
from .config import Stores, StoreSettings, open_stores
from .errors import (
    AuthenticationFailed,
    ConcurrentUpdate,
    InboxDone,
    LockLost,
    RateLimited,
    SessionBusy,
    SessionError,
    SessionExists,
    StoreUnavailable,
    TooManyNewSessions,
    TooManySessions,
    VariablesTooLarge,
)
from .mailboxes import MailboxCursor, MailboxStore
from .memory import MemoryStore
from .schedules import Schedule, ScheduleSpec, ScheduleStore
from .session import MemoryWrite, Message, Outgoing, Session, Timer, memory_owner, utcnow
from .store import SqlStore
from .users import User, UserStore
from .writebehind import LostUpdate, WriteBehindStore

__all__ = [
    "AuthenticationFailed", "CachedStore", "ChannelQueue", "InboxDone", "InboxItem", "Outgoing", "OutboxItem",
    "SessionExists", "ConcurrentUpdate", "MailboxCursor", "MailboxStore",
    "LockLost", "LostUpdate", "MemoryStore", "MemoryWrite",
    "Message", "RateLimited", "Schedule", "ScheduleSpec", "ScheduleStore", "Session", "SessionBusy", "SessionCap",
    "SessionError", "SessionRecord", "SessionStore",
    "SqlStore", "StoreSettings", "StoreUnavailable", "Stores", "Timer", "TooManyNewSessions", "TooManySessions",
    "User", "UserStore", "ValkeyCache", "VariablesTooLarge", "WriteBehindStore", "memory_owner", "open_stores",
    "utcnow", "variables_size",
]
