"""Signed, expiring playback tokens (itsdangerous, HMAC over a timestamped payload).

A playback token goes in stream URLs (``?token=``) so a ``<video>`` element or an
external player can fetch bytes without a cookie. It binds a user to one media file
and to the *grant* that issued it — a session (``s:<id>``) or an API key
(``k:<id>``) — so it dies with that session or key (checked by
:class:`reelhouse.auth.identity.Authenticator`). Login sessions themselves are
server-side rows (:mod:`reelhouse.auth.sessions`), not signed tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from reelhouse.errors import AuthenticationFailed

__all__ = ["PlaybackClaim", "TokenSigner"]


@dataclass(frozen=True)
class PlaybackClaim:
    """What a valid playback token says: who, and which grant issued it."""

    user_id: int
    grant: str  # "s:<session id>" | "k:<api key id>"


class TokenSigner:
    """Issue and check playback tokens; ``playback_ttl`` is seconds."""

    def __init__(self, secret: bytes, playback_ttl: int) -> None:
        self._play = URLSafeTimedSerializer(secret, salt="reelhouse.playback.v2")
        self.playback_ttl = playback_ttl

    def playback(self, user_id: int, media_file_id: int, grant: str) -> str:
        return str(self._play.dumps({"u": user_id, "f": media_file_id, "g": grant}))

    def check_playback(self, token: str, media_file_id: int) -> PlaybackClaim:
        """The claim of ``token`` if it is valid for ``media_file_id``; raises
        AuthenticationFailed (bad signature, expired, other file)."""
        try:
            data = self._play.loads(token, max_age=self.playback_ttl)
        except SignatureExpired as exc:
            raise AuthenticationFailed("playback token expired; open the title again") from exc
        except BadSignature as exc:
            raise AuthenticationFailed("invalid playback token") from exc
        if not isinstance(data, dict) or data.get("f") != media_file_id:
            raise AuthenticationFailed("playback token is not valid for this file")
        uid, grant = data.get("u"), data.get("g")
        if not isinstance(uid, int) or not isinstance(grant, str):
            raise AuthenticationFailed("invalid playback token")
        return PlaybackClaim(uid, grant)
