"""Who is looking at a page: the logged-in user, or a 303 to ``/login?next=…``."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.responses import RedirectResponse, Response

from reelhouse.api.deps import user_from_request
from reelhouse.core import Core
from reelhouse.db.models import User
from reelhouse.errors import AuthenticationFailed

__all__ = ["LoginRequired", "PageUser", "login_required_handler", "page_user", "safe_next"]


class LoginRequired(Exception):
    """Raised by :func:`page_user`; turned into a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def safe_next(value: str | None) -> str:
    """``value`` if it is a path on this site, else ``"/"``.

    Only a relative reference that starts with one ``/`` is allowed: not ``//host``
    (scheme-relative, RFC 3986 §4.2), not ``/\\host`` (browsers read ``\\`` as ``/``),
    no control characters — so ``next`` can never send the user to another site.
    """
    if not value or not value.startswith("/") or value[1:2] in ("/", "\\"):
        return "/"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "/"
    return value


def page_user(request: Request) -> User:
    """The logged-in user; raises :class:`LoginRequired` (→ 303 to the login page)."""
    core: Core = request.app.state.core
    try:
        return user_from_request(request, core)
    except AuthenticationFailed as exc:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target) from exc


PageUser = Annotated[User, Depends(page_user)]


async def login_required_handler(request: Request, exc: Exception) -> Response:
    """Exception handler: 303 to ``/login?next=<the page asked for>``."""
    next_url = exc.next_url if isinstance(exc, LoginRequired) else "/"
    return RedirectResponse(f"/login?next={quote(safe_next(next_url), safe='')}", status_code=303)
