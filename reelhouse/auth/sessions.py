"""Server-side, revocable login sessions.

A session token is ``rhs_`` + 43 random URL-safe characters (256 bits); the database
keeps only its SHA-256, so a leaked database does not leak live tokens. A check
reads the row, so deleting it (logout, password change, disable, delete) ends the
session on every process sharing the database: at once on the process that deleted it
(its caches are told, :meth:`SessionService.on_change`), at once on the others when
they share Redis (auth/revocations.py publishes it), else within half a second on the
others — the API trusts a resolved token for
:data:`~reelhouse.auth.identity.IDENTITY_CACHE_SECONDS` and :meth:`SessionService.is_live`
a positive answer for :data:`LIVE_CACHE_SECONDS`, for the hot playback path.

The same service serves browsers (cookie), API clients (bearer) and Jellyfin clients
(``kind="jellyfin"``)::

    token, info = sessions.create(user.id, kind="jellyfin", device="Pixel 8",
                                  client="Jellyfin Android", address="10.0.0.5")
    user, info = sessions.resolve(token)       # AuthenticationFailed if gone/expired
    sessions.revoke(info.id)                   # that device is logged out
    sessions.revoke_user(user.id, keep=info.id)  # "sign out everywhere else"

Lifetimes (seconds): ``absolute_ttl`` from creation (``Settings.session_ttl``) and
``idle_ttl`` since the last use (``Settings.session_idle_ttl``); ``last_seen_at`` is
written at most once per :data:`TOUCH_SECONDS` per session. Expired rows are deleted
when used, and all at once by :meth:`SessionService.purge_expired`, which a login runs
at most once per :data:`PURGE_SECONDS` per process (the first login of a process
runs it), so sessions of devices that never came back do not pile up.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import AuthSession, User
from reelhouse.errors import AuthenticationFailed, NotFound

__all__ = ["LIVE_CACHE_SECONDS", "PURGE_SECONDS", "SESSION_PREFIX", "TOUCH_SECONDS", "SessionInfo",
           "SessionService", "token_hash"]

SESSION_PREFIX = "rhs_"
TOUCH_SECONDS = 60.0
PURGE_SECONDS = 600.0
LIVE_CACHE_SECONDS = 0.5
_FIELD = 128


def token_hash(token: str) -> str:
    """Hex SHA-256 of a token (what the database stores)."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class SessionInfo:
    """A session as callers see it (never the token). Times are UTC."""

    id: int
    user_id: int
    kind: str
    device: str
    client: str
    address: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, row: AuthSession) -> SessionInfo:
        return cls(row.id, row.user_id, row.kind, row.device, row.client, row.address,
                   row.created_at, row.last_seen_at, row.expires_at)


