"""Users: anonymous by default; accounts with argon2 password hashes; channel identities."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from .errors import AuthenticationFailed, SessionError
from .schema import User as UserRow
from .schema import UserIdentity
from .session import utcnow

__all__ = ["User", "UserStore", "UserExists"]

U, I = cast(Table, UserRow.__table__), cast(Table, UserIdentity.__table__)


class UserExists(SessionError):
    status, code = 409, "user_exists"


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    username: str
    email: str | None


class UserStore:
    """Accounts and identities in the same database as the sessions."""

    def __init__(self, engine: AsyncEngine, hasher: PasswordHasher | None = None) -> None:
        self.engine = engine
        self.hasher = hasher or PasswordHasher()

    async def create(self, username: str, password: str | None = None, *, email: str | None = None) -> User:
        """A new account; the password is stored only as an argon2 hash."""
        uid = uuid.uuid4()
        pw_hash = self.hasher.hash(password) if password is not None else None
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(U).values(id=uid, username=username, email=email,
                                                    password_hash=pw_hash, created_at=utcnow()))
        except IntegrityError:
            raise UserExists(f"user {username!r} already exists") from None
        return User(uid, username, email)

    async def authenticate(self, username: str, password: str) -> User:
        """The user if the password is right, else AuthenticationFailed (no hint which part)."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(U).where(U.c.username == username))).mappings().first()
        if row is None or row["password_hash"] is None:
            self.hasher.hash(password)  # spend the same time either way
            raise AuthenticationFailed("wrong user name or password")
        try:
            self.hasher.verify(row["password_hash"], password)
        except (VerificationError, InvalidHashError):
            raise AuthenticationFailed("wrong user name or password") from None
        return User(row["id"], row["username"], row["email"])

    async def get(self, user_id: uuid.UUID) -> User | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(U).where(U.c.id == user_id))).mappings().first()
        return User(row["id"], row["username"], row["email"]) if row else None

    async def link(self, user_id: uuid.UUID, channel: str, address: str) -> None:
        """Record that a channel address (an email, a phone, a Teams id) is this user's."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(I).values(user_id=user_id, channel=channel, address=address))
        except IntegrityError:
            owner = await self.by_identity(channel, address)
            if owner is None or owner.id != user_id:
                raise UserExists(f"{channel} address {address} belongs to another user") from None

    async def address_of(self, user_id: uuid.UUID, channel: str) -> str | None:
        """The user's address on a channel (the newest linked), None when it has none."""
        async with self.engine.connect() as conn:
            found: str | None = (await conn.execute(
                select(I.c.address).where(I.c.user_id == user_id, I.c.channel == channel)
                .order_by(I.c.id.desc()).limit(1))).scalar()
        return found

    async def by_identity(self, channel: str, address: str) -> User | None:
        """The user a channel address belongs to."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(U).join(I, I.c.user_id == U.c.id)
                                      .where(I.c.channel == channel, I.c.address == address))).mappings().first()
        return User(row["id"], row["username"], row["email"]) if row else None
