"""Device cookies: a browser that has logged in to an account before is a known device.

After a successful login the browser gets ``reelhouse_device``: the account's name and
a random device id, signed (itsdangerous, HMAC-SHA1 over the payload and a timestamp,
with the server's signing key) and valid :data:`DEVICE_COOKIE_SECONDS`. At the next
login to the same account the cookie makes the attempt count under the device's own
failures rather than the account's (:mod:`.throttle`), so failures of others at that
account (a hostile friend keeping the admin out) do not hold this browser back. After
OWASP's "Slow Down Online Guessing Attacks with Device Cookies"
(https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies).

One cookie per browser: it names the account logged in to last.
"""

from __future__ import annotations

import secrets
import unicodedata

from itsdangerous import BadSignature, URLSafeTimedSerializer

__all__ = ["DEVICE_COOKIE", "DEVICE_COOKIE_SECONDS", "DeviceCookies"]

DEVICE_COOKIE = "reelhouse_device"
#: how long a device cookie is believed: a year (OWASP's page leaves it to the site)
DEVICE_COOKIE_SECONDS = 365 * 24 * 3600


def _account(user_name: str) -> str:
    return unicodedata.normalize("NFC", user_name).casefold()


class DeviceCookies:
    """Issue and check device cookies, signed with ``secret`` (bytes)."""

    def __init__(self, secret: bytes) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="reelhouse.device.v1")

    def issue(self, user_name: str) -> str:
        """A new cookie value for ``user_name`` (any letter case) with a fresh random id."""
        return str(self._serializer.dumps({"u": _account(user_name), "d": secrets.token_urlsafe(16)}))

    def device_of(self, cookie: str | None, user_name: str) -> str | None:
        """The device id of ``cookie`` if it is validly signed, younger than
        :data:`DEVICE_COOKIE_SECONDS` and names ``user_name``; else None."""
        if not cookie or len(cookie) > 512:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=DEVICE_COOKIE_SECONDS)
        except BadSignature:  # SignatureExpired is one too
            return None
        if not isinstance(data, dict) or data.get("u") != _account(user_name):
            return None
        device = data.get("d")
        return f"web:{device}" if isinstance(device, str) and device else None
