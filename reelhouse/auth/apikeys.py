"""API keys for automation: ``Authorization: Bearer rhk_…``.

Separate from sessions: a key does not expire by idleness, is made and revoked by an
admin, and survives password changes (revoke it by hand). Only the SHA-256 of a key
is stored; the key itself is shown once, when it is made. A key of a disabled or
deleted user stops working at once.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.auth.sessions import token_hash
from reelhouse.db.models import ApiKey, User, utcnow
from reelhouse.errors import AuthenticationFailed, InvalidInput, NotFound

__all__ = ["KEY_PREFIX", "ApiKeyInfo", "ApiKeyService"]

KEY_PREFIX = "rhk_"
_NAME = re.compile(r"[\w .@+-]{1,64}")  # fullmatch: "$" would let a trailing newline in


@dataclass(frozen=True)
class ApiKeyInfo:
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, row: ApiKey) -> ApiKeyInfo:
        return cls(row.id, row.user_id, row.name, row.prefix, row.created_at, row.last_used_at)


class ApiKeyService:
    """Create, list, resolve and revoke API keys."""

    def __init__(self, sessions: sessionmaker[Session], on_revoke: Callable[[], None] | None = None) -> None:
        """``on_revoke``: called after a key is deleted (caches of resolved keys forget)."""
        self.db = sessions
        self.on_revoke = on_revoke

    def create(self, user_id: int, name: str) -> tuple[str, ApiKeyInfo]:
        """A new key for ``user_id`` named ``name`` (1-64 letters, digits, space . @ + - _);
        returns ``(key, info)``. Raises NotFound for an unknown user."""
        if not _NAME.fullmatch(name):
            raise InvalidInput("key name must be 1-64 letters, digits, spaces or . @ + - _")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        with self.db() as s:
            if s.get(User, user_id) is None:
                raise NotFound(f"no user with id {user_id}")
            row = ApiKey(user_id=user_id, name=name, token_hash=token_hash(key), prefix=key[:10])
            s.add(row)
            s.commit()
            return key, ApiKeyInfo.of(row)

    def resolve(self, key: str) -> tuple[User, ApiKeyInfo]:
        """The user behind ``key``; raises AuthenticationFailed (unknown, revoked, user
        disabled)."""
        if not key.startswith(KEY_PREFIX) or len(key) > 200:
            raise AuthenticationFailed("invalid API key")
        with self.db() as s:
            row = s.scalar(select(ApiKey).where(ApiKey.token_hash == token_hash(key)))
            if row is None:
                raise AuthenticationFailed("this API key was revoked or never existed")
            user = s.get(User, row.user_id)
            if user is None or user.disabled:
                raise AuthenticationFailed("the account of this API key is disabled")
            now = utcnow()
            if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
                row.last_used_at = now
                s.commit()
            return user, ApiKeyInfo.of(row)

    def is_live(self, key_id: int, user_id: int | None = None) -> bool:
        """Does the key exist, for an enabled user (``user_id`` when given)?"""
        with self.db() as s:
            row = s.get(ApiKey, key_id)
            if row is None or (user_id is not None and row.user_id != user_id):
                return False
            user = s.get(User, row.user_id)
            return user is not None and not user.disabled

    def list(self) -> list[ApiKeyInfo]:
        with self.db() as s:
            return [ApiKeyInfo.of(r) for r in s.scalars(select(ApiKey).order_by(ApiKey.id))]

    def revoke(self, key_id: int) -> ApiKeyInfo:
        """Delete a key; NotFound if there is none with that id."""
        with self.db() as s:
            row = s.get(ApiKey, key_id)
            if row is None:
                raise NotFound(f"no API key with id {key_id}")
            info = ApiKeyInfo.of(row)
            s.execute(delete(ApiKey).where(ApiKey.id == key_id))
            s.commit()
        if self.on_revoke is not None:
            self.on_revoke()
        return info
