"""The channel seam: what every channel adapter is, and how a bot's config.csv turns one on.

An adapter (one per platform: whatsapp.py, telegram.py, twilio.py) does four things, in the
platform's own forms, and nothing else:

- **verify** a webhook request (its signature or secret header): a forged or missing one is a
  401/403 and nothing is stored;
- **parse** it into :class:`Received` messages (the platform's message id, the sender's address,
  text, a chosen option, attachments) and :class:`DeliveryStatus` updates;
- **send** an outbound message of the outbox (``send``: text, a menu, a file, a template),
  falling back to text (numbered options) for what the platform cannot show;
- **answer** the webhook (``ack``; an inline channel, voice, answers with the turn's replies).

Everything else is the same for all channels and lives in webhook.py (the HTTP handler: verify,
store in the inbox, acknowledge) and dispatch.py (the inbox's turns through the one turn path,
the outbox's deliveries with retries). A channel is on for a bot when its keys are in the bot's
config.csv; a value ``env:NAME`` reads the environment variable NAME, so secrets stay out of
the bot's folder (and out of logs: adapters never log them).
"""

from __future__ import annotations

import abc
import logging
import os
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from tornado.httputil import HTTPServerRequest

from gb_runtime import BotSettings
from gb_runtime.routing import INLINE, PUSH

from ..base import ApiError
from .http import PlatformHttp, PlatformResponse

if TYPE_CHECKING:
    from gb_runtime import OutboxItem

    from .dispatch import Dispatcher

__all__ = ["Channel", "ChannelConfig", "ChannelRegistry", "DeliveryFailed", "DeliveryStatus", "Parsed",
           "Received", "PUSH", "INLINE", "numbered", "options_of", "backoff", "split_text", "PARTS_SENT"]

log = logging.getLogger("gb.channels")
MAX_BACKOFF = 300.0  # seconds: the longest wait between two delivery attempts
PARTS_SENT = "parts_sent"  # an outbox payload's key: how many of its platform messages went (Channel.send_parts)


