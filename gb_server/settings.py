"""Server settings, read once from the environment into a frozen ServerSettings.

``GB_BOTS_DIR`` (default ``./bots``), ``GB_PORT`` (8080), ``GB_CORS_ORIGINS`` (comma separated;
default none: the API is same-origin; they are also the sites that may frame the web chat page,
the embed snippet's iframe: its CSP frame-ancestors), ``GB_MAX_BODY_KB`` (64: requests and socket messages),
``GB_MAX_MESSAGE_CHARS`` (4000: one user message), ``GB_PUBLIC_URL`` and ``GB_ALLOWED_HOSTS``
(where handed-out URLs point), ``GB_METRICS_TOKEN`` (who may read /metrics), ``GB_TRUSTED_PROXIES``
(comma separated addresses or networks of reverse proxies whose ``X-Forwarded-For`` names the client;
default none: a client is the connection's peer address), ``GB_CHANNEL_LEASE_SECONDS`` (60: how
long a process holds a claimed inbound or outbound channel message before another may take it;
what a process killed mid-message delays it by). Storage: see gb_sessions/config.py.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gb_runtime import StoreSettings

__all__ = ["ServerSettings", "Network"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ServerSettings:
    bots_dir: Path
    storage: StoreSettings
    port: int = 8080
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 64 * 1024
    max_message_chars: int = 4000
    public_url: str | None = None  # e.g. https://bots.example.com: the base of URLs the server hands out
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1")  # hosts a handed-out URL may name otherwise
    metrics_token: str | None = None  # /metrics needs it as a Bearer token; None: loopback only
    trusted_proxies: tuple[Network, ...] = ()  # peers whose X-Forwarded-For is believed (client limits)
    channel_lease_seconds: int = 60  # a claimed channel message is another process's after this long

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ, *, bots_dir: Path | None = None,
                 port: int | None = None) -> ServerSettings:
        """Read the settings; a malformed number fails loudly with its variable's name."""
        def number(name: str, default: int) -> int:
            raw = environ.get(name)
            if raw is None or raw == "":
                return default
            try:
                return int(raw)
            except ValueError:
                raise ValueError(f"{name} must be a whole number, got {raw!r}") from None

        origins = tuple(o.strip().rstrip("/") for o in environ.get("GB_CORS_ORIGINS", "").split(",") if o.strip())
        return cls(
            bots_dir=(bots_dir or Path(environ.get("GB_BOTS_DIR") or "bots")).resolve(),
            storage=StoreSettings.from_env(environ),
            port=port if port is not None else number("GB_PORT", 8080),
            cors_origins=origins,
            max_body_bytes=number("GB_MAX_BODY_KB", 64) * 1024,
            max_message_chars=number("GB_MAX_MESSAGE_CHARS", 4000),
            public_url=(environ.get("GB_PUBLIC_URL") or "").rstrip("/") or None,
            allowed_hosts=tuple(h.strip().lower() for h in (environ.get("GB_ALLOWED_HOSTS")
                                                              or "localhost,127.0.0.1").split(",") if h.strip()),
            metrics_token=environ.get("GB_METRICS_TOKEN") or None,
            trusted_proxies=_networks("GB_TRUSTED_PROXIES", environ.get("GB_TRUSTED_PROXIES", "")),
            channel_lease_seconds=number("GB_CHANNEL_LEASE_SECONDS", 60),
        )


def _networks(name: str, raw: str) -> tuple[Network, ...]:
    """Comma separated addresses or networks (``10.0.0.0/8``); a malformed one fails with its variable's name."""
    try:
        return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"{name} must be addresses or networks separated by commas: {exc}") from None
