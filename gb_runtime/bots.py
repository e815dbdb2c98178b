"""Bot packages: a ``bots/<name>.gbai/`` folder with dialogs, config.csv, knowledge bases, templates.

Layout of a package::

    <name>.gbai/
        <name>.gbdialog/*.bas               dialogs; start.bas runs when a session starts
        <name>.gbot/config.csv              settings (name,value lines)
        <name>.gbot/templates/<t>.json      session templates (LOAD_TEMPLATE "t")
        <name>.gbkb/<kb>/*.md|*.txt         knowledge bases (USE KB "kb")

Files are re-read when their mtime, size or inode changes: editing a .bas or config.csv takes
effect on the next call, without a restart.

Errors: ``BotError`` and its subclasses (errors.py draws the tree).
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import httpx

from gb_basic import Program, compile_source

from .cron import CronError, zone
from .documents import DOCUMENT_SUFFIXES
from .errors import BotConfigError, BotError, BotStorageError, TemplateNotFound, UnknownBot

__all__ = [
    "BotConfigError",
    "BotError",
    "BotPackage",
    "BotRegistry",
    "BotSettings",
    "BotStorageError",
    "AVATAR_TYPES",
    "CONFIG_DEFAULTS",
    "CONFIG_DOCS",
    "DEFAULT_THEME_COLOR",
    "config_default",
    "TemplateNotFound",
    "UnknownBot",
    "host_patterns",
    "parse_config_csv",
]

log = logging.getLogger("gb.bots")

# (mtime_ns, size, inode): a file counts as changed when any of them changes.
_Signature = tuple[int, int, int]


def _signature(path: Path) -> _Signature | None:
    """The change signature of a file, or None when it does not exist."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


# ---------------------------------------------------------------------------------------------
# config.csv


