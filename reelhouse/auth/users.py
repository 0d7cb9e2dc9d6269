"""Users with argon2id password hashes (argon2-cffi's defaults, RFC 9106 parameters).

Roles: ``admin`` (``is_admin``: everything) and ``user`` (browse, play, parties, own
progress, own downloads). A user with ``restrict_sources`` sees only the sources an
admin granted (:class:`~.access.SourceAccess`). Changing a password, disabling
or deleting a user ends their sessions at once (:class:`~.sessions.SessionService`).

Passwords are 8 to :data:`MAX_PASSWORD` characters: the cap bounds the argon2 work an
anonymous client can cause (OWASP ASVS 4.0 §2.1.2 allows a 128+ cap; ours is 256).
Passwords, like user names, are hashed and checked in Unicode NFC (:func:`password_text`;
RFC 8265 §4.1 applies NFC to passwords), so one typed with combining accents on one
device and precomposed on another is one password.
"""

from __future__ import annotations

import builtins
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.auth.sessions import SessionService
from reelhouse.db.models import SourceRow, User, UserSource
from reelhouse.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound

__all__ = ["MAX_PASSWORD", "MIN_PASSWORD", "UserChange", "UserService", "check_password_shape", "password_text",
           "user_name"]

MIN_PASSWORD = 8
MAX_PASSWORD = 256
_NAME = re.compile(r"[\w.@+-]{1,64}")  # fullmatch: "$" would let a trailing newline in
_hasher = PasswordHasher()
log = logging.getLogger(__name__)


def user_name(name: str) -> str:
    """A user name as it is stored and looked up: Unicode NFC (Unicode Standard Annex
    #15), so ``José`` typed as ``e`` + a combining accent (NFD: macOS, some phone
    keyboards and password managers) names the same user as the precomposed ``é``."""
    return unicodedata.normalize("NFC", name)


def password_text(password: str) -> str:
    """A password as it is hashed and checked: Unicode NFC, like :func:`user_name` (RFC
    8265 §4.1, the OpaqueString profile, normalises passwords to NFC), so ``José`` typed
    with a combining accent (NFD) on a Mac and precomposed on a phone is one password."""
    return unicodedata.normalize("NFC", password)


def _spellings(password: str) -> list[str]:
    """The forms to check a password in, NFC first: a hash made before passwords were
    normalised (reelhouse before NFC passwords) is of the password as typed, which was
    NFD on a Mac; the NFD form and the form as typed (a mix) cover those hashes."""
    forms = [password_text(password), unicodedata.normalize("NFD", password), password]
    return list(dict.fromkeys(forms))


def _find(s: Session, name: str) -> User | None:
    """The user ``name`` names: the one with exactly this name (NFC), else the only one
    whose name is the same in any letter case (``str.casefold``, so "ALICE" and "Alice"
    log in as "alice", and "STRASSE" as "straße"), else None. Python folds, not the
    database: SQLite's ``lower()`` folds ASCII only, and PostgreSQL's depends on the
    database's locale, so both engines find the same user. Two older names that differ
    only in case (new ones cannot: :func:`_name_taken`) keep needing the exact one.
    Reads every name when there is no exact match: a server has tens of users."""
    name = user_name(name)
    user = s.scalar(select(User).where(User.name == name))
    if user is not None:
        return user
    folded = name.casefold()
    same = [uid for uid, n in s.execute(select(User.id, User.name)) if n.casefold() == folded]
    return s.get(User, same[0]) if len(same) == 1 else None


def _name_taken(s: Session, name: str, other_than: int | None = None) -> bool:
    """Whether a user other than ``other_than`` has ``name`` in any letter case (Unicode
    case folding, ``str.casefold``): ``Admin`` next to ``admin`` would pass for the other
    in member lists. Reads every name: a server has tens of users, not thousands."""
    folded = name.casefold()
    return any(uid != other_than and n.casefold() == folded for uid, n in s.execute(select(User.id, User.name)))


def check_password_shape(password: str) -> None:
    """Raise InvalidInput unless ``password`` has 8-256 characters (counted in NFC)."""
    password = password_text(password)
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"password must have at most {MAX_PASSWORD} characters")


@dataclass
class UserChange:
    """A partial update by an admin; ``None`` leaves a field as it is."""

    name: str | None = None
    is_admin: bool | None = None
    disabled: bool | None = None
    password: str | None = None
    restrict_sources: bool | None = None
    sources: list[int] | None = None


