"""Who is calling: the Jellyfin authorization forms, and tokens as reelhouse sessions.

Clients send the token in any of (Jellyfin's ``AuthorizationContext``):
``Authorization: MediaBrowser Client="…", Device="…", DeviceId="…", Version="…",
Token="…"`` (also with the ``Emby`` scheme, values URL-encoded, ``Token=""`` before
login, ``Token`` repeated: the last non-empty one counts), ``X-Emby-Authorization``
(same value), ``X-Emby-Token``, ``X-MediaBrowser-Token``, and ``api_key`` / ``ApiKey``
in the query (streams, images, the socket).

:class:`JellyfinAuth` is the adapter from those tokens to reelhouse's server-side
sessions (revocable: a logout, a disabled user or a revoked session ends them at once).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from reelhouse.auth.identity import Identity
from reelhouse.core import Core
from reelhouse.db.models import User
from reelhouse.errors import AuthenticationFailed, NotFound

__all__ = ["ClientInfo", "JellyfinAuth", "device_label", "parse_authorization", "stored_client", "token_of"]

_PAIR = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"([^"]*)"|([^,\s]*))')
_SCHEMES = ("mediabrowser", "emby")


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """The calling app as it names itself (all optional, at most 256 characters each)."""

    client: str | None = None
    device: str | None = None
    device_id: str | None = None
    version: str | None = None
    token: str | None = None


def parse_authorization(value: str | None) -> ClientInfo:
    """Parse a ``MediaBrowser``/``Emby`` authorization value (anything else: empty)."""
    if not value:
        return ClientInfo()
    text = value.strip()
    scheme, _, rest = text.partition(" ")
    if scheme.lower() not in _SCHEMES:
        return ClientInfo()
    fields: dict[str, str] = {}
    for match in _PAIR.finditer(rest[:8192]):
        key = match.group(1).lower()
        raw = match.group(2) if match.group(2) is not None else match.group(3)
        decoded = unquote(raw)[:256]
        if decoded or key not in fields:
            fields[key] = decoded
    return ClientInfo(
        client=fields.get("client") or None,
        device=fields.get("device") or None,
        device_id=fields.get("deviceid") or None,
        version=fields.get("version") or None,
        token=fields.get("token") or None,
    )


def device_label(info: ClientInfo) -> str:
    """The session's device text: ``"<Device> (<DeviceId>)"``, at most 128 characters,
    the device name cut first so the id stays whole (:meth:`JellyfinAuth.login` finds
    a device's sessions by it) unless the id alone is longer than 100."""
    if not info.device_id:
        return (info.device or "")[:128]
    tail = f"({info.device_id})"
    if len(tail) > 100:
        return " ".join(x for x in (info.device, tail) if x)[:128]
    name = (info.device or "")[: 128 - len(tail) - 1]
    return f"{name} {tail}" if name else tail


def stored_client(device: str, client: str) -> ClientInfo:
    """The client info a session was made with, back from its stored texts
    (:func:`device_label` and ``"<Client> <Version>"``)."""
    name, device_id = device, None
    if device.endswith(")") and "(" in device:
        head, _, tail = device[:-1].rpartition("(")
        name, device_id = head.rstrip(), tail or None
    app, version = client, None
    head, _, last = client.rpartition(" ")
    if head and last[:1].isdigit():
        app, version = head, last
    return ClientInfo(client=app or None, device=name or None, device_id=device_id, version=version)


def token_of(headers: dict[str, str], query: dict[str, str]) -> tuple[str | None, ClientInfo]:
    """The token (or None) and client info of a request: ``headers`` with lowercase
    names, ``query`` with lowercase names."""
    info = parse_authorization(headers.get("authorization"))
    if info.token is None:
        other = parse_authorization(headers.get("x-emby-authorization"))
        if other.token or other.client or other.device_id:
            info = other
    token = (info.token or headers.get("x-emby-token") or headers.get("x-mediabrowser-token")
             or query.get("api_key") or query.get("apikey"))
    return (token.strip() or None) if token else None, info


class JellyfinAuth:
    """Log in, resolve and end Jellyfin sessions: reelhouse's server-side sessions
    (``auth/sessions.py``, kind ``jellyfin``, with the app's device and client names),
    and API keys as tokens too. Logins are throttled and audited like the web's."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def login(self, name: str, password: str, info: ClientInfo, address: str) -> tuple[User, str]:
        """Check the password (blocking: argon2); the user and a new session token.
        A new login of a user from a DeviceId ends the sessions that DeviceId already
        had for that user (Jellyfin's SessionManager logs the device's old access
        tokens out). A DeviceId that holds a live session of the account is a known
        device: its failures count under the device, not the account
        (auth/throttle.py), so others failing at the account do not lock that app out.
        Raises TooManyRequests while the name (or device) or address must wait,
        AuthenticationFailed."""
        core = self.core
        name = self._stored_name(name)  # "Admin" and "admin" are one name for the throttle too
        label = device_label(info)
        old = self._device_sessions(name, label, info.device_id) if info.device_id else []
        device = f"jellyfin:{old[0][0]}|{info.device_id}" if old else None
        core.login_throttle.check(name, address, device)
        try:
            user = core.users.authenticate(name, password)
        except AuthenticationFailed:
            core.login_throttle.failed(name, address, device)
            core.audit.record("login", user_name=name[:64], address=address, ok=False)
            raise
        core.login_throttle.succeeded(name, address, device)
        client = " ".join(x for x in (info.client, info.version) if x)
        if old and old[0][0] == user.id:
            core.auth_sessions.revoke_many(i for _, i in old)
        token, _ = core.auth_sessions.create(user.id, kind="jellyfin", device=label,
                                             client=client[:128], address=address)
        core.audit.record("login", user=user, address=address)
        return user, token

    def _device_sessions(self, name: str, label: str, device_id: str) -> list[tuple[int, int]]:
        """``(user id, session id)`` of the live Jellyfin sessions of the user ``name``
        from ``device_id`` (none when :func:`device_label` had to cut the id)."""
        suffix = f"({device_id})"
        if not label.endswith(suffix):
            return []
        try:
            user = self.core.users.by_name(name)
        except NotFound:
            return []
        return [(user.id, i) for i in self.core.auth_sessions.of_device(user.id, "jellyfin", suffix)]

    def _stored_name(self, name: str) -> str:
        """The stored name of the user ``name`` names in any letter case
        (:meth:`~reelhouse.auth.users.UserService.login_name`): Jellyfin matches names
        at login ignoring case (UserManager, OrdinalIgnoreCase), and TV and phone
        keyboards capitalise the first letter ("Admin")."""
        return self.core.users.login_name(name)

    def resolve(self, token: str | None) -> Identity:
        """The identity (user + session or API key) of a token; raises
        AuthenticationFailed (missing, unknown, revoked, expired, user disabled)."""
        if not token:
            raise AuthenticationFailed("no access token: log in first")
        if len(token) > 4096:
            raise AuthenticationFailed("invalid token")
        return self.core.auth.identify(token)

    def logout(self, token: str | None) -> None:
        """End the session of ``token`` at once (its playback tokens die with it)."""
        if token:
            self.core.auth_sessions.revoke_token(token)
