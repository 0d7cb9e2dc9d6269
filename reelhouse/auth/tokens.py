"""Signed, expiring tokens (itsdangerous, HMAC-SHA1 over a timestamped payload).

Three kinds, each with its own salt so one can never stand in for another:
``session`` (browser cookie), ``api`` (bearer token) — both carry the user id —
and ``playback`` (in stream URLs) which binds a user to one media file.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from reelhouse.errors import AuthenticationFailed

__all__ = ["TokenSigner"]


class TokenSigner:
    """Issue and check tokens. ``ttl`` values are seconds."""

    def __init__(self, secret: bytes, session_ttl: int, playback_ttl: int) -> None:
        self._auth = URLSafeTimedSerializer(secret, salt="reelhouse.session")
        self._play = URLSafeTimedSerializer(secret, salt="reelhouse.playback")
        self.session_ttl = session_ttl
        self.playback_ttl = playback_ttl

    def session(self, user_id: int) -> str:
        return str(self._auth.dumps({"u": user_id}))

    def check_session(self, token: str) -> int:
        """The user id in a session/API token; raises AuthenticationFailed."""
        data = self._load(self._auth, token, self.session_ttl)
        uid = data.get("u") if isinstance(data, dict) else None
        if not isinstance(uid, int):
            raise AuthenticationFailed("invalid token")
        return uid

    def playback(self, user_id: int, media_file_id: int) -> str:
        return str(self._play.dumps({"u": user_id, "f": media_file_id}))

    def check_playback(self, token: str, media_file_id: int) -> int:
        """The user id if ``token`` is valid for ``media_file_id``; raises AuthenticationFailed."""
        data = self._load(self._play, token, self.playback_ttl)
        if not isinstance(data, dict) or data.get("f") != media_file_id:
            raise AuthenticationFailed("playback token is not valid for this file")
        uid = data.get("u")
        if not isinstance(uid, int):
            raise AuthenticationFailed("invalid playback token")
        return uid

    @staticmethod
    def _load(ser: URLSafeTimedSerializer, token: str, ttl: int) -> object:
        try:
            return ser.loads(token, max_age=ttl)
        except SignatureExpired as exc:
            raise AuthenticationFailed("token expired; log in again") from exc
        except BadSignature as exc:
            raise AuthenticationFailed("invalid token") from exc