class ChannelConfig:
    """A bot's config.csv values of one channel, ``env:NAME`` resolved when read.

    Raises (on read): ApiError 503 channel_misconfigured when an ``env:`` variable is unset."""

    def __init__(self, bot: str, values: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> None:
        self.bot = bot
        self._values = dict(values)
        self._environ = environ

    def get(self, key: str, default: str | None = None) -> str | None:
        raw = self._values.get(key)
        if raw is None or raw.strip() == "":
            return default
        raw = raw.strip()
        if raw.lower().startswith("env:"):
            name = raw[4:].strip()
            value = self._environ.get(name)
            if not value:
                raise ApiError(503, "channel_misconfigured",
                               f"bot {self.bot}: {key} reads the environment variable {name}, which is not set")
            return value
        return raw

    def require(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise ApiError(503, "channel_misconfigured", f"bot {self.bot}: {key} is not set in config.csv")
        return value

    def has(self, key: str) -> bool:
        raw = self._values.get(key)
        return raw is not None and raw.strip() != ""

    def number(self, key: str, default: float) -> float:
        raw = self.get(key)
        try:
            return float(raw) if raw is not None else default
        except ValueError:
            raise ApiError(503, "channel_misconfigured", f"bot {self.bot}: {key} must be a number, got {raw!r}") \
                from None


@dataclass(frozen=True)
class Received:
    """One inbound user message of a webhook, in gb's terms.

    `platform_id` is the platform's own id of the message (``wamid``, ``update_id``,
    ``MessageSid``): the inbox is unique on it. `choice` is the id of a button or list row the
    user picked (its title is the `text`). `attachments` are the platform's references to files
    (``{"kind", "media_id"|"file_id"|"url", "type", "name"}``), fetched when the turn runs."""

    platform_id: str
    address: str
    text: str
    choice: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """What the inbox row keeps."""
        d: dict[str, Any] = {"text": self.text}
        if self.choice is not None:
            d["choice"] = self.choice
        if self.attachments:
            d["attachments"] = self.attachments
        if self.name:
            d["name"] = self.name
        if self.extra:
            d["extra"] = self.extra
        return d


@dataclass(frozen=True)
class DeliveryStatus:
    """The platform's news of a message the bot sent: sent, delivered, read, failed."""

    platform_id: str
    status: str
    error: str | None = None


@dataclass
class Parsed:
    """What one webhook request brought. `after` are calls to make once it is answered (Telegram's
    answerCallbackQuery: the button stops spinning)."""

    messages: list[Received] = field(default_factory=list)
    statuses: list[DeliveryStatus] = field(default_factory=list)
    after: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


class DeliveryFailed(Exception):
    """A send the platform refused or could not take. `retry` False: trying again cannot help
    (a bad request, a window closed): the message is dead-lettered now with this message."""

    def __init__(self, message: str, *, retry: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry = retry
        self.retry_after = retry_after


def backoff(attempts: int, base: float) -> float:
    """Seconds before attempt `attempts` + 1: exponential from `base`, capped, with jitter (so
    the retries of many messages spread out)."""
    return float(min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF) * random.uniform(0.8, 1.2))


def options_of(payload: Mapping[str, Any]) -> list[str]:
    """The options a message offers: a menu's choices, else the bot's suggestions."""
    return [str(c) for c in (payload.get("choices") or payload.get("suggestions") or [])]


def numbered(text: str, options: list[str]) -> str:
    """The text fallback of a menu: the options numbered, one a line (the answer may be the
    number: HEAR's menus take it)."""
    if not options:
        return text
    lines = [f"{i}. {o}" for i, o in enumerate(options, 1)]
    return "\n".join([text, *lines]) if text else "\n".join(lines)


def split_text(text: str, limit: int) -> list[str]:
    """`text` in parts of at most `limit` characters, in order: each cut at its last line break
    within the limit, else at its last space, else at the limit (a word longer than a part).
    A text within the limit is one part (an empty one too)."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = text.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        part, text = text[:cut].rstrip(), text[cut:].lstrip()
        if part:
            parts.append(part)
    return [*parts, text] if text or not parts else parts


async def failed_response(response: PlatformResponse, what: str) -> DeliveryFailed:
    """The DeliveryFailed of a platform's non-2xx answer: 429 and 5xx are retried (after its
    Retry-After when it gives one), other 4xx are not."""
    try:
        body = response.text[:500]
    except Exception:  # a body that does not decode
        body = ""
    retry_after: float | None = None
    raw = response.headers.get("Retry-After")
    if raw and raw.strip().isdigit():
        retry_after = float(raw)
    retry = response.status_code == 429 or response.status_code >= 500
    return DeliveryFailed(f"{what} answered {response.status_code}: {body}".strip(), retry=retry,
                          retry_after=retry_after)


class Channel(abc.ABC):
    """A platform adapter, for one bot (built from its config.csv by the registry).

    Class attributes: `name` (the URL segment and the sessions' channel), `mode` (PUSH: replies
    are sent through the outbox after the commit; INLINE: the webhook's response carries them),
    `keys` (the config.csv keys that turn it on: all must be set)."""

    name: ClassVar[str]
    mode: ClassVar[str] = PUSH
    keys: ClassVar[tuple[str, ...]]
    path: ClassVar[str]  # its route under /<bot>/ (``whatsapp``, ``twilio/sms``)

    def __init__(self, bot: str, config: ChannelConfig, http: PlatformHttp, *,
                 public_url: str | None = None) -> None:
        self.bot = bot
        self.config = config
        self.http = http
        self.public_url = public_url
        self.dispatcher: Dispatcher | None = None  # set by the registry's owner: last inbound times, files

    @classmethod
    def configured(cls, values: Mapping[str, str]) -> bool:
        return all(values.get(k, "").strip() for k in cls.keys)

    def handshake(self, request: HTTPServerRequest) -> str:
        """A GET of the webhook (WhatsApp's subscribe check); default: there is none."""
        raise ApiError(405, "method_not_allowed", f"the {self.name} webhook takes POST")

    @abc.abstractmethod
    async def verify(self, request: HTTPServerRequest, body: bytes) -> None:
        """Check the request came from the platform (awaited: Teams fetches the Bot Framework's
        signing keys; the others only compute a signature).

        Raises:
            ApiError: 401 or 403 (missing or wrong signature).
        """

    @abc.abstractmethod
    def parse(self, request: HTTPServerRequest, body: bytes) -> Parsed:
        """The messages and statuses of a verified request.

        Raises:
            ApiError: 400 (a body that is not the platform's shape).
        """

    def ack(self) -> tuple[str, bytes]:
        """The webhook's answer once its messages are stored: (content type, body)."""
        return "application/json; charset=utf-8", b'{"ok":true}'

    async def respond(self, ids: list[int], request: HTTPServerRequest, body: bytes) -> tuple[str, bytes]:
        """An INLINE channel's webhook answer: the replies to inbound messages `ids` (their
        outbox rows, status "inline", handled in this request): (content type, body).
        `request` and its `body` are the webhook's own (voice's next ``<Gather action>`` is its
        URL; a request that brought no message, a caller who said nothing, is answered from
        its query and form)."""
        raise NotImplementedError(f"the {self.name} channel answers with ack()")

    @abc.abstractmethod
    async def send(self, item: OutboxItem) -> str | None:
        """Deliver one outbound message; the platform's id of it (None when it gives none).

        Raises:
            DeliveryFailed: the platform refused it (or could not be reached: retried).
        """

    async def send_parts(self, item: OutboxItem, parts: Sequence[Callable[[], Awaitable[str | None]]]) -> str | None:
        """Send, in order, the platform messages one outbound message takes (a text over the
        platform's limit takes several): the platform's id of the last. An attempt that fails
        after some of them went keeps their number in the row's payload (``parts_sent``), and
        the retry sends only the rest: each part goes once, as a whole message does (a process
        killed between a part's acceptance and that write sends the part again, as it would
        a message)."""
        sent = int(item.payload.get(PARTS_SENT) or 0)
        last: str | None = None
        for i in range(sent, len(parts)):
            try:
                last = await parts[i]()
            except Exception:
                if i > sent and self.dispatcher is not None:
                    try:
                        await self.dispatcher.queue.keep_payload(item.id, {**item.payload, PARTS_SENT: i})
                    except Exception as exc:  # the retry then sends those parts again
                        log.warning("outbound %s: could not keep that %d of its parts went: %s", item.id, i, exc)
                raise
        return last

    async def typing(self, address: str) -> None:  # noqa: B027 (most platforms have no typing to show)
        """Show that the bot is typing, where the platform can (best effort, never raises)."""

    async def fetch(self, attachment: dict[str, Any]) -> tuple[bytes, str | None, str | None]:
        """Download an inbound attachment: (bytes, its name, its declared type).

        Raises:
            DeliveryFailed: the platform would not give it.
        """
        raise DeliveryFailed(f"the {self.name} channel cannot fetch files", retry=False)

    def public(self, url: str) -> str:
        """An absolute URL the platform can fetch (a file of the bot: GB_PUBLIC_URL + its path)."""
        if url.startswith(("http://", "https://")) or not self.public_url:
            return url
        return self.public_url.rstrip("/") + "/" + url.lstrip("/")


class ChannelRegistry:
    """The adapters of every bot, built from their config.csv when first asked and rebuilt
    when the config changes (any key: the adapter's config holds them all, outbox-* too)."""

    def __init__(self, bots: Any, kinds: list[type[Channel]], http: PlatformHttp, *,
                 public_url: str | None = None, environ: Mapping[str, str] = os.environ) -> None:
        self.bots = bots
        self.kinds = {k.name: k for k in kinds}
        self.http = http
        self.public_url = public_url
        self.environ = environ
        self.dispatcher: Dispatcher | None = None
        self._built: dict[tuple[str, str], tuple[BotSettings, Channel | None]] = {}

    def modes(self) -> dict[str, str]:
        """channel -> PUSH or INLINE, for the runtime's routing."""
        return {name: kind.mode for name, kind in self.kinds.items()}

    def get(self, bot: str, name: str) -> Channel | None:
        """Bot `bot`'s adapter of channel `name`, or None when the bot does not turn it on.

        Raises:
            UnknownBot: no such bot.
        """
        kind = self.kinds.get(name)
        if kind is None:
            return None
        package = self.bots.get(bot)
        settings = package.settings  # one object while config.csv is unchanged: a new one when it changes
        built = self._built.get((package.name, name))
        if built is not None and built[0] is settings:
            return built[1]
        adapter: Channel | None = None
        if kind.configured(settings.extra):
            adapter = kind(package.name, ChannelConfig(package.name, settings.extra, self.environ), self.http,
                           public_url=self.public_url)
            adapter.dispatcher = self.dispatcher
        self._built[(package.name, name)] = (settings, adapter)
        return adapter
