"""Who a request is: a bearer token or cookie resolved to an :class:`Identity`, and the
playback tokens that identity may issue (bound to its session or API key).

A resolved token is remembered for :data:`IDENTITY_CACHE_SECONDS` (keyed by its
SHA-256, as the database keys it), so a client's burst of requests (a grid page and its
posters' metadata, 20 requests a second of an API client) reads the session row once,
not once per request (issue 14: the check was a third of a small request's CPU). A
revocation in this process (logout, "sign out elsewhere", a user disabled, deleted or
changed, a key revoked) empties the cache at once; one in another process sharing the
database (another node, a CLI command) too when they share Redis (the revocation is
published: auth/revocations.py, ~10 ms), else within :data:`IDENTITY_CACHE_SECONDS`, as
playback grants are (:data:`~reelhouse.auth.sessions.LIVE_CACHE_SECONDS`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from reelhouse.auth.apikeys import KEY_PREFIX, ApiKeyService
from reelhouse.auth.sessions import SessionService, token_hash
from reelhouse.auth.tokens import PlaybackClaim, TokenSigner
from reelhouse.db.models import User
from reelhouse.errors import AuthenticationFailed

__all__ = ["IDENTITY_CACHE_SECONDS", "Authenticator", "Identity"]

#: Seconds a resolved token is trusted without reading the database (see the module doc).
IDENTITY_CACHE_SECONDS = 0.5
_CACHE_MAX = 10_000


@dataclass(frozen=True)
class Identity:
    """A user and the grant they came with (exactly one of the two ids is set)."""

    user: User
    session_id: int | None = None
    api_key_id: int | None = None

    @property
    def grant(self) -> str:
        return f"s:{self.session_id}" if self.session_id is not None else f"k:{self.api_key_id}"


class Authenticator:
    """Resolve tokens (session ``rhs_…`` or API key ``rhk_…``) and playback tokens."""

    def __init__(self, sessions: SessionService, keys: ApiKeyService, signer: TokenSigner,
                 cache_seconds: float = IDENTITY_CACHE_SECONDS) -> None:
        self.sessions = sessions
        self.keys = keys
        self.signer = signer
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Identity]] = {}  # token hash -> (monotonic time, identity)
        self._generation = 0  # bumped by every forget: an answer read before it is not kept
        #: (user id, media file id) → may the user still play it (source grants)? Set by
        #: the Core; None: no such check. Yes answers are kept like identities.
        self.file_access: Callable[[int, int], bool] | None = None
        self._files_ok: dict[tuple[int, int], float] = {}
        sessions.on_change(self.forget)

    def forget(self) -> None:
        """Drop every cached identity (called on any revocation or user change)."""
        self._generation += 1
        self._cache = {}
        self._files_ok = {}

    def identify_cached(self, token: str) -> Identity | None:
        """The identity of ``token`` if it was resolved within the cache window (no I/O),
        else None."""
        hit = self._cache.get(token_hash(token))
        if hit is not None and time.monotonic() - hit[0] < self.cache_seconds:
            return hit[1]
        return None

    def identify(self, token: str) -> Identity:
        """The identity behind a session token or API key; raises AuthenticationFailed.
        Reads the database unless :meth:`identify_cached` knows the token."""
        cached = self.identify_cached(token)
        if cached is not None:
            return cached
        # the cache as it is now: a forget() while the database is read replaces it,
        # so this answer (perhaps of a just-revoked token) is never kept
        generation, cache, seen = self._generation, self._cache, time.monotonic()
        if token.startswith(KEY_PREFIX):
            user, key = self.keys.resolve(token)
            identity = Identity(user, api_key_id=key.id)
        else:
            user, info = self.sessions.resolve(token)
            identity = Identity(user, session_id=info.id)
        if self.cache_seconds > 0 and generation == self._generation:
            if len(cache) >= _CACHE_MAX:
                self.forget()
            else:
                cache[token_hash(token)] = (seen, identity)
        return identity

    def playback_token(self, identity: Identity, media_file_id: int) -> str:
        """A playback token for one file, valid while ``identity``'s grant lives."""
        return self.signer.playback(identity.user.id, media_file_id, identity.grant)

    def playback_claim(self, token: str, media_file_id: int) -> PlaybackClaim:
        """Check the signature, expiry and file only (no database)."""
        return self.signer.check_playback(token, media_file_id)

    def grant_cached(self, claim: PlaybackClaim, media_file_id: int | None = None) -> bool:
        """True when the claim's session was seen live within the cache window, and
        (with ``media_file_id``) the user was seen allowed to play the file since the
        last change of any user (no I/O)."""
        kind, _, num = claim.grant.partition(":")
        if kind != "s" or not num.isdigit():
            return False
        if media_file_id is not None and self.file_access is not None:
            seen = self._files_ok.get((claim.user_id, media_file_id))
            if seen is None or time.monotonic() - seen >= self.cache_seconds:
                return False
        return self.sessions.is_live_cached(int(num), claim.user_id)

    def check_grant(self, claim: PlaybackClaim, media_file_id: int | None = None) -> None:
        """Raise AuthenticationFailed unless the claim's session or API key still
        lives and (with ``media_file_id``) its user may still play that file: an
        admin taking a source away from a user ends their playback URLs of it at once
        (reads the database)."""
        kind, _, num = claim.grant.partition(":")
        ok = num.isdigit() and (
            (kind == "s" and self.sessions.is_live(int(num), claim.user_id))
            or (kind == "k" and self.keys.is_live(int(num), claim.user_id)))
        if not ok:
            raise AuthenticationFailed("the session that issued this playback token has ended")
        if media_file_id is None or self.file_access is None:
            return
        generation, seen = self._generation, time.monotonic()
        if not self.file_access(claim.user_id, media_file_id):
            raise AuthenticationFailed("the user of this playback token may no longer play this file")
        if generation == self._generation:  # no change meanwhile: the yes may be kept
            if len(self._files_ok) >= _CACHE_MAX:
                self._files_ok = {}
            self._files_ok[(claim.user_id, media_file_id)] = seen

    def check_playback(self, token: str, media_file_id: int) -> int:
        """The user id of a valid, still-granted playback token; raises
        AuthenticationFailed. May read the database."""
        claim = self.playback_claim(token, media_file_id)
        if not self.grant_cached(claim, media_file_id):
            self.check_grant(claim, media_file_id)
        return claim.user_id
