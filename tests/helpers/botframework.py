"""A real local stand-in of the Bot Framework's services, on one loopback server (platforms.py's):

- ``GET /openid``: the OpenID metadata, whose ``jwks_uri`` is ``/keys``;
- ``GET /keys``: the public keys now published (a test RSA key each, made with `cryptography`,
  with its ``endorsements``); ``rotate`` publishes another;
- ``POST /token``: the client credentials grant, checking grant_type, client_id, client_secret
  and scope, handing out ``tok-<n>`` tokens valid ``expires_in`` seconds;
- ``POST /v3/conversations/<id>/activities[/<replyToId>]``: the Bot Connector, which takes an
  activity only with the Bearer of a token it handed out and that has not expired (401 else),
  and answers ``{"id"}``; `failures` makes it answer messages otherwise first;
- ``GET /teams/attachments/<id>`` (an image a user sent: the Bearer needed) and ``GET
  /files/<id>`` (a Teams file's pre-authorised downloadUrl): JPEG's bytes.

`sign` makes the tokens the Bot Framework puts on the activities it sends a bot."""

from __future__ import annotations

import itertools
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.helpers.platforms import Call, Platform, platform

__all__ = ["APP_ID", "APP_SECRET", "JPEG", "BotFramework", "SigningKey", "botframework"]

APP_ID, APP_SECRET = "6f1c2b6a-0000-4a55-9d7c-3f1c2b6a9e10", "the-app's client secret"
ISSUER, SCOPE = "https://api.botframework.com", "https://api.botframework.com/.default"
JPEG = b"\xff\xd8\xff\xe0 a JPEG's bytes"  # what the attachments' URLs serve


@dataclass
class SigningKey:
    """A test RSA key pair and the JWK the keys endpoint publishes of it."""

    kid: str
    endorsements: list[str]
    private: Any = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def jwk(self) -> dict[str, Any]:
        public: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "endorsements": self.endorsements}


@dataclass
class BotFramework:
    """The stand-in (see the module docstring): `platform` records every call it got."""

    platform: Platform
    keys: list[SigningKey]
    expires_in: int = 3600
    failures: list[tuple[int, Any]] = field(default_factory=list)  # the connector's next answers to messages
    issued: dict[str, float] = field(default_factory=dict)  # token -> when it expires (time.time())
    keys_down: bool = False  # the metadata and keys endpoints answer 503
    _tokens: Any = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        return self.platform.url

    @property
    def service_url(self) -> str:
        """The connector's serviceUrl, as Teams writes it (with its trailing slash)."""
        return self.platform.url + "/teams/"

    def rotate(self, kid: str, endorsements: list[str] | None = None) -> SigningKey:
        """Publish a new key (the old ones stay published)."""
        key = SigningKey(kid, endorsements or ["msteams"])
        self.keys.append(key)
        return key

    def sign(self, *, key: SigningKey | None = None, kid: str | None = None, service_url: str | None = None,
             **claims: Any) -> str:
        """A Bot Framework token for an activity to the app: the claims Teams' tokens carry, any
        overridden (``aud=...``, ``iss=...``, ``exp=...``; None leaves one out)."""
        key = key or self.keys[0]
        now = int(time.time())
        body = {"iss": ISSUER, "aud": APP_ID, "exp": now + 3600, "nbf": now - 60,
                "serviceurl": service_url if service_url is not None else self.service_url, **claims}
        return jwt.encode({k: v for k, v in body.items() if v is not None}, key.private, algorithm="RS256",
                          headers={"kid": kid or key.kid})

    def token_requests(self) -> list[Call]:
        return [c for c in self.platform.calls if c.method == "POST" and c.path == "/token"]

    def key_fetches(self) -> list[Call]:
        return [c for c in self.platform.calls if c.method == "GET" and c.path == "/keys"]

    def activities(self, conversation: str | None = None, *, accepted: bool = True) -> list[Call]:
        """The connector's POSTs (to one conversation), only those it took when `accepted`."""
        found = [c for c in self.platform.posts("/v3/conversations/", accepted=accepted)]
        if conversation is None:
            return found
        prefix = "/teams/v3/conversations/" + urllib.parse.quote(conversation, safe=":@") + "/activities"
        return [c for c in found if c.path.startswith(prefix)]

    def answer(self, call: Call) -> tuple[int, Any]:
        if self.keys_down and call.path in ("/openid", "/keys"):
            return 503, {"error": "temporarily unavailable"}
        if call.method == "GET" and call.path == "/openid":
            return 200, {"issuer": ISSUER, "jwks_uri": self.url + "/keys",
                         "id_token_signing_alg_values_supported": ["RS256"]}
        if call.method == "GET" and call.path == "/keys":
            return 200, {"keys": [k.jwk() for k in self.keys]}
        if call.method == "POST" and call.path == "/token":
            return self._token(call.form())
        if call.method == "POST" and call.path.startswith("/teams/v3/conversations/"):
            return self._connector(call)
        if call.method == "GET" and call.path.startswith("/teams/attachments/"):  # an image the user sent
            return (200, JPEG) if self._authorised(call) else (401, {"message": "Authorization has been denied"})
        if call.method == "GET" and call.path.startswith("/files/"):  # a Teams file: its pre-authorised downloadUrl
            return 200, JPEG
        return 404, {"error": {"code": "NotFound", "message": f"no {call.method} {call.path}"}}

    def _token(self, form: dict[str, str]) -> tuple[int, Any]:
        if form.get("grant_type") != "client_credentials" or form.get("scope") != SCOPE:
            return 400, {"error": "invalid_request", "error_description": f"bad grant or scope: {form}"}
        if form.get("client_id") != APP_ID or form.get("client_secret") != APP_SECRET:
            return 401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret."}
        token = f"tok-{next(self._tokens)}-{uuid.uuid4().hex[:6]}"
        self.issued[token] = time.time() + self.expires_in
        return 200, {"token_type": "Bearer", "expires_in": self.expires_in, "ext_expires_in": self.expires_in,
                     "access_token": token}

    def _authorised(self, call: Call) -> bool:
        """The call has the Bearer of a token handed out and not expired."""
        bearer = call.headers.get("authorization", "").removeprefix("Bearer ")
        return self.issued.get(bearer, 0.0) > time.time()

    def _connector(self, call: Call) -> tuple[int, Any]:
        if not self._authorised(call):
            return 401, {"message": "Authorization has been denied for this request."}
        if self.failures and call.json().get("type") == "message":  # typing is best effort: not failed
            return self.failures.pop(0)
        return 200, {"id": f"1{self.platform.next_id():012d}"}


@asynccontextmanager
async def botframework(*, expires_in: int = 3600) -> AsyncIterator[BotFramework]:
    """Serve the stand-in (one signing key, ``key-1``, endorsed for msteams) until the block ends."""
    holder: list[BotFramework] = []
    async with platform(lambda call: holder[0].answer(call)) as p:
        bf = BotFramework(p, [SigningKey("key-1", ["msteams"])], expires_in=expires_in)
        holder.append(bf)
        yield bf