def _verifies(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class UserService:
    """Create, change, disable and delete users; check passwords."""

    def __init__(self, sessions: sessionmaker[Session], auth_sessions: SessionService | None = None) -> None:
        self.sessions = sessions
        self.auth_sessions = auth_sessions
        self._on_removing: builtins.list[Callable[[int], object]] = []
        self._on_disabled: builtins.list[Callable[[int], object]] = []

    def on_removing(self, hook: Callable[[int], object]) -> None:
        """Call ``hook(user_id)`` when a user is about to be deleted (after the checks,
        while the rows that name them still do): the transfer queue cancels their
        transfers. A hook's failure is logged and does not stop the deletion."""
        self._on_removing.append(hook)

    def on_disabled(self, hook: Callable[[int], object]) -> None:
        """Call ``hook(user_id)`` when an enabled user has been disabled (after the
        change is committed and their sessions revoked): the transfer queue cancels their
        transfers, as for a deleted user. A hook's failure is logged and does not undo
        the change."""
        self._on_disabled.append(hook)

    @staticmethod
    def _run(hooks: builtins.list[Callable[[int], object]], user_id: int, what: str) -> None:
        for hook in builtins.list(hooks):
            try:
                hook(user_id)
            except Exception:
                log.exception("a hook on %s user %d failed", what, user_id)

    def add(self, name: str, password: str, is_admin: bool = False, *, restrict_sources: bool = False,
            sources: Iterable[int] = ()) -> User:
        """Create a user, with the ``sources`` granted, in one transaction; raises
        InvalidInput (bad name, password not 8-256 characters, an unknown source: no user
        is created) or Conflict (name taken, in any letter case). The name is kept in NFC
        (:func:`user_name`)."""
        name = user_name(name)
        if not _NAME.fullmatch(name):
            raise InvalidInput("user name must be 1-64 letters, digits or . @ + - _")
        check_password_shape(password)
        wanted = set(sources)
        user = User(name=name, password_hash=_hasher.hash(password_text(password)), is_admin=is_admin,
                    disabled=False, restrict_sources=restrict_sources)
        with self.sessions() as s:
            if _name_taken(s, name):
                raise Conflict(f"user {name!r} exists already (names are the same in any letter case)")
            if wanted:
                known = set(s.scalars(select(SourceRow.id).where(SourceRow.id.in_(wanted))))
                if unknown := wanted - known:
                    raise InvalidInput(f"no source with id {min(unknown)}")
            s.add(user)
            try:
                s.flush()
                s.add_all(UserSource(user_id=user.id, source_id=sid) for sid in sorted(wanted))
                s.commit()
            except IntegrityError as exc:
                raise Conflict(f"user {name!r} exists already") from exc
        return user

    def check_new_name(self, name: str) -> None:
        """Raise what :meth:`add` would for ``name`` alone: InvalidInput (not 1-64 letters,
        digits or ``. @ + - _``), Conflict (taken, in any letter case). The CLI asks it
        before the password, which was typed twice for a name refused afterwards."""
        name = user_name(name)
        if not _NAME.fullmatch(name):
            raise InvalidInput("user name must be 1-64 letters, digits or . @ + - _")
        with self.sessions() as s:
            if _name_taken(s, name):
                raise Conflict(f"user {name!r} exists already (names are the same in any letter case)")

    def add_first_admin(self, name: str, password: str) -> User:
        """Create the first admin, only while no user exists (the setup page); raises
        Conflict once someone does."""
        if self.count():
            raise Conflict("the server is set up already; log in")
        return self.add(name, password, is_admin=True)

    def by_name(self, name: str) -> User:
        """The user named ``name`` in any letter case (:func:`_find`); raises NotFound."""
        with self.sessions() as s:
            user = _find(s, name)
        if user is None:
            raise NotFound(f"no user named {name!r}")
        return user

    def login_name(self, name: str) -> str:
        """The stored name of the user ``name`` names in any letter case (:func:`_find`),
        or ``name`` in NFC when none: one spelling for the login throttle and the audit."""
        with self.sessions() as s:
            user = _find(s, name)
        return user.name if user is not None else user_name(name)

    def get_or_404(self, user_id: int) -> User:
        user = self.get(user_id)
        if user is None:
            raise NotFound(f"no user with id {user_id}")
        return user

    def set_password(self, name: str, password: str) -> None:
        """Set a user's password and end all their sessions."""
        self.update(self.by_name(name).id, UserChange(password=password))

    def change_own_password(self, user_id: int, old: str, new: str, keep_session: int | None) -> None:
        """Change one's own password (the old one must be right); ends every other
        session of the user. Raises AuthenticationFailed for a wrong old password."""
        user = self.get_or_404(user_id)
        self.authenticate(user.name, old)
        check_password_shape(new)
        with self.sessions() as s:
            row = s.get(User, user_id)
            assert row is not None
            row.password_hash = _hasher.hash(password_text(new))
            s.commit()
        if self.auth_sessions is not None:
            self.auth_sessions.revoke_user(user_id, keep=keep_session)

    def update(self, user_id: int, change: UserChange) -> User:
        """Apply an admin's change. A new password, ``disabled`` or losing admin ends the
        user's sessions; disabling an enabled user runs the :meth:`on_disabled` hooks
        (their queued and running transfers are cancelled). Refuses (Conflict) to leave
        the server without an enabled admin."""
        if change.name is not None:
            change.name = user_name(change.name)
        if change.name is not None and not _NAME.fullmatch(change.name):
            raise InvalidInput("user name must be 1-64 letters, digits or . @ + - _")
        if change.password is not None:
            check_password_shape(change.password)
        revoke = disabling = False
        with self.sessions() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound(f"no user with id {user_id}")
            if change.name is not None:
                if _name_taken(s, change.name, other_than=user_id):
                    raise Conflict(f"user {change.name!r} exists already (names are the same in any letter case)")
                user.name = change.name
            if change.is_admin is not None:
                revoke |= user.is_admin and not change.is_admin
                user.is_admin = change.is_admin
            if change.disabled is not None:
                disabling = change.disabled and not user.disabled
                revoke |= disabling
                user.disabled = change.disabled
            if change.password is not None:
                user.password_hash = _hasher.hash(password_text(change.password))
                revoke = True
            if change.restrict_sources is not None:
                user.restrict_sources = change.restrict_sources
            if change.sources is not None:
                with s.no_autoflush:  # a taken new name is the flush's IntegrityError below, not these
                    known = set(s.scalars(select(SourceRow.id).where(SourceRow.id.in_(change.sources))))
                    if unknown := set(change.sources) - known:
                        raise InvalidInput(f"no source with id {min(unknown)}")
                    s.execute(delete(UserSource).where(UserSource.user_id == user_id))
                s.add_all(UserSource(user_id=user_id, source_id=sid) for sid in sorted(known))
            try:
                s.flush()
                self._keep_an_admin(s)
                s.commit()
            except IntegrityError as exc:
                raise Conflict(f"user {change.name!r} exists already") from exc
        if self.auth_sessions is not None:
            if revoke:
                self.auth_sessions.revoke_user(user_id)
            self.auth_sessions.changed()  # name, rights, grants: cached identities are stale
        if disabling:
            self._run(self._on_disabled, user_id, "disabling")
        return user

    def remove(self, user_id: int) -> User:
        """Delete a user (their sessions, keys and grants go with them; the
        :meth:`on_removing` hooks cancel their transfers); refuses (Conflict) to delete
        the last enabled admin."""
        with self.sessions() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound(f"no user with id {user_id}")
            others = s.scalar(select(func.count(User.id)).where(
                User.is_admin, ~User.disabled, User.id != user_id)) or 0
        if user.is_admin and not user.disabled and not others:
            raise Conflict("the server needs at least one enabled admin")
        if self.auth_sessions is not None:  # first, so no cached session outlives the user
            self.auth_sessions.revoke_user(user_id)
        self._run(self._on_removing, user_id, "deleting")
        with self.sessions() as s:
            s.execute(delete(User).where(User.id == user_id))
            s.commit()
        if self.auth_sessions is not None:
            self.auth_sessions.changed()  # the user's API keys went with it
        return user

    @staticmethod
    def _keep_an_admin(s: Session) -> None:
        admins = s.scalar(select(func.count(User.id)).where(User.is_admin, ~User.disabled)) or 0
        users = s.scalar(select(func.count(User.id))) or 0
        if users and not admins:
            s.rollback()
            raise Conflict("the server needs at least one enabled admin")

    def authenticate(self, name: str, password: str) -> User:
        """The user if the password is right and the account enabled; ``name`` in any
        letter case (:func:`_find`: Jellyfin matches names at login ignoring case too,
        and phone keyboards capitalise the first letter). Raises
        AuthenticationFailed otherwise (same message whether the name or the password
        was wrong; a disabled account says so only after a right password)."""
        if len(password) > MAX_PASSWORD:
            raise AuthenticationFailed("wrong user name or password")
        spellings = _spellings(password)
        with self.sessions() as s:
            user = _find(s, name)
        if user is None:
            for spelling in spellings:  # same cost either way: no user enumeration by timing
                _hasher.hash(spelling)
            raise AuthenticationFailed("wrong user name or password")
        right = next((form for form in spellings if _verifies(user.password_hash, form)), None)
        if right is None:
            raise AuthenticationFailed("wrong user name or password")
        if user.disabled:
            raise AuthenticationFailed("this account is disabled")
        if right != spellings[0] or _hasher.check_needs_rehash(user.password_hash):
            self._rehash(user.id, user.password_hash, spellings[0])
        return user

    def _rehash(self, user_id: int, old_hash: str, password: str) -> None:
        """Replace a hash that verified (an old non-NFC one, or old parameters) with the
        NFC password's, unless the password changed meanwhile."""
        with self.sessions() as s:
            row = s.get(User, user_id)
            if row is not None and row.password_hash == old_hash:
                row.password_hash = _hasher.hash(password)
                s.commit()

    def get(self, user_id: int) -> User | None:
        with self.sessions() as s:
            return s.get(User, user_id)

    def list(self) -> list[User]:
        with self.sessions() as s:
            return list(s.scalars(select(User).order_by(User.name)))

    def count(self) -> int:
        with self.sessions() as s:
            return int(s.scalar(select(func.count(User.id))) or 0)

    def granted_sources(self, user_id: int) -> builtins.list[int]:
        """Source ids granted to a user (meaningful when ``restrict_sources`` is set)."""
        with self.sessions() as s:
            return sorted(s.scalars(select(UserSource.source_id).where(UserSource.user_id == user_id)))

