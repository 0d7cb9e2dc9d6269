"""The session cookie: ``HttpOnly``, ``SameSite=Lax``, ``Secure`` when the server is
reached over https (a public URL is https, or the login request itself came over https:
TLS here, or a TLS proxy of ``trusted_proxies`` whose ``X-Forwarded-Proto`` uvicorn
believes: by default one on this machine).

Lax, not Strict: a watch-party invite link opened from a chat app is a cross-site
top-level navigation, and a Strict cookie would not come with it (the friend would
land on the login page although logged in). Lax cookies are never sent with
cross-site POST/PUT/DELETE or WebSocket-from-fetch requests, and every state change
with cookie auth must also pass the Origin check of :mod:`reelhouse.api.security`.
"""

from __future__ import annotations

from starlette.responses import Response

from reelhouse.auth.devices import DEVICE_COOKIE, DEVICE_COOKIE_SECONDS
from reelhouse.config import Settings

__all__ = ["SESSION_COOKIE", "clear_session_cookie", "cookie_secure", "set_device_cookie",
           "set_session_cookie"]

SESSION_COOKIE = "reelhouse_session"


def cookie_secure(settings: Settings, scheme: str = "http") -> bool:
    """``Settings.secure_cookies`` if set, else whether a public URL is https or the
    request (its URL ``scheme``) came over https."""
    if settings.secure_cookies is not None:
        return settings.secure_cookies
    return scheme == "https" or any(u.lower().startswith("https://") for u in settings.public_urls)


def set_session_cookie(response: Response, settings: Settings, token: str, scheme: str = "http") -> None:
    """Set the cookie; ``scheme``: the request's (``request.url.scheme``)."""
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_ttl, httponly=True,
                        samesite="lax", secure=cookie_secure(settings, scheme), path="/")


def clear_session_cookie(response: Response, settings: Settings, scheme: str = "http") -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax",
                           secure=cookie_secure(settings, scheme), path="/")


def set_device_cookie(response: Response, settings: Settings, value: str, scheme: str = "http") -> None:
    """Set the device cookie (:mod:`reelhouse.auth.devices`); it outlives logouts."""
    response.set_cookie(DEVICE_COOKIE, value, max_age=DEVICE_COOKIE_SECONDS, httponly=True,
                        samesite="lax", secure=cookie_secure(settings, scheme), path="/")