def _unquote(text: str) -> str:
    """Trim whitespace and one pair of surrounding double quotes (``""`` inside becomes ``"``)."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('""', '"')
    return text


def parse_config_csv(text: str, source: str = "config.csv") -> dict[str, str]:
    """Parse ``name,value`` lines into a dict with lower-case keys.

    Blank lines and lines starting with ``#`` are skipped, as is a first ``name,value`` header.
    A value may contain commas: the line is split at its first comma only.

    Raises:
        BotConfigError: a line has no comma or an empty name; the message gives `source` and line.
    """
    out: dict[str, str] = {}
    first = True
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, comma, value = line.partition(",")
        key = _unquote(key).lower()
        if not comma or not key:
            raise BotConfigError(f"{source}:{number}: expected 'name,value', got {line!r}")
        if first and key == "name" and _unquote(value).lower() == "value":
            first = False
            continue
        first = False
        out[key] = _unquote(value)
    return out


DEFAULT_THEME_COLOR = "#2563eb"  # the web chat's accent when config.csv sets no (valid) theme-color
_HEX_COLOR = re.compile(r"#(?:[0-9a-f]{3}|[0-9a-f]{6})")
#: bot-avatar files the server serves, by suffix (SVG with a CSP that runs nothing in it)
AVATAR_TYPES: dict[str, str] = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                                ".gif": "image/gif", ".webp": "image/webp", ".svg": "image/svg+xml"}

# config key -> (field name, type); every one of them must be a positive number.
_NUMERIC: dict[str, tuple[str, type]] = {
    "session-timeout": ("session_timeout_minutes", int),
    "session-expiry-days": ("session_expiry_days", int),
    "history-limit": ("history_limit", int),
    "max-variables-kb": ("max_variables_kb", int),
    "max-upload-mb": ("max_upload_mb", int),
    "max-sessions": ("max_sessions", int),
    "session-create-rate": ("session_create_rate", int),
    "empty-session-seconds": ("empty_session_seconds", float),
    "rate-limit": ("rate_limit_per_minute", int),
    "hear-tries": ("hear_tries", int),
    "max-steps": ("max_steps", int),
    "max-seconds": ("max_seconds", float),
    "max-memory-mb": ("max_memory_mb", int),
    "max-wait": ("max_wait_seconds", float),
    "http-timeout": ("http_timeout_seconds", float),
    "http-max-bytes": ("http_max_bytes", int),
    "http-max-requests": ("http_max_requests", int),
}


# config key -> what it means, one sentence; the language reference (docs/language.md) lists
# these with their defaults, and a test checks that every key gb reads is here.
CONFIG_DOCS: dict[str, str] = {
    "session-timeout": "Minutes without a message before a session is idle: it leaves the active count "
                       "and its cached copy expires (it still resumes from SQL).",
    "session-expiry-days": "Days after its last message that an anonymous session's token stops working.",
    "history-limit": "Messages of the history kept in the cache and given to the LLM as context.",
    "max-variables-kb": "The largest a session's variables may be, as JSON (KB); a turn beyond it is refused "
                        "and nothing of it is kept.",
    "max-upload-mb": "The largest file a user may send (MB).",
    "max-sessions": "Active sessions of this bot at once, across all processes; a new one beyond is refused (503).",
    "session-create-rate": "New sessions a minute from one client address (429 beyond).",
    "empty-session-seconds": "Seconds after which a session nobody wrote to stops counting as active.",
    "rate-limit": "Messages a minute per session (429 with Retry-After beyond).",
    "hear-tries": "How often a typed HEAR asks again after an answer that does not validate.",
    "max-steps": "Steps one message may run in the dialog before it is stopped (a runaway loop).",
    "max-seconds": "Seconds of computation one message may take in the dialog (waiting for I/O is not counted).",
    "max-memory-mb": "The memory a dialog may grow to while it computes (MB).",
    "max-wait": "The longest WAIT a dialog may do (seconds).",
    "http-timeout": "Seconds one HTTP keyword (GET url, POST ...) may take, redirects included.",
    "http-max-bytes": "The largest HTTP answer a dialog gets (bytes, after decompression).",
    "http-max-requests": "HTTP keywords one message may run.",
    "http-allow": "The hosts the bot's HTTP keywords may call, comma-separated (`api.example.com`, "
                  "`*.example.com`, `*`); empty: any public host. A private address needs its host here.",
    "language": "The bot's language (`en`, `pt-BR` ...): how HEAR reads dates and numbers, and the "
                "language of its messages.",
    "fallback": "What the bot says to a message no dialog waits for and no dialog is named by.",
    "public-dialogs": "Dialogs a user may start by typing their name, comma-separated (the fallback lists them).",
    "find-returns": "`list` (the default): FIND gives a list of rows; `row`: NULL for none, the row for "
                    "one, a list for several, as General Bots 3 does.",
    # --- the web chat's look (README, "Web chat") ---
    "bot-name": "The name the web chat shows in its header, title and messages (empty: the bot's folder name).",
    "bot-avatar": "The web chat's picture of the bot: an image file of the bot's `.gbot` folder (`avatar.png`; "
                  "PNG, JPEG, GIF, WebP or SVG, served at `/<bot>/avatar`) or an `https://` URL (empty: the "
                  "name's first letter).",
    "theme-color": "The web chat's accent colour, a CSS hex colour (`#1f6feb` or `#17b`); anything else is "
                   "logged as a config error and the default is used.",
    # --- channels (docs/channels.md); any of these may be env:NAME, read from the environment ---
    "whatsapp-app-secret": "WhatsApp: the Meta app's secret, which signs the webhooks (X-Hub-Signature-256).",
    "whatsapp-token": "WhatsApp: the system user's access token the bot sends with.",
    "whatsapp-phone-number-id": "WhatsApp: the id of the number the bot sends from.",
    "whatsapp-verify-token": "WhatsApp: the verify token of the webhook's subscribe handshake.",
    "whatsapp-api-url": "WhatsApp: the Graph API's base URL.",
    "whatsapp-template-language": "WhatsApp: the language code of SEND TEMPLATE's templates (default: the "
                                  "session's language, `pt` as `pt_BR`).",
    "telegram-token": "Telegram: the bot's token from @BotFather.",
    "telegram-secret": "Telegram: the webhook's secret_token (X-Telegram-Bot-Api-Secret-Token).",
    "telegram-api-url": "Telegram: the Bot API's base URL.",
    "teams-app-id": "Teams: the bot's Microsoft App ID (the Azure Bot's; inbound tokens' audience).",
    "teams-app-password": "Teams: the app's client secret (gets the tokens replies are sent with).",
    "teams-tenant-id": "Teams: the app's tenant (a single-tenant bot's; empty: botframework.com).",
    "teams-openid-url": "Teams: the Bot Framework's OpenID metadata (its jwks_uri signs inbound activities).",
    "teams-token-url": "Teams: the token endpoint of the client credentials grant (default from "
                       "teams-tenant-id).",
    "twilio-account-sid": "Twilio (SMS, voice): the account SID.",
    "twilio-auth-token": "Twilio: the auth token, which signs the webhooks (X-Twilio-Signature) and sends.",
    "twilio-number": "Twilio: the number the bot sends SMS from.",
    "twilio-api-url": "Twilio: the REST API's base URL.",
    "twilio-voice-language": "Twilio voice: the language of `<Say>` and `<Gather>` (`pt-BR`; default: the "
                             "bot's language, `pt` as `pt-BR`, `en` as `en-US`).",
    "email-smtp-url": "Email: the submission server the bot sends with (`smtp://user:password@host:587`, "
                      "STARTTLS when offered; `smtps://...:465`, implicit TLS); with `email-from` it turns the "
                      "channel on (replies, SEND MAIL).",
    "email-from": "Email: the bot's address (`Bot <bot@example.com>`), the From of its mails.",
    "email-imap-url": "Email: the mailbox the bot reads (`imaps://user:password@host:993/INBOX`, `imap://` "
                      "without TLS); without it the bot only sends.",
    "email-poll-seconds": "Email: how often the mailbox is read for new mail (seconds).",
    "email-rate-per-hour": "Email: the mails of one sender an hour that become messages (more are passed over).",
    "email-subject": "Email: the subject of a bot's mail that answers none (a TALK TO).",
    "email-authserv-id": "Email: the authserv-id your receiving server writes in its Authentication-Results "
                         "header (RFC 8601, e.g. `mx.example.com`). When set, a mail becomes a message only when "
                         "that header says `dmarc=pass` (without a DMARC result: `dkim=pass` for the From "
                         "domain); other mail is passed over, logged. Empty: From is taken as it is.",
    "outbox-retry-seconds": "The first wait before a failed delivery to a push channel is tried again "
                            "(seconds, doubling up to 300).",
    "outbox-max-attempts": "Delivery attempts of an outbound message before it is dead-lettered "
                           "(`gb outbox retry` replays it).",
    "llm-url": "The LLM: an OpenAI-compatible base URL up to its version (`https://api.openai.com/v1`, "
               "llama.cpp's or vLLM's `http://host:port/v1`, Ollama's `http://host:11434/v1`); unset: no LLM.",
    "llm-model": "The model the LLM is asked for.",
    "llm-key": "The LLM's API key, sent as a bearer token (`env:NAME` reads the environment variable NAME).",
    "llm-temperature": "The sampling temperature asked for (unset: the server's default).",
    "llm-max-tokens": "The most tokens an answer may take (unset: the server's default).",
    "llm-timeout": "Seconds an LLM call may take, whole (streamed or not); then it fails and nothing of it is kept.",
    "llm-system-prompt": "The system prompt of a session that sets none (BEGIN SYSTEM PROMPT, a template).",
    "llm-max-tokens-per-day": "Tokens (prompt and completion) the bot's LLM may use a UTC day, all sessions "
                              "together; 0: no limit.",
    "llm-max-session-tokens-per-day": "Tokens each session of the bot may use a UTC day; 0: no limit.",
    "embedding-url": "Dense retrieval of the KBs: an OpenAI-compatible base URL up to its version whose "
                     "`/embeddings` embeds passages and questions, fused with full-text search; unset: "
                     "full-text search alone.",
    "embedding-model": "The embeddings model asked for.",
    "embedding-key": "The embeddings endpoint's API key, a bearer token (`env:NAME` reads the environment "
                     "variable NAME).",
    "embedding-timeout": "Seconds an embeddings request may take; then the search is full-text alone.",
    "embedding-min-similarity": "The least cosine similarity of a passage to a question that dense retrieval "
                                "finds (what an unrelated question gets depends on the model).",
}
# the defaults the reference shows for the keys that are not BotSettings fields
CONFIG_DEFAULTS: dict[str, str] = {"http-allow": "", "fallback": "Sorry, I did not understand.",
                                   "public-dialogs": "", "find-returns": "list",
                                   "whatsapp-api-url": "https://graph.facebook.com/v21.0",
                                   "telegram-api-url": "https://api.telegram.org",
                                   "twilio-api-url": "https://api.twilio.com",
                                   "teams-openid-url": "https://login.botframework.com/v1/.well-known/"
                                                       "openidconfiguration",
                                   "teams-token-url": "https://login.microsoftonline.com/{teams-tenant-id or "
                                                      "botframework.com}/oauth2/v2.0/token",
                                   "outbox-retry-seconds": "2", "outbox-max-attempts": "10",
                                   "email-poll-seconds": "30", "email-rate-per-hour": "20",
                                   "email-subject": "A message from <bot>",
                                   "llm-model": "default", "llm-timeout": "60",
                                   "llm-system-prompt": "You are <bot>, a helpful assistant in a chat ...",
                                   "llm-max-tokens-per-day": "0", "llm-max-session-tokens-per-day": "0",
                                   "embedding-model": "default", "embedding-timeout": "10",
                                   "embedding-min-similarity": "0.25",
                                   **dict.fromkeys(("whatsapp-app-secret", "whatsapp-token",
                                                    "whatsapp-phone-number-id", "whatsapp-verify-token",
                                                    "whatsapp-template-language", "telegram-token",
                                                    "telegram-secret", "twilio-account-sid", "twilio-auth-token",
                                                    "twilio-number", "twilio-voice-language", "teams-app-id",
                                                    "teams-app-password", "teams-tenant-id", "email-smtp-url",
                                                    "email-from", "email-imap-url", "email-authserv-id",
                                                    "llm-url", "llm-key",
                                                    "llm-temperature", "llm-max-tokens", "embedding-url",
                                                    "embedding-key"), "")}


@dataclass(frozen=True)
class BotSettings:

    """A bot's settings, read once from config.csv (defaults from design.md)."""

    session_timeout_minutes: int = 30
    session_expiry_days: int = 7
    history_limit: int = 50
    max_variables_kb: int = 1024
    max_upload_mb: int = 10
    max_sessions: int = 1000  # active sessions of this bot, across processes
    rate_limit_per_minute: int = 60
    hear_tries: int = 3
    language: str = "en"
    max_steps: int = 1_000_000
    max_seconds: float = 10.0
    max_memory_mb: int = 256
    extra: dict[str, str] = field(default_factory=dict)
    max_wait_seconds: float = 86_400.0  # the longest WAIT (seconds, `max-wait`); a waiting dialog holds nothing
    session_create_rate: int = 20  # new sessions a minute from one client address
    empty_session_seconds: float = 120.0  # a session nobody wrote to stops counting as active after it
    http_timeout_seconds: float = 10.0  # one HTTP keyword (GET, POST ...), redirects included, from DNS to last byte
    http_max_bytes: int = 1_048_576  # the largest response body a dialog gets (bytes, after decompression)
    http_max_requests: int = 20  # HTTP keywords one message may run (a dialog's run from one message to its next HEAR)
    http_allow: tuple[str, ...] = ()  # host patterns the bot may call (`http-allow`; empty: any public host)
    timezone: str = "UTC"  # the IANA zone SET SCHEDULE's cron expressions are read in (`timezone`)
    bot_name: str = ""  # the web chat's display name (`bot-name`; empty: the folder name)
    bot_avatar: str = ""  # `bot-avatar`: an https URL or a file of the .gbot folder (see avatar_file)
    theme_color: str = DEFAULT_THEME_COLOR  # `theme-color`: the web chat's accent, always a valid CSS hex colour

    @classmethod
    def from_config(cls, config: Mapping[str, str], source: str = "config.csv") -> BotSettings:
        """Build settings from a parsed config.csv; unknown keys go to `extra`.

        Raises:
            BotConfigError: a numeric key has a value that is not a positive number.
        """
        values: dict[str, Any] = {}
        extra: dict[str, str] = {}
        for key, raw in config.items():
            key = key.lower()
            if key in _NUMERIC:
                name, kind = _NUMERIC[key]
                values[name] = _number(key, raw, kind, source)
            elif key == "language":
                values["language"] = raw or "en"
            elif key == "http-allow":
                values["http_allow"] = host_patterns(raw, source)
            elif key == "timezone":
                values["timezone"] = _timezone(raw, source)
            elif key == "bot-name":
                values["bot_name"] = raw.strip()
            elif key == "bot-avatar":
                values["bot_avatar"] = _avatar(raw, source)
            elif key == "theme-color":
                values["theme_color"] = _theme_color(raw, source)
            else:
                extra[key] = raw
        return cls(**values, extra=extra)


