"""Session tokens: 256 random bits, URL-safe base64, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["new_token", "hash_token", "same_hash"]

TOKEN_BYTES = 32  # 256 bits


def new_token() -> tuple[str, str]:
    """A fresh token and its hash: the token is shown once, only the hash is stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """SHA-256 of a token, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Constant-time comparison of two hashes."""
    return hmac.compare_digest(a.encode(), b.encode())
