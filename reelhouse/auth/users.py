"""Users with argon2id password hashes (argon2-cffi's defaults, RFC 9106 parameters)."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import User
from reelhouse.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound

__all__ = ["UserService"]

_NAME = re.compile(r"^[\w.@+-]{1,64}$")
_hasher = PasswordHasher()


class UserService:
    """Create users and check passwords."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def add(self, name: str, password: str, is_admin: bool = False) -> User:
        """Create a user; raises InvalidInput (bad name, password under 8 characters)
        or Conflict (name taken)."""
        if not _NAME.match(name):
            raise InvalidInput("user name must be 1-64 letters, digits or . @ + - _")
        if len(password) < 8:
            raise InvalidInput("password must have at least 8 characters")
        user = User(name=name, password_hash=_hasher.hash(password), is_admin=is_admin)
        with self.sessions() as s:
            s.add(user)
            try:
                s.commit()
            except IntegrityError as exc:
                raise Conflict(f"user {name!r} exists already") from exc
        return user

    def set_password(self, name: str, password: str) -> None:
        if len(password) < 8:
            raise InvalidInput("password must have at least 8 characters")
        with self.sessions() as s:
            user = s.scalar(select(User).where(User.name == name))
            if user is None:
                raise NotFound(f"no user named {name!r}")
            user.password_hash = _hasher.hash(password)
            s.commit()

    def authenticate(self, name: str, password: str) -> User:
        """The user if the password is right; raises AuthenticationFailed otherwise
        (same message whether the name or the password was wrong)."""
        with self.sessions() as s:
            user = s.scalar(select(User).where(User.name == name))
        if user is None:
            _hasher.hash(password)  # same cost either way: no user enumeration by timing
            raise AuthenticationFailed("wrong user name or password")
        try:
            _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError) as exc:
            raise AuthenticationFailed("wrong user name or password") from exc
        return user

    def get(self, user_id: int) -> User | None:
        with self.sessions() as s:
            return s.get(User, user_id)

    def count(self) -> int:
        with self.sessions() as s:
            return int(s.scalar(select(func.count(User.id))) or 0)