class SessionService:
    """Create, resolve, list and revoke sessions (see the module docstring)."""

    def __init__(self, sessions: sessionmaker[Session], *, absolute_ttl: int, idle_ttl: int,
                 clock: Callable[[], float] = time.time) -> None:
        self.db = sessions
        self.absolute_ttl = absolute_ttl
        self.idle_ttl = idle_ttl
        self._clock = clock
        self._live: dict[int, tuple[float, int]] = {}  # session id -> (monotonic time, user id)
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        self._next_purge = 0.0  # monotonic time of the next purge on create

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (no arguments, no I/O) after any revocation here or
        :meth:`changed`: caches of resolved tokens drop what they hold."""
        self._listeners.append(listener)

    def drop_cached(self) -> None:
        """Forget cached answers of playback grants only (another process revoked
        something: auth/revocations.py); tells no listener."""
        with self._lock:
            self._live.clear()

    def changed(self) -> None:
        """Something a resolved token depends on changed (a user's rights, a grant, an
        API key): forget every cached answer of this process."""
        with self._lock:
            self._live.clear()
        for listener in self._listeners:
            listener()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def create(self, user_id: int, *, kind: str = "web", device: str = "", client: str = "",
               address: str = "") -> tuple[str, SessionInfo]:
        """Start a session for ``user_id``; returns ``(token, info)``. The token is shown
        once: only its hash is stored. ``device``/``client`` are free text (cut to 128
        characters), ``address`` the client's IP address. Expired sessions of everyone
        are deleted first, at most once per :data:`PURGE_SECONDS` per service."""
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + PURGE_SECONDS
            self.purge_expired()
        token = SESSION_PREFIX + secrets.token_urlsafe(32)
        now = self._now()
        row = AuthSession(user_id=user_id, token_hash=token_hash(token), kind=kind[:16],
                          device=device[:_FIELD], client=client[:_FIELD], address=address[:64],
                          created_at=now, last_seen_at=now,
                          expires_at=now + timedelta(seconds=self.absolute_ttl))
        with self.db() as s:
            s.add(row)
            s.commit()
            return token, SessionInfo.of(row)

    def purge_expired(self) -> int:
        """Delete every session past its absolute or idle lifetime; returns how many
        went (such rows could never be used again)."""
        now = self._now()
        with self.db() as s:
            gone = s.execute(delete(AuthSession).where(
                (AuthSession.expires_at <= now)
                | (AuthSession.last_seen_at <= now - timedelta(seconds=self.idle_ttl))))
            s.commit()
        return int(gone.rowcount or 0)  # type: ignore[attr-defined]

    def of_device(self, user_id: int, kind: str, device_suffix: str) -> list[int]:
        """Ids of the live sessions of ``user_id`` of ``kind`` whose device text ends
        with ``device_suffix`` (Jellyfin apps: ``"(<DeviceId>)"``), oldest first."""
        now = self._now()
        with self.db() as s:
            return list(s.scalars(
                select(AuthSession.id).where(
                    AuthSession.user_id == user_id, AuthSession.kind == kind,
                    AuthSession.device.endswith(device_suffix, autoescape=True),
                    AuthSession.expires_at > now,
                    AuthSession.last_seen_at > now - timedelta(seconds=self.idle_ttl))
                .order_by(AuthSession.id)))

    def revoke_many(self, ids: Iterable[int]) -> int:
        """End the sessions ``ids`` (those still there); returns how many ended."""
        ids = list(ids)
        if not ids:
            return 0
        with self.db() as s:
            gone = s.execute(delete(AuthSession).where(AuthSession.id.in_(ids)))
            s.commit()
        self._forget(ids)
        return int(gone.rowcount or 0)  # type: ignore[attr-defined]

    def resolve(self, token: str) -> tuple[User, SessionInfo]:
        """The user and session behind ``token``; raises AuthenticationFailed when the
        token is unknown, revoked, expired (absolute or idle) or its user is disabled."""
        if not token.startswith(SESSION_PREFIX) or len(token) > 200:
            raise AuthenticationFailed("invalid token")
        now = self._now()
        with self.db() as s:
            found = s.execute(select(AuthSession, User).outerjoin(User, User.id == AuthSession.user_id)
                              .where(AuthSession.token_hash == token_hash(token))).first()
            if found is None:
                raise AuthenticationFailed("this session has ended; log in again")
            row, user = found  # one query for both (every authenticated request comes here)
            if now >= row.expires_at or now - row.last_seen_at >= timedelta(seconds=self.idle_ttl):
                s.delete(row)
                s.commit()
                raise AuthenticationFailed("this session has expired; log in again")
            if user is None or user.disabled:
                raise AuthenticationFailed("this account is disabled")
            if (now - row.last_seen_at).total_seconds() >= TOUCH_SECONDS:
                row.last_seen_at = now
                s.commit()
            return user, SessionInfo.of(row)

    def is_live_cached(self, session_id: int, user_id: int) -> bool:
        """True if :meth:`is_live` said yes for this session of ``user_id`` within
        :data:`LIVE_CACHE_SECONDS` (no I/O)."""
        with self._lock:
            seen = self._live.get(session_id)
        return (seen is not None and seen[1] == user_id
                and time.monotonic() - seen[0] < LIVE_CACHE_SECONDS)

    def is_live(self, session_id: int, user_id: int | None = None) -> bool:
        """Does the session still exist, unexpired, for an enabled user (``user_id``
        when given)? A yes is remembered for :data:`LIVE_CACHE_SECONDS` (so a
        revocation elsewhere shows within that)."""
        now = self._now()
        with self.db() as s:
            row = s.get(AuthSession, session_id)
            ok = (row is not None and now < row.expires_at
                  and now - row.last_seen_at < timedelta(seconds=self.idle_ttl)
                  and (user_id is None or row.user_id == user_id))
            owner = row.user_id if row is not None else -1
            if ok:
                user = s.get(User, owner)
                ok = user is not None and not user.disabled
        with self._lock:
            if ok:
                if len(self._live) > 10000:
                    self._live.clear()
                self._live[session_id] = (time.monotonic(), owner)
            else:
                self._live.pop(session_id, None)
        return ok

    def list(self, user_id: int | None = None) -> list[SessionInfo]:
        """Sessions of one user (or everyone's), most recently used first."""
        with self.db() as s:
            q = select(AuthSession)
            if user_id is not None:
                q = q.where(AuthSession.user_id == user_id)
            rows = s.scalars(q.order_by(AuthSession.last_seen_at.desc(), AuthSession.id.desc()))
            return [SessionInfo.of(r) for r in rows]

    def get(self, session_id: int) -> SessionInfo:
        with self.db() as s:
            row = s.get(AuthSession, session_id)
            if row is None:
                raise NotFound(f"no session with id {session_id}")
            return SessionInfo.of(row)

    def revoke(self, session_id: int, user_id: int | None = None) -> None:
        """End one session; with ``user_id`` only if it is that user's (else NotFound,
        so ids of others' sessions do not leak)."""
        with self.db() as s:
            q = delete(AuthSession).where(AuthSession.id == session_id)
            if user_id is not None:
                q = q.where(AuthSession.user_id == user_id)
            if s.execute(q).rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound(f"no session with id {session_id}")
            s.commit()
        self._forget([session_id])

    def revoke_token(self, token: str) -> None:
        """End the session of ``token`` (logout); unknown tokens are ignored."""
        with self.db() as s:
            ids = list(s.scalars(select(AuthSession.id).where(AuthSession.token_hash == token_hash(token))))
            s.execute(delete(AuthSession).where(AuthSession.token_hash == token_hash(token)))
            s.commit()
        self._forget(ids)

    def revoke_user(self, user_id: int, keep: int | None = None) -> int:
        """End every session of a user except ``keep``; returns how many ended."""
        with self.db() as s:
            q = select(AuthSession.id).where(AuthSession.user_id == user_id)
            if keep is not None:
                q = q.where(AuthSession.id != keep)
            ids = list(s.scalars(q))
            if ids:
                s.execute(delete(AuthSession).where(AuthSession.id.in_(ids)))
                s.commit()
        self._forget(ids)
        return len(ids)

    def _forget(self, ids: Iterable[int]) -> None:
        with self._lock:
            for i in ids:
                self._live.pop(i, None)
        for listener in self._listeners:
            listener()