def config_default(key: str) -> str:
    """The value a config.csv key has when config.csv does not set it, as text."""
    if key in CONFIG_DEFAULTS:
        return CONFIG_DEFAULTS[key]
    name = _NUMERIC[key][0] if key in _NUMERIC else key.replace("-", "_")
    value = getattr(BotSettings(), name)
    return f"{value:g}" if isinstance(value, float) else str(value)


_HOST_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*")


def host_patterns(raw: str, source: str = "config.csv") -> tuple[str, ...]:
    """The entries of ``http-allow``: comma-separated host names (``api.example.com``), IP
    addresses (``10.0.0.5``, ``::1`` or ``[::1]``), ``*.example.com`` (any name under it, not
    ``example.com`` itself) and ``*`` (any public host); names in their ASCII (IDNA) form,
    lower-cased, IPv6 in short form, so that they compare with a URL's host as is.

    Raises:
        BotConfigError: an entry is none of these (a URL, a port, a space inside), naming it and `source`.
    """
    out: list[str] = []
    for part in raw.split(","):
        entry = part.strip().lower().rstrip(".")
        if entry in ("", "*"):
            out.extend([entry] if entry else [])
            continue
        try:
            out.append(str(ipaddress.ip_address(entry.removeprefix("[").removesuffix("]"))))
            continue
        except ValueError:
            pass
        wild, name = ("*.", entry[2:]) if entry.startswith("*.") else ("", entry)
        ascii_name = _ascii_host(name)
        if ascii_name is None:
            raise BotConfigError(f"{source}: http-allow: {part.strip()!r} is not a host name, an IP address or a "
                                 "*.domain pattern (write hosts only: api.example.com, not https://api.example.com/)")
        out.append(wild + ascii_name)
    return tuple(out)


