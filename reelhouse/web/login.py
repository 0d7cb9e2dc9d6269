"""``GET/POST /login`` (a plain HTML form) and ``POST /logout``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from reelhouse.api.deps import SESSION_COOKIE, user_from_request
from reelhouse.core import Core
from reelhouse.errors import AuthenticationFailed
from reelhouse.web.guard import safe_next
from reelhouse.web.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/login", name="login_page")
def login_page(request: Request, next: str = "/") -> Response:
    """The login form; a visitor who is logged in already goes straight to ``next``."""
    core: Core = request.app.state.core
    target = safe_next(next)
    try:
        user_from_request(request, core)
    except AuthenticationFailed:
        return render(request, "login.html", next=target, username="", error=None)
    return RedirectResponse(target, status_code=303)


@router.post("/login")
async def login_submit(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password (argon2, off the event loop); on success set the session
    cookie (as ``POST /api/auth/login`` does) and 303 to ``next``; else 401 and the form."""
    core: Core = request.app.state.core
    target = safe_next(next)
    username = username.strip()[:64]
    if not username or not password:
        return render(request, "login.html", status_code=400, next=target, username=username,
                      error="Enter your user name and password.")
    try:
        if len(password) > 1024:
            raise AuthenticationFailed("wrong user name or password")
        user = await run_in_threadpool(core.users.authenticate, username, password)
    except AuthenticationFailed as exc:
        return render(request, "login.html", status_code=401, next=target, username=username,
                      error=exc.message[:1].upper() + exc.message[1:] + ".")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, core.signer.session(user.id),
                        max_age=core.settings.session_ttl, httponly=True, samesite="lax")
    return response


@router.post("/logout")
def logout() -> Response:
    """Forget the session cookie and go back to the login page."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
