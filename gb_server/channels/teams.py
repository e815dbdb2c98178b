"""Microsoft Teams (the Bot Framework's activity protocol): ``POST /<bot>/api/messages``.

config.csv keys: ``teams-app-id`` (the Azure Bot's Microsoft App ID), ``teams-app-password``
(its client secret), ``teams-tenant-id`` (a single-tenant bot's tenant), ``teams-openid-url``
(default OPENID, the Bot Framework's metadata), ``teams-token-url`` (default TOKEN_URL with the
tenant, or ``botframework.com``). Any value may be ``env:NAME``; the secret and the tokens are
never put in a message or log line.

- Verify (protocols.md 4.2): ``Authorization: Bearer <JWT>`` signed by a key of the metadata's
  ``jwks_uri`` (fetched through PlatformHttp, kept a day; a ``kid`` not among them fetches them
  again, at most once an hour), alg RS256/RS384/RS512, ``iss`` the Bot Framework's, ``aud`` the
  app id, ``exp`` with 5 minutes of leeway, the key's ``endorsements`` holding the activity's
  ``channelId``, and the ``serviceurl`` claim equal to the activity's ``serviceUrl``. Each failure
  is a 401 saying which, and nothing is stored. Emulator tokens (AAD issuers) are not accepted.
- In: a ``message`` activity is one inbound message (de-duplicated on its ``id``; its address is
  the conversation's id; an ``<at>`` mention of the bot is dropped from the text); its
  conversation reference (serviceUrl, conversation, user, bot, tenant) is kept with the inbox
  row: the replies are sent there, and only a serviceUrl of a verified activity is ever used. A
  ``conversationUpdate`` adding a user (not the bot) opens the conversation: start.bas greets.
  Any other activity is acknowledged and ignored.
- Out: a client-credentials token (kept until shortly before ``expires_in``), then ``POST
  {serviceUrl}v3/conversations/{id}/activities/{replyToId}`` (``/activities`` when the message
  answers no activity: a proactive TALK TO). A menu of up to 3 options is ``suggestedActions``
  (imBack: Teams shows no more than 3) in a personal chat; a longer one (up to 6), and any menu
  in a group or channel, is an Adaptive Card's buttons (imBack too); more are numbered text. An
  image is an attachment, another file a link. A 401/403 of the connector
  gets a new token once; 429 and 5xx are retried, other 4xx dead-lettered.
- Typing: a ``typing`` activity, best effort.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt
from tornado.httputil import HTTPServerRequest

from ..base import ApiError, parse_json
from .base import Channel, DeliveryFailed, Parsed, Received, failed_response, numbered, options_of
from .http import PlatformError, PlatformHttp

if TYPE_CHECKING:
    from gb_runtime import OutboxItem

__all__ = ["Teams", "BotFrameworkKeys", "OPENID", "TOKEN_URL", "ISSUER", "SCOPE", "ALGORITHMS"]

log = logging.getLogger("gb.channels")
OPENID = "https://login.botframework.com/v1/.well-known/openidconfiguration"
TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
ISSUER = "https://api.botframework.com"
SCOPE = "https://api.botframework.com/.default"
ALGORITHMS = ["RS256", "RS384", "RS512"]
LEEWAY = 300.0  # seconds of clock skew allowed on exp and nbf
KEYS_SECONDS = 24 * 3600.0  # the signing keys are fetched again after a day
UNKNOWN_KID_SECONDS = 3600.0  # an unknown kid fetches them again at most once an hour
TOKEN_MARGIN = 300.0  # seconds before its expiry a token is replaced (at most half its life)
MAX_SUGGESTED = 3  # Teams shows only the first three suggested actions (Learn, "suggested actions")
MAX_CARD_BUTTONS = 6  # a menu's buttons on an Adaptive Card at most; more are numbered text
_MENTION = re.compile(r"<at>[^<]*</at>", re.IGNORECASE)


@dataclass(frozen=True)
class _Key:
    key: Any  # the public key object (cryptography's), for jwt.decode
    endorsements: frozenset[str]


class BotFrameworkKeys:
    """The Bot Framework's signing keys, from its OpenID metadata's ``jwks_uri``: fetched through
    PlatformHttp (never blocking the loop), kept KEYS_SECONDS, fetched again for a ``kid`` they
    lack at most every UNKNOWN_KID_SECONDS (a forged kid cannot make every request a fetch)."""

    def __init__(self, http: PlatformHttp, openid_url: str) -> None:
        self.http = http
        self.openid_url = openid_url
        self._keys: dict[str, _Key] = {}
        self._fetched_at: float | None = None
        self._unknown_fetch_at: float | None = None
        self._lock = asyncio.Lock()

    async def get(self, kid: str) -> _Key | None:
        """The key of `kid`, or None when the Bot Framework has none of that id.

        Raises:
            ApiError: 503 keys_unavailable: the keys could not be fetched (and none are known).
        """
        async with self._lock:
            now = time.monotonic()
            if self._fetched_at is None or now - self._fetched_at > KEYS_SECONDS:
                await self._refresh(now)
            elif kid not in self._keys and (self._unknown_fetch_at is None
                                            or now - self._unknown_fetch_at > UNKNOWN_KID_SECONDS):
                self._unknown_fetch_at = now
                await self._refresh(now)
            return self._keys.get(kid)

    async def _refresh(self, now: float) -> None:
        try:
            metadata = await self._json(self.openid_url, "the OpenID metadata")
            jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
            if not isinstance(jwks_uri, str):
                raise ValueError(f"the OpenID metadata of {self.openid_url} has no jwks_uri")
            jwks = await self._json(jwks_uri, "the signing keys (jwks_uri)")
            keys = jwks.get("keys") if isinstance(jwks, dict) else None
            if not isinstance(keys, list):
                raise ValueError(f"the signing keys of {jwks_uri} are not a JWKS ({{\"keys\": [...]}})")
        except (PlatformError, ValueError) as exc:
            if self._keys:  # the keys known stay good until the Bot Framework answers again
                log.warning("teams: fetching the Bot Framework's signing keys failed (%s); the known ones stay", exc)
                self._fetched_at = now
                return
            raise ApiError(503, "keys_unavailable", f"the Bot Framework's signing keys could not be fetched: "
                                                    f"{getattr(exc, 'message', exc)}", retry_after=5) from None
        self._keys = dict(_parsed_keys(keys))
        self._fetched_at = now

    async def _json(self, url: str, what: str) -> Any:
        response = await self.http.get(url)
        if response.status_code != 200:
            raise ValueError(f"{what} answered {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise ValueError(f"{what} is not JSON") from None


def _parsed_keys(keys: list[Any]) -> list[tuple[str, _Key]]:
    """The RSA keys of a JWKS by kid (a key PyJWT cannot read is left out, not fatal)."""
    parsed = []
    for k in keys:
        if not isinstance(k, dict) or not isinstance(k.get("kid"), str):
            continue
        try:
            jwk = jwt.PyJWK(k)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            log.info("teams: signing key %s is not one PyJWT reads; left out", k.get("kid"))
            continue
        endorsements = k.get("endorsements")
        parsed.append((k["kid"], _Key(jwk.key, frozenset(str(e) for e in endorsements)
                                      if isinstance(endorsements, list) else frozenset())))
    return parsed


class Teams(Channel):
    name = "teams"
    path = "api/messages"
    keys = ("teams-app-id", "teams-app-password")

    _keys: BotFrameworkKeys | None = None  # this adapter's (made at the first request)
    _token: tuple[str, float] | None = None  # (access token, monotonic time it is replaced)
    _token_lock: asyncio.Lock | None = None

    @property
    def signing_keys(self) -> BotFrameworkKeys:
        """The Bot Framework's keys, kept while the bot's config is unchanged (a new adapter then)."""
        if self._keys is None:
            self._keys = BotFrameworkKeys(self.http, self.config.get("teams-openid-url") or OPENID)
        return self._keys

    @property
    def app_id(self) -> str:
        return self.config.require("teams-app-id")

    # --- in ------------------------------------------------------------------------------------------
    async def verify(self, request: HTTPServerRequest, body: bytes) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "missing_token", "the Authorization header is missing or not 'Bearer <token>'")
        token = token.strip()
        try:
            unverified = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise ApiError(401, "bad_token", "the Authorization header's token is not a JWT") from None
        if unverified.get("alg") not in ALGORITHMS:
            raise ApiError(401, "bad_algorithm", f"the token's alg {unverified.get('alg')!r} is not one of "
                                                 f"{', '.join(ALGORITHMS)}")
        kid = unverified.get("kid")
        key = await self.signing_keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise ApiError(401, "unknown_key", f"the token's signing key (kid {kid!r}) is not one of the Bot "
                                               "Framework's")
        claims = self._decoded(token, key)
        activity = _activity(body)
        channel = str(activity.get("channelId") or "")
        if channel not in key.endorsements:
            raise ApiError(401, "unendorsed_channel", f"the token's signing key is not endorsed for channel "
                                                      f"{channel!r}")
        if claims.get("serviceurl") != activity.get("serviceUrl"):
            raise ApiError(401, "wrong_service_url", "the token's serviceurl claim does not match the activity's "
                                                     "serviceUrl")

    def _decoded(self, token: str, key: _Key) -> dict[str, Any]:
        """The token's claims, its signature, issuer, audience and expiry checked."""
        try:
            claims: dict[str, Any] = jwt.decode(token, key.key, algorithms=ALGORITHMS, audience=self.app_id,
                                                issuer=ISSUER, leeway=LEEWAY,
                                                options={"require": ["exp", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise ApiError(401, "expired_token", "the token has expired (exp, 5 minutes of leeway)") from None
        except jwt.InvalidAudienceError:
            raise ApiError(401, "wrong_audience", "the token's aud is not this bot's teams-app-id") from None
        except jwt.InvalidIssuerError:
            raise ApiError(401, "wrong_issuer", f"the token's iss is not {ISSUER}") from None
        except jwt.InvalidSignatureError:
            raise ApiError(401, "bad_signature", "the token's signature does not verify") from None
        except jwt.MissingRequiredClaimError as exc:
            raise ApiError(401, "bad_token", f"the token has no {exc.claim} claim") from None
        except jwt.PyJWTError as exc:
            raise ApiError(401, "bad_token", f"the token does not verify ({type(exc).__name__})") from None
        return claims

    def parse(self, request: HTTPServerRequest, body: bytes) -> Parsed:
        activity = _activity(body)
        kind = activity.get("type")
        conversation = _dict(activity.get("conversation"))
        if not conversation.get("id"):
            return Parsed()
        if kind == "message" and activity.get("id"):
            return Parsed(messages=[_message(activity)])
        if kind == "conversationUpdate":
            bot_id = _dict(activity.get("recipient")).get("id")
            added = [m for m in activity.get("membersAdded") or [] if isinstance(m, dict) and m.get("id")
                     and m.get("id") != bot_id]
            if added:
                platform_id = str(activity.get("id") or "added:" + ",".join(sorted(str(m["id"]) for m in added)))
                return Parsed(messages=[_Greet(platform_id, str(conversation["id"]), "", name=added[0].get("name"),
                                               extra={"reference": _reference(activity, added[0])})])
        return Parsed()  # typing, reactions, installationUpdate, invoke ...: acknowledged

    async def fetch(self, attachment: dict[str, Any]) -> tuple[bytes, str | None, str | None]:
        """A file's bytes: a Teams file's downloadUrl (pre-authorised), or an image's contentUrl on
        the connector (with the bot's token, only when it is on the activity's serviceUrl)."""
        headers = {"Authorization": f"Bearer {await self.token()}"} if attachment.get("auth") else None
        try:
            data = await self.http.get(str(attachment.get("url")), headers=headers, follow_redirects=True)
        except PlatformError as exc:
            raise DeliveryFailed(f"the Teams file could not be fetched: {exc.message}", retry=exc.retry) from None
        if data.status_code != 200:
            raise await failed_response(data, "the Teams file download")
        return data.content, attachment.get("name"), attachment.get("type")

    # --- out -----------------------------------------------------------------------------------------
    async def send(self, item: OutboxItem) -> str | None:
        if item.payload.get("template"):
            raise DeliveryFailed("SEND TEMPLATE is WhatsApp's (Meta's message templates): Teams has none, so TALK "
                                 "TO the user with the text instead", retry=False)
        reference, reply_to = await self._reference(item)
        activity = {**self._addressed(reference, reply_to), **self.message(item.payload, reference)}
        answer = await self._post(reference, reply_to, activity)
        return str(answer["id"]) if isinstance(answer, dict) and answer.get("id") else None

    async def typing(self, address: str) -> None:
        try:
            reference = await self._latest(address)
            if reference is not None:
                await self._post(reference, None, {**self._addressed(reference, None), "type": "typing"})
        except Exception as exc:  # best effort: the reply itself is what matters
            log.debug("teams typing for %s of bot %s: %s", address, self.bot, exc)

    def message(self, payload: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
        """The activity of an outbox payload (without its addressing)."""
        text = str(payload.get("content") or "")
        options = options_of(payload)
        activity: dict[str, Any] = {"type": "message", "textFormat": "plain"}
        personal = _dict(reference.get("conversation")).get("conversationType", "personal") == "personal"
        if options and len(options) <= MAX_SUGGESTED and personal:
            activity["suggestedActions"] = {"to": [_dict(reference.get("user")).get("id")],
                                            "actions": [{"type": "imBack", "title": o, "value": o} for o in options]}
        elif options and len(options) <= MAX_CARD_BUTTONS:
            activity["attachments"] = [_card(text, options)]
            text = ""
        elif options:
            text = numbered(text, options)
        file = payload.get("file")
        if file:
            url, kind = self.public(str(file["url"])), str(file.get("type") or "")
            if kind.startswith("image/"):
                activity.setdefault("attachments", []).append({"contentType": kind, "contentUrl": url,
                                                               "name": file.get("name") or "image"})
            else:
                text = "\n".join(t for t in (text, f"{file.get('name') or 'file'}: {url}") if t)
        if text or "attachments" not in activity:
            activity["text"] = text or "…"
        return activity

    def _addressed(self, reference: dict[str, Any], reply_to: str | None) -> dict[str, Any]:
        d: dict[str, Any] = {"from": reference.get("bot") or {"id": f"28:{self.app_id}"},
                             "recipient": reference.get("user") or {},
                             "conversation": {"id": _dict(reference.get("conversation")).get("id")}}
        if reply_to:
            d["replyToId"] = reply_to
        return d

    async def _reference(self, item: OutboxItem) -> tuple[dict[str, Any], str | None]:
        """The conversation reference of an outbound message, and the activity it answers: its
        turn's inbound message when that was of the same conversation, else (a TALK TO, a timer)
        the conversation's newest one, posted as a new activity.

        Raises:
            DeliveryFailed: no verified activity of the conversation was ever stored (not retried).
        """
        if self.dispatcher is not None and item.inbox_id is not None:
            row = await self.dispatcher.queue.inbox(item.inbox_id)
            if row is not None and row.channel == self.name and row.address == item.address:
                reference = _dict(row.payload.get("extra")).get("reference")
                if isinstance(reference, dict):
                    return reference, None if row.payload.get("start") else row.platform_id
        reference = await self._latest(item.address)
        if reference is None:
            raise DeliveryFailed(f"no Teams activity of conversation {item.address} was ever received by bot "
                                 f"{self.bot}: the bot cannot write to it first", retry=False)
        return reference, None

    async def _latest(self, address: str) -> dict[str, Any] | None:
        if self.dispatcher is None:
            return None
        payload = await self.dispatcher.queue.latest_payload(self.bot, self.name, address)
        reference = _dict(_dict(payload).get("extra")).get("reference")
        return reference if isinstance(reference, dict) else None

    async def _post(self, reference: dict[str, Any], reply_to: str | None, activity: dict[str, Any]) -> Any:
        """POST an activity to the conversation's connector: its answer (``{"id"}``). A 401/403
        gets a new token and is tried once more.

        Raises:
            DeliveryFailed: the connector refused it (429 and 5xx retried) or could not be reached.
        """
        service = str(reference.get("serviceUrl") or "")
        conversation = urllib.parse.quote(str(_dict(reference.get("conversation")).get("id") or ""), safe=":@")
        url = f"{service.rstrip('/')}/v3/conversations/{conversation}/activities"
        if reply_to:
            url += "/" + urllib.parse.quote(reply_to, safe=":@")
        response = None
        for fresh in (False, True):
            token = await self.token(fresh=fresh)
            try:
                response = await self.http.post(url, json=activity, headers={"Authorization": f"Bearer {token}"})
            except PlatformError as exc:
                raise DeliveryFailed(f"the Teams connector could not be reached: {exc.message}",
                                     retry=exc.retry) from None
            if response.status_code not in (401, 403):
                break
        assert response is not None
        if response.status_code >= 300:
            raise await failed_response(response, "the Teams connector")
        try:
            return response.json()
        except ValueError:
            return None

    async def token(self, *, fresh: bool = False) -> str:
        """The bot's access token for the connector (client credentials), kept until TOKEN_MARGIN
        before it expires; `fresh`: a new one (the connector refused the one kept).

        Raises:
            DeliveryFailed: the token endpoint refused (the app id or secret: not retried) or failed.
        """
        if self._token_lock is None:
            self._token_lock = asyncio.Lock()
        async with self._token_lock:
            if not fresh and self._token is not None and time.monotonic() < self._token[1]:
                return self._token[0]
            tenant = self.config.get("teams-tenant-id") or "botframework.com"
            url = self.config.get("teams-token-url") or TOKEN_URL.format(tenant=tenant)
            form = {"grant_type": "client_credentials", "client_id": self.app_id,
                    "client_secret": self.config.require("teams-app-password"), "scope": SCOPE}
            try:
                response = await self.http.post(url, data=form)
            except PlatformError as exc:
                raise DeliveryFailed(f"the Teams token endpoint could not be reached: {exc.message}",
                                     retry=exc.retry) from None
            answer = _json_or_empty(response)
            if response.status_code != 200 or not isinstance(answer.get("access_token"), str):
                reason = str(answer.get("error_description") or answer.get("error") or response.text)[:300]
                raise DeliveryFailed(f"the Teams token endpoint answered {response.status_code}: {reason}",
                                     retry=response.status_code == 429 or response.status_code >= 500)
            lifetime = float(answer.get("expires_in") or 3600)
            self._token = (answer["access_token"], time.monotonic() + lifetime - min(TOKEN_MARGIN, lifetime / 2))
            return self._token[0]


class _Greet(Received):
    """A user added to the conversation: no message; the inbox row says ``start`` (the
    dispatcher opens the conversation, start.bas greets)."""

    def payload(self) -> dict[str, Any]:
        return {**super().payload(), "start": True}


def _activity(body: bytes) -> dict[str, Any]:
    activity = parse_json(body)
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
        raise ApiError(400, "bad_request", 'a Teams webhook body is an Activity: {"type": ..., "serviceUrl": ...}')
    return activity


def _message(activity: dict[str, Any]) -> Received:
    text = _MENTION.sub("", str(activity.get("text") or "")).strip()
    value = activity.get("value")
    if not text and isinstance(value, dict) and isinstance(value.get("choice"), str):
        text = value["choice"]  # an Adaptive Card's Action.Submit
    sender = _dict(activity.get("from"))
    service = str(activity.get("serviceUrl") or "")
    attachments = []
    for a in activity.get("attachments") or []:
        a = _dict(a)
        kind, content = str(a.get("contentType") or ""), _dict(a.get("content"))
        if kind == "application/vnd.microsoft.teams.file.download.info" and content.get("downloadUrl"):
            attachments.append({"kind": "file", "url": content["downloadUrl"], "name": a.get("name"),
                                "type": None, "auth": False})
        elif kind.startswith("image/") and a.get("contentUrl"):
            url = str(a["contentUrl"])
            attachments.append({"kind": "image", "url": url, "name": a.get("name"), "type": kind,
                                "auth": bool(service) and url.startswith(service)})
    return Received(str(activity["id"]), str(_dict(activity.get("conversation"))["id"]), text, None, attachments,
                    sender.get("name"), extra={"reference": _reference(activity, sender)})


def _reference(activity: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    """The ConversationReference of an activity: where and to whom the replies go."""
    conversation = _dict(activity.get("conversation"))
    tenant = _dict(_dict(activity.get("channelData")).get("tenant")).get("id") or conversation.get("tenantId")
    return {"serviceUrl": activity.get("serviceUrl"), "channelId": activity.get("channelId"),
            "conversation": {k: conversation[k] for k in ("id", "conversationType", "tenantId") if k in conversation},
            "user": {k: user[k] for k in ("id", "name") if k in user},
            "bot": {k: v for k, v in _dict(activity.get("recipient")).items() if k in ("id", "name")},
            "tenant": tenant}


def _card(text: str, options: list[str]) -> dict[str, Any]:
    """A menu in a group or channel: an Adaptive Card whose buttons send their option back as
    the user's message (imBack)."""
    return {"contentType": "application/vnd.microsoft.card.adaptive", "content": {
        "type": "AdaptiveCard", "version": "1.4", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "body": [{"type": "TextBlock", "text": text or "…", "wrap": True}],
        "actions": [{"type": "Action.Submit", "title": o, "data": {"msteams": {"type": "imBack", "value": o}}}
                    for o in options]}}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _json_or_empty(response: Any) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