def _ascii_host(name: str) -> str | None:
    """`name` as a URL's host compares (IDNA, lower case), or None when it is not a host name."""
    if not name or any(c in name for c in ":/@?#[]%\\ \t*"):
        return None
    try:
        ascii_name = httpx.URL(f"http://{name}/").raw_host.decode("ascii").lower()
    except (httpx.InvalidURL, UnicodeError):
        return None
    return ascii_name if _HOST_NAME.fullmatch(ascii_name) else None


def _timezone(raw: str, source: str) -> str:
    """The ``timezone`` value: an IANA zone name (empty: UTC), or a BotConfigError naming `source`."""
    name = raw.strip() or "UTC"
    try:
        zone(name)
    except CronError as exc:
        raise BotConfigError(f"{source}: timezone: {exc}") from None
    return name


def _theme_color(raw: str, source: str) -> str:
    """The ``theme-color`` value: a CSS hex colour (``#rgb`` or ``#rrggbb``, lower-cased); anything
    else would be broken CSS, so it is logged as a config error and the default is used (the bot
    still runs)."""
    value = raw.strip().lower()
    if not value:
        return DEFAULT_THEME_COLOR
    if _HEX_COLOR.fullmatch(value):
        return value
    log.error("%s: theme-color: %r is not a CSS hex colour (#rgb or #rrggbb, like #1f6feb); the default %s is "
              "used", source, raw, DEFAULT_THEME_COLOR)
    return DEFAULT_THEME_COLOR


