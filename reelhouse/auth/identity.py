"""Who a request is: a bearer token or cookie resolved to an :class:`Identity`, and the
playback tokens that identity may issue (bound to its session or API key)."""

from __future__ import annotations

from dataclasses import dataclass

from reelhouse.auth.apikeys import KEY_PREFIX, ApiKeyService
from reelhouse.auth.sessions import SessionService
from reelhouse.auth.tokens import PlaybackClaim, TokenSigner
from reelhouse.db.models import User
from reelhouse.errors import AuthenticationFailed

__all__ = ["Authenticator", "Identity"]


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

    def __init__(self, sessions: SessionService, keys: ApiKeyService, signer: TokenSigner) -> None:
        self.sessions = sessions
        self.keys = keys
        self.signer = signer

    def identify(self, token: str) -> Identity:
        """The identity behind a session token or API key; raises AuthenticationFailed."""
        if token.startswith(KEY_PREFIX):
            user, key = self.keys.resolve(token)
            return Identity(user, api_key_id=key.id)
        user, info = self.sessions.resolve(token)
        return Identity(user, session_id=info.id)

    def playback_token(self, identity: Identity, media_file_id: int) -> str:
        """A playback token for one file, valid while ``identity``'s grant lives."""
        return self.signer.playback(identity.user.id, media_file_id, identity.grant)

    def playback_claim(self, token: str, media_file_id: int) -> PlaybackClaim:
        """Check the signature, expiry and file only (no database)."""
        return self.signer.check_playback(token, media_file_id)

    def grant_cached(self, claim: PlaybackClaim) -> bool:
        """True when the claim's session was seen live within the cache window (no I/O)."""
        kind, _, num = claim.grant.partition(":")
        if kind != "s" or not num.isdigit():
            return False
        return self.sessions.is_live_cached(int(num), claim.user_id)

    def check_grant(self, claim: PlaybackClaim) -> None:
        """Raise AuthenticationFailed unless the claim's session or API key still
        lives (reads the database)."""
        kind, _, num = claim.grant.partition(":")
        ok = num.isdigit() and (
            (kind == "s" and self.sessions.is_live(int(num), claim.user_id))
            or (kind == "k" and self.keys.is_live(int(num), claim.user_id)))
        if not ok:
            raise AuthenticationFailed("the session that issued this playback token has ended")

    def check_playback(self, token: str, media_file_id: int) -> int:
        """The user id of a valid, still-granted playback token; raises
        AuthenticationFailed. May read the database."""
        claim = self.playback_claim(token, media_file_id)
        if not self.grant_cached(claim):
            self.check_grant(claim)
        return claim.user_id