def _avatar(raw: str, source: str) -> str:
    """The ``bot-avatar`` value: an ``https://`` (or ``http://``) URL, or the relative path of an image
    file inside the bot's ``.gbot`` folder; anything else is logged as a config error and there is
    no avatar (the web chat shows the name's first letter)."""
    value = raw.strip()
    if not value:
        return ""
    if re.match(r"(?i)https?://", value):
        if re.fullmatch(r"(?i)https?://[A-Za-z0-9.\-\[\]:]+(/[^\s\"'()<>\\]*)?", value):
            return value
        why = "is not a usable URL"
    elif PurePosixPath(value).suffix.lower() not in AVATAR_TYPES:
        why = f"is neither an http(s) URL nor an image file ({', '.join(sorted(AVATAR_TYPES))})"
    elif value.startswith(("/", "\\")) or ".." in PurePosixPath(value.replace("\\", "/")).parts or ":" in value:
        why = "must be a file inside the bot's .gbot folder (a relative path, no ..)"
    else:
        return value
    log.error("%s: bot-avatar: %r %s; the web chat shows no picture", source, raw, why)
    return ""


def _number(key: str, raw: str, kind: type, source: str) -> int | float:
    """`raw` as a positive int or float, or a BotConfigError naming the key and file."""
    word = "a whole number" if kind is int else "a number"
    try:
        value: int | float = kind(raw.strip())
    except ValueError:
        raise BotConfigError(f"{source}: {key} must be {word}, got {raw!r}") from None
    if not 0 < value < float("inf"):
        raise BotConfigError(f"{source}: {key} must be a positive number, got {raw!r}")
    return value


# ---------------------------------------------------------------------------------------------
# packages


@dataclass
class _Compiled:
    """A cached compiled dialog and the signature of the file it came from."""

    path: Path
    signature: _Signature
    program: Program


class BotPackage:
    """One ``<name>.gbai`` folder: its dialogs, settings, KBs, templates and storage.

    Args:
        path: the ``<name>.gbai`` folder.
        data_dir: the project's data directory; SAVE writes under ``<data_dir>/bots/<name>/files``.
    """

    def __init__(self, path: Path, data_dir: Path) -> None:
        self.path = Path(path)
        self.name = self.path.name.removesuffix(".gbai")
        self.data_dir = Path(data_dir)
        self._lock = threading.RLock()
        self._dialogs: dict[str, _Compiled] = {}
        self._settings: tuple[_Signature | None, BotSettings] | None = None

    def __repr__(self) -> str:
        return f"BotPackage({self.name!r}, {str(self.path)!r})"

    # -- folders ------------------------------------------------------------------------------

    @property
    def dialog_dir(self) -> Path:
        """The ``<name>.gbdialog`` folder."""
        return self.path / f"{self.name}.gbdialog"

    @functools.cached_property
    def config_path(self) -> Path:
        """The ``<name>.gbot/config.csv`` file (it may not exist: defaults apply). Built once: the
        settings look at it on every read (a changed file is re-read)."""
        return self.path / f"{self.name}.gbot" / "config.csv"

    @property
    def kb_dir(self) -> Path:
        """The ``<name>.gbkb`` folder."""
        return self.path / f"{self.name}.gbkb"

    @property
    def template_dir(self) -> Path:
        """The ``<name>.gbot/templates`` folder."""
        return self.path / f"{self.name}.gbot" / "templates"

    # -- settings -----------------------------------------------------------------------------

    @property
    def settings(self) -> BotSettings:
        """The settings of config.csv, re-read when the file changes.

        Raises:
            BotConfigError: config.csv is malformed.
        """
        sig = _signature(self.config_path)
        with self._lock:
            if self._settings is None or self._settings[0] != sig:
                self._settings = (sig, self._read_settings(sig))
            return self._settings[1]

    def _read_settings(self, sig: _Signature | None) -> BotSettings:
        if sig is None:
            return BotSettings()
        source = str(self.config_path)
        text = self.config_path.read_text(encoding="utf-8")
        log.info("bot %s: loading %s", self.name, source)
        return BotSettings.from_config(parse_config_csv(text, source), source)

    def avatar_file(self) -> Path | None:
        """The ``bot-avatar`` image file of the ``.gbot`` folder, or None (unset, a URL, missing,
        or a path that resolves, through a symlink, outside the folder)."""
        name = self.settings.bot_avatar
        if not name or re.match(r"(?i)https?://", name):
            return None
        folder = (self.path / f"{self.name}.gbot").resolve()
        target = (folder / name).resolve()
        return target if target.is_relative_to(folder) and target.is_file() else None

    # -- dialogs ------------------------------------------------------------------------------

    def _dialog_files(self) -> dict[str, Path]:
        """Lower-case dialog name -> .bas file."""
        try:
            entries = list(os.scandir(self.dialog_dir))
        except OSError:
            return {}
        return {e.name[:-4].lower(): Path(e.path) for e in entries
                if e.name.lower().endswith(".bas") and e.is_file()}

    def dialog_names(self) -> list[str]:
        """Names of the dialogs (file names without .bas), sorted."""
        return sorted((p.stem for p in self._dialog_files().values()), key=str.lower)

    @property
    def has_start(self) -> bool:
        """Whether the bot has a start.bas."""
        return "start" in self._dialog_files()

    def dialog(self, name: str) -> Program | None:
        """The compiled dialog `name` (case-insensitive, ``.bas`` optional), or None.

        The Program is cached and recompiled when its file changes.

        Raises:
            gb_basic.BasicSyntaxError: the file does not compile.
        """
        key = name.lower().removesuffix(".bas")
        with self._lock:
            cached = self._dialogs.get(key)
            if cached is not None and _signature(cached.path) == cached.signature:
                return cached.program
            path = self._dialog_files().get(key)
            if path is None:
                self._dialogs.pop(key, None)
                return None
            return self._compile(key, path)

    def _compile(self, key: str, path: Path) -> Program | None:
        sig = _signature(path)
        if sig is None:
            return None
        program = compile_source(path.read_text(encoding="utf-8"), path.name)
        log.info("bot %s: compiled %s", self.name, path.name)
        self._dialogs[key] = _Compiled(path, sig, program)
        return program

    # -- knowledge bases ----------------------------------------------------------------------

    def _kb_folders(self) -> dict[str, Path]:
        """Lower-case KB name -> its folder."""
        try:
            entries = list(os.scandir(self.kb_dir))
        except OSError:
            return {}
        return {e.name.lower(): Path(e.path) for e in entries if e.is_dir()}

    def kb_names(self) -> list[str]:
        """Names of the knowledge bases (sub-folders of ``<name>.gbkb``), sorted."""
        return sorted((p.name for p in self._kb_folders().values()), key=str.lower)

    def kb_documents(self, names: Iterable[str] | None = None) -> Iterable[tuple[str, str, Path]]:
        """(KB folder name, the file's path inside it, the file) of each document of the named KBs
        (all when None; unknown names skipped) that the knowledge index reads (documents.py)."""
        folders = self._kb_folders()
        wanted = folders.values() if names is None else [f for n in names if (f := folders.get(n.lower()))]
        for folder in wanted:
            for path in sorted(folder.rglob("*")):
                if path.suffix.lower() in DOCUMENT_SUFFIXES and path.is_file() and not path.name.startswith("."):
                    yield folder.name, path.relative_to(folder).as_posix(), path

    # -- templates ----------------------------------------------------------------------------

    def _template_files(self) -> dict[str, Path]:
        try:
            entries = list(os.scandir(self.template_dir))
        except OSError:
            return {}
        return {e.name[:-5].lower(): Path(e.path) for e in entries
                if e.name.lower().endswith(".json") and e.is_file()}

    def template_names(self) -> list[str]:
        """Names of the session templates, sorted."""
        return sorted((p.stem for p in self._template_files().values()), key=str.lower)

    def template(self, name: str) -> dict[str, Any]:
        """The session template `name` (case-insensitive): a fresh dict on every call.

        Keys: ``kb`` and ``tools`` (lists of names), ``system_prompt`` and ``message`` (text).

        Raises:
            TemplateNotFound: no such template.
            BotConfigError: the file is not valid JSON or a key has the wrong type.
        """
        path = self._template_files().get(name.lower().removesuffix(".json"))
        if path is None:
            known = ", ".join(self.template_names()) or "none"
            raise TemplateNotFound(f"template {name!r} not found in bot {self.name!r} (templates: {known})")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise BotConfigError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
        _check_template(data, path)
        return dict(data)

    # -- storage ------------------------------------------------------------------------------

    @property
    def storage_dir(self) -> Path:
        """The bot's own file area for SAVE: ``<data_dir>/bots/<name>/files``, created on demand."""
        folder = self.data_dir / "bots" / self.name / "files"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def safe_path(self, filename: str) -> Path:
        """Resolve `filename` inside storage_dir (parent folders are not created).

        Raises:
            BotStorageError: the name is empty or absolute, or resolves (through ``..`` or a
                symlink) outside storage_dir or to storage_dir itself.
        """
        if not filename or not filename.strip() or "\x00" in filename:
            raise BotStorageError(f"bot {self.name}: empty or invalid file name {filename!r}")
        name = filename.replace("\\", "/")
        if PurePosixPath(name).is_absolute() or PureWindowsPath(filename).drive:
            raise BotStorageError(f"bot {self.name}: absolute path {filename!r} not allowed")
        base = self.storage_dir.resolve()
        target = (base / name).resolve()
        if target == base or not target.is_relative_to(base):
            raise BotStorageError(f"bot {self.name}: {filename!r} is outside the bot's storage")
        return target


def _check_template(data: Any, path: Path) -> None:
    """Raise BotConfigError unless `data` is a template object with well-typed keys."""
    if not isinstance(data, dict):
        raise BotConfigError(f"{path}: a template must be a JSON object")
    for key in ("kb", "tools"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BotConfigError(f"{path}: {key!r} must be a list of names")
    for key in ("system_prompt", "message"):
        if not isinstance(data.get(key, ""), (str, type(None))):
            raise BotConfigError(f"{path}: {key!r} must be text")


class BotRegistry:
    """The bot packages under a folder; new ``*.gbai`` folders appear without a restart.

    Args:
        root: the folder holding ``<name>.gbai`` packages (``bots/``).
        data_dir: the project's data directory, passed to each package for its storage.
    """

    def __init__(self, root: Path, data_dir: Path) -> None:
        self.root = Path(root)
        self.data_dir = Path(data_dir)
        self._lock = threading.Lock()
        self._packages: dict[str, BotPackage] = {}

    def _scan(self) -> dict[str, BotPackage]:
        """Rescan root; keeps the existing BotPackage objects (and their caches)."""
        try:
            found = sorted(Path(e.path) for e in os.scandir(self.root)
                           if e.name.lower().endswith(".gbai") and e.is_dir())
        except OSError:
            found = []
        with self._lock:
            old = self._packages
            self._packages = {p.name[:-5]: old.get(p.name[:-5]) or BotPackage(p, self.data_dir) for p in found}
            return dict(self._packages)

    def names(self) -> list[str]:
        """Names of the bots, sorted."""
        return sorted(self._scan())

    def get(self, name: str) -> BotPackage:
        """The bot `name` (exact name first, then case-insensitive).

        Raises:
            UnknownBot: no such package; the message lists the known bots.
        """
        pkg = self._packages.get(name)
        if pkg is not None and pkg.path.is_dir():
            return pkg
        packages = self._scan()
        pkg = packages.get(name) or {k.lower(): v for k, v in packages.items()}.get(name.lower())
        if pkg is None:
            known = ", ".join(sorted(packages)) or "none"
            raise UnknownBot(f"unknown bot {name!r} (bots: {known})")
        return pkg

    @property
    def default(self) -> BotPackage | None:
        """The bot named "default", if there is one."""
        try:
            return self.get("default")
        except UnknownBot:
            return None
